"""Turn an example's contract into steps on the engine, and time each step."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import checks
from .discover import Example
from .engine import Engine, EngineError
from .probes import ProbeError, check_probe, wait_until_answers

BUILD_TIMEOUT = 900
START_TIMEOUT = 120
STOP_GRACE = 10


@dataclass
class StepResult:
    """One engine action of an example: what it was, how it went, how long it took."""

    example: str
    step: str
    ok: bool
    seconds: float
    detail: str = ""


class StepFailed(Exception):
    """A step whose failure ends the example; `logs` holds the relevant output."""

    def __init__(self, example: str, step: str, message: str, logs: str = ""):
        super().__init__(f"{example}: {step} failed: {message}")
        self.example, self.step, self.logs = example, step, logs


@dataclass
class ExampleRun:
    """The steps of one example as it is verified, reported as they finish."""

    example: Example
    engine: Engine
    on_step: Callable[[StepResult], None] = lambda result: None
    steps: list[StepResult] = field(default_factory=list)
    measurements: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str, logs: Callable[[], str] = lambda: "") -> Iterator[list[str]]:
        """Time the enclosed block as step `name`; turn its errors into StepFailed.

        The block may append a short description of its outcome to the yielded list.
        """
        started = time.monotonic()
        details: list[str] = []
        try:
            yield details
        except (EngineError, ProbeError, checks.CheckFailed, OSError,
                subprocess.TimeoutExpired) as error:
            self._record(name, False, started, str(error))
            output = getattr(error, "output", "")
            raise StepFailed(self.example.name, name, str(error),
                             _tail(output) + _tail(_safe(logs))) from None
        self._record(name, True, started, "; ".join(details))

    def _record(self, name: str, ok: bool, started: float, detail: str) -> None:
        result = StepResult(self.example.name, name, ok, time.monotonic() - started, detail)
        self.steps.append(result)
        self.on_step(result)


def verify_example(example: Example, engine: Engine,
                   on_step: Callable[[StepResult], None] = lambda result: None) -> ExampleRun:
    """Verify one example in a fresh copy of its folder; raise StepFailed on failure."""
    run = ExampleRun(example, engine, on_step)
    with tempfile.TemporaryDirectory(prefix=f"verify-{example.slug}-") as workspace:
        workdir = _copy_example(example.path, Path(workspace) / example.path.name)
        planted = {}
        if example.contract.checks.dockerignore:
            with run.step("plant") as details:
                planted = checks.plant_ignored_files(workdir)
                details.append(f"{len(planted)} secrets planted where .dockerignore applies")
        _lint(run, workdir)
        if example.contract.image:
            _verify_image(run, workdir, planted)
        if example.contract.compose:
            _verify_compose(run, workdir, planted)
    return run


def image_tag(example: Example) -> str:
    """Return the tag the verifier gives the image of an [image] example."""
    return f"zero-to-hero/{example.slug}:verify"


def _copy_example(source: Path, target: Path) -> Path:
    # A reader starts from a copy of the folder and creates .env from the
    # example file, as the compose example's README says; the verifier does the same.
    shutil.copytree(source, target)
    env_example = target / ".env.example"
    if env_example.exists() and not (target / ".env").exists():
        shutil.copyfile(env_example, target / ".env")
    return target


def _lint(run: ExampleRun, workdir: Path) -> None:
    ignored = run.example.contract.checks.lint_ignore
    with run.step("lint") as details:
        if run.example.contract.compose:
            result = run.engine.compose("lint", workdir, run.example.contract.compose.file,
                                        "config", "--quiet", timeout=60)
            details.append(checks.check_compose_config(result.stderr))
        for dockerfile in sorted(workdir.glob("Dockerfile*")):
            details.append(checks.check_hadolint(dockerfile, ignored, subprocess.run))
            output = run.engine.build_check(workdir, dockerfile.name, timeout=BUILD_TIMEOUT)
            details.append(checks.check_build_warnings(output, dockerfile.name, ignored))


def _verify_image(run: ExampleRun, workdir: Path, planted: dict[str, bytes]) -> None:
    spec, engine, example = run.example.contract.image, run.engine, run.example
    wanted = example.contract.checks
    tag = image_tag(example)
    with run.step("build") as details:
        started = time.monotonic()
        engine.build(workdir, spec.dockerfile, tag, example.name, timeout=BUILD_TIMEOUT,
                     no_cache=True)
        run.measurements["build_cold_seconds"] = time.monotonic() - started
        run.measurements["image_bytes"] = engine.image_size(tag)
        details.append(f"{run.measurements['image_bytes'] / checks.MEGABYTE:.1f} MB "
                       "without the layer cache")
    if wanted.size:
        with run.step("size") as details:
            other = _other_image_bytes(run, wanted.size.smaller_than)
            details.append(checks.check_size(run.measurements["image_bytes"], wanted.size, other))
    if planted:
        with run.step("secrets") as details:
            details.append(checks.check_dockerignore(engine, tag, planted))
    if wanted.layer_reuse:
        with run.step("rebuild") as details:
            with (workdir / wanted.layer_reuse.change).open("a", encoding="utf-8") as file:
                file.write("\n# A change to the application code only.\n")
            started = time.monotonic()
            output = engine.build(workdir, spec.dockerfile, tag, example.name,
                                  timeout=BUILD_TIMEOUT)
            run.measurements["build_warm_seconds"] = time.monotonic() - started
            details.append(checks.check_layer_reuse(output, wanted.layer_reuse))

    name = f"verify-{example.slug}-{engine.run_id}"
    if spec.output is not None:
        with run.step("run") as details:
            output = engine.run_to_completion(tag, name, timeout=START_TIMEOUT)
            if spec.output not in output:
                raise ProbeError(f"output lacks {spec.output!r}: {output[-300:]}")
            details.append(f"printed {spec.output!r}")
        return
    try:
        _run_and_probe(run, tag, name)
        if wanted.arbitrary_uid:
            with run.step("any-uid", logs=lambda: engine.logs(f"{name}-uid")) as details:
                _run_and_probe(run, tag, f"{name}-uid", user=checks.ARBITRARY_UID, record=False)
                details.append(f"answers when run as {checks.ARBITRARY_UID}")
        if wanted.stop_within:
            with run.step("stop", logs=lambda: engine.logs(name)) as details:
                seconds, code = engine.stop(name, grace=STOP_GRACE)
                run.measurements["stop_seconds"] = seconds
                details.append(checks.check_stop(seconds, code, wanted.stop_within))
    finally:
        engine.docker("rm", "--force", name, f"{name}-uid", timeout=60, check=False)


def _run_and_probe(run: ExampleRun, tag: str, name: str, user: str | None = None,
                   record: bool = True) -> None:
    spec, engine, wanted = run.example.contract.image, run.engine, run.example.contract.checks
    step = run.step if record else _no_step
    with step("run", logs=lambda: engine.logs(name)) as details:
        started = time.monotonic()
        container = engine.start_container(tag, name, spec.port, user=user)
        engine.wait_healthy(container, timeout=START_TIMEOUT)
        if record:
            run.measurements["healthy_seconds"] = time.monotonic() - started
        details.append("healthy" if engine.health(container) else "running")
    with step("probe", logs=lambda: engine.logs(name)) as details:
        base_url = f"http://127.0.0.1:{engine.host_port(container, spec.port)}"
        details += _send_probes(base_url, spec.probes, retry_first=True)
    if record and wanted.non_root:
        with run.step("user") as details:
            details.append(checks.check_non_root(engine, container))
    if record and wanted.healthchecks:
        with run.step("health") as details:
            details.append(checks.check_healthcheck(engine, container,
                                                    engine.image_config(tag).get("Healthcheck")))


@contextmanager
def _no_step(name: str, logs: Callable[[], str] = lambda: "") -> Iterator[list[str]]:
    # Inside a step of its own, a repeated run records no separate steps.
    yield []


def _other_image_bytes(run: ExampleRun, other_name: str | None) -> int | None:
    """Return the size of another example's image, building it when it is missing."""
    if other_name is None:
        return None
    from .discover import EXAMPLES_ROOT, discover_examples

    others = [e for e in discover_examples(EXAMPLES_ROOT) if e.name == other_name]
    if not others or not others[0].contract.image:
        raise ProbeError(f"smaller_than names {other_name!r}, which is no [image] example")
    other = others[0]
    tag = image_tag(other)
    if not _image_exists(run.engine, tag):
        run.engine.build(other.path, other.contract.image.dockerfile, tag, other.name,
                         timeout=BUILD_TIMEOUT)
    return run.engine.image_size(tag)


def _image_exists(engine: Engine, tag: str) -> bool:
    return engine.docker("image", "inspect", tag, timeout=30, check=False).returncode == 0


def _verify_compose(run: ExampleRun, workdir: Path, planted: dict[str, bytes]) -> None:
    spec, engine, example = run.example.contract.compose, run.engine, run.example
    wanted = example.contract.checks
    project = f"verify-{example.slug}-{engine.run_id}"
    env = {spec.port_variable: "0"} if spec.port_variable else {}

    def compose(*args: str, timeout: float = 120, check: bool = True):
        return engine.compose(project, workdir, spec.file, *args,
                              timeout=timeout, env=env, check=check)

    def up(step: str) -> None:
        with run.step(step, logs=lambda: engine.compose_health_report(project)) as details:
            started = time.monotonic()
            compose("up", "--build", "--detach", "--wait", "--wait-timeout", str(START_TIMEOUT),
                    timeout=BUILD_TIMEOUT + START_TIMEOUT)
            run.measurements.setdefault("up_seconds", time.monotonic() - started)
            details.append("every service healthy")

    def probe(step: str, probes, token: str) -> None:
        logs = lambda: compose("logs", "--tail", "20", check=False).stdout  # noqa: E731
        with run.step(step, logs=logs) as details:
            address = compose("port", spec.service, str(spec.port)).stdout.strip()
            details += _send_probes(f"http://{address}", probes, retry_first=False, token=token)

    try:
        up("up")
        containers = engine.compose_containers(project)
        built = _built_services(compose)
        if wanted.healthchecks:
            with run.step("health") as details:
                for service, container in sorted(containers.items()):
                    healthcheck = _container_healthcheck(engine, container)
                    details.append(f"{service}: "
                                   + checks.check_healthcheck(engine, container, healthcheck))
        probe("probe", spec.probes, secrets.token_hex(8))
        if wanted.non_root:
            with run.step("user") as details:
                for service in built:
                    details.append(f"{service}: "
                                   + checks.check_non_root(engine, containers[service]))
        if planted:
            with run.step("secrets") as details:
                for service in built:
                    image = container_image(engine, containers[service])
                    details.append(f"{service}: "
                                   + checks.check_dockerignore(engine, image, planted))
        if wanted.persistence:
            _check_persistence(run, compose, up, probe)
        if wanted.stop_within:
            with run.step("stop") as details:
                started = time.monotonic()
                compose("stop", "--timeout", str(STOP_GRACE), timeout=STOP_GRACE + 60)
                seconds = time.monotonic() - started
                run.measurements["stop_seconds"] = seconds
                codes = [int(engine.docker("inspect", "--format", "{{.State.ExitCode}}", c,
                                           timeout=30).stdout) for c in containers.values()]
                details.append(checks.check_stop(seconds, max(codes, key=lambda c: c == 137),
                                                 wanted.stop_within))
    except StepFailed:
        _tear_down(run, compose, project, failing=True)
        raise
    _tear_down(run, compose, project, failing=False)


def _check_persistence(run: ExampleRun, compose, up, probe) -> None:
    """Write, then read after `down` + `up`, then find nothing after `down -v` + `up`."""
    persistence = run.example.contract.checks.persistence
    token = secrets.token_hex(8)
    probe("write", [persistence.write], token)
    with run.step("down"):
        compose("down")
    up("up-again")
    probe("kept", [persistence.read], token)
    with run.step("down-v"):
        compose("down", "--volumes")
    up("up-fresh")
    probe("gone", [persistence.gone], token)


def _built_services(compose) -> list[str]:
    document = json.loads(compose("config", "--format", "json").stdout)
    return sorted(name for name, service in document["services"].items() if "build" in service)


def container_image(engine: Engine, container: str) -> str:
    return engine.docker("inspect", "--format", "{{.Image}}", container, timeout=30).stdout.strip()


def _container_healthcheck(engine: Engine, container: str) -> dict | None:
    result = engine.docker("inspect", "--format", "{{json .Config.Healthcheck}}", container,
                           timeout=30)
    return json.loads(result.stdout or "null")


def _tear_down(run: ExampleRun, compose, project: str, failing: bool) -> None:
    """Remove the stack with its volumes; a clean-up error never hides the first failure."""
    try:
        with run.step("down") as details:
            compose("down", "--volumes", "--remove-orphans", "--rmi", "local")
            left = run.engine.remove_run_resources([project])
            if left:
                raise EngineError(f"'compose down' left {', '.join(left)}")
            details.append("containers, networks and volumes removed")
    except StepFailed:
        if not failing:
            raise
        run.engine.remove_run_resources([project])


def _send_probes(base_url: str, probes, retry_first: bool, token: str | None = None) -> list[str]:
    token = token or secrets.token_hex(8)
    answered = []
    for index, probe in enumerate(probes):
        if index == 0 and retry_first:
            answered.append(wait_until_answers(base_url, probe, token, timeout=START_TIMEOUT))
        else:
            answered.append(check_probe(base_url, probe, token))
    return answered


def _tail(text: str, lines: int = 30) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(kept) + "\n" if kept else ""


def _safe(function: Callable[[], str]) -> str:
    # Collecting logs must never hide the error being reported.
    try:
        return function()
    except (EngineError, OSError) as error:
        return f"(could not collect logs: {error})\n"
