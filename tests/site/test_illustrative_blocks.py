"""Check that the site shows the reason of each illustrative block as text above its code."""

from __future__ import annotations

import pytest
from html_tree import Element, parse_html, read_page
from site_nav import page_url, read_chapter
from site_paths import DOCS_DIR, REPO_ROOT
from snippet_coverage import read_blocks

LABEL = "Not run by the course's tests:"
CHAPTER_PAGES = read_chapter("docker").pages


def child_elements(element: Element) -> list[Element]:
    return [child for child in element.children if isinstance(child, Element)]


def illustrative_reasons(source: str) -> list[str]:
    blocks = read_blocks(DOCS_DIR / source, REPO_ROOT)
    return [block.attributes["data-reason"] for block in blocks
            if "illustrative" in block.classes]


def test_chapter_has_illustrative_blocks():
    assert any(illustrative_reasons(source) for source in CHAPTER_PAGES), (
        "no page of the Docker chapter has an illustrative block")


@pytest.mark.parametrize("source", CHAPTER_PAGES)
def test_chapter_page_shows_each_illustrative_reason(site_dir, source):
    reasons = illustrative_reasons(source)
    rendered = read_page(site_dir, page_url(source)).find_all("div", class_="illustrative")

    assert len(rendered) == len(reasons)
    for block, reason in zip(rendered, reasons):
        note = block.find("p", class_="illustrative-reason")
        assert note is not None, f"no reason shown for the block marked {reason!r}"
        assert note.text() == f"{LABEL} {reason}"
        assert LABEL not in block.find("code").text()


def test_titled_illustrative_block_shows_reason_under_title(site_copy, build_copy, add_page):
    add_page(site_copy, "sketch.md", (
        "# Sketch\n\n"
        '```text { .text .illustrative data-reason="A plan & a sketch." title="plan.txt" }\n'
        "step one\n"
        "```\n\n"
        "```bash\n"
        "echo run\n"
        "```\n"
    ))

    result = build_copy(site_copy)

    assert result.returncode == 0, result.stdout + result.stderr
    page = parse_html((site_copy.parent / "site" / "sketch" / "index.html").read_text("utf-8"))
    illustrative, plain = page.find_all("div", class_="highlight")
    title, note, code = child_elements(illustrative)[:3]
    assert title.text() == "plan.txt"
    assert note.attrs["class"] == "illustrative-reason"
    assert note.text() == f"{LABEL} A plan & a sketch."
    assert code.tag == "pre"
    assert plain.find("p", class_="illustrative-reason") is None
