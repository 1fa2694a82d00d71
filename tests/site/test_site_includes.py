"""Check that pages show example files only through includes, and show them whole."""

from __future__ import annotations

import pytest
from html_tree import code_blocks, read_page
from markdown_fences import expected_text, include_targets, read_fences, split_target
from site_nav import read_chapter
from site_paths import DOCS_DIR as DOCS
from site_paths import REPO_ROOT

PAGES = sorted(DOCS.rglob("*.md"))
CHAPTER_PAGES = read_chapter("docker").pages

# Languages of the files that a page must include rather than paste.
FILE_LANGUAGES = {"dockerfile", "yaml", "yml"}


def page_url(page) -> str:
    """Return the URL path of a page's built HTML, relative to the site root."""
    relative = page.relative_to(DOCS).with_suffix("")
    if relative.name == "index":
        relative = relative.parent
    return "" if str(relative) == "." else f"{relative.as_posix()}/"


def must_be_include(fence) -> bool:
    # A titled block shows a file (the title is its path), and so does every
    # Dockerfile or YAML block. A .dockerignore has no language of its own, so
    # it is caught by its title.
    return fence.title is not None or fence.language in FILE_LANGUAGES


def titled_includes(page):
    return [fence for fence in read_fences(page) if fence.title is not None]


def test_pages_are_found():
    assert (DOCS / "docker" / "index.md") in PAGES


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(REPO_ROOT).as_posix())
def test_file_blocks_are_single_includes(page):
    for fence in read_fences(page):
        if not must_be_include(fence):
            continue
        targets = include_targets(fence)
        assert targets is not None, (
            f"{fence.where}: a {fence.language} block must only contain a --8<-- include line"
        )
        assert len(targets) == 1, f"{fence.where}: one include per block, found {targets}"
        path, _ = split_target(targets[0])
        assert fence.title == path, f"{fence.where}: title {fence.title!r} is not {path!r}"
        assert (REPO_ROOT / path).is_file(), f"{fence.where}: {path} does not exist"


def test_chapter_includes_every_docker_file_kind():
    titles = {fence.title for source in CHAPTER_PAGES for fence in read_fences(DOCS / source)}

    assert "examples/docker/basic-dockerfile/Dockerfile" in titles
    assert "examples/docker/multi-stage/Dockerfile" in titles
    assert "examples/docker/multi-stage/.dockerignore" in titles
    assert "examples/docker/compose-stack/compose.yaml" in titles
    assert "examples/docker/compose-stack/app.py" in titles


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(REPO_ROOT).as_posix())
def test_included_blocks_render_file_text(page, site_dir):
    fences = titled_includes(page)
    rendered = [block for block in code_blocks(read_page(site_dir, page_url(page))) if block[0]]

    assert [title for title, _ in rendered] == [fence.title for fence in fences]
    for fence, (title, text) in zip(fences, rendered):
        targets = include_targets(fence)
        assert targets, f"{fence.where}: {title} is pasted, not included"
        path, section = split_target(targets[0])
        expected = expected_text(REPO_ROOT / path, section)
        assert text.strip("\n") == expected.strip("\n"), f"{fence.where}: {title} differs"


def test_section_include_drops_marker_lines(site_dir):
    blocks = [block for source in CHAPTER_PAGES
              for block in code_blocks(read_page(site_dir, page_url(DOCS / source)))]
    whole = [text for title, text in blocks if title == "examples/docker/multi-stage/Dockerfile"]

    assert len(whole) == 2, "expected the whole Dockerfile and its non-root section"
    full, section = whole
    assert "8<" not in full
    assert "8<" not in section
    assert section.strip("\n").splitlines() == [
        "RUN useradd --create-home --uid 10001 --user-group app",
        "USER 10001:10001",
    ]


def test_missing_include_fails_build(site_copy, build_copy, add_page):
    add_page(site_copy, "broken.md", (
        "# Broken\n\n"
        '```dockerfile title="examples/docker/no-such-example/Dockerfile"\n'
        '--8<-- "examples/docker/no-such-example/Dockerfile"\n'
        "```\n"
    ))

    result = build_copy(site_copy)

    assert result.returncode != 0
    assert "examples/docker/no-such-example/Dockerfile" in result.stdout + result.stderr


def test_missing_section_fails_build(site_copy, build_copy, add_page):
    add_page(site_copy, "broken.md", (
        "# Broken\n\n"
        '```dockerfile title="examples/docker/multi-stage/Dockerfile"\n'
        '--8<-- "examples/docker/multi-stage/Dockerfile:no-such-section"\n'
        "```\n"
    ))

    result = build_copy(site_copy)

    assert result.returncode != 0
    assert "no-such-section" in result.stdout + result.stderr
