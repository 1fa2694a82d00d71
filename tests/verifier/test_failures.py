"""Failures read as one line that names the file, the problem and the fix.

The unit tests feed `diagnose` output that the engine printed on the machine
where the rules were written (Docker Engine 28.5, its built-in BuildKit,
Compose 2.40), cut to the lines the rules read. The engine tests run each
fixture under tests/fixtures/failing/ through `scripts/verify` and check its
one ERROR line, the exit code, and that the run left nothing behind.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from verify_runs import FIXTURES, copy_fixtures, leftovers, remove_example_images

from verifier import cli
from verifier.diagnose import diagnose
from verifier.discover import Example
from verifier.engine import EngineError
from verifier.runner import ExampleRun, StepFailed

BUILD_COMMAND = ("'docker build --progress plain --no-cache --file Dockerfile --tag "
                 "zero-to-hero/x:verify .' exited with 1")
COMPOSE_COMMAND = ("'docker compose --project-name verify-x-1a2b3c --file compose.yaml --file "
                   "verify-labels.yaml up --build --detach --wait --wait-timeout 30' exited with 1")

PARSE_ERROR = """\
#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 113B done
#1 DONE 0.0s
ERROR: dockerfile parse error on line 3: unknown instruction: RUNN (did you mean RUN?)
Dockerfile:3
--------------------
   1 |     FROM python:3.13-slim-trixie
   2 |     WORKDIR /app
   3 | >>> RUNN echo hi
   4 |     CMD ["python", "-V"]
   5 |     
--------------------
"""

COPY_SOURCE_MISSING = """\
#7 [3/4] COPY requirements.txt ./
#7 ERROR: failed to calculate checksum of ref 6d08a6ff-02a0-48e0-9eff-627cc148d473::jk1lbqrpvycamy28a122jr00w: "/requirements.txt": not found
------
 > [3/4] COPY requirements.txt ./:
------
Dockerfile:3
--------------------
   1 |     FROM python:3.13-slim-trixie
   2 |     WORKDIR /app
   3 | >>> COPY requirements.txt ./
   4 |     COPY app.py ./
   5 |     CMD ["python", "app.py"]
--------------------
ERROR: failed to build: failed to solve: failed to compute cache key: failed to calculate checksum of ref 6d08a6ff-02a0-48e0-9eff-627cc148d473::jk1lbqrpvycamy28a122jr00w: "/requirements.txt": not found
"""  # noqa: E501

NO_REGISTRY_ANSWERS = """\
 > [internal] load metadata for 127.0.0.1:9/zero-to-hero/missing-base:1.0:
------
Dockerfile:1
--------------------
   1 | >>> FROM 127.0.0.1:9/zero-to-hero/missing-base:1.0
   2 |     CMD ["python", "-V"]
   3 |     
--------------------
ERROR: failed to build: failed to solve: 127.0.0.1:9/zero-to-hero/missing-base:1.0: failed to resolve source metadata for 127.0.0.1:9/zero-to-hero/missing-base:1.0: failed to do request: Head "https://127.0.0.1:9/v2/zero-to-hero/missing-base/manifests/1.0": dial tcp 127.0.0.1:9: connect: connection refused
"""  # noqa: E501

# From a registry on 127.0.0.1, started for the capture, that returns 404 for every manifest.
REGISTRY_HAS_NO_SUCH_TAG = """\
ERROR: failed to build: failed to solve: 127.0.0.1:47811/zero-to-hero/missing-base:1.0: failed to resolve source metadata for 127.0.0.1:47811/zero-to-hero/missing-base:1.0: 127.0.0.1:47811/zero-to-hero/missing-base:1.0: not found
"""  # noqa: E501

# From the same kind of registry returning 401 for every request, through `docker pull`.
PULL_ACCESS_DENIED = """\
Error response from daemon: pull access denied for 127.0.0.1:47813/zero-to-hero/missing-base, repository does not exist or may require 'docker login': denied: requested access to the resource is denied
"""  # noqa: E501

COMPOSE_PULL_NO_REGISTRY = """\
 pulled Pulling 
 pulled Error Get "http://127.0.0.1:9/v2/": dial tcp 127.0.0.1:9: connect: connection refused
Error response from daemon: Get "http://127.0.0.1:9/v2/": dial tcp 127.0.0.1:9: connect: connection refused
"""  # noqa: W291

PIP_CERTIFICATE_VERIFY_FAILED = """\
#8 1.490 Looking in indexes: https://localhost:8443/simple/
#8 1.520 Could not fetch URL https://localhost:8443/simple/tiny-package/: There was a problem confirming the ssl certificate: HTTPSConnectionPool(host='localhost', port=8443): Max retries exceeded with url: /simple/tiny-package/ (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1029)'))) - skipping
#8 1.525 ERROR: Could not find a version that satisfies the requirement tiny-package==1.0 (from versions: none)
#8 1.525 ERROR: No matching distribution found for tiny-package==1.0
------
Dockerfile:4
--------------------
   3 |     COPY tls_server.py ./
   4 | >>> RUN openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem \\
   5 | >>>     && pip install --no-cache-dir --retries 0 --index-url=https://localhost:8443/simple/ tiny-package==1.0
--------------------
"""  # noqa: E501

# BuildKit fetching a registry token from a server with a self-signed certificate.
GO_CERTIFICATE_UNKNOWN_AUTHORITY = """\
ERROR: failed to build: failed to solve: failed to fetch anonymous token: Get "https://127.0.0.1:47813/token?scope=repository%3Azero-to-hero%2Fmissing-base%3Apull&service=fake": tls: failed to verify certificate: x509: certificate signed by unknown authority
"""  # noqa: E501

COMPOSE_PORT_IN_USE = """\
 Container labdiag-porty-1  Creating
 Container labdiag-porty-1  Created
 Container labdiag-porty-1  Starting
Error response from daemon: failed to set up container networking: driver failed programming external connectivity on endpoint labdiag-porty-1 (4d75c6c10a5614fd6505c5167959ef94dcb2b633eb80d71ca927625e7449d643): failed to bind host port for 127.0.0.1:47821:172.18.0.3:8000/tcp: address already in use
"""  # noqa: E501

RUN_PORT_ALLOCATED = """\
docker: Error response from daemon: failed to set up container networking: driver failed programming external connectivity on endpoint lab-diag-b (d6b7fc1c1141b0ef534c9c0854f5ea967d884e011e1ff8a45111e37d88f4075d): Bind for 127.0.0.1:47822 failed: port is already allocated
"""  # noqa: E501

COMPOSE_EXITED = """\
 Container labdiag-web-1  Started
 Container labdiag-web-1  Waiting
container labdiag-web-1 exited (3)
"""

COMPOSE_UNHEALTHY = """\
 Container labdiag-sick-1  Started
 Container labdiag-sick-1  Waiting
container labdiag-sick-1 is unhealthy
"""

COMPOSE_TIMED_OUT = """\
 Container labdiag2-slow-1  Started
 Container labdiag2-slow-1  Waiting
application not healthy after 1m0s
"""

# Engine.compose_health_report and Engine.logs, as the Compose up step collects them.
COMPOSE_HEALTH_REPORT = """\
labdiag-sick-1: running, health unhealthy
last health check: exit 1, output: database not ready: connection refused
starting
"""


@pytest.mark.parametrize(
    ("message", "output", "logs", "expected"),
    [
        pytest.param(
            "'docker build --check' failed on Dockerfile", PARSE_ERROR, "",
            "Dockerfile:3: unknown instruction: RUNN (did you mean RUN?)",
            id="dockerfile-parse-error"),
        pytest.param(
            BUILD_COMMAND, COPY_SOURCE_MISSING, "",
            "Dockerfile:3: COPY requirements.txt ./: requirements.txt is not in the build "
            "context: add it to the example's folder, or remove it from .dockerignore",
            id="copy-source-missing"),
        pytest.param(
            BUILD_COMMAND, NO_REGISTRY_ANSWERS, "",
            "Dockerfile:1: base image 127.0.0.1:9/zero-to-hero/missing-base:1.0 was not found "
            "locally and no registry answered (dial tcp 127.0.0.1:9: connect: connection "
            "refused): build local substitutes of the base images with scripts/offline-images",
            id="base-image-no-registry"),
        pytest.param(
            BUILD_COMMAND, REGISTRY_HAS_NO_SUCH_TAG, "",
            "base image 127.0.0.1:47811/zero-to-hero/missing-base:1.0 was not found, neither on "
            "this machine nor in its registry: check the name and tag, or build local "
            "substitutes of the base images with scripts/offline-images",
            id="base-image-not-in-registry"),
        pytest.param(
            COMPOSE_COMMAND, PULL_ACCESS_DENIED, "",
            "compose.yaml: image 127.0.0.1:47813/zero-to-hero/missing-base was not found on this "
            "machine, and its registry denied access (no such repository, or it needs docker "
            "login): check the name, or build local substitutes of the base images with "
            "scripts/offline-images",
            id="pull-access-denied"),
        pytest.param(
            COMPOSE_COMMAND, COMPOSE_PULL_NO_REGISTRY, "",
            "compose.yaml: the image of service pulled was not found locally and no registry "
            "answered (dial tcp 127.0.0.1:9: connect: connection refused): build local "
            "substitutes of the base images with scripts/offline-images",
            id="compose-pull-no-registry"),
        pytest.param(
            BUILD_COMMAND, PIP_CERTIFICATE_VERIFY_FAILED, "",
            "Dockerfile:4: TLS certificate verification failed for "
            "https://localhost:8443/simple/tiny-package/ (self-signed certificate): this is a "
            "problem of the machine's network, not of the example: if a proxy re-signs TLS, "
            "trust its CA, for example with scripts/offline-images --ca-file FILE",
            id="pip-certificate-verify-failed"),
        pytest.param(
            BUILD_COMMAND, GO_CERTIFICATE_UNKNOWN_AUTHORITY, "",
            "TLS certificate verification failed for https://127.0.0.1:47813/token?scope="
            "repository%3Azero-to-hero%2Fmissing-base%3Apull&service=fake (certificate signed "
            "by unknown authority): this is a problem of the machine's network, not of the "
            "example: if a proxy re-signs TLS, trust its CA, for example with "
            "scripts/offline-images --ca-file FILE",
            id="go-x509-unknown-authority"),
        pytest.param(
            COMPOSE_COMMAND, COMPOSE_PORT_IN_USE, "",
            "compose.yaml: host port 127.0.0.1:47821 is already in use by another program: "
            "stop it, or publish the port through a variable, such as ${WEB_PORT:-8000}, and "
            "name it as port_variable in verify.toml, so that the verifier chooses a free port",
            id="compose-port-in-use"),
        pytest.param(
            "'docker run --detach --name x' exited with 125", RUN_PORT_ALLOCATED, "",
            "host port 127.0.0.1:47822 is already published by another container: remove it, "
            "or publish the port through a variable, such as ${WEB_PORT:-8000}, and name it as "
            "port_variable in verify.toml, so that the verifier chooses a free port",
            id="run-port-allocated"),
        pytest.param(
            COMPOSE_COMMAND, COMPOSE_EXITED,
            "labdiag-web-1: exited, health starting\nstarting\nerror: DATABASE_URL is not set\n",
            "container labdiag-web-1 exited with code 3 at start; its last log line: "
            "error: DATABASE_URL is not set",
            id="compose-exited"),
        pytest.param(
            "the container exited before it was healthy", "",
            "starting the notes app\nerror: the environment variable NOTES_DIR is not set\n",
            "the container exited before it was healthy; its last log line: "
            "error: the environment variable NOTES_DIR is not set",
            id="container-exited"),
        pytest.param(
            COMPOSE_COMMAND, COMPOSE_UNHEALTHY, COMPOSE_HEALTH_REPORT,
            "container labdiag-sick-1 is unhealthy; last health check: exit 1, output: "
            "database not ready: connection refused",
            id="compose-unhealthy"),
        pytest.param(
            COMPOSE_COMMAND, COMPOSE_TIMED_OUT,
            "labdiag2-slow-1: running, health starting\nlast health check: exit 1, output: x\n",
            "timed out: not every service healthy after 60 s ([timeouts] start in "
            "verify.toml sets the limit); not healthy: labdiag2-slow-1 (starting)",
            id="compose-timed-out"),
        pytest.param(
            "unhealthy: last health check: exit 1, output: Traceback (most recent call last):",
            "last health check: exit 1, output: Traceback (most recent call last):\n"
            '  File "<string>", line 1, in <module>\n'
            "urllib.error.HTTPError: HTTP Error 503: Service Unavailable", "",
            "the container is unhealthy; last health check: exit 1, output: "
            "urllib.error.HTTPError: HTTP Error 503: Service Unavailable",
            id="container-unhealthy"),
        pytest.param(
            "not healthy after 3 s (status: starting; no health check has run yet)",
            "no health check has run yet", "",
            "timed out: not healthy after 3 s (status: starting; [timeouts] start in "
            "verify.toml sets the limit); no health check has run yet",
            id="container-timed-out"),
    ],
)
def test_diagnose_names_file_and_fix(message, output, logs, expected):
    assert diagnose(message, output, logs) == expected


def test_diagnose_unknown_failure_returns_none():
    output = "#5 [2/3] RUN false\n#5 ERROR: process \"/bin/sh -c false\" did not complete"
    assert diagnose(BUILD_COMMAND, output) is None


def test_diagnose_output_is_one_line():
    for output in (PARSE_ERROR, COPY_SOURCE_MISSING, NO_REGISTRY_ANSWERS,
                   PIP_CERTIFICATE_VERIFY_FAILED, COMPOSE_PORT_IN_USE):
        assert "\n" not in diagnose(BUILD_COMMAND, output)


def example_run(tmp_path: Path) -> ExampleRun:
    return ExampleRun(Example(name="failing/x", path=tmp_path, contract=None), engine=None)


def test_step_replaces_message_with_diagnosis(tmp_path):
    run = example_run(tmp_path)
    with pytest.raises(StepFailed) as raised:
        with run.step("build"):
            raise EngineError(BUILD_COMMAND, COPY_SOURCE_MISSING)
    failure = raised.value
    assert failure.reason.startswith("Dockerfile:3: COPY requirements.txt ./")
    assert str(failure).startswith("failing/x: build failed: Dockerfile:3: ")
    assert failure.logs.startswith(BUILD_COMMAND + "\n")
    assert COPY_SOURCE_MISSING.strip() in failure.logs
    assert run.steps[-1].detail == failure.reason


def test_step_keeps_whole_output_in_logs(tmp_path):
    run = example_run(tmp_path)
    output = "".join(f"build line {number}\n" for number in range(100)) + COPY_SOURCE_MISSING
    with pytest.raises(StepFailed) as raised:
        with run.step("build"):
            raise EngineError(BUILD_COMMAND, output)
    assert "build line 0\n" in raised.value.logs
    assert "build line 99\n" in raised.value.logs


def test_step_keeps_unknown_message(tmp_path):
    run = example_run(tmp_path)
    with pytest.raises(StepFailed) as raised:
        with run.step("build"):
            raise EngineError(BUILD_COMMAND, "something new went wrong")
    assert raised.value.reason == BUILD_COMMAND
    assert "something new went wrong" in raised.value.logs


# Each fixture under tests/fixtures/failing/, run through scripts/verify


@dataclass(frozen=True)
class Failure:
    """A fixture, the exit code of its run and the text of its one error line."""

    fixture: str
    exit_code: int
    # Each must be in the one line that starts with "ERROR " (or "error: " for exit 2).
    texts: tuple[str, ...]
    # Each must be in the lines that follow it: the command output or the logs.
    logs: tuple[str, ...] = ()


FAILURES = [
    Failure("failing/dockerfile-syntax-error", 1,
            ("ERROR failing/dockerfile-syntax-error: lint failed: "
             "Dockerfile:4: unknown instruction: RUNN (did you mean RUN?)",)),
    Failure("failing/copy-missing-file", 1,
            ("build failed: Dockerfile:5: COPY requirements.txt ./: requirements.txt is not "
             "in the build context",)),
    Failure("failing/base-image-not-found", 1,
            ("Dockerfile:3: base image 127.0.0.1:9/zero-to-hero/missing-base:1.0 was not "
             "found locally and no registry answered", "scripts/offline-images")),
    Failure("failing/never-healthy", 1,
            ("run failed: ", "unhealthy", "last health check: exit 1",
             "HTTP Error 503: Service Unavailable")),
    Failure("failing/exits-at-start", 1,
            ("run failed: the container exited before it was healthy",
             "its last log line: error: the environment variable NOTES_DIR is not set"),
            logs=("starting the notes app",)),
    Failure("failing/host-port-in-use", 1,
            ("up failed: compose.yaml: host port 127.0.0.1:47821 is already in use",
             "port_variable")),
    Failure("failing/step-timeout", 1,
            ("run failed: timed out: not healthy after 3 s",
             "[timeouts] start in verify.toml")),
    Failure("failing/tls-verification-failed", 1,
            ("build failed: Dockerfile:7: TLS certificate verification failed for "
             "https://localhost:8443/simple/tiny-package/ (self-signed certificate)",
             "not of the example", "scripts/offline-images --ca-file FILE")),
    Failure("failing/contract-unknown-key", 2,
            ("failing/contract-unknown-key/verify.toml: [image] unknown key 'probe'",)),
    Failure("failing/contract-wrong-type", 2,
            ("failing/contract-wrong-type/verify.toml: [image] 'port': "
             "Input should be a valid integer",)),
]

# The port that failing/host-port-in-use publishes in its compose.yaml.
FIXED_HOST_PORT = 47821


@pytest.fixture(scope="module")
def remove_failing_images():
    """Remove the images that the fixtures' builds tagged, once the module is done."""
    yield
    remove_example_images(*(failure.fixture for failure in FAILURES))


@pytest.fixture
def occupied_port():
    """Hold 127.0.0.1:FIXED_HOST_PORT with a listening socket for the test's duration."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", FIXED_HOST_PORT))
    except OSError as error:
        holder.close()
        if error.errno != errno.EADDRINUSE:
            raise
        pytest.skip(f"127.0.0.1:{FIXED_HOST_PORT} is held by another program, so the test "
                    "cannot open the socket it occupies the port with")
    holder.listen()
    yield FIXED_HOST_PORT
    holder.close()


def error_lines(text: str, exit_code: int) -> list[str]:
    prefix = "error: " if exit_code == 2 else "ERROR "
    return [line for line in text.splitlines() if line.startswith(prefix)]


@pytest.mark.docker
@pytest.mark.usefixtures("remove_failing_images")
@pytest.mark.parametrize("failure", FAILURES, ids=[failure.fixture for failure in FAILURES])
def test_failing_fixture_reports_one_line(failure: Failure, request, tmp_path, work_folder,
                                          run_ids, capsys):
    if failure.fixture == "failing/host-port-in-use":
        request.getfixturevalue("occupied_port")
    root = copy_fixtures(tmp_path / "root", failure.fixture)

    exit_code = cli.main(["--root", str(root)])

    captured = capsys.readouterr()
    output = captured.err if failure.exit_code == 2 else captured.out
    assert exit_code == failure.exit_code, captured.out + captured.err
    lines = error_lines(output, failure.exit_code)
    assert len(lines) == 1, output
    for text in failure.texts:
        assert text in lines[0]
    following = output.splitlines()[output.splitlines().index(lines[0]) + 1:]
    if failure.exit_code == 1:
        assert following[0].startswith(("  | ", "TIP ")), output
    for text in failure.logs:
        assert text in "\n".join(following)
    assert [leftovers(run_id) for run_id in run_ids] == [[] for _ in run_ids]
    assert list(work_folder.iterdir()) == []


def test_every_failing_fixture_has_a_case():
    folders = sorted(path.parent.relative_to(FIXTURES).as_posix()
                     for path in (FIXTURES / "failing").glob("*/verify.toml"))
    # slow-to-start is the stack that the interrupt tests stop while it starts.
    assert folders == sorted([failure.fixture for failure in FAILURES]
                             + ["failing/slow-to-start"])
