"""Collect each example's steps and print them, with the base images used, at the end."""

from __future__ import annotations

import pytest

from verifier.engine import SUBSTITUTE_LABEL, Engine
from verifier.runner import StepResult

_steps: list[StepResult] = []
_base_images: dict[str, bool] = {}


@pytest.fixture
def record_step():
    return _steps.append


@pytest.fixture
def record_base_images(engine: Engine):
    """Return a function that notes whether each base image is a local substitute."""

    def record(images: list[str]) -> None:
        for image in images:
            _base_images[image] = engine.image_label(image, SUBSTITUTE_LABEL) == image

    return record


def pytest_terminal_summary(terminalreporter) -> None:
    if not _steps:
        return
    write = terminalreporter.write_line
    terminalreporter.section("example steps")
    width = max(len(step.example) for step in _steps)
    for step in _steps:
        outcome = "ok" if step.ok else "FAILED"
        write(f"{step.example:<{width}}  {step.step:<6} {outcome:<6} {step.seconds:6.1f} s  "
              f"{step.detail[:90]}")
    substitutes = sorted(image for image, label in _base_images.items() if label)
    public = sorted(image for image, label in _base_images.items() if not label)
    if substitutes:
        write(f"base images: local substitutes built by scripts/offline-images: "
              f"{', '.join(substitutes)}")
    if public:
        write(f"base images: public images: {', '.join(public)}")
