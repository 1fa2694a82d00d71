"""Format step results for a terminal: one line per step, a summary at the end."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from .runner import StepResult

_COLOURS = {"ok": "\033[32m", "FAILED": "\033[31m"}
_RESET = "\033[0m"


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in os.environ


def format_step(result: StepResult, colour: bool) -> str:
    outcome = "ok" if result.ok else "FAILED"
    shown = f"{_COLOURS[outcome]}{outcome}{_RESET}" if colour else outcome
    detail = f"  {result.detail}" if result.detail and result.ok else ""
    return f"* {result.example}  {result.step:<6} {shown} {result.seconds:6.1f} s{detail}"


def print_summary(passed: list[str], failed: list[str], stream: TextIO = sys.stdout) -> None:
    print(f"{len(passed)} passed, {len(failed)} failed", file=stream)
    for name in failed:
        print(f"  FAILED {name}", file=stream)
