"""Check the built pages: chapter metadata, step pages, tags index, landing page and assets."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest
import yaml
from html_tree import Element, parse_html, read_page
from site_nav import page_url, read_chapter
from site_paths import DOCS_DIR

CHAPTER_SOURCE = DOCS_DIR / "docker" / "index.md"
CHAPTER_URL = "docker/"
SERIES = "DevOps Zero to Hero"

# The Docker chapter's pages in reading order: the overview, then one page per
# step, and after step 3 an optional page on the files of its web service.
CHAPTER_PAGES = (
    "docker/index.md",
    "docker/basic-image.md",
    "docker/production-image.md",
    "docker/compose.md",
    "docker/web-service.md",
    "docker/security.md",
    "docker/clean-up.md",
)
STEP_PAGES = CHAPTER_PAGES[1:]

# The chapter was one page before it was split. The overview keeps each of
# that page's step anchors, on a link to where the section moved.
OLD_ANCHORS = {
    "step-1": "basic-image/",
    "step-2": "production-image/",
    "step-3": "compose/",
    "step-4": "security/",
    "non-root-user": "security/#non-root-user",
    "scan": "security/#scan",
    "dockerignore": "security/#dockerignore",
    "clean-up": "clean-up/",
    "system-prune": "clean-up/#system-prune",
    "cheat-sheet": "clean-up/#cheat-sheet",
    "whats-next": "clean-up/#whats-next",
}


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


def links_under_tags(tags_page: Element) -> dict[str, set[str]]:
    """Map each tag heading of the tags index to the links listed under it."""
    links: dict[str, set[str]] = {}
    current = None
    article = tags_page.find("article")
    for element in article.iter():
        if element.tag == "h2":
            tag = element.find("span", class_="md-tag")
            current = tag.text().strip() if tag else None
            if current:
                links[current] = set()
        elif element.tag == "a" and current and "headerlink" not in element.classes:
            links[current].add(element.attrs["href"])
    return links


def test_chapter_shows_its_tags(site_dir):
    tags = front_matter(CHAPTER_SOURCE)["tags"]
    nav = read_page(site_dir, CHAPTER_URL).find("nav", class_="md-tags")

    assert nav is not None
    links_by_tag = {link.text().strip(): link.attrs["href"] for link in nav.find_all("a")}
    for tag in tags:
        assert tag in links_by_tag, f"tag {tag!r} is not shown on the chapter"
        assert links_by_tag[tag].startswith("../tags/#"), links_by_tag[tag]


def test_chapter_shows_date_and_series(site_dir):
    meta = read_page(site_dir, CHAPTER_URL).find("p", class_="chapter-meta")

    assert meta is not None
    time = meta.find("time")
    assert time is not None
    assert time.attrs["datetime"] == "2026-02-12"
    assert time.text().strip() == "12 February 2026"
    assert SERIES in meta.text()


def test_chapter_title_comes_from_front_matter(site_dir):
    title = front_matter(CHAPTER_SOURCE)["title"]
    page = read_page(site_dir, CHAPTER_URL)

    assert page.find("h1").text().strip() == title
    assert page.find("title").text().startswith(title)


def test_chapter_lead_is_styled(site_dir):
    lead = read_page(site_dir, CHAPTER_URL).find("p", class_="lead")

    assert lead is not None
    assert "Docker" in lead.text()


@pytest.mark.parametrize(("source", "badge"), [
    ("docker/basic-image.md", "Level 1"),
    ("docker/production-image.md", "Level 2"),
    ("docker/compose.md", "Orchestration"),
])
def test_step_heading_shows_badge(site_dir, source, badge):
    heading = read_page(site_dir, page_url(source)).find("h1")

    badges = [element.text() for element in heading.find_all(class_="badge")]
    assert badges == [badge]


def test_chapter_nav_lists_overview_then_steps():
    assert read_chapter("docker").pages == CHAPTER_PAGES


@pytest.mark.parametrize("source", CHAPTER_PAGES)
def test_chapter_page_meta_description_matches_front_matter(site_dir, source):
    description = front_matter(DOCS_DIR / source)["description"]
    meta = read_page(site_dir, page_url(source)).find("meta", name="description")

    assert meta is not None
    assert meta.attrs["content"] == description


@pytest.mark.parametrize("source", STEP_PAGES)
def test_step_page_shows_series_chapter_and_date(site_dir, source):
    meta = read_page(site_dir, page_url(source)).find("p", class_="chapter-meta")

    assert meta is not None
    assert SERIES in meta.find("span", class_="chapter-meta__series").text()
    chapter = meta.find("span", class_="chapter-meta__chapter")
    assert chapter is not None
    link = chapter.find("a")
    assert link.text() == "Docker"
    assert link.attrs["href"] == "../"
    assert meta.find("time").attrs["datetime"] == "2026-02-12"


def test_overview_links_to_no_chapter_of_its_own(site_dir):
    meta = read_page(site_dir, CHAPTER_URL).find("p", class_="chapter-meta")

    assert meta.find("span", class_="chapter-meta__chapter") is None


@pytest.mark.parametrize("position", range(len(CHAPTER_PAGES)))
def test_footer_walks_chapter_in_order(site_dir, position):
    url = page_url(CHAPTER_PAGES[position])
    page = read_page(site_dir, url)
    previous = page.find("a", class_="md-footer__link--prev")
    following = page.find("a", class_="md-footer__link--next")

    if position > 0:
        assert resolve(url, previous.attrs["href"]) == page_url(CHAPTER_PAGES[position - 1])
    if position < len(CHAPTER_PAGES) - 1:
        assert resolve(url, following.attrs["href"]) == page_url(CHAPTER_PAGES[position + 1])


def resolve(page: str, href: str) -> str:
    """Return the site-relative URL of a link `href` on the page at `page`, such as docker/."""
    target = posixpath.normpath(posixpath.join(page, href))
    return "" if target == "." else f"{target}/"


@pytest.mark.parametrize("anchor", OLD_ANCHORS)
def test_overview_keeps_old_anchor_as_link(site_dir, anchor):
    link = read_page(site_dir, CHAPTER_URL).find(id=anchor)

    assert link is not None, f"the overview has no element with id {anchor!r}"
    assert link.tag == "a"
    assert link.attrs["href"] == OLD_ANCHORS[anchor]
    target, _, fragment = OLD_ANCHORS[anchor].partition("#")
    if fragment:
        target_page = read_page(site_dir, CHAPTER_URL + target)
        assert target_page.find(id=fragment) is not None, f"{target} has no id {fragment!r}"


def test_tags_index_lists_chapter_under_each_tag(site_dir):
    tags = front_matter(CHAPTER_SOURCE)["tags"]
    listed = links_under_tags(read_page(site_dir, "tags/"))

    for tag in tags:
        assert tag in listed, f"the tags index has no heading for {tag!r}"
        assert "../docker/" in listed[tag], f"{tag!r} does not list the chapter"


def test_landing_page_lists_chapter_with_summary_and_date(site_dir):
    data = front_matter(CHAPTER_SOURCE)
    listing = read_page(site_dir, "").find("div", class_="series-listing")

    assert listing is not None
    cards = listing.find_all("li")
    assert len(cards) == 1
    card = cards[0]
    link = card.find("a")
    assert link.text() == data["title"]
    assert link.attrs["href"] == CHAPTER_URL
    assert card.find("time").attrs["datetime"] == "2026-02-12"
    assert " ".join(data["summary"].split()) in " ".join(card.text().split())
    for tag in data["tags"]:
        assert tag in card.text()


def test_series_listing_adds_new_chapter_in_date_order(site_copy, build_copy, add_page):
    add_page(site_copy, "later/index.md", (
        "---\n"
        "title: A later chapter\n"
        "date: 2026-04-01\n"
        "summary: Published after the Docker chapter.\n"
        f"series: [\"{SERIES}\"]\n"
        "---\n\nBody.\n"
    ))
    add_page(site_copy, "earlier.md", (
        "---\n"
        "title: An earlier chapter\n"
        "date: 2026-01-05\n"
        "summary: Published before the Docker chapter.\n"
        f"series: [\"{SERIES}\", \"Another series\"]\n"
        "---\n\nBody.\n"
    ))
    add_page(site_copy, "elsewhere.md", (
        "---\n"
        "title: Not in the series\n"
        "date: 2026-03-01\n"
        "summary: Belongs to another series.\n"
        "series: [\"Another series\"]\n"
        "---\n\nBody.\n"
    ))

    result = build_copy(site_copy)

    assert result.returncode == 0, result.stdout + result.stderr
    home = parse_html((site_copy.parent / "site" / "index.html").read_text(encoding="utf-8"))
    cards = home.find("div", class_="series-listing").find_all("li")
    titles = [card.find("a").text() for card in cards]
    assert titles == [
        "An earlier chapter",
        front_matter(CHAPTER_SOURCE)["title"],
        "A later chapter",
    ]
    assert cards[2].find("a").attrs["href"] == "later/"
    assert "Published after the Docker chapter." in cards[2].text()
    assert cards[2].find("time").attrs["datetime"] == "2026-04-01"


def test_cheat_sheet_keeps_go_templates_verbatim(site_dir):
    page = read_page(site_dir, "docker/clean-up/")
    code = [element.text() for element in page.find_all("code")]

    assert "docker ps --format '{{.Names}}'" in code


def test_pages_load_no_assets_from_other_hosts(site_dir):
    # Fonts, styles, scripts and images must come from the site itself.
    for html_file in sorted(site_dir.rglob("*.html")):
        page = parse_html(html_file.read_text(encoding="utf-8"))
        for element in page.iter():
            if element.tag == "link" and element.attrs.get("rel") in ("canonical", "prev", "next"):
                continue
            address = element.attrs.get("src") or (
                element.attrs.get("href") if element.tag == "link" else None
            )
            if address:
                assert "//" not in address, f"{html_file.relative_to(site_dir)} loads {address}"
