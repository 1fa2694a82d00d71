"""The series listing: read the front matter of the pages and render their cards."""

import datetime
import html
import posixpath
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import yaml

# The same front matter that MkDocs reads: a YAML block between `---` lines at
# the top of the file, closed by `---` or `...`.
FRONT_MATTER = re.compile(r"\A-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.DOTALL)

# Keys that a page in a series must set, so that the listing can show it.
CHAPTER_KEYS = ("title", "date", "summary")

# Characters that start Markdown syntax anywhere in a line, and the ones that
# start a heading or a list at the beginning of a line. html.escape already
# turns the > of a quote into &gt;.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]])")
BLOCK_START = re.compile(r"^([#+-])")
ORDERED_LIST_START = re.compile(r"^(\d+)\.")


class FrontMatterError(ValueError):
    """Front matter that is invalid, or that lacks a key a series chapter needs."""


@dataclass(frozen=True)
class Chapter:
    """A page of a series, as its front matter describes it."""

    path: str
    title: str
    date: datetime.date
    summary: str
    tags: tuple[str, ...]


def read_front_matter(path: Path) -> dict:
    """Parse the YAML front matter of a Markdown file, or return {} if it has none."""
    text = path.read_text(encoding="utf-8-sig")
    match = FRONT_MATTER.match(text)
    if not match:
        return {}
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        raise FrontMatterError(f"{path}: invalid YAML front matter: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrontMatterError(f"{path}: front matter must be a mapping of keys to values")
    return data


def parse_date(value: object, path: Path) -> datetime.date:
    """Convert a front-matter date (YAML date, datetime or ISO string) to a date."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise FrontMatterError(
            f"{path}: invalid date {value!r}. Write it as YYYY-MM-DD, for example 2026-02-12"
        ) from None


def series_of(data: dict, path: Path) -> list[str]:
    """Return the series names that a page's front matter lists."""
    series = data.get("series", [])
    if not isinstance(series, list):
        raise FrontMatterError(
            f"{path}: series must be a list, for example series: [\"DevOps Zero to Hero\"]"
        )
    return [str(name) for name in series]


def chapter_from(data: dict, path: Path, docs_dir: Path) -> Chapter:
    """Build a Chapter from front matter, or raise FrontMatterError if a key is missing."""
    missing = [key for key in CHAPTER_KEYS if not data.get(key)]
    if missing:
        raise FrontMatterError(
            f"{path}: front matter is missing {', '.join(missing)}, which the series "
            "listing shows for every chapter"
        )
    tags = data.get("tags") or []
    if not isinstance(tags, list):
        raise FrontMatterError(f"{path}: tags must be a list, for example tags: [Docker]")
    return Chapter(
        path=path.relative_to(docs_dir).as_posix(),
        title=str(data["title"]),
        date=parse_date(data["date"], path),
        summary=str(data["summary"]).strip(),
        tags=tuple(str(tag) for tag in tags),
    )


def find_chapters(docs_dir: Path, series: str) -> list[Chapter]:
    """Return the pages under docs_dir whose front matter lists `series`, oldest first.

    Pages with the same date are ordered by title. Hidden files and folders
    (names starting with a dot) are skipped, as MkDocs skips them.
    """
    chapters = []
    for path in sorted(docs_dir.rglob("*.md")):
        relative = path.relative_to(docs_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        data = read_front_matter(path)
        if series in series_of(data, path):
            chapters.append(chapter_from(data, path, docs_dir))
    return sorted(chapters, key=lambda chapter: (chapter.date, chapter.title))


def escape_markdown(text: str) -> str:
    """Escape one line of text so that Markdown shows it as written, not as markup."""
    escaped = MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    escaped = BLOCK_START.sub(r"\\\1", escaped)
    return ORDERED_LIST_START.sub(r"\1\\.", escaped)


def format_date(date: datetime.date) -> str:
    """Format a date as, for example, 12 February 2026."""
    return f"{date.day} {date.strftime('%B %Y')}"


def render_listing(chapters: list[Chapter], page_path: str, series: str) -> str:
    """Render chapters as Material grid cards, with links relative to page_path."""
    if not chapters:
        return f"*No chapter of {escape_markdown(series)} is published yet.*\n"
    page_dir = posixpath.dirname(page_path)
    cards = ['<div class="grid cards series-listing" markdown>', ""]
    for chapter in chapters:
        link = urllib.parse.quote(posixpath.relpath(chapter.path, page_dir or "."))
        tags = " · ".join(escape_markdown(tag) for tag in chapter.tags)
        cards += [
            f"-   **[{escape_markdown(chapter.title)}]({link})**",
            "",
            "    ---",
            "",
            f'    <time datetime="{chapter.date.isoformat()}">'
            f"{format_date(chapter.date)}</time>" + (f" · {tags}" if tags else ""),
            "",
            f"    {escape_markdown(' '.join(chapter.summary.split()))}",
            "",
        ]
    cards.append("</div>")
    return "\n".join(cards) + "\n"

