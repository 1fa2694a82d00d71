"""Fixtures of the command-line tests: the work folder and the ids of the runs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from verify_runs import remove_run

from verifier import cli
from verifier.engine import Engine


@pytest.fixture
def work_folder(tmp_path, monkeypatch) -> Path:
    """Return the temporary folder where cli.main creates its verify-run-* work folder."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def run_ids(monkeypatch) -> list[str]:
    """Return the ids of the runs that cli.main starts, and remove what they leave.

    The run id is random, and the tests need it to find the run's resources.
    """
    started: list[str] = []

    class RecordedEngine(Engine):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            started.append(self.run_id)

    monkeypatch.setattr(cli, "Engine", RecordedEngine)
    yield started
    for run_id in started:
        if run_id != "cleanup":
            remove_run(run_id)
