"""Fixtures that build the documentation site with `mkdocs build --strict`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from site_paths import REPO_ROOT

# What a build reads: the configuration, the pages, the theme overrides, the
# macros package, the example files that pages include and the measurements
# that the macros show.
SITE_SOURCES = ("mkdocs.yml", "docs", "overrides", "scripts/docs_macros", "examples", "data")

BUILD_TIMEOUT = 300


def run_build(project: Path, site_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run `mkdocs build --strict` in `project`, writing the site to `site_dir`.

    The build runs in the project folder because the snippets extension
    resolves include paths from the working directory.
    """
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )


def build_output(result: subprocess.CompletedProcess[str]) -> str:
    """Return a build's combined output, for assertion messages."""
    return f"exit code {result.returncode}\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the repository's site once per test session and return its folder."""
    site = tmp_path_factory.mktemp("site")
    result = run_build(REPO_ROOT, site)
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{build_output(result)}", pytrace=False)
    return site


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    """Copy what the site build reads into a temporary project folder and return it."""
    project = tmp_path / "project"
    for source in SITE_SOURCES:
        origin = REPO_ROOT / source
        target = project / source
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(origin, target)
    return project


@pytest.fixture
def build_copy(tmp_path: Path) -> Callable[[Path], subprocess.CompletedProcess[str]]:
    """Return a function that builds a project folder into a temporary site folder."""

    def build(project: Path) -> subprocess.CompletedProcess[str]:
        return run_build(project, tmp_path / "site")

    return build


@pytest.fixture
def add_page() -> Callable[[Path, str, str], None]:
    """Return a function that adds a page to a project's docs/ and to its nav."""
    return _add_page


def _add_page(project: Path, src_path: str, text: str) -> None:
    """Write a page under docs/ and append it to the end of the nav in mkdocs.yml.

    The nav must be the last top-level key of mkdocs.yml, because the entry is
    appended to the end of the file.
    """
    page = project / "docs" / src_path
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text, encoding="utf-8")

    config = project / "mkdocs.yml"
    config_text = config.read_text(encoding="utf-8")
    after_nav = config_text.partition("\nnav:\n")[2]
    assert after_nav, "mkdocs.yml has no top-level nav: key"
    assert not re.search(r"^\S", after_nav, re.MULTILINE), (
        "nav: is not the last top-level key of mkdocs.yml, so a page cannot be appended to it"
    )
    config.write_text(config_text.rstrip("\n") + f'\n  - "{src_path}"\n', encoding="utf-8")
