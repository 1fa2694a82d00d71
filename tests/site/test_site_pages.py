"""Check the built pages: chapter metadata, tags index, landing page and assets."""

from __future__ import annotations

from pathlib import Path

import yaml
from html_tree import Element, parse_html, read_page
from site_paths import DOCS_DIR

CHAPTER_SOURCE = DOCS_DIR / "docker" / "index.md"
CHAPTER_URL = "docker/"
SERIES = "DevOps Zero to Hero"


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


def test_chapter_meta_description_matches_front_matter(site_dir):
    description = front_matter(CHAPTER_SOURCE)["description"]
    meta = read_page(site_dir, CHAPTER_URL).find("meta", name="description")

    assert meta is not None
    assert meta.attrs["content"] == description


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


def test_chapter_lead_and_badges_are_styled(site_dir):
    page = read_page(site_dir, CHAPTER_URL)

    lead = page.find("p", class_="lead")
    assert lead is not None
    assert "Docker" in lead.text()
    badges = [badge.text() for badge in page.find_all(class_="badge")]
    assert "Orchestration" in badges


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


def test_chapter_keeps_go_templates_verbatim(site_dir):
    page = read_page(site_dir, CHAPTER_URL)
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
