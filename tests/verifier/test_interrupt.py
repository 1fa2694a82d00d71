"""An interrupted run exits 130 and removes what it created, whichever signal stops it.

Each test starts scripts/verify on failing/slow-to-start, a Compose stack that
needs ten minutes to become healthy, waits until the stack's container exists,
and then sends the signal that a Ctrl+C (SIGINT) or a CI cancel (SIGTERM) sends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from verify_runs import REPOSITORY, copy_fixtures, leftovers, remove_run

from verifier.cleanup import WORKSPACE_PREFIX, work_folder_run
from verifier.cli import EXIT_INTERRUPTED
from verifier.engine import RUN_LABEL

# Seconds to wait for the stack's container, and then for the verifier to exit.
START_TIMEOUT = 120
EXIT_TIMEOUT = 60


def wait_for_run_id(work_folder: Path, verifier: subprocess.Popen) -> str:
    """Return the run id from the name of the run's verify-run-<id>-* work folder."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and verifier.poll() is None:
        folders = sorted(work_folder.glob(f"{WORKSPACE_PREFIX}*"))
        if folders:
            return work_folder_run(folders[0].name)
        time.sleep(0.2)
    pytest.fail(f"no {WORKSPACE_PREFIX}* work folder appeared in {work_folder}", pytrace=False)


def wait_for_containers(run_id: str, verifier: subprocess.Popen) -> list[str]:
    """Return the run's containers once `docker compose up` has created one."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and verifier.poll() is None:
        result = subprocess.run(
            ["docker", "ps", "--all", "--quiet", "--filter", f"label={RUN_LABEL}={run_id}"],
            capture_output=True, text=True, timeout=30, check=True,
        )
        if result.stdout.split():
            return result.stdout.split()
        time.sleep(0.2)
    pytest.fail(f"run {run_id} created no container within {START_TIMEOUT} s", pytrace=False)


@pytest.mark.docker
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
def test_interrupted_run_leaves_nothing(signal_number, tmp_path):
    root = copy_fixtures(tmp_path / "root", "failing/slow-to-start")
    work_folder = tmp_path / "tmp"
    work_folder.mkdir()
    verifier = subprocess.Popen(
        [sys.executable, "scripts/verify", "--root", str(root)],
        cwd=REPOSITORY, env={**os.environ, "TMPDIR": str(work_folder)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    run_id = None
    try:
        run_id = wait_for_run_id(work_folder, verifier)
        wait_for_containers(run_id, verifier)
        created = leftovers(run_id)

        verifier.send_signal(signal_number)
        output, _ = verifier.communicate(timeout=EXIT_TIMEOUT)
    finally:
        if verifier.poll() is None:
            verifier.kill()
            verifier.communicate()
        if run_id is not None:
            left = leftovers(run_id)
            remove_run(run_id)

    # The stack existed when the signal came: its container, network, volume and image.
    assert sorted({item.split()[0] for item in created}) == ["container", "image", "network",
                                                            "volume"]
    assert verifier.returncode == EXIT_INTERRUPTED, output
    assert "interrupted: stopping docker commands and removing what this run created" in output
    assert output.splitlines()[-1] == "0 passed, 1 failed (interrupted)"
    assert left == []
    assert list(work_folder.iterdir()) == []
