"""A small element tree for reading the built site's HTML in tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
    "source", "track", "wbr",
}


@dataclass
class Element:
    """An HTML element with its attributes and its children (elements and text)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """Return the text content of the element and its descendants."""
        return "".join(
            child if isinstance(child, str) else child.text() for child in self.children
        )

    def iter(self) -> Iterator[Element]:
        """Yield this element and every descendant element, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, class_: str | None = None,
                 **attrs: str) -> list[Element]:
        """Return the descendants (and self) that match the tag, class and attributes."""
        return [
            element for element in self.iter()
            if (tag is None or element.tag == tag)
            and (class_ is None or class_ in element.classes)
            and all(element.attrs.get(name) == value for name, value in attrs.items())
        ]

    def find(self, tag: str | None = None, class_: str | None = None,
             **attrs: str) -> Element | None:
        """Return the first match of find_all, or None."""
        matches = self.find_all(tag, class_, **attrs)
        return matches[0] if matches else None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID_ELEMENTS:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        # Close the nearest open element with this tag, and any left open inside it.
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Element:
    """Parse an HTML document into an element tree."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def read_page(site_dir: Path, url_path: str) -> Element:
    """Parse the built page at url_path, for example "docker/" or "" for the home page."""
    return parse_html((site_dir / url_path / "index.html").read_text(encoding="utf-8"))


def code_blocks(page: Element) -> list[tuple[str | None, str]]:
    """Return (title, code text) for each highlighted code block, in page order.

    The title is the text that Material shows above a block with a title, or
    None for a block without one.
    """
    blocks = []
    for block in page.find_all("div", class_="highlight"):
        title = block.find("span", class_="filename")
        code = block.find("code")
        assert code is not None, "a highlighted block without a <code> element"
        blocks.append((title.text() if title else None, code.text()))
    return blocks
