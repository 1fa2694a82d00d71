"""Render the verifier's measurements as text for the pages: marks, tables and numbers."""

import html

from .measurements import ExampleMeasurements
from .series import escape_markdown, format_date

# `docker image ls` and the verifier count sizes in decimal megabytes.
MEGABYTE = 1_000_000

# Rows of the image comparison that show a time, when any compared example has it.
BUILD_TIME_ROWS = (
    ("build_cold_seconds", "Build without the layer cache"),
    ("build_warm_seconds", "Rebuild after a change to the app's code"),
)


def format_size(image_bytes: int) -> str:
    """Format a size in bytes as megabytes with one decimal, for example 147.0 MB."""
    return f"{image_bytes / MEGABYTE:.1f} MB"


def format_seconds(seconds: float) -> str:
    """Format a duration for prose, for example 4.8 seconds."""
    return f"{seconds:.1f} seconds"


def engine_release(version: str) -> str:
    """Return the Docker Engine release without a package's build suffix.

    Distributions append a suffix after "+" that marks their repackaging, for
    example 28.5.2+dfsg4 from Debian's docker.io package.
    """
    return version.partition("+")[0]


def join_words(items: list[str]) -> str:
    """Join items as in a sentence: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def describe_substitutes(record: ExampleMeasurements) -> str | None:
    """Say which base images were local substitutes, or return None if none were.

    The verifier builds a substitute from Debian packages under the public
    image's name when no registry is reachable, so sizes and times measured on
    it are not those of the published image.
    """
    substitutes = list(record.substitute_base_images)
    if not substitutes:
        return None
    published = [image for image in record.base_images if image not in substitutes]
    plural = len(record.base_images) > 1 or len(substitutes) > 1
    text = (
        f"base image{'s' if plural else ''}: "
        f"local substitute{'s' if len(substitutes) > 1 else ''} of {join_words(substitutes)}, "
        "built from Debian packages"
    )
    if published:
        text += f", and the published {join_words(published)}"
    return text


def render_verified_mark(record: ExampleMeasurements) -> str:
    """Render the one-line mark placed under an example's code blocks, as inline HTML.

    The mark is a <span> inside a paragraph, so that the same single line works
    at the top level of a page and indented in a list item or an admonition,
    where Markdown does not treat a line of HTML as a block.
    """
    details = [f"Docker Engine {record.engine}", record.os]
    if record.buildx:
        details.append(f"Buildx {record.buildx}")
    if record.compose:
        details.append(f"Compose {record.compose}")
    substitutes = describe_substitutes(record)
    text = (
        "Built and run by the course's tests on "
        f'<time datetime="{record.verified_at.isoformat()}">'
        f"{format_date(record.verified_at.date())}</time> "
        f"with Docker Engine {escape_markdown(engine_release(record.engine))}"
        + (f" ({escape_markdown(substitutes)})" if substitutes else "")
        + "."
    )
    return (
        f'<span class="verified-mark" data-example="{html.escape(record.name)}" '
        f'title="{html.escape(", ".join(details))}">{text}</span>'
    )


def _cell(text: str) -> str:
    return text.replace("|", r"\|")


def _image_cell(record: ExampleMeasurements) -> str:
    names = [
        f"`{image}`" + (" (local substitute)" if image in record.substitute_base_images else "")
        for image in record.base_images
    ]
    return ", ".join(names) or "none recorded"


def _size_cell(record: ExampleMeasurements, baseline: ExampleMeasurements | None = None) -> str:
    """Format the image size, and how it compares with the baseline's if one is given."""
    size = record.require("image_bytes")
    text = format_size(size)
    if baseline is None:
        return text
    baseline_size = baseline.require("image_bytes")
    if size < baseline_size:
        return f"{text} ({baseline_size / size:.1f} times smaller)"
    if size > baseline_size:
        return f"{text} ({size / baseline_size:.1f} times larger)"
    return f"{text} (the same size)"


def _time_cell(record: ExampleMeasurements, key: str) -> str:
    seconds = record.get(key)
    return "not measured" if seconds is None else f"{seconds:.1f} s"


def _describe_runs(labelled: list[tuple[str, ExampleMeasurements]]) -> str:
    """Say when and with which engine the compared examples were measured."""
    runs = [
        f"on {format_date(record.verified_at.date())} with Docker Engine "
        f"{engine_release(record.engine)} on {record.os}"
        for _, record in labelled
    ]
    if len(set(runs)) == 1:
        return f"Measured by the course's tests {runs[0]}."
    parts = [f"{label} {run}" for (label, _), run in zip(labelled, runs)]
    return f"Measured by the course's tests: {'; '.join(parts)}."


def render_image_comparison(before: ExampleMeasurements, after: ExampleMeasurements,
                            before_label: str, after_label: str) -> str:
    """Render a table that compares two examples' images, followed by how they were measured.

    The result is Markdown with lines that start at the margin, so the macro
    call must stand on a line of its own, outside lists and admonitions.
    """
    labelled = [(before_label, before), (after_label, after)]
    rows = [
        f"| | {_cell(before_label)} | {_cell(after_label)} |",
        "| --- | --- | --- |",
        f"| Base image | {_image_cell(before)} | {_image_cell(after)} |",
        f"| Image size | {_size_cell(before)} | {_size_cell(after, before)} |",
    ]
    for key, title in BUILD_TIME_ROWS:
        if before.get(key) is not None or after.get(key) is not None:
            rows.append(f"| {title} | {_time_cell(before, key)} | {_time_cell(after, key)} |")

    notes = [
        _describe_runs(labelled),
        "Sizes are in megabytes of 1,000,000 bytes, as `docker image ls` shows them.",
    ]
    if before.substitute_base_images or after.substitute_base_images:
        notes.append(
            "A local substitute is a base image that the tests built from Debian "
            "packages because no registry was reachable, so sizes and build times "
            "with the published image differ."
        )
    return "\n".join([
        '<div class="image-comparison" markdown>',
        "",
        *rows,
        "",
        " ".join(notes),
        "{ .measured-note }",
        "",
        "</div>",
        "",
    ])
