"""Replay the Docker chapter's steps as a reader runs them, and check what each command does.

Each scenario is the set of shell blocks that the chapter's pages mark with
its data-replay name. A test first checks that the pages still show the
commands listed here, then runs them in bash, in reading order, in a
temporary copy of examples/. A command that the reader leaves running in a
first terminal is started in the background, the "second terminal" commands
run once the app responds on port 8000, and Ctrl+C is a SIGINT to the first
terminal's processes.
"""

from __future__ import annotations

import re
import secrets
import time

import pytest
from chapter_page import (
    commands_drift,
    page_replay_blocks,
    read_chapter,
    replay_blocks,
    scenario_commands,
    shows_inline,
)
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
    health_status,
    image_exists,
    project_containers,
    project_networks,
    project_volumes,
    ps_rows,
    wait_until_gone,
)
from reader_shell import CommandResult, ReaderShell, wait_until_app_answers
from scenarios import REPLAYED_SCENARIOS

HEALTHY_TIMEOUT = 90

PREREQUISITES = (
    "docker version --format '{{.Server.Version}}'",
    "docker buildx version",
    "docker compose version",
)
LEVEL_1 = (
    "cd examples/docker/basic-dockerfile",
    "docker build -t basic-dockerfile .",
    "docker run --rm -p 127.0.0.1:8000:8000 basic-dockerfile",
    "curl http://127.0.0.1:8000/up",
    "curl http://127.0.0.1:8000/",
)
LEVEL_2 = (
    "cd ../multi-stage",
    "docker build -t multi-stage .",
    "docker run --rm -p 127.0.0.1:8000:8000 multi-stage",
    "curl http://127.0.0.1:8000/up",
    "docker ps",
)
COMPOSE = (
    "cd ../compose-stack",
    "cp .env.example .env",
    "docker compose up --build --wait",
    "curl http://127.0.0.1:8000/up/databases",
    "curl -X PUT -H 'Content-Type: text/plain' --data 'hello' http://127.0.0.1:8000/notes/first",
    "curl http://127.0.0.1:8000/notes/first",
    "docker compose ps",
)
NON_ROOT = (
    "cd ../multi-stage",
    "docker run --rm multi-stage whoami",
)
DOCKERIGNORE = (
    "echo 'SECRET=do-not-ship' > .env",
    "docker build -t multi-stage .",
    "docker run --rm multi-stage ls -A /app",
    "rm .env",
)
CLEAN_UP = (
    "cd ../compose-stack",
    "docker compose down --volumes",
    "docker image rm basic-dockerfile multi-stage compose-stack-web",
)
SCENARIOS = {
    "prerequisites": PREREQUISITES,
    "level-1": LEVEL_1,
    "level-2": LEVEL_2,
    "compose": COMPOSE,
    "non-root": NON_ROOT,
    "dockerignore": DOCKERIGNORE,
    "clean-up": CLEAN_UP,
}

# Commands that the page gives inline, in a step's "What to notice" list,
# rather than in a block. The tests run them too, and check that the page
# still shows each one as inline code.
LEVEL_1_IMAGE_LS = "docker image ls basic-dockerfile"
LEVEL_2_IMAGE_LS = "docker image ls multi-stage"
COMPOSE_DOWN = "docker compose down"
COMPOSE_UP_AGAIN = "docker compose up --wait"

# The folder that the reader's terminal is in when a scenario starts: where
# the scenario before it left them.
START_FOLDERS = {
    "prerequisites": ".",
    "level-1": ".",
    "level-2": "examples/docker/basic-dockerfile",
    "compose": "examples/docker/multi-stage",
    "non-root": "examples/docker/compose-stack",
    "dockerignore": "examples/docker/multi-stage",
    "clean-up": "examples/docker/multi-stage",
}


def page_commands(scenario: str) -> tuple[str, ...]:
    """Return the scenario's commands after checking that the page shows exactly these."""
    expected = SCENARIOS[scenario]
    drift = commands_drift(scenario, expected, scenario_commands(read_chapter(), scenario))
    assert drift is None, drift
    return expected


def inline_command(command: str) -> str:
    """Return `command` after checking that a page of the chapter shows it as inline code."""
    assert shows_inline(read_chapter(), command), (
        f"no page of the chapter shows `{command}` inline any more: update the test that runs it")
    return command


def setup_shell(reader, scenario: str, folder: str) -> ReaderShell:
    """Open a shell that brings the engine to the state an earlier step left the reader in."""
    return reader(f"{scenario} (set-up of earlier steps)", folder)


def test_replayed_scenarios_match_the_page():
    """Each scenario has a test list here, and the pages mark blocks only with those names."""
    on_page = {block.scenario for block in replay_blocks(read_chapter())}
    assert set(SCENARIOS) == REPLAYED_SCENARIOS, (
        "tests/replay/scenarios.py and SCENARIOS in this file name different scenarios")
    assert on_page == REPLAYED_SCENARIOS, (
        f"the pages mark blocks with {sorted(on_page)}, the replay tests run "
        f"{sorted(REPLAYED_SCENARIOS)}")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_page_commands_match_replay(scenario: str):
    page_commands(scenario)


def test_step_pages_name_their_start_folder():
    """A reader can open any step page, so each names the folder that its commands start in."""
    for page in read_chapter():
        blocks = page_replay_blocks(page)
        if not blocks or START_FOLDERS[blocks[0].scenario] == ".":
            continue
        folder = START_FOLDERS[blocks[0].scenario]
        assert f"`{folder}`" in page.text, (
            f"{page.path}: the first commands ({blocks[0].scenario!r}) start in {folder}, "
            f"and the page does not say so: name `{folder}` before them")


@pytest.mark.docker
def test_prerequisites_print_engine_and_plugin_versions(docker_engine, reader):
    engine_version, buildx_version, compose_version = page_commands("prerequisites")
    shell = reader("prerequisites", START_FOLDERS["prerequisites"])

    engine = shell.check(engine_version)
    major = re.match(r"(\d+)\.\d+\.\d+", engine.stdout.strip())
    assert major, engine.report("expected an engine version such as 26.1.5")
    assert int(major.group(1)) >= 25, engine.report("the page asks for engine 25.0.0 or later")

    for command in (buildx_version, compose_version):
        plugin = shell.check(command)
        assert re.search(r"\bv?\d+\.\d+\.\d+", plugin.stdout), plugin.report("expected a version")


@pytest.mark.docker
@pytest.mark.usefixtures("fixed_names")
def test_level_1_builds_runs_and_answers(reader):
    cd, build, run, curl_up, curl_index = page_commands("level-1")
    shell = reader("level-1", START_FOLDERS["level-1"])

    shell.check(cd)
    assert shell.where == "examples/docker/basic-dockerfile"
    built = shell.check(build, timeout=BUILD_TIMEOUT)
    assert image_exists("basic-dockerfile"), built.report("no image basic-dockerfile after it")

    first_terminal = shell.start(run)
    wait_until_app_answers(first_terminal)
    up = shell.check(curl_up)
    assert up.stdout.strip() == "ok", up.report("expected the output ok")
    index = shell.check(curl_index)
    body = index.json()
    assert body["message"] == "Hello from a container", index.report("unexpected message")
    assert re.fullmatch(r"3\.13\.\d+", body["python"]), index.report("expected Python 3.13.x")

    assert "This is a development server" in first_terminal.output(), first_terminal.report(
        "the first terminal shows no warning from Flask's development server")
    check_listed_with_size(shell.check(inline_command(LEVEL_1_IMAGE_LS)), "basic-dockerfile")

    first_terminal.interrupt(CTRL_C_TIMEOUT)
    assert not wait_until_gone(lambda: containers_from("basic-dockerfile")), (
        first_terminal.report("the container is still there after Ctrl+C, despite --rm"))


@pytest.mark.docker
@pytest.mark.usefixtures("fixed_names")
def test_level_2_runs_healthy_under_gunicorn(reader):
    cd, build, run, curl_up, ps = page_commands("level-2")
    setup_shell(reader, "level-2", "examples/docker/basic-dockerfile").check(
        LEVEL_1[1], timeout=BUILD_TIMEOUT)
    shell = reader("level-2", START_FOLDERS["level-2"])

    shell.check(cd)
    assert shell.where == "examples/docker/multi-stage"
    built = shell.check(build, timeout=BUILD_TIMEOUT)
    assert image_exists("multi-stage"), built.report("no image multi-stage after it")

    first_terminal = shell.start(run)
    wait_until_app_answers(first_terminal)
    up = shell.check(curl_up)
    assert up.stdout.strip() == "ok", up.report("expected the output ok")

    # The STATUS column shows (health: starting), then (healthy) once the
    # health check has passed, which takes a few seconds.
    statuses = []
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    while True:
        listing = shell.check(ps)
        rows = ps_rows(listing, "multi-stage")
        assert len(rows) == 1, listing.report("expected one running multi-stage container")
        statuses.append(rows[0][4])
        if "(healthy)" in statuses[-1]:
            break
        assert time.monotonic() < deadline, listing.report(
            f"the STATUS column showed no (healthy) within {HEALTHY_TIMEOUT} s, "
            f"only {sorted(set(statuses))}")
        time.sleep(0.5)

    output = first_terminal.output()
    assert "Listening at: http://0.0.0.0:8000" in output, first_terminal.report(
        "the first terminal shows no gunicorn log line")
    assert "development server" not in output, first_terminal.report(
        "the first terminal shows Flask's development server warning")
    for command, image in ((LEVEL_2_IMAGE_LS, "multi-stage"),
                           (LEVEL_1_IMAGE_LS, "basic-dockerfile")):
        check_listed_with_size(shell.check(inline_command(command)), image)

    first_terminal.interrupt(CTRL_C_TIMEOUT)
    assert not wait_until_gone(lambda: containers_from("multi-stage")), (
        first_terminal.report("the container is still there after Ctrl+C, despite --rm"))


@pytest.mark.docker
@pytest.mark.usefixtures("fixed_names")
def test_compose_stack_keeps_note_in_both_stores(reader):
    cd, copy_env, up, curl_databases, curl_put, curl_get, compose_ps = page_commands("compose")
    down, up_again = inline_command(COMPOSE_DOWN), inline_command(COMPOSE_UP_AGAIN)
    shell = reader("compose", START_FOLDERS["compose"])

    shell.check(cd)
    assert shell.where == "examples/docker/compose-stack"
    shell.check(copy_env)
    env_file = shell.cwd / ".env"
    assert env_file.read_text() == (shell.cwd / ".env.example").read_text()
    # The reader's next step: set a password of their own in .env.
    password = secrets.token_urlsafe(16)
    env_file.write_text(re.sub(r"(?m)^POSTGRES_PASSWORD=.*$", f"POSTGRES_PASSWORD={password}",
                               env_file.read_text()))

    started = shell.check(up, timeout=COMPOSE_TIMEOUT)
    check_stack_healthy(started)
    check_web_started_after_stores(started)

    databases = shell.check(curl_databases)
    assert databases.stdout.strip() == "ok", databases.report("expected the output ok")
    written = shell.check(curl_put)
    assert written.json() == {"key": "first", "text": "hello"}, written.report(
        "the PUT did not return the note it stored")
    read = shell.check(curl_get)
    assert read.json() == {"key": "first", "postgres": "hello", "redis": "hello"}, read.report(
        "the GET did not return the note from both stores")
    listing = shell.check(compose_ps)
    for service in COMPOSE_SERVICES:
        rows = [line for line in listing.stdout.splitlines() if f"-{service}-1 " in line]
        assert rows and "(healthy)" in rows[0], listing.report(f"{service} is not shown healthy")

    for container in project_containers():
        inspected = docker("inspect", container).stdout
        assert password not in inspected, (
            f"scenario compose: docker inspect {container} shows the database password")

    stopped = shell.check(down, timeout=COMPOSE_TIMEOUT)
    assert not project_containers(), stopped.report("containers of the stack are left")
    assert sorted(project_volumes()) == sorted(COMPOSE_VOLUMES), stopped.report(
        "the named volumes did not outlive the containers")
    shell.check(up_again, timeout=COMPOSE_TIMEOUT)
    read_again = shell.check(curl_get)
    assert read_again.json()["postgres"] == "hello", read_again.report(
        "the note is gone from Postgres after down and up")


def check_stack_healthy(started: CommandResult) -> None:
    """Check that `up --wait` reported each container healthy, and that the engine agrees."""
    for service in COMPOSE_SERVICES:
        container = f"{COMPOSE_PROJECT}-{service}-1"
        assert re.search(rf"{container}\s+Healthy", started.output), started.report(
            f"no line marks {container} Healthy")
        assert health_status(container) == "healthy", started.report(
            f"{container} is {health_status(container) or 'without health status'}")


def check_web_started_after_stores(started: CommandResult) -> None:
    """Check that Compose started web only once db and redis were healthy."""
    lines = started.output.splitlines()

    def first(pattern: str) -> int:
        for number, line in enumerate(lines):
            if re.search(pattern, line):
                return number
        raise AssertionError(started.report(f"no line matches {pattern!r}"))

    web_starting = first(rf"{COMPOSE_PROJECT}-web-1\s+Starting")
    for store in ("db", "redis"):
        assert first(rf"{COMPOSE_PROJECT}-{store}-1\s+Healthy") < web_starting, started.report(
            f"web started before {store} was healthy")


@pytest.mark.docker
@pytest.mark.usefixtures("fixed_names")
def test_non_root_container_runs_as_app(reader):
    cd, whoami = page_commands("non-root")
    setup_shell(reader, "non-root", "examples/docker/multi-stage").check(
        LEVEL_2[1], timeout=BUILD_TIMEOUT)
    shell = reader("non-root", START_FOLDERS["non-root"])

    shell.check(cd)
    assert shell.where == "examples/docker/multi-stage"
    user = shell.check(whoami)
    assert user.stdout.strip() == "app", user.report("expected the output app")
    assert not wait_until_gone(lambda: containers_from("multi-stage")), user.report(
        "the container is still there, despite --rm")


@pytest.mark.docker
@pytest.mark.usefixtures("fixed_names")
def test_dockerignore_keeps_env_out_of_image(reader):
    create_env, build, list_app, remove_env = page_commands("dockerignore")
    shell = reader("dockerignore", START_FOLDERS["dockerignore"])
    env_file = shell.cwd / ".env"

    shell.check(create_env)
    assert env_file.read_text() == "SECRET=do-not-ship\n"
    built = shell.check(build, timeout=BUILD_TIMEOUT)
    assert image_exists("multi-stage"), built.report("no image multi-stage after it")
    listing = shell.check(list_app)
    files = listing.stdout.split()
    for expected in ("app.py", "requirements.txt"):
        assert expected in files, listing.report(f"{expected} is missing from /app")
    assert ".env" not in files, listing.report(".env reached the image despite .dockerignore")
    shell.check(remove_env)
    assert not env_file.exists()


@pytest.mark.docker
@pytest.mark.usefixtures("fixed_names")
def test_dockerignore_missing_lets_env_into_image(reader):
    """The warning of step 1 holds: without .dockerignore, COPY . . copies .env.

    This is the control for the demonstration above, which would also pass if
    no .env ever reached an image.
    """
    create_env, _, list_app, remove_env = page_commands("dockerignore")
    shell = reader("dockerignore without .dockerignore", "examples/docker/basic-dockerfile")
    assert not (shell.cwd / ".dockerignore").exists()

    shell.check(create_env)
    shell.check(LEVEL_1[1], timeout=BUILD_TIMEOUT)
    listing = shell.check(list_app.replace("multi-stage", "basic-dockerfile"))
    assert ".env" in listing.stdout.split(), listing.report(
        "the level 1 image has no .env, so the .dockerignore demonstration proves nothing")
    shell.check(remove_env)


@pytest.mark.docker
@pytest.mark.usefixtures("fixed_names")
def test_clean_up_removes_stack_data_and_images(reader):
    cd, down_volumes, remove_images = page_commands("clean-up")
    setup_shell(reader, "clean-up", "examples/docker/basic-dockerfile").check(
        LEVEL_1[1], timeout=BUILD_TIMEOUT)
    setup_shell(reader, "clean-up", "examples/docker/multi-stage").check(
        LEVEL_2[1], timeout=BUILD_TIMEOUT)
    stack = setup_shell(reader, "clean-up", "examples/docker/compose-stack")
    stack.check(COMPOSE[1])
    stack.check(COMPOSE[2], timeout=COMPOSE_TIMEOUT)
    assert sorted(project_volumes()) == sorted(COMPOSE_VOLUMES)
    shell = reader("clean-up", START_FOLDERS["clean-up"])

    shell.check(cd)
    assert shell.where == "examples/docker/compose-stack"
    down = shell.check(down_volumes, timeout=COMPOSE_TIMEOUT)
    assert not project_containers(), down.report("containers of the stack are left")
    assert not project_volumes(), down.report("volumes of the stack are left")
    assert COMPOSE_NETWORK not in project_networks(), down.report("the stack's network is left")

    removed = shell.check(remove_images)
    for image in ("basic-dockerfile", "multi-stage", "compose-stack-web"):
        assert f"Untagged: {image}:latest" in removed.stdout, removed.report(
            f"{image} was not untagged")
        assert not image_exists(image), removed.report(f"the image {image} is still there")
