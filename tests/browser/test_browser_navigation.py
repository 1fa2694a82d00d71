"""Reach the Docker chapter as a reader does: from the home page, search and the phone menu."""

from __future__ import annotations


import pytest
import yaml
from playwright.sync_api import expect
from served_site import DOCS_DIR

pytestmark = pytest.mark.browser

CHAPTER_URL = "docker/"
CHAPTER_TITLE = yaml.safe_load(
    (DOCS_DIR / "docker" / "index.md").read_text(encoding="utf-8").split("---\n")[1]
)["title"]
COMPOSE_URL = "docker/compose/"
PHONE_VIEWPORT = {"width": 375, "height": 812}


def test_home_page_links_to_chapter(open_page, site_url):
    page = open_page("").page

    expect(page.locator("h2#series")).to_be_visible()
    chapter_link = page.locator(".series-listing a", has_text=CHAPTER_TITLE)
    expect(chapter_link).to_have_count(1)
    chapter_link.click()

    expect(page).to_have_url(site_url + CHAPTER_URL)
    expect(page.locator("article h1")).to_have_text(CHAPTER_TITLE)


def test_search_compose_opens_compose_step(open_page, site_url):
    page = open_page(CHAPTER_URL).page

    search = page.locator("input.md-search__input")
    search.click()
    # Material searches on key events, so type the query key by key.
    search.press_sequentially("compose")
    # Material adds the query as ?h=compose, to highlight it on the page.
    step_url = site_url + COMPOSE_URL + "?h=compose"
    step_result = page.locator(f".md-search-result__item a[href='{step_url}']")
    expect(step_result).to_have_count(1)
    expect(step_result).to_contain_text("Compose")
    step_result.click()

    expect(page).to_have_url(step_url)
    heading = page.locator("article h1")
    expect(heading).to_contain_text("Run the stack with Compose")
    expect(heading).to_be_in_viewport()


def test_phone_menu_button_opens_drawer(open_page):
    page = open_page(CHAPTER_URL, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True).page
    drawer = page.locator(".md-sidebar--primary")
    chapter_link = drawer.locator(".md-nav__link", has_text="Docker").first

    expect(drawer).not_to_be_in_viewport()
    page.locator("label.md-header__button[for='__drawer']").click()

    expect(page.locator("#__drawer")).to_be_checked()
    expect(drawer).to_be_in_viewport()
    expect(chapter_link).to_be_visible()
    expect(chapter_link).to_be_in_viewport()
