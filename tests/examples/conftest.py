"""Collect each example's steps and print them, with the base images used, at the end."""

from __future__ import annotations

import pytest

from verifier.engine import SUBSTITUTE_LABEL, Engine
from verifier.measurements import MEASUREMENTS_FILE, write_measurements
from verifier.runner import StepResult

_steps: list[StepResult] = []
_base_images: dict[str, dict[str, bool]] = {}
_measurements: dict[str, dict[str, float]] = {}


@pytest.fixture
def record_step():
    return _steps.append


@pytest.fixture
def record_measurements():
    """Return a function that keeps an example's measurements for the data file."""
    return _measurements.__setitem__


@pytest.fixture(scope="session", autouse=True)
def measurements_file(engine: Engine):
    """Write the measurements of the examples that passed once the session ends."""
    yield
    if _measurements:
        write_measurements(_measurements, _base_images, engine)


@pytest.fixture
def record_base_images(engine: Engine):
    """Return a function that notes whether each base image is a local substitute."""

    def record(example: str, images: list[str]) -> None:
        _base_images[example] = {
            image: engine.image_label(image, SUBSTITUTE_LABEL) == image for image in images
        }

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
    seen = {image: sub for images in _base_images.values() for image, sub in images.items()}
    substitutes = sorted(image for image, substitute in seen.items() if substitute)
    public = sorted(image for image, substitute in seen.items() if not substitute)
    if substitutes:
        write(f"base images: local substitutes built by scripts/offline-images: "
              f"{', '.join(substitutes)}")
    if public:
        write(f"base images: public images: {', '.join(public)}")
    if _measurements:
        write(f"measurements of {len(_measurements)} examples written to "
              f"{MEASUREMENTS_FILE.relative_to(MEASUREMENTS_FILE.parents[1])}")
