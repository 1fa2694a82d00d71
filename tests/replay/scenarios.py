"""The replay scenarios: the names of the page blocks that the replay tests run.

A page marks a shell block ```bash { .bash data-replay="NAME" } when a replay
test in this folder runs its commands for real. scripts/snippet_coverage.py
fails on a page that names a scenario missing from REPLAYED_SCENARIOS, so add
a name here only together with the test that runs it. That script reads this
file by its path, so keep it free of imports from the test folders.
"""

REPLAYED_SCENARIOS: frozenset[str] = frozenset({
    "prerequisites",
    "level-1",
    "level-2",
    "compose",
    "non-root",
    "dockerignore",
    "clean-up",
})
