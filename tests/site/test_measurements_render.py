"""Check that the chapter's numbers come from data/measurements.json, and only from there.

The verifier writes the file when `make test` runs the examples with Docker.
These tests never run Docker: they read the committed file, or a changed copy
of it, and check what the built pages show.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from docs_macros.measured_text import (
    describe_substitutes,
    engine_release,
    render_image_comparison,
    render_verified_mark,
)
from docs_macros.measurements import MeasurementsError, MeasurementsFile
from html_tree import Element, parse_html, read_page
from site_nav import page_url, read_chapter
from site_paths import REPO_ROOT

MEASUREMENTS = REPO_ROOT / "data" / "measurements.json"
CHAPTER_URLS = [page_url(source) for source in read_chapter("docker").pages]
OVERVIEW_URL = "docker/"
LEVEL_1 = "docker/basic-dockerfile"
LEVEL_2 = "docker/multi-stage"
COMPOSE = "docker/compose-stack"


def read_measurements(path: Path = MEASUREMENTS) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_measurements(project: Path, data: dict) -> None:
    (project / "data" / "measurements.json").write_text(json.dumps(data), encoding="utf-8")


def read_chapter_pages(site: Path) -> Element:
    """Parse every page of the Docker chapter into one tree, with one child per page.

    The tests look for a table, a mark or a sentence anywhere in the chapter,
    whichever of its pages shows it.
    """
    return Element("chapter", children=[read_page(site, url) for url in CHAPTER_URLS])


def built_chapter(project: Path) -> Element:
    return read_chapter_pages(project.parent / "site")


def megabytes(image_bytes: int) -> str:
    return f"{image_bytes / 1_000_000:.1f} MB"


def comparison_rows(page: Element) -> dict[str, list[str]]:
    """Map each row title of the image comparison table to its cells' text."""
    wrapper = page.find("div", class_="image-comparison")
    assert wrapper is not None, "the chapter has no image comparison table"
    rows = {}
    for row in wrapper.find("tbody").find_all("tr"):
        cells = [cell.text().strip() for cell in row.find_all("td")]
        rows[cells[0]] = cells[1:]
    return rows


def example_blocks_and_next(page: Element) -> list[tuple[str, Element | None]]:
    """Return (title, next sibling element) for each code block titled examples/..."""
    pairs = []
    for parent in page.iter():
        children = [child for child in parent.children if isinstance(child, Element)]
        for index, child in enumerate(children):
            if child.tag != "div" or "highlight" not in child.classes:
                continue
            title = child.find("span", class_="filename")
            if title is None or not title.text().startswith("examples/"):
                continue
            following = children[index + 1] if index + 1 < len(children) else None
            pairs.append((title.text(), following))
    return pairs


def example_of(title: str) -> str:
    """Return the example name of an included file's path: examples/docker/x/... -> docker/x."""
    parts = title.split("/")
    return f"{parts[1]}/{parts[2]}"


def marks_by_example(page: Element) -> dict[str, list[Element]]:
    marks: dict[str, list[Element]] = {}
    for mark in page.find_all("span", class_="verified-mark"):
        marks.setdefault(mark.attrs["data-example"], []).append(mark)
    return marks


def article_text(page: Element) -> str:
    """Return the text of every <article> of `page`, with runs of whitespace made one space."""
    return " ".join(" ".join(article.text().split()) for article in page.find_all("article"))


# The committed data file, rendered by the repository's build.


def test_table_shows_measured_sizes(site_dir):
    examples = read_measurements()["examples"]
    level_1 = examples[LEVEL_1]["image_bytes"]
    level_2 = examples[LEVEL_2]["image_bytes"]

    rows = comparison_rows(read_chapter_pages(site_dir))

    assert rows["Image size"][0] == megabytes(level_1)
    assert rows["Image size"][1].startswith(megabytes(level_2))
    assert f"({level_1 / level_2:.1f} times smaller)" in rows["Image size"][1]


def test_table_shows_base_images(site_dir):
    examples = read_measurements()["examples"]

    rows = comparison_rows(read_chapter_pages(site_dir))

    for cell, name in zip(rows["Base image"], (LEVEL_1, LEVEL_2)):
        for image in examples[name]["base_images"]:
            assert image in cell
        if examples[name]["substitute_base_images"]:
            assert "local substitute" in cell


def test_table_shows_build_times_where_measured(site_dir):
    examples = read_measurements()["examples"]

    rows = comparison_rows(read_chapter_pages(site_dir))

    for key, title in (
        ("build_cold_seconds", "Build without the layer cache"),
        ("build_warm_seconds", "Rebuild after a change to the app's code"),
    ):
        values = [examples[name].get(key) for name in (LEVEL_1, LEVEL_2)]
        if values == [None, None]:
            assert title not in rows
            continue
        expected = ["not measured" if value is None else f"{value:.1f} s" for value in values]
        assert rows[title] == expected


def test_table_note_names_engine_and_date(site_dir):
    level_2 = read_measurements()["examples"][LEVEL_2]
    verified = datetime.datetime.fromisoformat(level_2["verified_at"])

    note = read_chapter_pages(site_dir).find("p", class_="measured-note")

    assert note is not None
    assert f"Docker Engine {engine_release(level_2['engine'])}" in note.text()
    assert verified.strftime("%B %Y") in note.text()
    assert level_2["os"] in note.text()


def test_every_example_block_has_mark(site_dir):
    pairs = example_blocks_and_next(read_chapter_pages(site_dir))

    assert len(pairs) >= 3, "the chapter shows fewer example blocks than expected"
    for title, following in pairs:
        assert following is not None, f"nothing follows the block {title}"
        mark = following.find("span", class_="verified-mark")
        assert mark is not None, f"no verified mark right under the block {title}"
        assert mark.attrs["data-example"] == example_of(title), title


def test_marks_name_engine_version(site_dir):
    examples = read_measurements()["examples"]

    marks = marks_by_example(read_chapter_pages(site_dir))

    assert set(marks) == {LEVEL_1, LEVEL_2, COMPOSE}
    for name, elements in marks.items():
        release = engine_release(examples[name]["engine"])
        for mark in elements:
            assert f"with Docker Engine {release}" in mark.text()
            assert examples[name]["engine"] in mark.attrs["title"]


def test_marks_name_substitute_base_images(site_dir):
    examples = read_measurements()["examples"]

    marks = marks_by_example(read_chapter_pages(site_dir))

    for name, elements in marks.items():
        substitutes = examples[name]["substitute_base_images"]
        for mark in elements:
            assert ("local substitute" in mark.text()) == bool(substitutes), mark.text()
            for image in substitutes:
                assert image in mark.text()


def test_marks_show_verification_date(site_dir):
    examples = read_measurements()["examples"]

    marks = marks_by_example(read_chapter_pages(site_dir))

    for name, elements in marks.items():
        for mark in elements:
            time = mark.find("time")
            assert time is not None
            assert time.attrs["datetime"] == examples[name]["verified_at"]


def test_prose_shows_stop_and_up_times(site_dir):
    examples = read_measurements()["examples"]

    text = article_text(read_chapter_pages(site_dir))

    assert f"stopped after {examples[LEVEL_2]['stop_seconds']:.1f} seconds" in text
    assert f"healthy {examples[COMPOSE]['up_seconds']:.1f} seconds after" in text
    assert f"{megabytes(examples[LEVEL_2]['image_bytes'])} for level 2" in text


def test_chapter_keeps_version_template_verbatim(site_dir):
    code = [element.text() for element in read_page(site_dir, OVERVIEW_URL).find_all("code")]

    assert any("docker version --format '{{.Server.Version}}'" in text for text in code)


# A copy of the site with a changed data file.


def test_changed_data_changes_page(site_copy, build_copy):
    data = read_measurements(site_copy / "data" / "measurements.json")
    data["examples"][LEVEL_1]["image_bytes"] = 617_000_000
    data["examples"][LEVEL_2].update(
        image_bytes=123_400_000,
        engine="29.1.0",
        substitute_base_images=[],
        stop_seconds=1.6,
        verified_at="2027-03-05T08:00:00+00:00",
    )
    data["examples"][COMPOSE]["up_seconds"] = 7.4
    write_measurements(site_copy, data)

    result = build_copy(site_copy)

    assert result.returncode == 0, result.stdout + result.stderr
    page = built_chapter(site_copy)
    rows = comparison_rows(page)
    assert rows["Image size"] == ["617.0 MB", "123.4 MB (5.0 times smaller)"]
    level_2_marks = marks_by_example(page)[LEVEL_2]
    for mark in level_2_marks:
        assert "with Docker Engine 29.1.0." in mark.text()
        assert "5 March 2027" in mark.text()
        assert "substitute" not in mark.text()
    text = article_text(page)
    assert "stopped after 1.6 seconds" in text
    assert "healthy 7.4 seconds after" in text
    assert "123.4 MB for level 2" in text


def test_table_omits_build_rows_when_unmeasured(site_copy, build_copy):
    data = read_measurements(site_copy / "data" / "measurements.json")
    for name in (LEVEL_1, LEVEL_2):
        data["examples"][name].pop("build_cold_seconds", None)
        data["examples"][name].pop("build_warm_seconds", None)
    write_measurements(site_copy, data)

    result = build_copy(site_copy)

    assert result.returncode == 0, result.stdout + result.stderr
    rows = comparison_rows(built_chapter(site_copy))
    assert set(rows) == {"Base image", "Image size"}


def drop_example(data: dict) -> None:
    del data["examples"][LEVEL_2]


def drop_stop_seconds(data: dict) -> None:
    del data["examples"][LEVEL_2]["stop_seconds"]


def drop_up_seconds(data: dict) -> None:
    del data["examples"][COMPOSE]["up_seconds"]


def drop_engine(data: dict) -> None:
    del data["examples"][LEVEL_1]["engine"]


def size_as_text(data: dict) -> None:
    data["examples"][LEVEL_1]["image_bytes"] = "552 MB"


@pytest.mark.parametrize(("defect", "expected"), [
    pytest.param(drop_example, ["'docker/multi-stage' not found"], id="missing-example"),
    pytest.param(drop_stop_seconds, ["'stop_seconds'", "'docker/multi-stage'", "is missing"],
                 id="missing-stop-seconds"),
    pytest.param(drop_up_seconds, ["'up_seconds'", "'docker/compose-stack'", "is missing"],
                 id="missing-up-seconds"),
    pytest.param(drop_engine, ["'engine'", "'docker/basic-dockerfile'", "is missing"],
                 id="missing-engine"),
    pytest.param(size_as_text, ["'image_bytes'", "'docker/basic-dockerfile'", "whole number"],
                 id="size-as-text"),
])
def test_defective_data_fails_build(site_copy, build_copy, defect, expected):
    data = read_measurements(site_copy / "data" / "measurements.json")
    defect(data)
    write_measurements(site_copy, data)

    result = build_copy(site_copy)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "data/measurements.json" in output
    for text in expected:
        assert text in output


def test_missing_data_file_fails_build(site_copy, build_copy):
    (site_copy / "data" / "measurements.json").unlink()

    result = build_copy(site_copy)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "data/measurements.json not found" in output


def test_included_file_skips_jinja(site_copy, build_copy, add_page):
    # pymdownx.snippets inserts a file during Markdown conversion, after
    # mkdocs-macros has rendered the page source, so Jinja never renders it.
    included = "{{ no_such_variable }}\n{% if %}\ndocker ps --format '{{.Names}}'"
    snippet = site_copy / "snippets" / "jinja-like.txt"
    snippet.parent.mkdir()
    snippet.write_text(included + "\n", encoding="utf-8")
    add_page(site_copy, "included.md", (
        "---\nrender_macros: true\n---\n\n"
        "# Included\n\n"
        "Rendered: {{ 1 + 1 }}\n\n"
        '```text title="snippets/jinja-like.txt"\n'
        '--8<-- "snippets/jinja-like.txt"\n'
        "```\n"
    ))

    result = build_copy(site_copy)

    assert result.returncode == 0, result.stdout + result.stderr
    page = parse_html(
        (site_copy.parent / "site" / "included" / "index.html").read_text(encoding="utf-8")
    )
    assert "Rendered: 2" in page.find("article").text()
    code = page.find("div", class_="highlight").find("code").text()
    assert code.strip("\n") == included


# The macros' modules, without a build.


def example_entry(**changes) -> dict:
    entry = {
        "verified_at": "2026-12-04T16:15:42+00:00",
        "engine": "28.5.2+dfsg4",
        "os": "linux/amd64",
        "base_images": ["postgres:17-trixie", "python:3.13-slim-trixie"],
        "substitute_base_images": ["postgres:17-trixie"],
        "image_bytes": 100_000_000,
    }
    entry.update(changes)
    return entry


def measurements_file(tmp_path: Path, **examples: dict) -> MeasurementsFile:
    path = tmp_path / "measurements.json"
    path.write_text(json.dumps({"examples": examples}), encoding="utf-8")
    return MeasurementsFile.read(path)


def test_substitutes_partial_names_published(tmp_path):
    record = measurements_file(tmp_path, demo=example_entry()).example("demo")

    assert describe_substitutes(record) == (
        "base images: local substitute of postgres:17-trixie, built from Debian "
        "packages, and the published python:3.13-slim-trixie"
    )


def test_substitutes_none_omitted_from_mark(tmp_path):
    entry = example_entry(substitute_base_images=[])
    record = measurements_file(tmp_path, demo=entry).example("demo")

    assert describe_substitutes(record) is None
    assert "substitute" not in render_verified_mark(record)


def test_engine_release_drops_package_suffix():
    assert engine_release("28.5.2+dfsg4") == "28.5.2"
    assert engine_release("27.3.1") == "27.3.1"


def test_comparison_larger_image_named_larger(tmp_path):
    data = measurements_file(
        tmp_path,
        small=example_entry(image_bytes=50_000_000),
        large=example_entry(image_bytes=200_000_000),
    )

    table = render_image_comparison(data.example("small"), data.example("large"), "A", "B")

    assert "| Image size | 50.0 MB | 200.0 MB (4.0 times larger) |" in table


def test_comparison_escapes_pipe_in_label(tmp_path):
    data = measurements_file(tmp_path, one=example_entry(), two=example_entry())

    table = render_image_comparison(data.example("one"), data.example("two"), "A | B", "C")

    assert r"| | A \| B | C |" in table


def test_verified_at_without_offset_raises(tmp_path):
    data = measurements_file(tmp_path, demo=example_entry(verified_at="2026-12-04T16:15:42"))

    with pytest.raises(MeasurementsError, match="UTC offset"):
        data.example("demo")


def test_boolean_measurement_raises(tmp_path):
    data = measurements_file(tmp_path, demo=example_entry(up_seconds=True))

    with pytest.raises(MeasurementsError, match="'up_seconds' of example 'demo'"):
        data.example("demo")


def test_negative_measurement_raises(tmp_path):
    data = measurements_file(tmp_path, demo=example_entry(stop_seconds=-1.0))

    with pytest.raises(MeasurementsError, match="0 or more"):
        data.example("demo")


def test_invalid_json_raises(tmp_path):
    path = tmp_path / "measurements.json"
    path.write_text("{", encoding="utf-8")

    with pytest.raises(MeasurementsError, match="invalid JSON"):
        MeasurementsFile.read(path)


def test_examples_not_object_raises(tmp_path):
    path = tmp_path / "measurements.json"
    path.write_text('{"examples": []}', encoding="utf-8")

    with pytest.raises(MeasurementsError, match='"examples" object'):
        MeasurementsFile.read(path)
