"""Use the chapter's code blocks: copy an included example, switch the scanner tabs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from browser_pages import open_recorded_page
from markdown_fences import expected_text, include_targets, read_fences, split_target
from playwright.sync_api import Page, expect
from served_site import DOCS_DIR, REPO_ROOT
from site_nav import page_url, read_chapter

pytestmark = pytest.mark.browser

CHAPTER_PAGES = read_chapter("docker").pages
SCANNER_PAGE_URL = "docker/security/"
SCANNER_TABS = ["Docker Scout", "Trivy", "Grype"]


def titled_includes() -> list[tuple[str, int, str]]:
    """Return (page URL, position, include target) of each titled include of the chapter.

    The position counts the titled blocks of the page: the nth titled fence in
    a page's Markdown is the nth titled block on the built page.
    tests/site/test_site_includes.py checks that each titled block is a single
    include whose title is the included file's path.
    """
    includes = []
    for source in CHAPTER_PAGES:
        titled = [fence for fence in read_fences(DOCS_DIR / source) if fence.title is not None]
        includes += [
            (page_url(source), position, targets[0])
            for position, fence in enumerate(titled)
            if (targets := include_targets(fence))
        ]
    return includes


TITLED_INCLUDES = titled_includes()


def read_clipboard(page: Page) -> str:
    """Wait until the clipboard is not empty and return its text."""
    handle = page.wait_for_function("async () => (await navigator.clipboard.readText()) || null")
    return handle.json_value()


@pytest.fixture(scope="module")
def clipboard_page(browser, site_url) -> Iterator[Page]:
    """Return a browser tab for the copy tests, with the clipboard readable.

    The copy tests only click buttons and read the clipboard, so they share
    this tab, and each page of the chapter loads once.
    """
    recorded = open_recorded_page(browser, site_url, None)
    page = recorded.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url)
    yield page
    page.context.close()


def show_chapter_page(page: Page, site_url: str, url: str) -> None:
    """Open the chapter page at `url` in `page` unless it is open, with every note expanded."""
    if page.url == site_url + url:
        return
    page.goto(url)
    # Collapsed notes hide some of the blocks, and a hidden button cannot be clicked.
    page.locator("details").evaluate_all("notes => notes.forEach(note => note.open = true)")


@pytest.mark.parametrize(
    ("url", "block_index", "target"),
    TITLED_INCLUDES,
    ids=[target for _, _, target in TITLED_INCLUDES],
)
def test_copy_button_copies_included_file(clipboard_page, site_url, url, block_index, target):
    page = clipboard_page
    show_chapter_page(page, site_url, url)
    path, section = split_target(target)
    block = page.locator("div.highlight:has(> span.filename)").nth(block_index)
    expect(block.locator("> span.filename")).to_have_text(path)
    page.evaluate("navigator.clipboard.writeText('')")

    block.locator("button.md-code__button[data-md-type='copy']").click()

    # Material trims trailing whitespace from the text that it copies.
    assert read_clipboard(page) == expected_text(REPO_ROOT / path, section).rstrip()


def test_scanner_tabs_switch_and_persist(open_page):
    page = open_page(SCANNER_PAGE_URL).page
    features = json.loads(page.locator("#__config").text_content())["features"]
    assert "content.tabs.link" in features, (
        "content.tabs.link is missing from theme.features in mkdocs.yml: add it, so that "
        "a reader's tab choice applies to every tab set with the same labels and persists"
    )
    scanner_sets = page.locator(".tabbed-set").filter(
        has=page.locator(".tabbed-labels > label", has_text=SCANNER_TABS[1])
    )
    expect(scanner_sets).not_to_have_count(0)
    first_set = scanner_sets.first
    expect(first_set.locator(".tabbed-labels > label")).to_have_text(SCANNER_TABS)
    expect(first_set.locator(".tabbed-block").nth(0)).to_be_visible()
    expect(first_set.locator(".tabbed-block").nth(1)).to_be_hidden()

    first_set.locator(".tabbed-labels > label", has_text=SCANNER_TABS[1]).click()

    assert_tab_selected(page, SCANNER_TABS[1])
    page.reload()
    assert_tab_selected(page, SCANNER_TABS[1])


def assert_tab_selected(page: Page, label: str) -> None:
    """Assert that in every tab set with a tab `label`, that tab's content is the one shown."""
    tab_sets = page.locator(".tabbed-set").filter(
        has=page.locator(".tabbed-labels > label", has_text=label)
    )
    for index in range(tab_sets.count()):
        tab_set = tab_sets.nth(index)
        labels = tab_set.locator(".tabbed-labels > label").all_inner_texts()
        position = [text.strip() for text in labels].index(label)
        blocks = tab_set.locator(".tabbed-block")
        for block_index in range(blocks.count()):
            if block_index == position:
                expect(blocks.nth(block_index)).to_be_visible()
            else:
                expect(blocks.nth(block_index)).to_be_hidden()
