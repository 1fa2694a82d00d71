"""Helpers for the command-line tests: fixture roots and what a verifier run left."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from verifier.engine import EXAMPLE_LABEL, RUN_LABEL, Engine

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPOSITORY = Path(__file__).resolve().parents[2]


def copy_fixtures(root: Path, *names: str) -> Path:
    """Copy the fixtures `names` (paths under tests/fixtures) into `root`, keeping their names.

    A root of its own keeps the invalid contracts under failing/ out of every
    other test's discovery.
    """
    for name in names:
        shutil.copytree(FIXTURES / name, root / name)
    return root


def leftovers(run_id: str) -> list[str]:
    """Return the containers, networks, volumes and images that carry the run's label."""
    found = []
    for kind, command in (("container", ["ps", "--all"]), ("network", ["network", "ls"]),
                          ("volume", ["volume", "ls"]), ("image", ["image", "ls"])):
        result = subprocess.run(
            ["docker", *command, "--quiet", "--filter", f"label={RUN_LABEL}={run_id}"],
            capture_output=True, text=True, timeout=30, check=True,
        )
        found += [f"{kind} {identifier}" for identifier in result.stdout.split()]
    return found


def remove_run(run_id: str) -> None:
    """Remove what the run `run_id` left, so that a failed test leaves nothing behind."""
    Engine(run_id=run_id).remove_run_resources()


def remove_example_images(*names: str) -> None:
    """Remove the images that the image flow built and tagged for the examples `names`."""
    for name in names:
        result = subprocess.run(
            ["docker", "image", "ls", "--all", "--quiet", "--filter",
             f"label={EXAMPLE_LABEL}={name}"],
            capture_output=True, text=True, timeout=30, check=True,
        )
        images = sorted(set(result.stdout.split()))
        if images:
            subprocess.run(["docker", "image", "rm", "--force", *images],
                           capture_output=True, timeout=60, check=False)
