"""Fixtures shared by every test: the Docker engine of the run."""

from __future__ import annotations

import secrets

import pytest

from verifier.engine import Engine
from verifier.preflight import docker_problem


@pytest.fixture(scope="session")
def engine() -> Engine:
    """Return the engine of this test run, and remove what the run left on it."""
    problem = docker_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    run = Engine(run_id=secrets.token_hex(3))
    yield run
    run.remove_run_resources()
