"""Check that the Docker engine the tests need is running, and report what is missing.

Run as `python -m verifier.preflight` (with scripts/ on the module path): it
prints one line and exits 1 when something is missing, and prints nothing when
the engine, Compose v2 and Buildx all answer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

INSTALL_HINT = (
    "install Docker Engine with Compose v2 and Buildx "
    "(https://docs.docker.com/engine/install/; on Debian as root: scripts/install-docker-engine)"
)


def docker_problem() -> str | None:
    """Return what is missing for the Docker tests, or None when nothing is."""
    if shutil.which("docker") is None:
        return f"the docker command is not installed: {INSTALL_HINT}"
    checks = (
        (["docker", "info"], "the Docker daemon does not answer (docker info failed): "
                             "start it, or " + INSTALL_HINT),
        (["docker", "buildx", "version"], f"Docker Buildx is missing: {INSTALL_HINT}"),
        (["docker", "compose", "version"], f"Docker Compose v2 is missing: {INSTALL_HINT}"),
    )
    for command, problem in checks:
        try:
            result = subprocess.run(command, check=False, capture_output=True, timeout=30)
        except subprocess.TimeoutExpired:
            return f"'{' '.join(command)}' timed out after 30 s: is the Docker daemon stuck?"
        if result.returncode != 0:
            return problem
    return None


def main() -> int:
    problem = docker_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
