"""Open every page of the built site: no console error, no request off 127.0.0.1, no
serious accessibility violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_pages import RecordedPage, open_recorded_page
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# axe-core impact levels that fail the test. "minor" and "moderate" ones are
# not checked.
FAILING_IMPACTS = {"serious", "critical"}

# Material picks its palette from prefers-color-scheme while the reader has
# chosen none, so each browser color scheme shows one palette.
PALETTE_OF_COLOR_SCHEME = {"light": "default", "dark": "slate"}


@pytest.fixture(scope="module")
def walked_site(browser, site_url, built_site) -> Iterator[RecordedPage]:
    """Open every page of the site in turn, in one context, and return what it recorded."""
    recorded = open_recorded_page(browser, site_url, None)
    for path in built_site.page_paths():
        # networkidle also waits for what scripts request after the load event.
        recorded.page.goto(path, wait_until="networkidle")
    yield recorded
    recorded.page.context.close()


def test_pages_log_no_console_error(walked_site):
    assert walked_site.console_errors == []


def test_pages_send_no_offsite_request(walked_site):
    assert walked_site.offsite_requests == [], (
        "requests to hosts other than the test server on 127.0.0.1 (all aborted):\n"
        + "\n".join(walked_site.offsite_requests)
    )


@pytest.mark.parametrize("color_scheme", PALETTE_OF_COLOR_SCHEME)
def test_pages_have_no_serious_axe_violation(open_page, built_site, axe_script, color_scheme):
    page = open_page(None, color_scheme=color_scheme).page
    violations = []

    for path in built_site.page_paths():
        page.goto(path)
        expect(page.locator("body")).to_have_attribute(
            "data-md-color-scheme", PALETTE_OF_COLOR_SCHEME[color_scheme]
        )
        page.add_script_tag(path=axe_script)
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        violations += [
            describe_violation(path or "/", violation, node)
            for violation in result["violations"]
            if violation["impact"] in FAILING_IMPACTS
            for node in violation["nodes"]
        ]

    assert violations == [], (
        f"axe-core found serious or critical violations ({color_scheme} color scheme):\n"
        + "\n".join(violations)
    )


def describe_violation(path: str, violation: dict, node: dict) -> str:
    """Return one line: page, rule id, impact, element selector, and the rule's summary."""
    # A target lists one selector per frame or shadow root on the way to the element.
    selector = " >>> ".join(
        part if isinstance(part, str) else " ".join(part) for part in node["target"]
    )
    return f"{path}: {violation['id']} [{violation['impact']}] {selector}: {violation['help']}"
