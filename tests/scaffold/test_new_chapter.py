"""The chapter scaffold: what it creates passes every check, and a bad request writes nothing.

Each test works on a copy of the repository (the files that git tracks or would
track), so the scaffold never touches the working tree.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "new-chapter"

NAME = "hello-chapter"
TITLE = "Hello Chapter: A Scaffolded Lesson"
EXAMPLE = f"examples/{NAME}/hello-web"
EXAMPLE_FILES = {
    ".dockerignore", ".env.example", "Dockerfile", "README.md", "app.py", "compose.yaml",
    "verify.toml",
}
TIMEOUT = 600


def load_scaffold():
    """Import scripts/new-chapter, which has no .py suffix, as a module."""
    loader = importlib.machinery.SourceFileLoader("new_chapter", str(SCRIPT))
    spec = importlib.util.spec_from_loader("new_chapter", loader)
    module = importlib.util.module_from_spec(spec)
    # dataclasses looks the module up by name while it builds a class.
    sys.modules[spec.name] = module
    loader.exec_module(module)
    return module


scaffold = load_scaffold()


def copy_repository(target: Path) -> Path:
    """Copy the files that git tracks or would track into `target` and return it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        # A tracked file that someone deleted in the working tree is left out.
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def snapshot(root: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under `root`, and every folder, by relative path."""
    state = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        state[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return state


def run_tool(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": "scripts"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {result.returncode}\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def chapter_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of the repository in which the scaffold created NAME."""
    root = copy_repository(tmp_path_factory.mktemp("repository"))
    result = run_tool(sys.executable, "scripts/new-chapter", NAME, "--title", TITLE, cwd=root)
    assert result.returncode == 0, output_of(result)
    return root


@pytest.fixture
def repository_copy(tmp_path: Path) -> Path:
    """Return a fresh copy of the repository, for a test that must leave it unchanged."""
    return copy_repository(tmp_path / "repository")


# What the scaffold creates


def test_scaffold_creates_page_and_example(chapter_copy):
    assert (chapter_copy / "docs" / NAME / "index.md").is_file()
    created = {path.name for path in (chapter_copy / EXAMPLE).iterdir()}
    assert created == EXAMPLE_FILES


def test_page_front_matter_is_complete(chapter_copy):
    text = (chapter_copy / "docs" / NAME / "index.md").read_text(encoding="utf-8")
    front_matter = yaml.safe_load(text.split("---\n")[1])

    assert front_matter["title"] == TITLE
    assert front_matter["date"] == datetime.date.today()
    assert front_matter["description"].strip()
    assert front_matter["summary"].strip()
    assert front_matter["tags"]
    assert front_matter["series"] == ["DevOps Zero to Hero"]


def test_page_has_lesson_sections(chapter_copy):
    text = (chapter_copy / "docs" / NAME / "index.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("#")]

    for heading in ("## Overview", "### What you will learn", "### Before you begin",
                    "## Step 1:", "## Clean up", "## What's next"):
        assert any(line.startswith(heading) for line in headings), heading


def test_nav_gains_only_the_chapter(chapter_copy):
    before = (REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8").splitlines()
    after = (chapter_copy / "mkdocs.yml").read_text(encoding="utf-8").splitlines()
    added = ["  - Hello Chapter:", f"      - {NAME}/index.md"]

    position = after.index(added[0])
    assert after[position:position + 2] == added
    assert after[:position] + after[position + 2:] == before
    assert after[position + 2] == "  - Tags: tags.md"


# The checks that a chapter must pass


def test_strict_build_passes(chapter_copy, tmp_path):
    result = run_tool(sys.executable, "-m", "mkdocs", "build", "--strict",
                      "--site-dir", str(tmp_path / "site"), cwd=chapter_copy)

    assert result.returncode == 0, output_of(result)
    assert (tmp_path / "site" / NAME / "index.html").is_file()
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "Hello Chapter" in home, "the series listing on the home page lacks the chapter"


def test_snippet_coverage_passes(chapter_copy):
    result = run_tool(sys.executable, "scripts/snippet_coverage.py", "--root", ".",
                      cwd=chapter_copy)

    assert result.returncode == 0, output_of(result)
    assert f"docs/{NAME}/index.md" in result.stdout, "the page's illustrative blocks are unlisted"


@pytest.mark.docker
def test_verifier_passes_on_example(chapter_copy):
    result = run_tool(sys.executable, "scripts/verify", "--root", "examples", EXAMPLE,
                      cwd=chapter_copy)

    assert result.returncode == 0, output_of(result)
    assert "1 passed, 0 failed" in result.stdout


def test_generated_files_pass_linters(chapter_copy):
    venv_bin = Path(sys.executable).parent
    linters = {
        "ruff": ["check", f"{EXAMPLE}/app.py"],
        "codespell": [f"docs/{NAME}", EXAMPLE],
        "pymarkdown": ["--config", ".pymarkdown.yaml", "scan", f"docs/{NAME}/index.md",
                       f"{EXAMPLE}/README.md"],
        "hadolint": [f"{EXAMPLE}/Dockerfile"],
    }
    missing = [name for name in linters if not (venv_bin / name).exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: install requirements/lint.txt")

    for name, arguments in linters.items():
        result = run_tool(str(venv_bin / name), *arguments, cwd=chapter_copy)
        assert result.returncode == 0, f"{name}: {output_of(result)}"


def test_make_target_keeps_quotes_and_dollars(repository_copy):
    title = 'It\'s "Quoted": Save $5 on $HOME'
    # -o treats the virtual environment as installed, so make uses this one.
    result = run_tool("make", "-o", ".venv/.installed", f"PYTHON={sys.executable}",
                      "new-chapter", "NAME=quoted", f"TITLE={title}", cwd=repository_copy)

    assert result.returncode == 0, output_of(result)
    page = (repository_copy / "docs" / "quoted" / "index.md").read_text(encoding="utf-8")
    assert yaml.safe_load(page.split("---\n")[1])["title"] == title


# Requests that the scaffold rejects


@pytest.mark.parametrize(("name", "message"), [
    pytest.param("docker", "already exists", id="existing-chapter"),
    pytest.param("Docker2", "invalid chapter name", id="uppercase"),
    pytest.param("ci_cd", "invalid chapter name", id="underscore"),
    pytest.param("ci cd", "invalid chapter name", id="space"),
    pytest.param("../escape", "invalid chapter name", id="path"),
    pytest.param("-leading", "invalid chapter name", id="leading-hyphen"),
    pytest.param("double--hyphen", "invalid chapter name", id="double-hyphen"),
    pytest.param("", "chapter name is empty", id="empty"),
    pytest.param("a", "needs 2 to 40", id="too-short"),
    pytest.param("a" * 41, "needs 2 to 40", id="too-long"),
    pytest.param("tags", "is reserved", id="reserved"),
])
def test_bad_name_rejected_without_writing(repository_copy, capsys, name, message):
    before = snapshot(repository_copy)

    code = scaffold.main(["--title", TITLE, "--root", str(repository_copy), "--", name])

    assert code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ")
    assert error.count("\n") == 1, f"expected one line, got {error!r}"
    assert message in error
    assert snapshot(repository_copy) == before


@pytest.mark.parametrize("title", [
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("Two\nlines", id="newline"),
    pytest.param("x" * 101, id="too-long"),
])
def test_bad_title_rejected_without_writing(repository_copy, capsys, title):
    before = snapshot(repository_copy)

    code = scaffold.main(["--title", title, "--root", str(repository_copy), "--", NAME])

    assert code == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert snapshot(repository_copy) == before


def test_missing_title_rejected_in_one_line(repository_copy, capsys):
    with pytest.raises(SystemExit) as exit_info:
        scaffold.main(["--root", str(repository_copy), NAME])

    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ")
    assert error.count("\n") == 1


def test_failed_write_leaves_repository_unchanged(repository_copy, capsys, monkeypatch):
    before = snapshot(repository_copy)
    write_text = Path.write_text

    def fail_on_readme(path, *args, **kwargs):
        # The README comes after the page, mkdocs.yml and most example files.
        if path.name == "README.md":
            raise PermissionError(13, "Permission denied", str(path))
        return write_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", fail_on_readme)
    code = scaffold.main(["--title", TITLE, "--root", str(repository_copy), NAME])

    assert code == 2
    assert "cannot write" in capsys.readouterr().err
    assert snapshot(repository_copy) == before
