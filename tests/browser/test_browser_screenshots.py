"""Save screenshots of the chapter's pages at desktop and phone width, for review by a person."""

from __future__ import annotations

import struct

import pytest
from site_nav import page_url, read_chapter

pytestmark = pytest.mark.browser

CHAPTER_URLS = [page_url(source) for source in read_chapter("docker").pages]
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 375, "height": 812},
}


def png_width(data: bytes) -> int:
    """Return the width in pixels from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is not a PNG file"
    return struct.unpack(">I", data[16:20])[0]


def screenshot_name(url: str, viewport: str) -> str:
    """Return the file name of a page's screenshot, such as docker-compose-phone.png."""
    return f"{url.strip('/').replace('/', '-')}-{viewport}.png"


@pytest.mark.parametrize("name", VIEWPORTS)
@pytest.mark.parametrize("url", CHAPTER_URLS)
def test_chapter_screenshot_saved(open_page, screenshot_dir, url, name):
    viewport = VIEWPORTS[name]
    page = open_page(url, viewport=viewport, color_scheme="light").page
    path = screenshot_dir / screenshot_name(url, name)
    path.unlink(missing_ok=True)

    page.screenshot(path=path, full_page=True)

    assert path.is_file()
    assert png_width(path.read_bytes()) == viewport["width"]
