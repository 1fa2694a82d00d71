"""Check the Material features that mkdocs.yml turns on, and what they put in the pages."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from html_tree import Element, parse_html
from mkdocs.utils.yaml import yaml_load
from site_nav import read_chapter
from site_paths import DOCS_DIR, REPO_ROOT

# The features that the course promises its readers, by Material's names.
PROMISED_FEATURES = [
    "content.action.edit",
    "content.action.view",
    "content.code.annotate",
    "content.code.copy",
    "content.tabs.link",
    "navigation.footer",
    "navigation.instant",
    "navigation.instant.progress",
    "search.highlight",
    "search.share",
    "search.suggest",
]

# Kinds of <link> that make a browser load the address. Others, such as
# canonical, prev and next, only name a page.
LOADED_LINK_RELATIONS = {
    "stylesheet", "preload", "modulepreload", "icon", "apple-touch-icon", "manifest",
}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")


def load_config() -> dict:
    # mkdocs.yml uses !ENV, which yaml.safe_load rejects, so MkDocs' own loader reads it.
    with (REPO_ROOT / "mkdocs.yml").open(encoding="utf-8") as file:
        return yaml_load(file)


def front_matter(page: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return {}
    return yaml.safe_load(text.split("---\n")[1]) or {}


def page_url(page: Path) -> str:
    """Return the folder of a page's built HTML, such as "docker/" or "" for the home page."""
    source = page.relative_to(DOCS_DIR).as_posix()
    if source == "index.md":
        return ""
    if source.endswith("/index.md"):
        return source.removesuffix("index.md")
    return source.removesuffix(".md") + "/"


def described_pages() -> list[Path]:
    return sorted(page for page in DOCS_DIR.rglob("*.md") if front_matter(page).get("description"))


def meta_content(page: Element, **attributes: str) -> str | None:
    element = page.find("meta", **attributes)
    return element.attrs.get("content") if element else None


def loaded_addresses(page: Element) -> list[str]:
    """Return every address that a browser loads to show the page."""
    addresses = []
    for element in page.iter():
        if element.tag in ("script", "img", "iframe", "source", "audio", "video", "embed"):
            addresses.append(element.attrs.get("src", ""))
            addresses += [part.split()[0] for part in element.attrs.get("srcset", "").split(",")
                          if part.strip()]
        elif element.tag == "link":
            if set(element.attrs.get("rel", "").split()) & LOADED_LINK_RELATIONS:
                addresses.append(element.attrs.get("href", ""))
        elif element.tag == "object":
            addresses.append(element.attrs.get("data", ""))
        addresses += [match[0] or match[1] for match in CSS_URL.findall(element.attrs.get("style", ""))]
    return [address for address in addresses if address]


def is_other_host(address: str) -> bool:
    # An address with a host, protocol-relative ones too, leaves the site. A data:
    # address has no host, because its content is inline.
    return bool(urlsplit(address).netloc)


@pytest.mark.parametrize("feature", PROMISED_FEATURES)
def test_feature_enabled(feature):
    assert feature in load_config()["theme"]["features"]


def test_features_listed_alphabetically():
    features = load_config()["theme"]["features"]

    assert features == sorted(features)


def test_palette_toggles_light_and_dark():
    palette = load_config()["theme"]["palette"]

    assert [option["scheme"] for option in palette] == ["default", "slate"]
    for option in palette:
        assert option.get("toggle", {}).get("name"), f"{option['scheme']} has no toggle"


def test_site_url_set_for_sitemap():
    # Instant navigation reads sitemap.xml, which lists no page without site_url.
    # SITE_URL may change it, as the site's container does.
    site_url = urlsplit(load_config()["site_url"])

    assert site_url.scheme in ("http", "https")
    assert site_url.netloc


def test_theme_loads_no_web_fonts():
    assert load_config()["theme"]["font"] is False


def test_tags_plugin_enabled():
    plugins = [next(iter(plugin)) if isinstance(plugin, dict) else plugin
               for plugin in load_config()["plugins"]]

    assert "tags" in plugins


def test_built_page_passes_features_to_theme(site_dir):
    page = (site_dir / "docker" / "index.html").read_text(encoding="utf-8")
    config = re.search(r'<script id="__config" type="application/json">(.*?)</script>', page)

    assert config, "docker/index.html has no __config script"
    for feature in PROMISED_FEATURES:
        assert f'"{feature}"' in config.group(1), f"{feature} is not in the theme's __config"


@pytest.mark.parametrize("source", described_pages(), ids=lambda page: page.relative_to(DOCS_DIR).as_posix())
def test_page_has_link_preview_tags(site_dir, source):
    meta = front_matter(source)
    page = parse_html((site_dir / page_url(source) / "index.html").read_text(encoding="utf-8"))
    # The home page has no title of its own: its preview carries the site's name.
    title = meta.get("title", "DevOps Zero to Hero")

    assert meta_content(page, property="og:title") == title
    assert meta_content(page, property="og:description") == meta["description"].strip()
    assert meta_content(page, name="twitter:title") == title
    assert meta_content(page, name="twitter:description") == meta["description"].strip()
    assert meta_content(page, name="twitter:card") == "summary"


@pytest.mark.parametrize("source", read_chapter("docker").pages)
def test_chapter_page_link_preview_is_article(site_dir, source):
    # A step page has no date of its own, and takes its chapter's.
    url = page_url(DOCS_DIR / source)
    page = parse_html((site_dir / url / "index.html").read_text(encoding="utf-8"))

    assert meta_content(page, property="og:type") == "article"
    assert meta_content(page, property="og:url").endswith(f"/{url}")


def test_chapter_has_edit_and_view_links(site_dir):
    page = parse_html((site_dir / "docker" / "index.html").read_text(encoding="utf-8"))
    actions = [link.attrs["href"] for link in page.find_all("a", class_="md-content__button")]

    assert any(href.endswith("/edit/main/docs/docker/index.md") for href in actions), actions
    assert any(href.endswith("/raw/main/docs/docker/index.md") for href in actions), actions


def test_repository_link_fetches_no_facts(site_dir):
    # Material's JavaScript fetches stars and forks from the host of repo_url
    # for the element that carries this attribute.
    for html_file in sorted(site_dir.rglob("*.html")):
        page = parse_html(html_file.read_text(encoding="utf-8"))

        assert page.find(**{"data-md-component": "source"}) is None, html_file.name


def test_pages_load_nothing_from_other_hosts(site_dir):
    for html_file in sorted(site_dir.rglob("*.html")):
        page = parse_html(html_file.read_text(encoding="utf-8"))
        for address in loaded_addresses(page):
            assert not is_other_host(address), f"{html_file.relative_to(site_dir)} loads {address}"


def test_stylesheets_load_nothing_from_other_hosts(site_dir):
    # A font or an image can also come from a url() or an @import in a stylesheet.
    stylesheets = sorted(site_dir.rglob("*.css"))
    assert stylesheets, "the built site has no stylesheet"
    for stylesheet in stylesheets:
        for match in CSS_URL.findall(stylesheet.read_text(encoding="utf-8")):
            address = match[0] or match[1]
            assert not is_other_host(address), f"{stylesheet.relative_to(site_dir)} loads {address}"


def test_sitemap_lists_every_page(site_dir):
    sitemap = (site_dir / "sitemap.xml").read_text(encoding="utf-8")
    site_url = load_config()["site_url"]

    for source in described_pages():
        assert f"<loc>{site_url}{page_url(source)}</loc>" in sitemap


def test_404_page_exists(site_dir):
    page = parse_html((site_dir / "404.html").read_text(encoding="utf-8"))

    assert page.find("h1").text() == "Page not found"
    assert page.find("title").text().startswith("Page not found")


def test_404_page_loads_assets_by_absolute_path(site_dir):
    # The server returns 404.html at any depth, so a relative path would break.
    page = parse_html((site_dir / "404.html").read_text(encoding="utf-8"))
    site_path = urlsplit(load_config()["site_url"]).path
    addresses = loaded_addresses(page)

    assert addresses, "404.html loads no asset"
    for address in addresses:
        assert address.startswith(site_path), f"404.html loads {address}"


def test_site_url_variable_moves_404_assets(site_copy, build_copy, monkeypatch):
    # The site's container builds with SITE_URL set, because it serves from /.
    monkeypatch.setenv("SITE_URL", "http://127.0.0.1:8080/")
    result = build_copy(site_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    site = site_copy.parent / "site"
    page = parse_html((site / "404.html").read_text(encoding="utf-8"))
    addresses = loaded_addresses(page)

    assert addresses, "404.html loads no asset"
    for address in addresses:
        assert address.startswith("/"), f"404.html loads {address}"
        assert (site / urlsplit(address).path.lstrip("/")).is_file(), f"{address} is not in the site"
