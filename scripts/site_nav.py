"""Read the chapters of the site and their pages from the nav of mkdocs.yml.

A chapter is a top-level nav section whose first page is a folder's
index.md, the chapter's overview. The section's other pages are the chapter's
steps, in reading order. The tests, scripts/bench-lighthouse and the replay
of the commands read the order from here, so that mkdocs.yml is its only
source.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from mkdocs.utils.yaml import yaml_load

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = REPO_ROOT / "mkdocs.yml"


@dataclass(frozen=True)
class Chapter:
    """A chapter: its nav label and its pages' paths under docs/, overview first."""

    label: str
    pages: tuple[str, ...]

    @property
    def name(self) -> str:
        """Return the chapter's folder under docs/, such as docker."""
        return posixpath.dirname(self.pages[0])


def page_url(source: str) -> str:
    """Return the URL of a page relative to the site, such as docker/compose/ or "" for index.md."""
    if source == "index.md":
        return ""
    if source.endswith("/index.md"):
        return source.removesuffix("index.md")
    return source.removesuffix(".md") + "/"


def read_chapters(config_file: Path = CONFIG_FILE) -> list[Chapter]:
    """Return the chapters that the nav of `config_file` lists, in nav order.

    Raises ValueError when a chapter's section contains something other than
    page paths, such as a nested section or a link, which the chapter layout
    does not use.
    """
    with config_file.open(encoding="utf-8") as file:
        config = yaml_load(file)
    chapters = []
    for item in config.get("nav") or []:
        if not isinstance(item, dict) or len(item) != 1:
            continue
        [(label, entries)] = item.items()
        if not isinstance(entries, list) or not entries:
            continue
        pages = [_page_path(entry) for entry in entries]
        if None in pages:
            raise ValueError(
                f"{config_file}: the nav section {label!r} contains an entry that is not a "
                "page path; list a chapter's pages as paths such as docker/compose.md"
            )
        if pages[0].endswith("/index.md"):
            chapters.append(Chapter(label=str(label), pages=tuple(pages)))
    return chapters


def read_chapter(name: str, config_file: Path = CONFIG_FILE) -> Chapter:
    """Return the chapter whose folder under docs/ is `name`, or raise LookupError."""
    for chapter in read_chapters(config_file):
        if chapter.name == name:
            return chapter
    raise LookupError(f"{config_file}: no nav section starts with {name}/index.md")


def _page_path(entry: object) -> str | None:
    # A nav entry is a path, or a mapping of one label to a path.
    if isinstance(entry, dict) and len(entry) == 1:
        entry = next(iter(entry.values()))
    return entry if isinstance(entry, str) and entry.endswith(".md") else None
