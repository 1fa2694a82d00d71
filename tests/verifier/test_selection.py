"""Selection: shards split the examples the same way everywhere, and --changed finds
the examples and pages that a change affects, in a git repository laid out like this one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from verify_runs import copy_fixtures

from verifier import cli
from verifier.discover import Example, discover_examples
from verifier.selection import SelectionError, affected, changed_files, parse_shard, shard

NAMES = ["docker/basic", "docker/compose-stack", "docker/multi-stage", "git/branches",
         "k8s/deploy", "k8s/probes", "k8s/service"]


def examples_named(names: list[str]) -> list[Example]:
    # Sharding reads only the names, so the examples need no folder or contract.
    return [Example(name=name, path=Path(name), contract=None) for name in names]


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7, 9])
def test_shards_are_disjoint_and_complete(total):
    examples = examples_named(NAMES)
    shards = [shard(examples, index, total) for index in range(1, total + 1)]
    names = [example.name for part in shards for example in part]
    assert sorted(names) == sorted(NAMES)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("total", [2, 3, 4])
def test_shards_ignore_input_order(total):
    forward = examples_named(NAMES)
    backward = examples_named(list(reversed(NAMES)))
    for index in range(1, total + 1):
        assert shard(forward, index, total) == shard(backward, index, total)


def test_shard_sizes_differ_by_one_at_most():
    sizes = [len(shard(examples_named(NAMES), index, 3)) for index in range(1, 4)]
    assert sizes == [3, 2, 2]


def test_parse_shard_reads_index_and_total():
    assert parse_shard("2/5") == (2, 5)


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "a/b", "1-3", "", "1/3/5", " 1/3", "-1/3"])
def test_invalid_shard_exits_2_with_one_line(text, tmp_path, capsys):
    root = copy_fixtures(tmp_path / "root", "ok-minimal")
    # "--shard=TEXT", so that argparse takes "" and "-1/3" as values, not as options.
    assert cli.main(["--root", str(root), f"--shard={text}"]) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert captured.err.startswith(f"error: invalid shard {text!r}: ")


# --changed, in a temporary repository with examples/, docs/ and scripts/verifier/

PAGE = """\
# Docker

```dockerfile title="examples/docker/basic/Dockerfile"
--8<-- "examples/docker/basic/Dockerfile"
```

```python title="examples/docker/multi-stage/app.py"
--8<-- "examples/docker/multi-stage/app.py:handler"
```
"""


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                            check=True)
    return result.stdout


def write(root: Path, path: str, text: str) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text, encoding="utf-8")


@pytest.fixture
def repository(tmp_path) -> Path:
    """Return a git repository with three examples, two pages and the verifier, on main."""
    root = tmp_path / "repository"
    for name in ("docker/basic", "docker/multi-stage", "git/branches"):
        write(root, f"examples/{name}/verify.toml", '[image]\noutput = "hello"\n')
        write(root, f"examples/{name}/Dockerfile", "FROM debian:trixie-slim\n")
        write(root, f"examples/{name}/app.py", "# --8<-- [start:handler]\n# --8<-- [end:handler]\n")
    write(root, "docs/docker/index.md", PAGE)
    write(root, "docs/git/index.md", "# Git\n\nNo example is included here.\n")
    write(root, "scripts/verifier/runner.py", "# The verifier.\n")
    write(root, "README.md", "# Course\n")
    git(root, "init", "--quiet", "--initial-branch", "main")
    git(root, "add", ".")
    git(root, "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
        "commit", "--quiet", "--message", "Start the course")
    return root


def select_changed(root: Path, ref: str = "main") -> tuple[list[str], list[str]]:
    examples = discover_examples(root / "examples")
    selected, pages = affected(examples, changed_files(ref, root), root)
    return [example.name for example in selected], pages


def test_nothing_changed_selects_nothing(repository):
    assert select_changed(repository) == ([], [])


def test_changed_example_file_selects_example(repository):
    write(repository, "examples/git/branches/app.py", "print('changed')\n")
    assert select_changed(repository) == (["git/branches"], [])


def test_new_untracked_file_selects_example(repository):
    write(repository, "examples/git/branches/notes.txt", "new\n")
    assert select_changed(repository) == (["git/branches"], [])


def test_committed_change_since_ref_selects_example(repository):
    git(repository, "switch", "--quiet", "--create", "topic")
    write(repository, "examples/git/branches/app.py", "print('committed')\n")
    git(repository, "add", ".")
    git(repository, "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
        "commit", "--quiet", "--message", "Change the branches example")
    assert select_changed(repository, ref="main") == (["git/branches"], [])
    assert select_changed(repository, ref="HEAD") == ([], [])


def test_included_file_change_selects_page(repository):
    write(repository, "examples/docker/basic/Dockerfile", "FROM debian:trixie-slim\nUSER 1000\n")
    assert select_changed(repository) == (["docker/basic"], ["docs/docker/index.md"])


def test_included_section_change_selects_page(repository):
    write(repository, "examples/docker/multi-stage/app.py", "# changed\n")
    assert select_changed(repository) == (["docker/multi-stage"], ["docs/docker/index.md"])


def test_changed_page_selects_included_examples(repository):
    write(repository, "docs/docker/index.md", PAGE + "\nOne more sentence.\n")
    assert select_changed(repository) == (["docker/basic", "docker/multi-stage"],
                                          ["docs/docker/index.md"])


def test_page_without_includes_selects_no_example(repository):
    write(repository, "docs/git/index.md", "# Git\n\nReworded.\n")
    assert select_changed(repository) == ([], ["docs/git/index.md"])


def test_verifier_change_selects_every_example(repository):
    write(repository, "scripts/verifier/runner.py", "# The verifier, changed.\n")
    assert select_changed(repository) == (
        ["docker/basic", "docker/multi-stage", "git/branches"], [])


def test_unrelated_change_selects_nothing(repository):
    write(repository, "README.md", "# Course, reworded\n")
    assert select_changed(repository) == ([], [])


def test_unknown_ref_is_selection_error(repository):
    with pytest.raises(SelectionError, match="no-such-branch"):
        changed_files("no-such-branch", repository)
