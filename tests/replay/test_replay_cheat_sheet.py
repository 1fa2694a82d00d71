"""Run each command of the Docker chapter's cheat sheet and check the effect that its row states.

The myapp rows run against the level 1 example, whose Flask server logs
every request, so that `docker logs -f` has new lines to follow. The
`docker system prune` rows run with a label filter, on resources that the
test creates and labels, through a proxy that keeps the prune off the shared
build cache (see engine_proxy.py).
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from chapter_page import cheat_sheet_rows, prune_table, read_chapter
from docker_state import (
    BUILD_TIMEOUT,
    COMPOSE_NETWORK,
    COMPOSE_PROJECT,
    COMPOSE_SERVICES,
    COMPOSE_TIMEOUT,
    COMPOSE_VOLUMES,
    CTRL_C_TIMEOUT,
    check_listed_with_size,
    containers_from,
    docker,
    docker_ids,
    health_status,
    image_exists,
    is_running,
    project_containers,
    project_networks,
    project_volumes,
    ps_rows,
    wait_until_gone,
)
from engine_proxy import EngineProxy
from reader_shell import CommandResult, ReaderShell, request_app, wait_until_app_answers

# Each row's command, and the tests that run it.
REPLAYED_ROWS = {
    "docker build -t myapp .": ("test_myapp_rows_build_run_and_inspect",),
    "docker run --rm -p 127.0.0.1:8000:8000 myapp": ("test_myapp_rows_build_run_and_inspect",),
    "docker ps": ("test_myapp_rows_build_run_and_inspect",),
    "docker ps --format '{{.Names}}'": ("test_myapp_rows_build_run_and_inspect",),
    "docker logs -f <container>": ("test_myapp_rows_build_run_and_inspect",),
    "docker exec -it <container> bash": ("test_myapp_rows_build_run_and_inspect",),
    "docker image ls": ("test_myapp_rows_build_run_and_inspect",),
    "docker compose up --build --wait": ("test_compose_rows_keep_then_delete_volumes",),
    "docker compose down": ("test_compose_rows_keep_then_delete_volumes",),
    "docker compose down --volumes": ("test_compose_rows_keep_then_delete_volumes",),
    "docker system prune": (
        "test_system_prune_asks_before_removing",
        "test_system_prune_removes_unused_and_keeps_volumes",
        "test_system_prune_volumes_removes_anonymous_only",
        "test_system_prune_all_removes_unused_tagged_images",
    ),
}
# Rows that no test runs, each with the reason. Each such row on the page
# states that the tests do not run it.
NOT_REPLAYED = {
    "docker scout cves myapp": (
        "Docker Scout signs in to a Docker account and downloads a vulnerability "
        "database, and no registry or account is reachable from the tests; its "
        "findings also change whenever new vulnerabilities are published."
    ),
}
NOT_RUN_NOTE = "the course's tests do not run it"

# The table of what `docker system prune` removes and keeps, cell by cell:
# removed by default, kept by default, and the option that changes it. The
# prune tests below check each cell.
PRUNE_TABLE = {
    "Containers": ("stopped containers", "running containers", ""),
    "Networks": ("networks that no container uses", "networks in use", ""),
    "Images": (
        "dangling images (untagged layers left by rebuilds)",
        "tagged images, even unused ones",
        "`-a` also removes every image that no container uses",
    ),
    "Volumes": (
        "none",
        "all volumes",
        "`--volumes` also removes anonymous volumes that no container uses; named volumes stay",
    ),
    "Build cache": (
        "unused build cache",
        "build cache in use",
        "`-a` removes all build cache that no build uses",
    ),
}
# The list that `docker system prune` prints before its confirmation prompt,
# as Docker CLI 28.2 prints it.
PRUNE_WARNINGS = (
    "all stopped containers",
    "all networks not used by at least one container",
    "all dangling images",
    "unused build cache",
)


def row(command: str) -> str:
    """Return a cheat sheet command after checking that the page's table still has it."""
    commands = [entry.command for entry in cheat_sheet_rows(read_chapter())]
    assert command in commands, f"the cheat sheet no longer has the row `{command}`"
    return command


def test_cheat_sheet_rows_are_replayed_or_marked():
    rows = cheat_sheet_rows(read_chapter())
    assert rows, "the cheat sheet has no rows"
    for entry in rows:
        assert entry.command in REPLAYED_ROWS or entry.command in NOT_REPLAYED, (
            f"{entry.page}:{entry.line}: the cheat sheet row `{entry.command}` is run by "
            f"no test: add it to REPLAYED_ROWS with a test, or to NOT_REPLAYED with the reason "
            f"and say in the row that {NOT_RUN_NOTE}")
        if entry.command in NOT_REPLAYED:
            assert NOT_RUN_NOTE in entry.description, (
                f"{entry.page}:{entry.line}: the row `{entry.command}` is not replayed, "
                f"so it must say that {NOT_RUN_NOTE}")
    on_page = {entry.command for entry in rows}
    stale = (set(REPLAYED_ROWS) | set(NOT_REPLAYED)) - on_page
    assert not stale, f"rows listed here but gone from the cheat sheet: {sorted(stale)}"


def test_cheat_sheet_replays_name_existing_tests():
    for command, tests in REPLAYED_ROWS.items():
        for name in tests:
            assert callable(globals().get(name)), f"`{command}` names the missing test {name}"


def test_prune_table_matches_checked_cells():
    assert prune_table(read_chapter()) == PRUNE_TABLE, (
        "the table of what `docker system prune` removes and keeps changed: update PRUNE_TABLE "
        "and the prune tests that check each cell")


@pytest.mark.docker
@pytest.mark.usefixtures("fixed_names")
def test_myapp_rows_build_run_and_inspect(reader, replay_label: str):
    shell = reader("cheat sheet: myapp", "examples/docker/basic-dockerfile")

    built = shell.check(row("docker build -t myapp ."), timeout=BUILD_TIMEOUT)
    assert image_exists("myapp"), built.report("no image myapp after it")

    first_terminal = shell.start(row("docker run --rm -p 127.0.0.1:8000:8000 myapp"))
    wait_until_app_answers(first_terminal)
    running = containers_from("myapp")
    assert len(running) == 1, first_terminal.report(f"expected one myapp container: {running}")
    container = running[0]

    check_ps_rows(shell, container, replay_label)
    check_logs_follow(shell, container)

    terminal = shell.check_in_terminal(
        row("docker exec -it <container> bash").replace("<container>", container),
        keystrokes="hostname; exit\n")
    container_id = docker("inspect", "--format", "{{.Id}}", container).stdout.strip()
    assert container_id[:12] in terminal.stdout.split(), terminal.report(
        f"the shell did not run in {container} (hostname {container_id[:12]})")

    check_listed_with_size(shell.check(row("docker image ls")), "myapp")

    first_terminal.interrupt(CTRL_C_TIMEOUT)
    still_there = wait_until_gone(lambda: [name for name in containers_from("myapp")
                                           if name == container])
    assert not still_there, first_terminal.report(
        f"{container} is still there after Ctrl+C, despite --rm")


def check_ps_rows(shell: ReaderShell, container: str, label: str) -> None:
    """Check `docker ps`, its -a option and its names-only format against a running container."""
    stopped = f"replay-stopped-{label.rpartition('=')[2]}"
    shell.check(f"docker run --label {label} --name {stopped} myapp true")

    listing = shell.check(row("docker ps"))
    rows = ps_rows(listing, "myapp")
    assert [columns[-1] for columns in rows] == [container], listing.report(
        f"expected only the running container {container} from myapp")
    ports = rows[0][5]
    assert "127.0.0.1:8000->8000/tcp" in ports, listing.report("port 8000 is not published")

    every = shell.check(row("docker ps") + " -a")
    assert stopped in [columns[-1] for columns in ps_rows(every, "myapp")], every.report(
        f"-a does not list the stopped container {stopped}")

    names = shell.check(row("docker ps --format '{{.Names}}'"))
    lines = names.stdout.splitlines()
    assert container in lines, names.report(f"{container} is not listed")
    assert stopped not in lines, names.report(f"the stopped {stopped} is listed")
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", line), names.report(
            f"the line {line!r} is more than a container name")


def check_logs_follow(shell: ReaderShell, container: str) -> None:
    """Check that `docker logs -f` prints the log so far, then follows new lines until Ctrl+C."""
    follow = shell.start(row("docker logs -f <container>").replace("<container>", container))
    follow.wait_for_output("Running on http://", timeout=30)
    marker = secrets.token_hex(4)
    status, _ = request_app("GET", f"/up?follow={marker}")
    assert status == 200
    # Flask's server logs each request, so the new request shows up in the followed output.
    follow.wait_for_output(f"GET /up?follow={marker}", timeout=30)
    follow.interrupt(timeout=10)
    assert is_running(container), follow.report(
        f"{container} did not keep running after Ctrl+C on docker logs -f")


@pytest.mark.docker
@pytest.mark.usefixtures("fixed_names")
def test_compose_rows_keep_then_delete_volumes(reader):
    up, down, down_volumes = (row("docker compose up --build --wait"), row("docker compose down"),
                              row("docker compose down --volumes"))
    shell = reader("cheat sheet: compose", "examples/docker/compose-stack")
    shell.check("cp .env.example .env")

    started = shell.check(up, timeout=COMPOSE_TIMEOUT)
    check_all_healthy(started)
    status, body = request_app("PUT", "/notes/cheat-sheet", "kept")
    assert status == 201, f"cheat sheet: the PUT of a note returned {status}: {body}"

    stopped = shell.check(down, timeout=COMPOSE_TIMEOUT)
    assert not project_containers(), stopped.report("containers of the stack are left")
    assert COMPOSE_NETWORK not in project_networks(), stopped.report("the network is left")
    assert sorted(project_volumes()) == sorted(COMPOSE_VOLUMES), stopped.report(
        "the volumes did not stay")

    check_all_healthy(shell.check(up, timeout=COMPOSE_TIMEOUT))
    status, body = request_app("GET", "/notes/cheat-sheet")
    assert status == 200, f"cheat sheet: the note did not outlive `{down}`: {status} {body}"
    assert json.loads(body)["postgres"] == "kept", (
        f"cheat sheet: the note did not outlive `{down}` in Postgres: {body}")

    deleted = shell.check(down_volumes, timeout=COMPOSE_TIMEOUT)
    assert not project_containers(), deleted.report("containers of the stack are left")
    assert COMPOSE_NETWORK not in project_networks(), deleted.report("the network is left")
    assert not project_volumes(), deleted.report("the volumes were not deleted")


def check_all_healthy(started: CommandResult) -> None:
    """Check that the command returned with every service of the stack running and healthy."""
    for service in COMPOSE_SERVICES:
        container = f"{COMPOSE_PROJECT}-{service}-1"
        assert health_status(container) == "healthy", started.report(
            f"{container} is {health_status(container) or 'not running'} after the command")


# docker system prune


@dataclass(frozen=True)
class PruneSubjects:
    """Labelled resources, one for each cell of the prune table."""

    label: str
    dangling_image: str
    unused_image: str
    used_image: str
    running_container: str
    stopped_container: str
    unused_network: str
    used_network: str
    anonymous_volume: str
    named_volume: str

    def present(self) -> dict[str, bool]:
        """Return, for each subject, whether it still exists."""
        containers = docker_ids("ps", "--all", "--filter", f"label={self.label}",
                                "--format", "{{.Names}}")
        networks = docker_ids("network", "ls", "--filter", f"label={self.label}",
                              "--format", "{{.Name}}")
        volumes = docker_ids("volume", "ls", "--filter", f"label={self.label}",
                             "--format", "{{.Name}}")
        return {
            "dangling image": image_exists(self.dangling_image),
            "unused tagged image": image_exists(self.unused_image),
            "image of a running container": image_exists(self.used_image),
            "running container": self.running_container in containers,
            "stopped container": self.stopped_container in containers,
            "unused network": self.unused_network in networks,
            "network in use": self.used_network in networks,
            "anonymous volume": self.anonymous_volume in volumes,
            "named volume": self.named_volume in volumes,
        }


@pytest.fixture
def engine_proxy() -> Iterator[EngineProxy]:
    """Start a proxy to the engine that returns an empty report for build cache prune requests."""
    endpoint = docker("context", "inspect", "--format", "{{.Endpoints.docker.Host}}").stdout.strip()
    if not endpoint.startswith("unix://"):
        pytest.skip(f"the prune tests need the engine on a Unix socket, to keep the shared build "
                    f"cache out of the prune; the current context uses {endpoint or 'no endpoint'}")
    folder = Path(tempfile.mkdtemp(prefix="replay-proxy-"))
    proxy = EngineProxy(folder / "docker.sock", endpoint.removeprefix("unix://")).start()
    yield proxy
    proxy.close()
    folder.rmdir()


@pytest.fixture
def prune_subjects(docker_engine, replay_label: str) -> PruneSubjects:
    """Create one labelled resource per cell of the prune table, which replay_label removes."""
    token = replay_label.rpartition("=")[2]
    name = f"replay-prune-{token}"

    def build(tag: str, variant: str) -> str:
        dockerfile = (f"FROM debian:trixie-slim\n"
                      f"LABEL io.devops-zero-to-hero.replay-variant={variant}\n")
        result = setup_docker("build", "--quiet", "--label", replay_label, "--tag", tag, "-",
                                   stdin=dockerfile)
        return result.stdout.strip()

    # The second build takes the tag, so the first image is left dangling.
    dangling = build(f"{name}:unused", "first")
    build(f"{name}:unused", "second")
    build(f"{name}:used", "used")
    for network in (f"{name}-unused", f"{name}-used"):
        setup_docker("network", "create", "--label", replay_label, network)
    setup_docker("volume", "create", "--label", replay_label, f"{name}-named")
    setup_docker("run", "--detach", "--label", replay_label, "--name", f"{name}-running",
                      "--network", f"{name}-used", f"{name}:used", "sleep", "infinity")
    # An anonymous volume: created by the container, with no name of its own.
    setup_docker("run", "--label", replay_label, "--name", f"{name}-stopped",
                      "--mount", f"type=volume,dst=/data,volume-label={replay_label}",
                      f"{name}:used", "true")
    anonymous = setup_docker("inspect", "--format", "{{(index .Mounts 0).Name}}",
                                  f"{name}-stopped").stdout.strip()
    subjects = PruneSubjects(
        label=replay_label, dangling_image=dangling, unused_image=f"{name}:unused",
        used_image=f"{name}:used", running_container=f"{name}-running",
        stopped_container=f"{name}-stopped", unused_network=f"{name}-unused",
        used_network=f"{name}-used", anonymous_volume=anonymous, named_volume=f"{name}-named",
    )
    assert all(subjects.present().values()), f"prune set-up incomplete: {subjects.present()}"
    return subjects


def setup_docker(*args: str, stdin: str | None = None) -> CommandResult:
    """Run a docker command of the prune set-up and fail with its output unless it succeeds."""
    completed = subprocess.run(["docker", *args], check=False, input=stdin,
                               capture_output=True, text=True, timeout=300)
    result = CommandResult("system prune (set-up)", "docker " + " ".join(args),
                           "a temporary folder", completed.returncode, completed.stdout,
                           completed.stderr)
    assert result.returncode == 0, result.report("the set-up command failed")
    return result


def prune_through(shell: ReaderShell, proxy: EngineProxy, command: str,
                  stdin: str | None = None) -> CommandResult:
    """Run a prune command with the Docker CLI talking to the engine through `proxy`."""
    env = {"DOCKER_HOST": proxy.docker_host}
    shell.env.pop("DOCKER_CONTEXT", None)
    return shell.run(command, timeout=300, stdin=stdin, env=env)


def check_prune_requests(proxy: EngineProxy, result: CommandResult, label: str,
                         all_build_cache: bool) -> None:
    """Check that each prune request carried the test's label, and one pruned the build cache."""
    prunes = [request for request in proxy.requests if request.is_prune]
    assert prunes, result.report("the CLI sent no prune request")
    for request in prunes:
        assert request.filters().get("label") == {label: True}, result.report(
            f"{request.method} {request.target} was not limited to the label {label}")
    build_cache = [request for request in prunes if request.is_build_cache_prune]
    assert len(build_cache) == 1, result.report("the CLI did not ask to prune the build cache")
    requested_all = build_cache[0].query.get("all", ["0"])[0] in ("1", "true")
    assert requested_all == all_build_cache, result.report(
        f"build cache prune requested all={requested_all}, expected all={all_build_cache}")


def check_presence(subjects: PruneSubjects, result: CommandResult, removed: set[str]) -> None:
    for subject, present in subjects.present().items():
        expected = subject not in removed
        verb = "kept" if expected else "removed"
        assert present == expected, result.report(f"the {subject} was not {verb}")


@pytest.mark.docker
def test_system_prune_asks_before_removing(reader, engine_proxy, prune_subjects):
    shell = reader("cheat sheet: docker system prune", ".")
    answered_no = prune_through(shell, engine_proxy, row("docker system prune"), stdin="n\n")

    assert answered_no.returncode == 0, answered_no.report("the command failed")
    listed = re.findall(r"^\s*- (.+)$", answered_no.stdout, re.MULTILINE)
    assert tuple(listed) == PRUNE_WARNINGS, answered_no.report(
        f"expected the list {PRUNE_WARNINGS}")
    assert "Are you sure you want to continue?" in answered_no.stdout
    assert not [request for request in engine_proxy.requests if request.is_prune], (
        answered_no.report("the CLI sent a prune request although the answer was no"))
    check_presence(prune_subjects, answered_no, removed=set())


@pytest.mark.docker
def test_system_prune_removes_unused_and_keeps_volumes(reader, engine_proxy, prune_subjects):
    shell = reader("cheat sheet: docker system prune", ".")
    label = prune_subjects.label
    pruned = prune_through(shell, engine_proxy,
                           f"{row('docker system prune')} --force --filter label={label}")

    assert pruned.returncode == 0, pruned.report("the command failed")
    check_presence(prune_subjects, pruned,
                   removed={"dangling image", "stopped container", "unused network"})
    check_prune_requests(engine_proxy, pruned, label, all_build_cache=False)


@pytest.mark.docker
def test_system_prune_volumes_removes_anonymous_only(reader, engine_proxy, prune_subjects):
    shell = reader("cheat sheet: docker system prune", ".")
    label = prune_subjects.label
    pruned = prune_through(shell, engine_proxy,
                           f"{row('docker system prune')} --volumes --force --filter label={label}")

    assert pruned.returncode == 0, pruned.report("the command failed")
    check_presence(prune_subjects, pruned, removed={
        "dangling image", "stopped container", "unused network", "anonymous volume"})
    check_prune_requests(engine_proxy, pruned, label, all_build_cache=False)


@pytest.mark.docker
def test_system_prune_all_removes_unused_tagged_images(reader, engine_proxy, prune_subjects):
    shell = reader("cheat sheet: docker system prune", ".")
    label = prune_subjects.label
    pruned = prune_through(shell, engine_proxy,
                           f"{row('docker system prune')} -a --force --filter label={label}")

    assert pruned.returncode == 0, pruned.report("the command failed")
    check_presence(prune_subjects, pruned, removed={
        "dangling image", "unused tagged image", "stopped container", "unused network"})
    check_prune_requests(engine_proxy, pruned, label, all_build_cache=True)
