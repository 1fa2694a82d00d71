"""Unit tests of the macros module: reading front matter and rendering the listing."""

from __future__ import annotations

import datetime

import pytest
from docs_macros import (
    FrontMatterError,
    escape_markdown,
    find_chapters,
    read_front_matter,
    render_listing,
)

SERIES = "DevOps Zero to Hero"


def write_page(docs, path, front_matter, body="Body.\n"):
    page = docs / path
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"---\n{front_matter}---\n\n{body}", encoding="utf-8")
    return page


def test_front_matter_absent_returns_empty(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# No front matter\n", encoding="utf-8")

    assert read_front_matter(page) == {}


def test_front_matter_invalid_yaml_raises(tmp_path):
    page = write_page(tmp_path, "page.md", "title: [unclosed\n")

    with pytest.raises(FrontMatterError, match="invalid YAML"):
        read_front_matter(page)


def test_chapters_sorted_by_date_then_title(tmp_path):
    write_page(tmp_path, "b.md", f"title: B\ndate: 2026-02-01\nsummary: s\nseries: [{SERIES}]\n")
    write_page(tmp_path, "a/index.md",
               f"title: A\ndate: 2026-02-01\nsummary: s\nseries: [{SERIES}]\n")
    write_page(tmp_path, "c.md", f"title: C\ndate: 2026-01-01\nsummary: s\nseries: [{SERIES}]\n")
    write_page(tmp_path, "other.md", "title: Other\ndate: 2025-01-01\nsummary: s\nseries: [X]\n")
    write_page(tmp_path, "plain.md", "title: Plain\n")

    chapters = find_chapters(tmp_path, SERIES)

    assert [chapter.title for chapter in chapters] == ["C", "A", "B"]
    assert chapters[1].path == "a/index.md"
    assert chapters[0].date == datetime.date(2026, 1, 1)


def test_chapters_skip_hidden_folders(tmp_path):
    write_page(tmp_path, ".drafts/x.md",
               f"title: Draft\ndate: 2026-01-01\nsummary: s\nseries: [{SERIES}]\n")

    assert find_chapters(tmp_path, SERIES) == []


def test_chapter_missing_summary_raises(tmp_path):
    write_page(tmp_path, "page.md", f"title: T\ndate: 2026-01-01\nseries: [{SERIES}]\n")

    with pytest.raises(FrontMatterError, match="missing summary"):
        find_chapters(tmp_path, SERIES)


def test_chapter_invalid_date_raises(tmp_path):
    write_page(tmp_path, "page.md", f"title: T\ndate: soon\nsummary: s\nseries: [{SERIES}]\n")

    with pytest.raises(FrontMatterError, match="invalid date 'soon'"):
        find_chapters(tmp_path, SERIES)


def test_chapter_string_date_accepted(tmp_path):
    write_page(tmp_path, "page.md",
               f"title: T\ndate: '2026-03-04'\nsummary: s\nseries: [{SERIES}]\n")

    assert find_chapters(tmp_path, SERIES)[0].date == datetime.date(2026, 3, 4)


def test_series_as_string_raises(tmp_path):
    write_page(tmp_path, "page.md", f"title: T\ndate: 2026-01-01\nsummary: s\nseries: {SERIES}\n")

    with pytest.raises(FrontMatterError, match="series must be a list"):
        find_chapters(tmp_path, SERIES)


def test_escape_markdown_keeps_text_literal():
    assert escape_markdown("a *b* [c] _d_ `e`") == r"a \*b\* \[c\] \_d\_ \`e\`"
    assert escape_markdown("<b> & more") == "&lt;b&gt; &amp; more"
    assert escape_markdown("# not a heading") == r"\# not a heading"
    assert escape_markdown("1. not a list") == r"1\. not a list"


def test_listing_links_relative_to_page(tmp_path):
    write_page(tmp_path, "docker/index.md",
               f"title: Docker\ndate: 2026-02-12\nsummary: s\nseries: [{SERIES}]\n")
    chapters = find_chapters(tmp_path, SERIES)

    from_home = render_listing(chapters, "index.md", SERIES)
    from_folder = render_listing(chapters, "guides/index.md", SERIES)

    assert "**[Docker](docker/index.md)**" in from_home
    assert "**[Docker](../docker/index.md)**" in from_folder
    assert '<time datetime="2026-02-12">12 February 2026</time>' in from_home


def test_listing_without_chapters_says_so():
    assert "No chapter of" in render_listing([], "index.md", SERIES)
