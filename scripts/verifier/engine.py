"""Run docker and docker compose commands for one verifier run.

Every container, network and volume the verifier creates goes through this
module, which labels it with the run's id so that `remove_run_resources` can
find and remove it, whatever state a failed step left it in.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import threading
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
    cancelled: bool = False
    _running: set[subprocess.Popen] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

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
        cleaning_up: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run `docker ARGS`, raising EngineError on failure, timeout or cancellation.

        Once the run is cancelled, only clean-up commands (`cleaning_up`) still run.
        """
        command = ["docker", *args]
        shown = shlex.join(command)
        with self._lock:
            if self.cancelled and not cleaning_up:
                raise EngineError(f"run cancelled before '{shown}'")
            self.commands.append(shown)
            process = subprocess.Popen(
                command, cwd=cwd, env={**os.environ, **(env or {})},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            self._running.add(process)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            raise EngineError(f"'{shown}' timed out after {timeout:.0f} s", stdout + stderr) from None
        finally:
            with self._lock:
                self._running.discard(process)
        result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        if self.cancelled and not cleaning_up:
            raise EngineError(f"run cancelled during '{shown}'", stdout + stderr)
        if check and result.returncode != 0:
            raise EngineError(f"'{shown}' exited with {result.returncode}", stdout + stderr)
        return result

    def cancel(self) -> None:
        """Stop every docker command of the run and refuse new ones, before clean-up."""
        with self._lock:
            self.cancelled = True
            running = list(self._running)
        for process in running:
            process.terminate()

    # Images

    def build(self, context: Path, dockerfile: str, tag: str, example: str, timeout: float,
              no_cache: bool = False) -> str:
        """Build an image labelled with the run, and return BuildKit's plain progress output.

        The run's clean-up removes the image; its layers stay in BuildKit's cache.
        """
        options = ["--no-cache"] if no_cache else []
        result = self.docker(
            "build", "--progress", "plain", *options, "--file", dockerfile, "--tag", tag,
            "--label", f"{EXAMPLE_LABEL}={example}", "--label", self.run_label, ".",
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

    def local_image_ids(self) -> dict[str, str]:
        """Return the ID of every tagged image the engine holds, by repository:tag."""
        listing = self.docker("image", "ls", "--no-trunc", "--format",
                              "{{.Repository}}:{{.Tag}} {{.ID}}", timeout=30).stdout
        return dict(line.split(" ", 1) for line in listing.splitlines() if " " in line)

    def versions(self) -> str:
        """Return the versions of the engine, its client, Compose and Buildx, a line each."""
        commands = (
            ["version", "--format", "{{.Server.Version}} {{.Client.Version}}"],
            ["compose", "version", "--short"],
            ["buildx", "version"],
        )
        return "\n".join(self.docker(*command, timeout=30).stdout.strip() for command in commands)

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
            if health.get("Status") == "unhealthy":
                # As `docker compose up --wait` does, an unhealthy container fails at once.
                raise EngineError(f"unhealthy: {_health_output(health)}", _health_output(health))
            if time.monotonic() > deadline:
                raise EngineError(
                    f"not healthy after {timeout:.0f} s (status: {health.get('Status')}; "
                    f"{_health_output(health)})",
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
        """Return the user IDs of the container's processes, as the host reports them."""
        # docker top needs the pid column in whatever ps options it is given.
        output = self.docker("top", container, "-eo", "pid,uid", timeout=30).stdout
        rows = [line.split() for line in output.splitlines()[1:]]
        return [int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit()]

    def path_exists(self, container: str, path: str) -> bool:
        """Tell whether `path` exists in the container's filesystem, with no shell needed."""
        command = ["docker", "cp", "--follow-link", f"{container}:{path}", "-"]
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                timeout=60, check=False)
        return result.returncode == 0

    def logs(self, container: str, tail: int = 30) -> str:
        result = self.docker("logs", "--tail", str(tail), container, timeout=30, check=False)
        return result.stdout + result.stderr

    # Compose

    def compose(self, project: str, workdir: Path, compose_files: str | list[str], *args: str,
                timeout: float, env: dict[str, str] | None = None,
                check: bool = True) -> subprocess.CompletedProcess[str]:
        files = [compose_files] if isinstance(compose_files, str) else compose_files
        options = [option for name in files for option in ("--file", name)]
        return self.docker(
            "compose", "--project-name", project, *options, *args,
            cwd=workdir, env=env, timeout=timeout, check=check,
        )

    def write_label_override(self, workdir: Path, compose_file: str, target: Path,
                             env: dict[str, str] | None = None) -> Path:
        """Write a Compose file that adds this run's label to every service, image,
        network and volume of `compose_file`, so that clean-up finds them all.

        `target` must lie outside the build context, or the images would contain it.
        """
        result = self.compose("labels", workdir, compose_file, "config", "--format", "json",
                              timeout=60, env=env)
        document = json.loads(result.stdout)
        labels = {RUN_LABEL: self.run_id}
        services = {}
        for name, service in document.get("services", {}).items():
            services[name] = {"labels": labels}
            if "build" in service:
                services[name]["build"] = {"labels": labels}
        override = {
            "services": services,
            "networks": {name: {"labels": labels} for name in document.get("networks", {})},
            "volumes": {name: {"labels": labels} for name in document.get("volumes", {})},
        }
        # JSON is valid YAML, which Compose reads.
        target.write_text(json.dumps(override, indent=2), encoding="utf-8")
        return target

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

    def anonymous_volumes(self, containers: list[str]) -> list[str]:
        """Return the volumes mounted by `containers` that no Compose file declared."""
        if not containers:
            return []
        mounts = json.loads(self.docker("inspect", "--format", "{{json .Mounts}}", *containers,
                                        timeout=30).stdout.replace("\n", ",").join("[]")
                            .replace(",]", "]"))
        names = [m["Name"] for group in mounts for m in group or [] if m.get("Type") == "volume"]
        anonymous = []
        for name in names:
            labels = json.loads(self.docker("volume", "inspect", "--format", "{{json .Labels}}",
                                            name, timeout=30).stdout or "null") or {}
            if "com.docker.compose.volume" not in labels:
                anonymous.append(name)
        return anonymous

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
        return self.remove_labelled(filters)

    def labelled_runs(self) -> set[str]:
        """Return the ids of the runs whose containers, networks, volumes or images remain."""
        found = set()
        label = f'{{{{.Label "{RUN_LABEL}"}}}}'
        for list_args in (["ps", "--all"], ["network", "ls"], ["volume", "ls"]):
            found.update(self.docker(*list_args, "--filter", f"label={RUN_LABEL}", "--format",
                                     label, timeout=30, cleaning_up=True).stdout.split())
        images = self.docker("image", "ls", "--quiet", "--filter", f"label={RUN_LABEL}",
                             timeout=30, cleaning_up=True).stdout.split()
        if images:
            found.update(self.docker(
                "image", "inspect", "--format", f'{{{{index .Config.Labels "{RUN_LABEL}"}}}}',
                *sorted(set(images)), timeout=30, check=False, cleaning_up=True,
            ).stdout.split())
        return found

    def remove_labelled(self, label_filters: list[str]) -> list[str]:
        """Remove the containers, networks, volumes and images matching any of `label_filters`.

        Only the images that Compose built for a run carry the run label: an
        interrupted run never reaches the `down --rmi local` that removes them.
        """
        removed = []
        for label_filter in label_filters:
            for kind, list_args, remove_args in (
                ("container", ["ps", "--all", "--quiet"], ["rm", "--force", "--volumes"]),
                ("network", ["network", "ls", "--quiet"], ["network", "rm"]),
                ("volume", ["volume", "ls", "--quiet"], ["volume", "rm", "--force"]),
                ("image", ["image", "ls", "--quiet"], ["image", "rm", "--force"]),
            ):
                ids = self.docker(*list_args, "--filter", label_filter, timeout=30,
                                  cleaning_up=True).stdout.split()
                if ids:
                    self.docker(*remove_args, *ids, timeout=60, check=False, cleaning_up=True)
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
