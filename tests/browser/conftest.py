"""Fixtures for the browser tests: the built site, its local server and Chromium.

One build, one server and one Chromium serve the whole session. Tests open
pages in browser contexts of their own, so that localStorage and permissions
set by one test never reach another.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_pages import RecordedPage, open_recorded_page
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from served_site import REPO_ROOT, BuiltSite, build_site, serve

# Debian's chromium package. Playwright's own browser download is not used,
# because the machines that run these tests reach no host that serves it.
DEFAULT_CHROMIUM = "/usr/bin/chromium"

# Keep Chromium from calling home: no background, update or sync traffic.
# The resolver rule resolves every host name but 127.0.0.1 to "not found", so a
# request that escapes the route guard of browser_pages.py cannot leave the machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]

AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = REPO_ROOT / "test-results" / "screenshots"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Chromium against the built site served on 127.0.0.1"
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    try:
        return build_site(tmp_path_factory.mktemp("browser-site"))
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def site_url(built_site: BuiltSite) -> Iterator[str]:
    """Serve the built site on 127.0.0.1 for the session and return the home page URL."""
    with serve(built_site.document_root) as origin:
        yield origin + built_site.url_path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch headless Chromium once per session, with a fresh temporary profile."""
    executable = Path(os.environ.get("CHROMIUM_EXECUTABLE", DEFAULT_CHROMIUM))
    if not executable.is_file():
        pytest.fail(
            f"Chromium not found at {executable}: run `sudo scripts/install-browser`, "
            "or set CHROMIUM_EXECUTABLE to the path of a Chromium or Chrome binary",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Browser, site_url: str) -> Iterator[Callable[..., RecordedPage]]:
    """Return a function that opens a page of the site in a new browser context.

    The function takes the arguments of browser_pages.open_recorded_page after
    the browser and the site URL. The contexts close when the test ends.
    """
    contexts: list[BrowserContext] = []

    def open_in_new_context(path: str | None = "", **context_options: Any) -> RecordedPage:
        recorded = open_recorded_page(browser, site_url, path, **context_options)
        contexts.append(recorded.page.context)
        return recorded

    yield open_in_new_context
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_SCRIPT.is_file():
        pytest.fail(
            f"{AXE_SCRIPT.relative_to(REPO_ROOT)} is missing: run `npm ci` in the "
            "repository root, or `sudo scripts/install-browser`",
            pytrace=False,
        )
    return AXE_SCRIPT


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
