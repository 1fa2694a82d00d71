"""Broken fixtures fail at the step their defect breaks, and leave nothing behind.

Each folder under tests/fixtures/broken/ keeps one defect and a verify.toml
that claims what the defect breaks. The correct fixtures ok-minimal and
ok-compose use the same base image and app and pass every check they claim, so
a broken fixture fails because of its defect and not because of its setting.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from verifier.contract import CONTRACT_FILE, load_contract
from verifier.discover import EXAMPLES_ROOT, Example, discover_examples
from verifier.engine import EXAMPLE_LABEL, Engine
from verifier.runner import StepFailed, verify_example

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@dataclass(frozen=True)
class Defect:
    """A broken fixture, the step it must fail at and the text its failure contains."""

    fixture: str
    step: str
    # Each must be in str(StepFailed), which is "<example>: <step> failed: <reason>".
    reasons: tuple[str, ...]
    # Each must be in StepFailed.logs: the command output and the container logs.
    logs: tuple[str, ...] = ()
    # A change to a copy of the fixture, made before the copy is verified.
    prepare: Callable[[Path], None] | None = None


def add_reader_env(folder: Path) -> None:
    """Write the .env that a reader creates from .env.example, with a secret token."""
    token = secrets.token_hex(16)
    (folder / ".env").write_text(f"API_TOKEN={token}\n", encoding="utf-8")


def make_source_unique(folder: Path) -> None:
    """Append a comment unique to this run to app.py.

    NOTE: the rebuild step appends the same comment to app.py on every run. From
    the second run on, BuildKit finds the changed source in its cache, so the
    install step is reused even when the Dockerfile copies the source first.
    """
    with (folder / "app.py").open("a", encoding="utf-8") as file:
        file.write(f"\n# Run {secrets.token_hex(8)}\n")


DEFECTS = [
    Defect("broken/runs-as-root", "user",
           ("a process runs as root", "user IDs: [0]")),
    Defect("broken/app-can-write-its-code", "read-only",
           ("the container's user can write to /app",)),
    Defect("broken/fails-under-arbitrary-uid", "any-uid",
           ("the container exited before it was healthy",),
           logs=("PermissionError", "/var/cache/app")),
    Defect("broken/image-over-budget", "size",
           ("over the budget of 1 MB",)),
    Defect("broken/not-smaller-than-level-1", "size",
           ("times smaller than docker/basic-dockerfile", "expected at least 3 times")),
    Defect("broken/copies-source-before-deps", "rebuild",
           ("after a change to app.py only", "'pip install' ran again"),
           prepare=make_source_unique),
    Defect("broken/ignores-sigterm", "stop",
           ("exit code 137", "SIGTERM")),
    Defect("broken/leaks-env-into-image", "secrets",
           ("the image contains what .dockerignore should keep out",
            ".env value of API_TOKEN"),
           prepare=add_reader_env),
    # The container never becomes healthy, so the run step times out before the
    # health step could name the missing program. The last health check names it.
    Defect("broken/healthcheck-uses-missing-curl", "run",
           ("not healthy after",),
           logs=('"curl": executable file not found',)),
    Defect("broken/forgets-data-volume", "kept",
           ("-> 404, expected 200",)),
    Defect("broken/compose-has-version-key", "lint",
           ("the attribute `version` is obsolete",)),
    Defect("broken/lowercase-from-as", "lint",
           ("docker build --check warns", "FromAsCasing")),
    Defect("broken/apt-get-install-unpinned", "lint",
           ("hadolint", "DL3008")),
]

# The steps each correct fixture must pass: one for each check that it claims.
CORRECT = {
    "ok-minimal": ["plant", "lint", "build", "size", "secrets", "rebuild", "run",
                   "probe", "user", "health", "any-uid", "stop"],
    "ok-compose": ["plant", "lint", "up", "health", "probe", "user", "secrets",
                   "write", "up-again", "kept", "down-v", "up-fresh", "gone", "stop",
                   "down"],
}


def fixture_names() -> list[str]:
    """Return the name of each fixture folder, relative to tests/fixtures.

    The fixtures under failing/ break the build, the engine or the contract
    itself rather than a check; test_failures.py covers them.
    """
    return sorted(path.parent.relative_to(FIXTURES).as_posix()
                  for path in FIXTURES.rglob(CONTRACT_FILE)
                  if not path.is_relative_to(FIXTURES / "failing"))


def fixture_example(name: str, path: Path | None = None) -> Example:
    """Return the fixture `name` as an Example, read from `path` when given."""
    path = path or FIXTURES / name
    return Example(name=name, path=path, contract=load_contract(path))


def prepared_copy(defect: Defect, target: Path) -> Path:
    """Copy the fixture of `defect` into `target` and apply its `prepare` function."""
    folder = shutil.copytree(FIXTURES / defect.fixture,
                             target / Path(defect.fixture).name)
    defect.prepare(folder)
    return folder


def remove_leftovers(engine: Engine, example: Example) -> list[str]:
    """Remove and return the containers, networks and volumes that `example` left.

    The verifier names an image example's containers, and a Compose example's
    project, `verify-<slug>-<run id>`. Compose labels its resources with the project.
    """
    prefix = f"verify-{example.slug}-{engine.run_id}"
    found = set()
    for kind, command in (("container", ("ps", "--all")),
                          ("network", ("network", "ls")),
                          ("volume", ("volume", "ls"))):
        for resource_filter in (f"name={prefix}",
                                f"label=com.docker.compose.project={prefix}"):
            result = engine.docker(*command, "--quiet", "--filter", resource_filter,
                                   timeout=30)
            found.update(f"{kind} {identifier}" for identifier in result.stdout.split())
    # Remove them before any assertion fails, so that the next test starts clean.
    engine.remove_run_resources([prefix])
    return sorted(found)


@pytest.fixture(scope="module")
def remove_fixture_images(engine: Engine):
    """Remove the images built from the fixtures once the module's tests are done.

    Rebuilt images are removed too, because they keep the verifier's example
    label. Compose images are not, because the verifier's `down --rmi local`
    removes them.
    """
    yield
    for name in fixture_names():
        result = engine.docker("image", "ls", "--all", "--quiet", "--filter",
                               f"label={EXAMPLE_LABEL}={name}", timeout=30)
        images = sorted(set(result.stdout.split()))
        if images:
            engine.docker("image", "rm", "--force", *images, timeout=60, check=False)


def test_every_fixture_has_a_case():
    cases = [defect.fixture for defect in DEFECTS] + list(CORRECT)
    assert fixture_names() == sorted(cases)


def test_fixtures_are_not_discovered_as_examples():
    examples = discover_examples(EXAMPLES_ROOT)
    folders = [example.path.resolve() for example in examples]
    assert [folder for folder in folders if folder.is_relative_to(FIXTURES)] == []


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_contract_is_valid(name):
    contract = load_contract(FIXTURES / name)
    assert contract.path == FIXTURES / name / CONTRACT_FILE


@pytest.mark.docker
@pytest.mark.usefixtures("remove_fixture_images")
@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_fixture_passes_its_checks(name, engine: Engine):
    example = fixture_example(name)
    try:
        run = verify_example(example, engine)
    except StepFailed as failure:
        pytest.fail(f"{failure}\n--- last lines of the logs ---\n{failure.logs}",
                    pytrace=False)
    finally:
        left = remove_leftovers(engine, example)
    passed = [step.step for step in run.steps if step.ok]
    assert [step for step in CORRECT[name] if step not in passed] == []
    assert left == []


@pytest.mark.docker
@pytest.mark.usefixtures("remove_fixture_images")
@pytest.mark.parametrize("defect", DEFECTS, ids=[defect.fixture for defect in DEFECTS])
def test_broken_fixture_fails_at_its_step(defect: Defect, engine: Engine, tmp_path):
    path = prepared_copy(defect, tmp_path) if defect.prepare else None
    example = fixture_example(defect.fixture, path)
    try:
        with pytest.raises(StepFailed) as raised:
            verify_example(example, engine)
    finally:
        left = remove_leftovers(engine, example)
    failure = raised.value
    assert failure.example == defect.fixture
    assert failure.step == defect.step, str(failure)
    for reason in defect.reasons:
        assert reason in str(failure)
    for text in defect.logs:
        assert text in failure.logs
    assert left == []


@pytest.mark.docker
@pytest.mark.usefixtures("remove_fixture_images")
def test_env_leak_found_without_reader_env(engine: Engine):
    example = fixture_example("broken/leaks-env-into-image")
    try:
        with pytest.raises(StepFailed) as raised:
            verify_example(example, engine)
    finally:
        left = remove_leftovers(engine, example)
    assert raised.value.step == "secrets"
    assert left == []


@pytest.mark.docker
@pytest.mark.usefixtures("remove_fixture_images")
def test_source_before_deps_found_on_second_run(engine: Engine):
    example = fixture_example("broken/copies-source-before-deps")
    failed_steps = []
    for _ in range(2):
        try:
            with pytest.raises(StepFailed) as raised:
                verify_example(example, engine)
        finally:
            left = remove_leftovers(engine, example)
        assert left == []
        failed_steps.append(raised.value.step)
    assert failed_steps == ["rebuild", "rebuild"]
