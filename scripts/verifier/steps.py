"""The pieces every flow shares: a step's result, its failure, and the probes."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import checks
from .diagnose import diagnose
from .discover import Example
from .engine import Engine, EngineError
from .probes import ProbeError, check_probe, wait_until_passes

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
    """A step whose failure ends the example; `logs` contains the relevant output.

    `removal_command` removes what a run with `keep` left running for inspection,
    and `kept_folder` is the copy of the example those containers use.
    """

    def __init__(self, example: str, step: str, message: str, logs: str = ""):
        super().__init__(f"{example}: {step} failed: {message}")
        self.example, self.step, self.reason, self.logs = example, step, message, logs
        self.removal_command: str | None = None
        self.kept_folder: Path | None = None


@dataclass
class ExampleRun:
    """The steps of one example as it is verified, reported as they finish."""

    example: Example
    engine: Engine
    on_step: Callable[[StepResult], None] = lambda result: None
    keep: bool = False
    no_cache: bool = False
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
            message, output, collected = str(error), getattr(error, "output", ""), _safe(logs)
            kept_output = _tail(output)
            if isinstance(error, EngineError):
                # The logs keep the whole output of the docker command. A known failure
                # gets one line that names the file and the fix, and the logs start
                # with the message it replaces, which shows the command.
                kept_output = f"{output.strip()}\n" if output.strip() else ""
                diagnosis = diagnose(message, output, collected)
                if diagnosis:
                    kept_output = f"{message}\n{kept_output}"
                    message = diagnosis
            self._record(name, False, started, message)
            raise StepFailed(self.example.name, name, message,
                             kept_output + _tail(collected)) from None
        self._record(name, True, started, "; ".join(details))

    def _record(self, name: str, ok: bool, started: float, detail: str) -> None:
        result = StepResult(self.example.name, name, ok, time.monotonic() - started, detail)
        self.steps.append(result)
        self.on_step(result)


@contextmanager
def no_step(name: str, logs: Callable[[], str] = lambda: "") -> Iterator[list[str]]:
    """Stand in for ExampleRun.step where a repeated action records no step of its own."""
    yield []


def send_probes(base_url: str, probes, retry_first: bool, timeout: float,
                token: str | None = None) -> list[str]:
    """Send each probe in order and return a line for each; the first may be retried."""
    token = token or secrets.token_hex(8)
    answered = []
    for index, probe in enumerate(probes):
        if index == 0 and retry_first:
            answered.append(wait_until_passes(base_url, probe, token, timeout=timeout))
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
