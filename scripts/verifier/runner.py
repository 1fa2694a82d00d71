"""Turn an example's contract into steps on the engine, and time each step."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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
        except (EngineError, ProbeError, OSError) as error:
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
        if example.contract.image:
            _verify_image(run, workdir)
        if example.contract.compose:
            _verify_compose(run, workdir)
    return run


def _copy_example(source: Path, target: Path) -> Path:
    # A reader starts from a copy of the folder and creates .env from the
    # example file, as each example's README says; the verifier does the same.
    shutil.copytree(source, target)
    env_example = target / ".env.example"
    if env_example.exists() and not (target / ".env").exists():
        shutil.copyfile(env_example, target / ".env")
    return target


def _verify_image(run: ExampleRun, workdir: Path) -> None:
    spec, engine, example = run.example.contract.image, run.engine, run.example
    tag = f"zero-to-hero/{example.slug}:verify"
    with run.step("build"):
        engine.build(workdir, spec.dockerfile, tag, example.name, timeout=BUILD_TIMEOUT)
    run.measurements["image_bytes"] = engine.image_size(tag)

    name = f"verify-{example.slug}-{engine.run_id}"
    if spec.output is not None:
        with run.step("run") as details:
            output = engine.run_to_completion(tag, name, timeout=START_TIMEOUT)
            if spec.output not in output:
                raise ProbeError(f"output lacks {spec.output!r}: {output[-300:]}")
            details.append(f"printed {spec.output!r}")
        return

    try:
        with run.step("run") as details:
            container = engine.start_container(tag, name, spec.port)
            engine.wait_healthy(container, timeout=START_TIMEOUT)
            details.append("healthy" if engine.health(container) else "running")
        with run.step("probe", logs=lambda: engine.logs(name)) as details:
            base_url = f"http://127.0.0.1:{engine.host_port(container, spec.port)}"
            details += _send_probes(base_url, spec.probes, retry_first=True)
        with run.step("stop", logs=lambda: engine.logs(name)) as details:
            seconds, code = engine.stop(container, grace=STOP_GRACE)
            run.measurements["stop_seconds"] = seconds
            details.append(f"exit code {code} after {seconds:.1f} s")
    finally:
        engine.docker("rm", "--force", name, timeout=60, check=False)


def _verify_compose(run: ExampleRun, workdir: Path) -> None:
    spec, engine, example = run.example.contract.compose, run.engine, run.example
    project = f"verify-{example.slug}-{engine.run_id}"
    env = {spec.port_variable: "0"} if spec.port_variable else {}

    def compose(*args: str, timeout: float = 120, check: bool = True):
        return engine.compose(project, workdir, spec.file, *args,
                              timeout=timeout, env=env, check=check)

    try:
        with run.step("up", logs=lambda: engine.compose_health_report(project)) as details:
            started = time.monotonic()
            compose("up", "--build", "--detach", "--wait", "--wait-timeout", str(START_TIMEOUT),
                    timeout=BUILD_TIMEOUT + START_TIMEOUT)
            run.measurements["up_seconds"] = time.monotonic() - started
            details.append("every service healthy")
        with run.step("probe", logs=lambda: compose("logs", "--tail", "20", check=False).stdout) as details:
            address = compose("port", spec.service, str(spec.port)).stdout
            details += _send_probes(f"http://{address.strip()}", spec.probes, retry_first=False)
    except StepFailed:
        _tear_down(run, compose, project, failing=True)
        raise
    _tear_down(run, compose, project, failing=False)


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


def _send_probes(base_url: str, probes, retry_first: bool) -> list[str]:
    token = secrets.token_hex(8)
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
