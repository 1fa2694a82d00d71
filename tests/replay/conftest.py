"""Fixtures for replaying the Docker chapter: a copy of examples/, reader shells and clean-up.

The chapter's commands use fixed names: host port 8000, the images
basic-dockerfile, multi-stage, myapp and compose-stack-web, and the Compose
project compose-stack. A replay first checks that none of them is in use, and
fails without touching anything when one is. It then owns them, and removes
all of them when it ends, whether it passed or failed.
"""

from __future__ import annotations

import fcntl
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from chapter_page import REPO_ROOT
from docker_state import (
    COMPOSE_PROJECT,
    FIXED_IMAGES,
    PROJECT_LABEL,
    docker,
    docker_ids,
    image_exists,
)
from reader_shell import ReaderShell
from verifier.preflight import docker_problem

APP_PORT = 8000
FIXED_NAMES_LOCK = Path(tempfile.gettempdir()) / "devops-zero-to-hero-replay.lock"
LOCK_TIMEOUT = 900
# Resources that a test creates itself, beyond what the page's commands
# create, carry this label with a value unique to the test.
REPLAY_LABEL = "io.devops-zero-to-hero.replay"


@pytest.fixture(scope="session")
def docker_engine() -> None:
    problem = docker_problem()
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture
def course_copy() -> Iterator[Path]:
    """Copy examples/ into a temporary folder that stands for the reader's clone."""
    root = Path(tempfile.mkdtemp(prefix="replay-"))
    # A developer's own .env or caches are not in a fresh clone, so they stay behind.
    shutil.copytree(REPO_ROOT / "examples", root / "examples",
                    ignore=shutil.ignore_patterns(".env", "__pycache__", "*.pyc"))
    (root / ".replay-logs").mkdir()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def reader(course_copy: Path) -> Iterator[Callable[[str, str], ReaderShell]]:
    """Return a function that opens a reader's shell for a scenario in a folder of the copy."""
    shells: list[ReaderShell] = []

    def open_shell(scenario: str, start: str = ".") -> ReaderShell:
        shell = ReaderShell(scenario, course_copy, start, course_copy / ".replay-logs")
        shells.append(shell)
        return shell

    yield open_shell
    for shell in shells:
        shell.stop_all()


@pytest.fixture
def fixed_names(docker_engine: None) -> Iterator[None]:
    """Check that the page's fixed names are free, then remove what used them when the test ends.

    A lock file serializes replays of concurrent test runs on this machine,
    which would otherwise take the same port, images and project.
    """
    with FIXED_NAMES_LOCK.open("a") as lock:
        wait_for_lock(lock)
        problem = fixed_names_problem()
        if problem:
            pytest.fail(problem, pytrace=False)
        try:
            yield
        finally:
            remove_fixed_names()


def wait_for_lock(lock) -> None:
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                pytest.fail(f"another test run held {FIXED_NAMES_LOCK} for {LOCK_TIMEOUT} s: "
                            f"wait for it to finish and rerun", pytrace=False)
            time.sleep(1)


@pytest.fixture
def replay_label(docker_engine: None) -> Iterator[str]:
    """Return a label unique to this test, and remove everything that carries it at the end."""
    label = f"{REPLAY_LABEL}={secrets.token_hex(4)}"
    yield label
    remove_labelled(label)


def fixed_names_problem() -> str | None:
    """Return why the page's fixed names are not free for a replay, or None when they are."""
    with socket.socket() as probe:
        # SO_REUSEADDR lets the bind pass over closed connections in TIME_WAIT
        # but not over a listening socket.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", APP_PORT))
        except OSError as error:
            return (f"port {APP_PORT} on 127.0.0.1 is in use ({error.strerror}): the chapter's "
                    f"commands publish it, so stop what listens there and rerun")
    publishers = docker("ps", "--filter", f"publish={APP_PORT}", "--format", "{{.Names}}").stdout
    if publishers.split():
        return (f"port {APP_PORT} is published by the container(s) "
                f"{', '.join(publishers.split())}: the chapter's commands publish it, so stop "
                f"them and rerun")
    for kind, listing in (("container", ["ps", "--all", "--quiet"]),
                          ("volume", ["volume", "ls", "--quiet"]),
                          ("network", ["network", "ls", "--quiet"])):
        if docker_ids(*listing, "--filter", f"label={PROJECT_LABEL}"):
            return (f"a Compose project named {COMPOSE_PROJECT} already exists (a {kind} has the "
                    f"label {PROJECT_LABEL}): the replay would delete it, so remove it yourself "
                    f"with `docker compose -p {COMPOSE_PROJECT} down --volumes` and rerun")
    for image in FIXED_IMAGES:
        if image_exists(image):
            return (f"an image named {image} already exists: the replay would replace and remove "
                    f"it, so remove it yourself with `docker image rm {image}` and rerun")
    return None


def remove_fixed_names() -> None:
    """Remove the containers, Compose project and images that the page's fixed names refer to."""
    containers = docker_ids("ps", "--all", "--quiet", "--filter", f"label={PROJECT_LABEL}")
    for image in FIXED_IMAGES:
        containers += docker_ids("ps", "--all", "--quiet", "--filter", f"ancestor={image}")
    if containers:
        docker("rm", "--force", "--volumes", *sorted(set(containers)))
    networks = docker_ids("network", "ls", "--quiet", "--filter", f"label={PROJECT_LABEL}")
    if networks:
        docker("network", "rm", *networks)
    volumes = docker_ids("volume", "ls", "--quiet", "--filter", f"label={PROJECT_LABEL}")
    if volumes:
        docker("volume", "rm", "--force", *volumes)
    present = [image for image in FIXED_IMAGES if image_exists(image)]
    if present:
        docker("image", "rm", "--force", *present)


def remove_labelled(label: str) -> None:
    """Remove every container, network, volume and image that carries `label`."""
    containers = docker_ids("ps", "--all", "--quiet", "--filter", f"label={label}")
    if containers:
        docker("rm", "--force", "--volumes", *containers)
    networks = docker_ids("network", "ls", "--quiet", "--filter", f"label={label}")
    if networks:
        docker("network", "rm", *networks)
    volumes = docker_ids("volume", "ls", "--quiet", "--filter", f"label={label}")
    if volumes:
        docker("volume", "rm", "--force", *volumes)
    images = docker_ids("image", "ls", "--all", "--quiet", "--filter", f"label={label}")
    if images:
        docker("image", "rm", "--force", *sorted(set(images)))
