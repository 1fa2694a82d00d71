"""Turn the output of a failed docker command into one line that names the fix.

Each rule reads the error message of the step (which shows the docker command),
the command's output and the logs collected for the step, and returns one line,
or None when it does not recognise the failure. `diagnose` returns the line of
the first rule that matches. The patterns follow the output of Docker Engine 28,
BuildKit 0.2x and Compose 2.40, where the tests captured their samples.
"""

from __future__ import annotations

import re
from collections.abc import Callable

OFFLINE_IMAGES_TIP = "build local substitutes of the base images with scripts/offline-images"
TLS_TIP = ("this is a problem of the machine's network, not of the example: if a proxy "
           "re-signs TLS, trust its CA, for example with scripts/offline-images --ca-file FILE")
PORT_TIP = ("publish the port through a variable, such as ${WEB_PORT:-8000}, and name it as "
            "port_variable in verify.toml, so that the verifier chooses a free port")

# BuildKit quotes the failing instruction under a header such as "Dockerfile:3".
_DOCKERFILE_HEADER = re.compile(r"^(\S+):(\d+)\n-{5,}$", re.MULTILINE)
# BuildKit names the failing step as "> [3/4] COPY requirements.txt ./:".
_FAILED_INSTRUCTION = re.compile(r"^ > \[[^\]]+\] (.+?):?$", re.MULTILINE)


def diagnose(message: str, output: str, logs: str = "") -> str | None:
    """Return one line naming the file and the problem of a failed step, or None.

    `message` is the step's error message, `output` what the failed docker
    command printed, and `logs` the container logs or health report of the step.
    """
    for rule in RULES:
        line = rule(message, output, logs)
        if line:
            return line
    return None


# Builds


def tls_verification_failed(message: str, output: str, logs: str) -> str | None:
    """Diagnose a TLS certificate that the build or the engine could not verify."""
    text = f"{message}\n{output}"
    python = re.search(r"CERTIFICATE_VERIFY_FAILED\] certificate verify failed: ([^(']+)", text)
    go = re.search(r"x509: ([^\n\"]+)", text)
    if not (python or go):
        return None
    reason = (python.group(1) if python else go.group(1)).strip()
    url = re.search(r"(?:Could not fetch URL|Get|Head) \"?(https://[^\s\":]+(?::\d+)?[^\s\"]*)",
                    text)
    target = f" for {url.group(1).rstrip(':')}" if url else ""
    return f"{_where(output)}TLS certificate verification failed{target} ({reason}): {TLS_TIP}"


def dockerfile_parse_error(message: str, output: str, logs: str) -> str | None:
    """Diagnose a Dockerfile that BuildKit cannot parse, such as an unknown instruction."""
    match = re.search(r"dockerfile parse error on line (\d+): ([^\n]+)", output)
    if not match:
        return None
    line, problem = match.groups()
    header = _DOCKERFILE_HEADER.search(output)
    dockerfile = header.group(1) if header else _file_option(message) or "Dockerfile"
    return f"{dockerfile}:{line}: {problem.strip()}"


def copy_source_missing(message: str, output: str, logs: str) -> str | None:
    """Diagnose a COPY or ADD whose source is not in the build context."""
    match = re.search(r'failed to (?:calculate checksum|compute cache key)[^\n]*"/?([^"]+)": '
                      r"not found", output)
    if not match:
        return None
    instruction = _FAILED_INSTRUCTION.search(output)
    shown = f"{instruction.group(1).strip()}: " if instruction else ""
    return (f"{_where(output)}{shown}{match.group(1)} is not in the build context: "
            "add it to the example's folder, or remove it from .dockerignore")


def base_image_not_found(message: str, output: str, logs: str) -> str | None:
    """Diagnose a base image that is not on this machine and that no registry provided."""
    match = re.search(r"failed to resolve source metadata for (\S+): ([^\n]+)", output)
    if not match:
        return None
    image, cause = match.groups()
    return f"{_where(output)}base image {image} {_pull_problem(cause)}"


def image_pull_failed(message: str, output: str, logs: str) -> str | None:
    """Diagnose an image of a Compose service that the engine could not pull."""
    denied = re.search(r"pull access denied for ([^,\s]+), ([^\n]+)", output)
    if denied:
        return f"{_file_prefix(message)}image {denied.group(1)} {_pull_problem(denied.group(2))}"
    service = re.search(r"^ *(\S+) Error ([^\n]+)", output, re.MULTILINE)
    if service and re.search(rf"^ *{re.escape(service.group(1))} Pulling", output, re.MULTILINE):
        return (f"{_file_prefix(message)}the image of service {service.group(1)} "
                f"{_pull_problem(service.group(2))}")
    return None


# Containers


def port_in_use(message: str, output: str, logs: str) -> str | None:
    """Diagnose a published host port that another program or container already uses."""
    taken = re.search(r"(?:host port for |listen tcp4? )(\d+\.\d+\.\d+\.\d+:\d+)[^\n]*"
                      r"address already in use", output)
    if taken:
        return (f"{_file_prefix(message)}host port {taken.group(1)} is already in use by "
                f"another program: stop it, or {PORT_TIP}")
    allocated = re.search(r"Bind for (\S+) failed: port is already allocated", output)
    if allocated:
        return (f"{_file_prefix(message)}host port {allocated.group(1)} is already published "
                f"by another container: remove it, or {PORT_TIP}")
    return None


def container_exited(message: str, output: str, logs: str) -> str | None:
    """Diagnose a container that stopped before it was healthy."""
    compose = re.search(r"container (\S+) exited \((\d+)\)", output)
    if compose:
        described = f"container {compose.group(1)} exited with code {compose.group(2)} at start"
    elif "exited before it was healthy" in message:
        described = "the container exited before it was healthy"
    else:
        return None
    last = _last_line(logs)
    return f"{described}; its last log line: {last}" if last else described


def not_healthy(message: str, output: str, logs: str) -> str | None:
    """Diagnose a failed health check, or one that had not passed by the start timeout."""
    image_flow = re.search(r"not healthy after (\d+) s \(status: (\w+)", message)
    if image_flow:
        seconds, status = image_flow.groups()
        return (f"timed out: not healthy after {seconds} s (status: {status}; [timeouts] "
                f"start in verify.toml sets the limit); {_health_check_line(output, last=True)}")
    if message.startswith("unhealthy"):
        return f"the container is unhealthy; {_health_check_line(output, last=True)}"
    # Compose prints a Go duration: "3s", or "1m0s" for 60 seconds.
    compose = re.search(r"application not healthy after (?:(\d+)h)?(?:(\d+)m)?(\d+)s", output)
    if compose:
        hours, minutes, rest = (int(part or 0) for part in compose.groups())
        seconds = hours * 3600 + minutes * 60 + rest
        waiting = re.findall(r"^(\S+): \w+, health (?!healthy)(\w+)$", logs, re.MULTILINE)
        named = ", ".join(f"{name} ({health})" for name, health in waiting)
        return (f"timed out: not every service healthy after {seconds} s ([timeouts] start "
                f"in verify.toml sets the limit)"
                + (f"; not healthy: {named}" if named else ""))
    unhealthy = re.search(r"container (\S+) is unhealthy", output)
    if unhealthy:
        return (f"container {unhealthy.group(1)} is unhealthy; "
                f"{_health_check_line(logs, last=False)}")
    return None


RULES: list[Callable[[str, str, str], str | None]] = [
    tls_verification_failed,
    dockerfile_parse_error,
    copy_source_missing,
    base_image_not_found,
    image_pull_failed,
    port_in_use,
    container_exited,
    not_healthy,
]


# Helpers


def _where(output: str) -> str:
    """Return "Dockerfile:3: " from BuildKit's quote of the failing line, or ""."""
    header = _DOCKERFILE_HEADER.search(output)
    return f"{header.group(1)}:{header.group(2)}: " if header else ""


def _file_option(message: str) -> str | None:
    # The step's message shows the docker command, whose first --file is the example's file.
    match = re.search(r"--file (\S+)", message)
    return match.group(1).strip("'") if match else None


def _file_prefix(message: str) -> str:
    name = _file_option(message)
    return f"{name}: " if name else ""


def _pull_problem(cause: str) -> str:
    """Describe why an image could not be pulled, from the end of the engine's error."""
    if cause.rstrip().endswith("not found") or "manifest unknown" in cause:
        return (f"was not found, neither on this machine nor in its registry: check the name "
                f"and tag, or {OFFLINE_IMAGES_TIP}")
    if re.search(r"pull access denied|insufficient_scope|unauthorized|denied", cause):
        return (f"was not found on this machine, and its registry denied access (no such "
                f"repository, or it needs docker login): check the name, or {OFFLINE_IMAGES_TIP}")
    # Keep the end of the chain: "dial tcp 127.0.0.1:9: connect: connection refused".
    reason = re.split(r'"[^"]*": ', cause)[-1].strip()
    return f"was not found locally and no registry answered ({reason}): {OFFLINE_IMAGES_TIP}"


def _health_check_line(text: str, last: bool) -> str:
    """Return the last health check in `text` as one line: exit code and one output line.

    With `last`, `text` contains nothing after the check's output, so its last line,
    where a Python traceback names the error, is shown. Otherwise container logs
    may follow the check's output, so only its first line is reliable.
    """
    match = re.search(r"last health check: exit (-?\d+), output: (.*)", text, re.DOTALL)
    if not match:
        return "no health check has run yet"
    code, checked = match.groups()
    shown = _last_line(checked) if last else checked.strip().partition("\n")[0]
    return f"last health check: exit {code}, output: {shown or '(none)'}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
