"""Format results: a line per step on the terminal, a summary table, JUnit XML, Markdown.

Only formatting lives here: whether an example passed is decided by the runner.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree

from .runner import StepFailed, StepResult

_COLOURS = {"ok": "\033[32m", "FAILED": "\033[31m"}
_RESET = "\033[0m"


@dataclass
class Outcome:
    """An example's steps and, if it failed, its failure."""

    example: str
    steps: list[StepResult] = field(default_factory=list)
    failure: StepFailed | None = None
    measurements: dict[str, float] = field(default_factory=dict)
    # True when an earlier pass with the same inputs replaced this run's steps.
    reused: bool = False

    @property
    def result(self) -> str:
        if self.failure:
            return "FAILED"
        return "reused" if self.reused else "passed"

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in os.environ


def format_step(result: StepResult, colour: bool) -> str:
    outcome = "ok" if result.ok else "FAILED"
    shown = f"{_COLOURS[outcome]}{outcome}{_RESET}" if colour else outcome
    detail = f"  {result.detail}" if result.detail and result.ok else ""
    return f"* {result.example}  {result.step:<8} {shown} {result.seconds:6.1f} s{detail}"


class Printer:
    """Print step lines as they finish; safe to call from several threads."""

    def __init__(self, stream: TextIO, verbose: bool = False,
                 rerun: str = "scripts/verify -v examples/"):
        # `rerun` is the command that verifies one example again, up to the example's name.
        self.stream, self.verbose, self.rerun = stream, verbose, rerun
        self.colour = use_colour(stream)
        self._lock = threading.Lock()
        # Once a run is interrupted, the steps its cancelled commands fail are noise.
        self.silenced = False

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def step(self, result: StepResult, outcome: Outcome) -> None:
        outcome.steps.append(result)
        if not self.silenced:
            self._print(format_step(result, self.colour))

    def failure(self, failure: StepFailed) -> None:
        lines = [f"ERROR {failure}"]
        logs = failure.logs.strip().splitlines()
        shown = logs if self.verbose else logs[-15:]
        lines += [f"  | {line}" for line in shown]
        if failure.removal_command:
            where = f" (its files: {failure.kept_folder})" if failure.kept_folder else ""
            lines.append(f"TIP kept for inspection{where}; remove it with: "
                         f"{failure.removal_command}")
        else:
            lines.append(f"TIP rerun with: {self.rerun}{failure.example}")
        self._print("\n".join(lines))

    def commands(self, commands: list[str]) -> None:
        self._print("\n".join(f"> {command}" for command in commands))

    def summary(self, outcomes: list[Outcome], interrupted: bool = False) -> None:
        if outcomes:
            width = max(len(outcome.example) for outcome in outcomes)
            self._print(f"\n{'example':<{width}}  result  steps  seconds")
            for outcome in outcomes:
                self._print(f"{outcome.example:<{width}}  {outcome.result:<6}  {len(outcome.steps):5}"
                            f"  {outcome.seconds:7.1f}")
        failed = sum(1 for outcome in outcomes if outcome.failure)
        reused = sum(1 for outcome in outcomes if outcome.reused)
        note = " (interrupted)" if interrupted else ""
        passed = f"{len(outcomes) - failed} passed"
        if reused:
            passed += f" ({reused} reused from an earlier pass)"
        self._print(f"{passed}, {failed} failed{note}")


def write_junit(outcomes: list[Outcome], path: Path) -> None:
    """Write one JUnit test case per example, with its steps as the case's output."""
    suite = ElementTree.Element(
        "testsuite", name="examples", tests=str(len(outcomes)),
        failures=str(sum(1 for outcome in outcomes if outcome.failure)),
        time=f"{sum(outcome.seconds for outcome in outcomes):.1f}",
    )
    for outcome in outcomes:
        case = ElementTree.SubElement(suite, "testcase", classname="examples",
                                      name=outcome.example, time=f"{outcome.seconds:.1f}")
        if outcome.failure:
            failed = ElementTree.SubElement(case, "failure", type=outcome.failure.step,
                                            message=str(outcome.failure))
            failed.text = outcome.failure.logs
        output = ElementTree.SubElement(case, "system-out")
        output.text = "\n".join(format_step(step, colour=False) for step in outcome.steps)
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def write_markdown(outcomes: list[Outcome], path: Path) -> None:
    """Write a Markdown table of the examples, with the failures under it."""
    failed = [outcome for outcome in outcomes if outcome.failure]
    lines = [
        "## Examples verified",
        "",
        f"{len(outcomes) - len(failed)} passed, {len(failed)} failed.",
        "",
        "| Example | Result | Steps | Seconds |",
        "| --- | --- | ---: | ---: |",
    ]
    for outcome in outcomes:
        result = f"failed at `{outcome.failure.step}`" if outcome.failure else outcome.result
        lines.append(f"| `{outcome.example}` | {result} | {len(outcome.steps)} "
                     f"| {outcome.seconds:.1f} |")
    for outcome in failed:
        lines += ["", f"### `{outcome.example}`", "", f"{outcome.failure.reason}", "",
                  "```text", outcome.failure.logs.strip(), "```"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
