"""Verify every example folder against the real Docker engine."""

from __future__ import annotations

import pytest

from verifier.discover import EXAMPLES_ROOT, base_images, discover_examples
from verifier.engine import Engine
from verifier.runner import StepFailed, verify_example

EXAMPLE_LIST = discover_examples(EXAMPLES_ROOT)


def test_examples_are_found():
    assert EXAMPLE_LIST, f"no example with a verify.toml under {EXAMPLES_ROOT}"


@pytest.mark.docker
@pytest.mark.parametrize("example", EXAMPLE_LIST, ids=[e.name for e in EXAMPLE_LIST])
def test_example_keeps_its_contract(example, engine: Engine, record_step, record_base_images,
                                    record_measurements):
    record_base_images(example.name, base_images(example))
    try:
        # Without the layer cache, so that the build times on the pages are first builds.
        run = verify_example(example, engine, on_step=record_step, no_cache=True)
    except StepFailed as failure:
        pytest.fail(f"{failure}\n--- last lines of the logs ---\n{failure.logs}", pytrace=False)
    record_measurements(example.name, run.measurements)
