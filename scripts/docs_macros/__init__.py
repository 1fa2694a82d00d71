"""Macros for the documentation site, loaded by mkdocs-macros-plugin.

mkdocs.yml names this folder as the plugin's module_name, and the plugin
imports it as the package docs_macros, with scripts/ on sys.path. Only pages
whose front matter sets `render_macros: true` render macros, and an undefined
name, a template error or an exception in a macro fails the build (see the
macros plugin in mkdocs.yml).

NOTE: `mkdocs serve` keeps the imported package between rebuilds, so restart
it after changing this code. A change to the measurements file is picked up on
the next rebuild.
"""

import functools
from pathlib import Path

from .measured_text import format_seconds, format_size, render_image_comparison, render_verified_mark
from .measurements import MEASUREMENTS_FILE, MeasurementsFile
from .series import (
    FrontMatterError,
    escape_markdown,
    find_chapters,
    read_front_matter,
    render_listing,
)

__all__ = [
    "FrontMatterError",
    "define_env",
    "escape_markdown",
    "find_chapters",
    "read_front_matter",
    "render_listing",
]


def define_env(env) -> None:
    """Register the site's macros with mkdocs-macros-plugin."""
    measurements_path = Path(env.conf["config_file_path"]).parent / MEASUREMENTS_FILE

    # Read on first use, so that a page without measurements builds without the file.
    @functools.cache
    def measurements() -> MeasurementsFile:
        return MeasurementsFile.read(measurements_path)

    @env.macro
    def series_listing(series: str) -> str:
        """List the chapters of `series`, oldest first, as cards linking to each."""
        docs_dir = Path(env.conf["docs_dir"])
        chapters = find_chapters(docs_dir, series)
        return render_listing(chapters, env.page.file.src_uri, series)

    @env.macro
    def verified_mark(example: str) -> str:
        """Say when and with which engine the tests built and ran `example`, in one line."""
        return render_verified_mark(measurements().example(example))

    @env.macro
    def image_comparison(before: str, after: str, before_label: str, after_label: str) -> str:
        """Compare the base image, size and build times of two examples in a table."""
        data = measurements()
        return render_image_comparison(
            data.example(before), data.example(after), before_label, after_label
        )

    @env.macro
    def measured_size(example: str) -> str:
        """Return the measured size of `example`'s image, for example 147.0 MB."""
        return format_size(measurements().example(example).require("image_bytes"))

    @env.macro
    def measured_seconds(example: str, key: str) -> str:
        """Return a measured duration of `example`, such as "up_seconds", as 4.8 seconds."""
        if not key.endswith("_seconds"):
            raise ValueError(f"measured_seconds needs a key ending in _seconds, not {key!r}")
        return format_seconds(measurements().example(example).require(key))
