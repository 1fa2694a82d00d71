"""Ask the Docker engine what the replayed commands left behind.

These docker commands belong to the tests, never to the page: they look at
the engine's state, so that a replayed command can be judged by its effect.
"""

from __future__ import annotations

import re
import subprocess
import time

from reader_shell import CommandResult

BUILD_TIMEOUT = 900
COMPOSE_TIMEOUT = 600
# Flask's server and gunicorn both exit on SIGINT within a second or two.
CTRL_C_TIMEOUT = 30

# Names that the chapter's commands fix.
FIXED_IMAGES = ("basic-dockerfile", "multi-stage", "myapp", "compose-stack-web")
COMPOSE_PROJECT = "compose-stack"
PROJECT_LABEL = f"com.docker.compose.project={COMPOSE_PROJECT}"
COMPOSE_SERVICES = ("web", "db", "redis")
COMPOSE_VOLUMES = ("compose-stack_postgres_data", "compose-stack_redis_data")
COMPOSE_NETWORK = "compose-stack_default"


def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], check=False, capture_output=True, text=True,
                          timeout=timeout)


def docker_ids(*args: str) -> list[str]:
    """Return the whitespace-separated words that a listing command prints."""
    return docker(*args).stdout.split()


def image_exists(image: str) -> bool:
    return docker("image", "inspect", image).returncode == 0


def containers_from(image: str) -> list[str]:
    """Return the names of all containers, running or not, created from `image`."""
    return docker_ids("ps", "--all", "--filter", f"ancestor={image}", "--format", "{{.Names}}")


def project_containers() -> list[str]:
    return docker_ids("ps", "--all", "--filter", f"label={PROJECT_LABEL}", "--format",
                      "{{.Names}}")


def project_volumes() -> list[str]:
    return docker_ids("volume", "ls", "--filter", f"label={PROJECT_LABEL}", "--format",
                      "{{.Name}}")


def project_networks() -> list[str]:
    return docker_ids("network", "ls", "--filter", f"label={PROJECT_LABEL}", "--format",
                      "{{.Name}}")


def is_running(container: str) -> bool:
    return docker("inspect", "--format", "{{.State.Running}}", container).stdout.strip() == "true"


def health_status(container: str) -> str:
    """Return the container's health status, such as "healthy", or "" without a health check."""
    result = docker("inspect", "--format",
                    "{{if .State.Health}}{{.State.Health.Status}}{{end}}", container)
    return result.stdout.strip()


def wait_until_gone(list_them, timeout: float = 15) -> list[str]:
    """Poll `list_them()` until it returns nothing or `timeout` passes, and return its last result.

    A container started with --rm is removed by the engine shortly after its
    client returns, so an immediate listing can still show it.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = list_them()
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def check_listed_with_size(result: CommandResult, image: str) -> None:
    """Check that `docker image ls` printed a row for `image` that ends with a size."""
    rows = [line for line in result.stdout.splitlines() if line.split()[:1] == [image]]
    assert rows, result.report(f"no row for the image {image}")
    assert re.search(r"\d+(\.\d+)?[kMG]?B$", rows[0]), result.report(
        f"the row for {image} does not end with a size")


def ps_rows(result: CommandResult, image: str) -> list[list[str]]:
    """Return the columns of the `docker ps` rows whose IMAGE column is `image`.

    Columns are separated by two or more spaces, so an empty PORTS column
    leaves the row one column short.
    """
    rows = [re.split(r"\s{2,}", line.strip()) for line in result.stdout.splitlines()[1:]]
    return [row for row in rows if len(row) > 1 and row[1] == image]
