"""Save screenshots of the chapter at desktop and phone width, for review by a person."""

from __future__ import annotations

import struct

import pytest

pytestmark = pytest.mark.browser

CHAPTER_URL = "docker/"
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 375, "height": 812},
}


def png_width(data: bytes) -> int:
    """Return the width in pixels from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is not a PNG file"
    return struct.unpack(">I", data[16:20])[0]


@pytest.mark.parametrize("name", VIEWPORTS)
def test_chapter_screenshot_saved(open_page, screenshot_dir, name):
    viewport = VIEWPORTS[name]
    page = open_page(CHAPTER_URL, viewport=viewport, color_scheme="light").page
    path = screenshot_dir / f"chapter-{name}.png"
    path.unlink(missing_ok=True)

    page.screenshot(path=path, full_page=True)

    assert path.is_file()
    assert png_width(path.read_bytes()) == viewport["width"]
