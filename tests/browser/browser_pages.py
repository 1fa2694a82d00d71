"""Open pages of the served site in browser contexts that record what went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, Route

# Milliseconds that an action or an auto-waiting assertion waits before it fails.
ACTION_TIMEOUT_MS = 10_000


@dataclass
class RecordedPage:
    """A page in its own browser context, with what went wrong while it was open.

    `console_errors` contains console messages of type error and uncaught
    exceptions. `offsite_requests` contains every request to an origin other than
    the test server, which the context aborted.
    """

    page: Page
    console_errors: list[str] = field(default_factory=list)
    offsite_requests: list[str] = field(default_factory=list)


def open_recorded_page(
    browser: Browser, site_url: str, path: str | None = "", **context_options: Any
) -> RecordedPage:
    """Open `path`, relative to `site_url`, in a new browser context.

    `context_options` go to Browser.new_context, such as viewport or
    color_scheme. A `path` of None opens no URL. The caller closes the context,
    which is `page.context` of the result.
    """
    context = browser.new_context(base_url=site_url, service_workers="block", **context_options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    recorded = RecordedPage(page=context.new_page())
    guard_requests(context, site_url, recorded.offsite_requests)
    record_errors(recorded)
    if path is not None:
        recorded.page.goto(path)
    return recorded


def guard_requests(context: BrowserContext, site_url: str, offsite: list[str]) -> None:
    """Let requests to the test server through, and record and abort all others."""
    allowed = urlsplit(site_url)

    def handle(route: Route) -> None:
        url = urlsplit(route.request.url)
        if (url.scheme, url.hostname, url.port) == (allowed.scheme, allowed.hostname, allowed.port):
            route.continue_()
        else:
            offsite.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", handle)


def record_errors(recorded: RecordedPage) -> None:
    page = recorded.page

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            recorded.console_errors.append(f"{page.url}: {message.text}")

    def on_page_error(error: Error) -> None:
        recorded.console_errors.append(f"{page.url}: uncaught {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
