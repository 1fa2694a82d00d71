"""Check that the strict build passes, and that macro errors fail it."""

from __future__ import annotations

from html_tree import parse_html


def read_built(project, url_path: str):
    site = project.parent / "site"
    return parse_html((site / url_path / "index.html").read_text(encoding="utf-8"))


def test_strict_build_succeeds(site_dir):
    assert (site_dir / "index.html").is_file()
    assert (site_dir / "docker" / "index.html").is_file()
    assert (site_dir / "tags" / "index.html").is_file()


def test_undefined_macro_variable_fails_build(site_copy, build_copy, add_page):
    add_page(site_copy, "undefined.md", (
        "---\nrender_macros: true\n---\n\n"
        "# Undefined\n\nValue: {{ no_such_variable }}\n"
    ))

    result = build_copy(site_copy)

    assert result.returncode != 0
    assert "no_such_variable" in result.stdout + result.stderr


def test_macro_syntax_error_fails_build(site_copy, build_copy, add_page):
    add_page(site_copy, "syntax.md", (
        "---\nrender_macros: true\n---\n\n"
        "# Syntax error\n\n{% if %}\n"
    ))

    result = build_copy(site_copy)

    assert result.returncode != 0


def test_go_template_without_raw_fails_macro_page(site_copy, build_copy, add_page):
    # {{.Names}} is not valid Jinja, so a page that renders macros must wrap
    # docker's Go templates in {% raw %}.
    add_page(site_copy, "unwrapped.md", (
        "---\nrender_macros: true\n---\n\n"
        "# Unwrapped\n\n`docker ps --format '{{.Names}}'`\n"
    ))

    result = build_copy(site_copy)

    assert result.returncode != 0


def test_raw_go_template_renders_verbatim(site_copy, build_copy, add_page):
    add_page(site_copy, "wrapped.md", (
        "---\nrender_macros: true\n---\n\n"
        "# Wrapped\n\n"
        "{% raw %}`docker ps --format '{{.Names}}'`{% endraw %}\n\n"
        "Series pages: {{ 1 + 1 }}\n"
    ))

    result = build_copy(site_copy)

    assert result.returncode == 0, result.stdout + result.stderr
    page = read_built(site_copy, "wrapped/")
    code = [element.text() for element in page.find_all("code")]
    assert "docker ps --format '{{.Names}}'" in code
    assert "Series pages: 2" in page.find("article").text()


def test_page_without_opt_in_skips_macros(site_copy, build_copy, add_page):
    add_page(site_copy, "plain.md", (
        "# Plain\n\nLeft alone: {{ no_such_variable }} and {{.Names}}\n"
    ))

    result = build_copy(site_copy)

    assert result.returncode == 0, result.stdout + result.stderr
    text = read_built(site_copy, "plain/").find("article").text()
    assert "{{ no_such_variable }}" in text
    assert "{{.Names}}" in text
