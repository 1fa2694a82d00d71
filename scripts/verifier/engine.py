"""Run docker and docker compose commands for one verifier run.

Every container, network and volume the verifier creates goes through this
module, which labels it with the run's id so that `remove_run_resources` can
find and remove it, whatever state a failed step left it in.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

LABEL_PREFIX = "io.devops-zero-to-hero"
RUN_LABEL = f"{LABEL_PREFIX}.run"
EXAMPLE_LABEL = f"{LABEL_PREFIX}.example"
SUBSTITUTE_LABEL = f"{LABEL_PREFIX}.substitute"


class EngineError(Exception):
    """A docker command that failed or timed out; `output` keeps what it printed."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output


@dataclass
class Engine:
    """The Docker engine as one verifier run uses it."""

    run_id: str
    commands: list[str] = field(default_factory=list)

    @property
    def run_label(self) -> str:
        return f"{RUN_LABEL}={self.run_id}"

    def docker(
        self,
        *args: str,
        timeout: float,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run `docker ARGS`, raising EngineError on failure or timeout."""
        command = ["docker", *args]
        self.commands.append(" ".join(command))
        try:
            result = subprocess.run(
                command,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as error:
            output = _text(error.stdout) + _text(error.stderr)
            raise EngineError(f"'{' '.join(command)}' timed out after {timeout:.0f} s", output) from None
        if check and result.returncode != 0:
            raise EngineError(
                f"'{' '.join(command)}' exited with {result.returncode}",
                result.stdout + result.stderr,
            )
        return result

    # Images

    def build(self, context: Path, dockerfile: str, tag: str, example: str, timeout: float,
              no_cache: bool = False) -> str:
        """Build an image and return BuildKit's plain progress output."""
        options = ["--no-cache"] if no_cache else []
        result = self.docker(
            "build", "--progress", "plain", *options, "--file", dockerfile, "--tag", tag,
            "--label", f"{EXAMPLE_LABEL}={example}", ".",
            cwd=context, timeout=timeout,
        )
        return result.stdout + result.stderr

    def build_check(self, context: Path, dockerfile: str, timeout: float) -> str:
        """Run BuildKit's build checks (Engine 27 or newer) and return their output."""
        result = self.docker("build", "--check", "--file", dockerfile, ".",
                             cwd=context, timeout=timeout, check=False)
        output = result.stdout + result.stderr
        if result.returncode != 0 and "WARNING:" not in output:
            raise EngineError(f"'docker build --check' failed on {dockerfile}", output)
        return output

    def image_config(self, image: str) -> dict:
        result = self.docker("image", "inspect", "--format", "{{json .Config}}", image, timeout=30)
        return json.loads(result.stdout)

    def find_bytes_in_image(self, image: str, needles: dict[str, bytes]) -> list[str]:
        """Return the names of the needles found in any layer or in the history of `image`.

        `docker save` writes each layer as an uncompressed tar, so a file's
        content appears in the stream as it is.
        """
        found = set()
        history = self.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image,
                              timeout=60).stdout.encode()
        found.update(name for name, needle in needles.items() if needle in history)
        command = ["docker", "save", image]
        self.commands.append(" ".join(command))
        overlap = max(len(needle) for needle in needles.values())
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as save:
            tail = b""
            while chunk := save.stdout.read(1 << 20):
                window = tail + chunk
                found.update(name for name, needle in needles.items() if needle in window)
                tail = window[-overlap:]
        if save.returncode != 0:
            raise EngineError(f"'docker save {image}' exited with {save.returncode}")
        return sorted(found)

    def image_size(self, image: str) -> int:
        """Return the image's size in bytes, as `docker image ls` counts it."""
        result = self.docker("image", "inspect", "--format", "{{.Size}}", image, timeout=30)
        return int(result.stdout.strip())

    def image_label(self, image: str, label: str) -> str | None:
        result = self.docker("image", "inspect", "--format", "{{json .Config.Labels}}", image,
                             timeout=30, check=False)
        if result.returncode != 0:
            return None
        labels = json.loads(result.stdout or "null") or {}
        return labels.get(label)

    # Containers

    def start_container(self, image: str, name: str, port: int | None,
                        user: str | None = None) -> str:
        """Start `image` detached, publishing `port` on a free port of 127.0.0.1."""
        args = ["run", "--detach", "--name", name, "--label", self.run_label]
        if user is not None:
            args += ["--user", user]
        if port is not None:
            args += ["--publish", f"127.0.0.1::{port}"]
        return self.docker(*args, image, timeout=60).stdout.strip()

    def run_to_completion(self, image: str, name: str, timeout: float) -> str:
        """Run `image` in the foreground and return what it printed."""
        result = self.docker("run", "--rm", "--name", name, "--label", self.run_label, image,
                             timeout=timeout)
        return result.stdout + result.stderr

    def host_port(self, container: str, port: int) -> int:
        output = self.docker("port", container, str(port), timeout=30).stdout
        return _parse_port(output)

    def health(self, container: str) -> dict | None:
        """Return the container's health state, or None when it has no healthcheck."""
        result = self.docker("inspect", "--format", "{{json .State.Health}}", container, timeout=30)
        return json.loads(result.stdout or "null")

    def wait_healthy(self, container: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            health = self.health(container)
            if health is None or health.get("Status") == "healthy":
                return
            if not self.is_running(container):
                raise EngineError("the container exited before it was healthy")
            if time.monotonic() > deadline:
                raise EngineError(
                    f"not healthy after {timeout:.0f} s (status: {health.get('Status')})",
                    _health_output(health),
                )
            time.sleep(0.5)

    def is_running(self, container: str) -> bool:
        result = self.docker("inspect", "--format", "{{.State.Running}}", container,
                             timeout=30, check=False)
        return result.stdout.strip() == "true"

    def stop(self, container: str, grace: int) -> tuple[float, int]:
        """Stop the container; return the seconds it took and its exit code."""
        started = time.monotonic()
        self.docker("stop", "--time", str(grace), container, timeout=grace + 30)
        elapsed = time.monotonic() - started
        code = self.docker("inspect", "--format", "{{.State.ExitCode}}", container, timeout=30)
        return elapsed, int(code.stdout.strip())

    def process_uids(self, container: str) -> list[int]:
        """Return the user IDs of the container's processes, as the host sees them."""
        # docker top needs the pid column in whatever ps options it is given.
        output = self.docker("top", container, "-eo", "pid,uid", timeout=30).stdout
        rows = [line.split() for line in output.splitlines()[1:]]
        return [int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit()]

    def path_exists(self, container: str, path: str) -> bool:
        """Tell whether `path` exists in the container's filesystem, with no shell needed."""
        command = ["docker", "cp", "--follow-link", f"{container}:{path}", "-"]
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                timeout=60)
        return result.returncode == 0

    def logs(self, container: str, tail: int = 30) -> str:
        result = self.docker("logs", "--tail", str(tail), container, timeout=30, check=False)
        return result.stdout + result.stderr

    # Compose

    def compose(self, project: str, workdir: Path, compose_file: str, *args: str,
                timeout: float, env: dict[str, str] | None = None,
                check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.docker(
            "compose", "--project-name", project, "--file", compose_file, *args,
            cwd=workdir, env=env, timeout=timeout, check=check,
        )

    def compose_health_report(self, project: str) -> str:
        """Describe each container of the project: state, health and last probe output."""
        lines = []
        for container in self._project_containers(project):
            state = json.loads(self.docker("inspect", "--format", "{{json .State}}", container,
                                           timeout=30).stdout)
            health = state.get("Health") or {}
            lines.append(f"{container}: {state.get('Status')}, health {health.get('Status', 'none')}")
            if health:
                lines.append(_health_output(health))
            if state.get("Status") != "running" or health.get("Status") != "healthy":
                lines.append(self.logs(container, tail=15))
        return "\n".join(line for line in lines if line)

    def compose_containers(self, project: str) -> dict[str, str]:
        """Return the project's containers by service name."""
        result = self.docker(
            "ps", "--all", "--filter", f"label=com.docker.compose.project={project}",
            "--format", '{{.Label "com.docker.compose.service"}} {{.Names}}', timeout=30,
        )
        return dict(line.split() for line in result.stdout.splitlines() if line.strip())

    def _project_containers(self, project: str) -> list[str]:
        result = self.docker(
            "ps", "--all", "--filter", f"label=com.docker.compose.project={project}",
            "--format", "{{.Names}}", timeout=30,
        )
        return sorted(result.stdout.split())

    # Clean-up

    def remove_run_resources(self, compose_projects: list[str] = ()) -> list[str]:
        """Remove every container, volume and network left by this run.

        Returns what it removed. Compose resources carry the project label rather
        than the run label, so their project names are passed in.
        """
        filters = [f"label={self.run_label}"]
        filters += [f"label=com.docker.compose.project={p}" for p in compose_projects]
        removed = []
        for label_filter in filters:
            for kind, list_args, remove_args in (
                ("container", ["ps", "--all", "--quiet"], ["rm", "--force", "--volumes"]),
                ("network", ["network", "ls", "--quiet"], ["network", "rm"]),
                ("volume", ["volume", "ls", "--quiet"], ["volume", "rm", "--force"]),
            ):
                ids = self.docker(*list_args, "--filter", label_filter, timeout=30).stdout.split()
                if ids:
                    self.docker(*remove_args, *ids, timeout=60, check=False)
                    removed += [f"{kind} {identifier}" for identifier in ids]
        return removed


def _parse_port(output: str) -> int:
    # `docker port` prints one line per address, such as "127.0.0.1:49153".
    for line in output.splitlines():
        if line.startswith("127.0.0.1:"):
            return int(line.rsplit(":", 1)[1])
    raise EngineError(f"no port published on 127.0.0.1 (docker port printed: {output.strip()!r})")


def _health_output(health: dict) -> str:
    entries = health.get("Log") or []
    if not entries:
        return "no health check has run yet"
    last = entries[-1]
    return f"last health check: exit {last.get('ExitCode')}, output: {last.get('Output', '').strip()}"


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value
