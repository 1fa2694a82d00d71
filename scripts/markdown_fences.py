"""Read fenced code blocks and snippet includes from the site's Markdown source."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

OPENING_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>.*?)[ \t]*$")
TITLE = re.compile(r'\btitle="(?P<title>[^"]*)"')

# An include line of pymdownx.snippets: --8<-- "path" or --8<-- "path:section".
INCLUDE_LINE = re.compile(r'^[ \t]*-+8<-+[ \t]+"(?P<target>[^"]+)"[ \t]*$')

# A section marker inside an included file, such as "# --8<-- [start:non-root]".
SECTION_MARKER = re.compile(
    r"-+8<-+[ \t]+\[[ \t]*(?P<kind>start|end)[ \t]*:[ \t]*(?P<name>[a-z][-_0-9a-z]*)[ \t]*\]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Fence:
    """A fenced code block in a Markdown file."""

    path: Path
    line: int
    language: str
    title: str | None
    body: list[str]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def read_fences(path: Path) -> list[Fence]:
    """Return the fenced code blocks of a Markdown file, including indented ones."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fences = []
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
        info = opening.group("info")
        title = TITLE.search(info)
        fences.append(Fence(
            path=path,
            line=index + 1,
            language=_language(info),
            title=title.group("title") if title else None,
            body=lines[index + 1:end],
        ))
        index = end + 1
    return fences


def _language(info: str) -> str:
    # The language is the first word of the info string: "dockerfile title=..."
    # or, in attribute form, the first class: "{ .dockerfile title=... }".
    word = info.strip().lstrip("{").strip().split(" ", 1)[0]
    return word.lstrip(".").lower()


def include_targets(fence: Fence) -> list[str] | None:
    """Return the include targets of a fence made only of include lines, else None."""
    lines = [line for line in fence.body if line.strip()]
    matches = [INCLUDE_LINE.match(line) for line in lines]
    if not lines or not all(matches):
        return None
    return [match.group("target") for match in matches]


def split_target(target: str) -> tuple[str, str | None]:
    """Split an include target into its path and its section name, if any."""
    path, _, section = target.partition(":")
    return path, section or None


def expected_text(file: Path, section: str | None) -> str:
    """Return the text an include of `file` shows: the section, or the whole file.

    Section marker lines never show, as pymdownx.snippets removes them.
    """
    lines = file.read_text(encoding="utf-8").splitlines()
    if section is None:
        return "\n".join(line for line in lines if not SECTION_MARKER.search(line))
    kept, inside = [], False
    for line in lines:
        marker = SECTION_MARKER.search(line)
        if marker and marker.group("name") == section:
            inside = marker.group("kind").lower() == "start"
            continue
        if inside and not marker:
            kept.append(line)
    return "\n".join(kept)
