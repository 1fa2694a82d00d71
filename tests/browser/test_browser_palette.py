"""Switch between the light and the dark palette, and keep the choice."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

CHAPTER_URL = "docker/"


def click_palette_toggle(page: Page) -> None:
    # Material shows one toggle label at a time: the one that switches away
    # from the current palette.
    page.locator("form[data-md-component='palette'] label:not([hidden])").click()


def stored_palette(page: Page) -> str | None:
    """Return the palette entry that Material keeps in localStorage, if any."""
    return page.evaluate(
        """() => {
            const key = Object.keys(localStorage).find(name => name.endsWith("__palette"));
            return key === undefined ? null : localStorage.getItem(key);
        }"""
    )


def test_palette_toggle_switches_and_persists(open_page):
    page = open_page(CHAPTER_URL, color_scheme="light").page
    body = page.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "default")

    click_palette_toggle(page)

    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    assert '"slate"' in (stored_palette(page) or "")
    page.reload()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")

    click_palette_toggle(page)

    expect(body).to_have_attribute("data-md-color-scheme", "default")
    page.reload()
    expect(body).to_have_attribute("data-md-color-scheme", "default")
