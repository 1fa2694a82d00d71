"""Remove what earlier runs left behind, sparing the runs that are still going.

A run's id starts with the ID of the process that runs it, so clean-up can
tell a crashed run from one that another terminal or checkout has in progress.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TextIO

from .engine import RUN_LABEL, Engine

WORKSPACE_PREFIX = "verify-run-"
_RUN_ID = re.compile(r"(\d+)-[0-9a-f]+")
_WORK_FOLDER = re.compile(rf"{WORKSPACE_PREFIX}(\d+-[0-9a-f]+)-")


def new_run_id() -> str:
    """Return the id of a new run: this process's ID, then random hexadecimal digits."""
    return f"{os.getpid()}-{secrets.token_hex(3)}"


def in_progress(run_id: str) -> bool:
    """Tell whether the run `run_id` still has a process: its own, or a docker command of it.

    A run killed with SIGKILL leaves its docker commands running, so they may
    still create resources after clean-up. Each of them names the run id.

    NOTE: a finished run whose process ID now belongs to an unrelated process
    counts as in progress; `--cleanup RUN` removes it.
    """
    match = _RUN_ID.fullmatch(run_id)
    if not match:
        return False
    pid = int(match.group(1))
    if pid != os.getpid() and _alive(pid):
        return True
    return any(run_id in command for command in _docker_commands())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _docker_commands() -> list[str]:
    """Return the command lines of the docker processes running now (Linux's /proc)."""
    commands = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = path.read_bytes().split(b"\0")
        except OSError:
            continue
        # docker, and its plugins docker-compose and docker-buildx.
        if words and Path(words[0].decode(errors="replace")).name.startswith("docker"):
            commands.append(b" ".join(words).decode(errors="replace"))
    return commands


def work_folder_run(name: str) -> str | None:
    """Return the id of the run that made the work folder `name`, if the name has one."""
    match = _WORK_FOLDER.match(name)
    return match.group(1) if match else None


def remove_left_runs(engine: Engine, out: TextIO, only: str | None = None) -> None:
    """Remove the resources and work folders of every finished run, or of the run `only`."""
    folders: dict[Path, str] = {}
    for folder in Path(tempfile.gettempdir()).glob(f"{WORKSPACE_PREFIX}*"):
        folders[folder] = work_folder_run(folder.name) or ""
    runs = engine.labelled_runs() | set(folders.values())
    chosen = set()
    for run_id in sorted(runs - {""}):
        if only is not None:
            if run_id == only:
                chosen.add(run_id)
        elif in_progress(run_id):
            print(f"* skipped run {run_id}: a process of it is still running; "
                  f"'scripts/verify --cleanup {run_id}' removes it anyway", file=out)
        else:
            chosen.add(run_id)
    if only is None:
        # A work folder of an older run has no run id in its name.
        chosen.add("")

    removed = engine.remove_labelled([f"label={RUN_LABEL}={run_id}"
                                      for run_id in sorted(chosen - {""})])
    removed_folders = [folder for folder, run_id in folders.items() if run_id in chosen]
    for folder in removed_folders:
        shutil.rmtree(folder, ignore_errors=True)
    for item in removed:
        print(f"* removed {item}", file=out)
    runs_named = f"run {only}" if only is not None else "earlier runs"
    print(f"removed {len(removed)} containers, networks, volumes and images and "
          f"{len(removed_folders)} work folders left by {runs_named}", file=out)
