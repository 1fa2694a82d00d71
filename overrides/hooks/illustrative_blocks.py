"""Write the reason of each illustrative code block as text above its code.

A page marks a code block that no test runs with
`{ .bash .illustrative data-reason="why it is not run" }`, and
pymdownx.highlight keeps the reason only as an attribute of the block's
<div>. This MkDocs hook adds it as a paragraph inside the block, after the
title bar if the block has one, so that every reader, screen readers included,
learns that the tests do not run the block, and why. The text stays out of
the <code> element, so the copy button copies only the commands.
"""

import html
import re

# The opening tag of a highlighted block, as pymdownx.highlight writes it, and
# the title bar that Material adds for a block with a title.
BLOCK_START = re.compile(
    r'<div (?P<attributes>[^>]*)>(?P<title><span class="filename">[^<]*</span>)?'
)
ATTRIBUTE = re.compile(r'(?P<name>[\w-]+)="(?P<value>[^"]*)"')

LABEL = "Not run by the course's tests:"


def on_page_content(html_text, page, config, files):
    """Add the reason paragraph to each illustrative block of a page's HTML."""
    return BLOCK_START.sub(add_reason, html_text)


def add_reason(match: re.Match) -> str:
    """Return the matched opening tag, followed by the reason if the block is illustrative."""
    attributes = dict(ATTRIBUTE.findall(match["attributes"]))
    classes = attributes.get("class", "").split()
    if "illustrative" not in classes or "highlight" not in classes:
        return match[0]
    # pymdownx.highlight copies the reason into the attribute without escaping it.
    reason = html.escape(attributes.get("data-reason", "").strip(), quote=False)
    return f'{match[0]}<p class="illustrative-reason"><strong>{LABEL}</strong> {reason}</p>'
