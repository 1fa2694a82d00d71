"""Read the commands that the Docker chapter teaches, from its marked blocks and its tables.

The chapter has several pages, and a reader runs their blocks in the order of
the nav of mkdocs.yml, so the functions here read the pages in that order.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import site_nav

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO_ROOT / "docs"
CHAPTER = "docker"

OPENING_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>.*?)[ \t]*$")
REPLAY_ATTRIBUTE = re.compile(r'\bdata-replay="(?P<scenario>[^"]*)"')
CHEAT_SHEET_HEADING = "## Cheat sheet"
PRUNE_HEADING = "## What `docker system prune` removes and keeps"
# The first cell of a table row, when it is one inline code span: | `docker ps` | ...
TABLE_ROW = re.compile(r"^\|\s*`(?P<command>[^`]+)`\s*\|(?P<rest>.*)\|\s*$")


@dataclass(frozen=True)
class ChapterPage:
    """A page of the chapter: its path relative to the repository root, and its Markdown."""

    path: str
    text: str


@dataclass(frozen=True)
class ReplayBlock:
    """A fenced shell block marked with a data-replay scenario."""

    scenario: str
    page: str
    line: int
    commands: tuple[str, ...]


@dataclass(frozen=True)
class CheatSheetRow:
    """A row of the cheat sheet: the command in its first column and the rest of the row."""

    command: str
    description: str
    page: str
    line: int


def read_chapter() -> list[ChapterPage]:
    """Return the chapter's pages in reading order: the order of the nav of mkdocs.yml."""
    return [
        ChapterPage(f"docs/{source}", (DOCS_DIR / source).read_text(encoding="utf-8"))
        for source in site_nav.read_chapter(CHAPTER).pages
    ]


def shows_inline(pages: list[ChapterPage], command: str) -> bool:
    """Return whether a page of the chapter shows `command` as inline code."""
    return any(f"`{command}`" in page.text for page in pages)


def replay_blocks(pages: list[ChapterPage]) -> list[ReplayBlock]:
    """Return the fenced blocks that carry a data-replay attribute, in reading order."""
    return [block for page in pages for block in page_replay_blocks(page)]


def page_replay_blocks(page: ChapterPage) -> list[ReplayBlock]:
    """Return one page's fenced blocks that carry a data-replay attribute, in page order."""
    lines = page.text.splitlines()
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
                page=page.path,
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


def scenario_commands(pages: list[ChapterPage], scenario: str) -> tuple[str, ...]:
    """Return the commands of every block marked with `scenario`, in reading order."""
    return tuple(
        command
        for block in replay_blocks(pages)
        if block.scenario == scenario
        for command in block.commands
    )


def commands_drift(
    scenario: str, expected: tuple[str, ...], on_page: tuple[str, ...]
) -> str | None:
    """Describe how the pages' commands differ from the test's, or return None when equal."""
    if expected == on_page:
        return None
    diff = "\n".join(difflib.unified_diff(
        list(expected), list(on_page), "commands the test replays", "commands on the pages",
        lineterm="",
    ))
    return (
        f"the commands of the {scenario!r} blocks changed in the pages of docs/{CHAPTER}/: "
        f"update the test's list and the checks that replay them\n{diff}"
    )


def page_with_heading(pages: list[ChapterPage], heading: str) -> tuple[ChapterPage, int]:
    """Return the page with a line that starts with `heading`, and the index of that line.

    Raises AssertionError when no page of the chapter has such a heading.
    """
    for page in pages:
        lines = page.text.splitlines()
        for number, line in enumerate(lines):
            if line.startswith(heading):
                return page, number
    raise AssertionError(f"no page of docs/{CHAPTER}/ has a heading {heading!r}")


def cheat_sheet_rows(pages: list[ChapterPage]) -> list[CheatSheetRow]:
    """Return the rows of the table under the chapter's "## Cheat sheet" heading."""
    page, start = page_with_heading(pages, CHEAT_SHEET_HEADING)
    lines = page.text.splitlines()
    rows = []
    for number, line in enumerate(lines[start + 1:], start=start + 2):
        if line.startswith("#"):
            break
        row = TABLE_ROW.match(line)
        if row:
            rows.append(CheatSheetRow(
                row.group("command"), row.group("rest").strip(" |"), page.path, number,
            ))
    return rows


def prune_table(pages: list[ChapterPage]) -> dict[str, tuple[str, ...]]:
    """Return the rows of the table under the `docker system prune` heading, by their first cell.

    Each value contains the other cells: removed by default, kept by default, and
    the option that changes it.
    """
    page, start = page_with_heading(pages, PRUNE_HEADING)
    lines = page.text.splitlines()
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
