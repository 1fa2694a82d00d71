"""Read the commands that the Docker chapter teaches, from its marked blocks and its tables."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE = REPO_ROOT / "docs" / "docker" / "index.md"

OPENING_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>.*?)[ \t]*$")
REPLAY_ATTRIBUTE = re.compile(r'\bdata-replay="(?P<scenario>[^"]*)"')
CHEAT_SHEET_HEADING = "## Cheat sheet"
PRUNE_HEADING = "What `docker system prune` removes and keeps"
# The first cell of a table row, when it is one inline code span: | `docker ps` | ...
TABLE_ROW = re.compile(r"^\|\s*`(?P<command>[^`]+)`\s*\|(?P<rest>.*)\|\s*$")


@dataclass(frozen=True)
class ReplayBlock:
    """A fenced shell block marked with a data-replay scenario."""

    scenario: str
    line: int
    commands: tuple[str, ...]


@dataclass(frozen=True)
class CheatSheetRow:
    """A row of the cheat sheet: the command in its first column and the rest of the row."""

    command: str
    description: str
    line: int


def read_page() -> str:
    return PAGE.read_text(encoding="utf-8")


def replay_blocks(text: str) -> list[ReplayBlock]:
    """Return the page's fenced blocks that carry a data-replay attribute, in page order."""
    lines = text.splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        opening = OPENING_FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence = opening.group("fence")
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        marked = REPLAY_ATTRIBUTE.search(opening.group("info"))
        if marked:
            blocks.append(ReplayBlock(
                scenario=marked.group("scenario"),
                line=index + 1,
                commands=tuple(join_commands(lines[index + 1:end])),
            ))
        index = end + 1
    return blocks


def join_commands(body: list[str]) -> list[str]:
    """Return one string per shell command, joining continuation lines and dropping comments."""
    commands: list[str] = []
    pending = ""
    for raw in body:
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        commands.append(pending + line)
        pending = ""
    if pending:
        commands.append(pending.rstrip())
    return commands


def scenario_commands(text: str, scenario: str) -> tuple[str, ...]:
    """Return the commands of every block marked with `scenario`, in page order."""
    return tuple(
        command
        for block in replay_blocks(text)
        if block.scenario == scenario
        for command in block.commands
    )


def commands_drift(
    scenario: str, expected: tuple[str, ...], on_page: tuple[str, ...]
) -> str | None:
    """Describe how the page's commands differ from the test's, or return None when equal."""
    if expected == on_page:
        return None
    diff = "\n".join(difflib.unified_diff(
        list(expected), list(on_page), "commands the test replays", "commands on the page",
        lineterm="",
    ))
    return (
        f"the commands of the page's {scenario!r} blocks changed in {PAGE.relative_to(REPO_ROOT)}: "
        f"update the test's list and the checks that replay them\n{diff}"
    )


def cheat_sheet_rows(text: str) -> list[CheatSheetRow]:
    """Return the rows of the table under the page's "## Cheat sheet" heading."""
    lines = text.splitlines()
    try:
        start = lines.index(CHEAT_SHEET_HEADING)
    except ValueError:
        raise AssertionError(f"{PAGE} has no {CHEAT_SHEET_HEADING!r} heading") from None
    rows = []
    for number, line in enumerate(lines[start + 1:], start=start + 2):
        if line.startswith("#"):
            break
        row = TABLE_ROW.match(line)
        if row:
            rows.append(CheatSheetRow(row.group("command"), row.group("rest").strip(" |"), number))
    return rows


def prune_table(text: str) -> dict[str, tuple[str, ...]]:
    """Return the rows of the table under the `docker system prune` heading, by their first cell.

    Each value contains the other cells: removed by default, kept by default, and
    the option that changes it.
    """
    lines = text.splitlines()
    start = next((number for number, line in enumerate(lines)
                  if line.startswith("### ") and PRUNE_HEADING in line), None)
    assert start is not None, f"{PAGE} has no heading that contains {PRUNE_HEADING!r}"
    rows: dict[str, tuple[str, ...]] = {}
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0]:
            rows[cells[0]] = tuple(cells[1:])
    return rows
