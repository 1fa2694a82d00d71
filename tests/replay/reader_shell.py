"""Run a page's shell commands as a reader would, in bash, from a folder that cd moves."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# Variables that would change what compose.yaml or Compose reads, so that a
# developer's shell cannot steer the replay away from what a reader gets.
READER_ENV_DROP = (
    "COMPOSE_ENV_FILES", "COMPOSE_FILE", "COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME",
    "POSTGRES_DB", "POSTGRES_PASSWORD", "POSTGRES_USER", "WEB_PORT",
)

APP_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class CommandResult:
    """What one replayed command did: where it ran, its exit code and its output."""

    scenario: str
    command: str
    where: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def report(self, problem: str) -> str:
        """Describe a failed expectation with the scenario, the command and its output."""
        return (
            f"scenario {self.scenario}: {problem}\n"
            f"$ {self.command}\n"
            f"(in {self.where}, exit code {self.returncode})\n"
            f"--- stdout ---\n{self.stdout.rstrip()}\n--- stderr ---\n{self.stderr.rstrip()}"
        )

    def json(self) -> object:
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as error:
            raise AssertionError(self.report(f"the output is not JSON ({error})")) from None


class Foreground:
    """A command that the reader leaves running in a first terminal."""

    def __init__(self, shell: ReaderShell, command: str, where: str, log: Path):
        self.shell = shell
        self.command = command
        self.where = where
        self.log = log
        with log.open("wb") as output:
            # A session of its own, so that SIGINT reaches the whole process
            # group, as Ctrl+C in a terminal does.
            self.process = subprocess.Popen(
                ["bash", "-c", command], cwd=shell.cwd, env=shell.env,
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def is_running(self) -> bool:
        return self.process.poll() is None

    def result(self) -> CommandResult:
        code = self.process.returncode if self.process.returncode is not None else -1
        return CommandResult(self.shell.scenario, self.command, self.where, code,
                             self.output(), "")

    def report(self, problem: str) -> str:
        return self.result().report(problem)

    def wait_for_output(self, text: str, timeout: float) -> None:
        """Wait until the command's output contains `text`."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if not self.is_running():
                raise AssertionError(self.report(f"the command exited before it printed {text!r}"))
            if time.monotonic() > deadline:
                raise AssertionError(
                    self.report(f"no {text!r} in the output after {timeout:.0f} s"))
            time.sleep(0.2)

    def interrupt(self, timeout: float) -> float:
        """Press Ctrl+C, which sends SIGINT to the process group, and return the seconds to exit."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(self.report(
                f"still running {timeout:.0f} s after Ctrl+C (SIGINT)")) from None
        return time.monotonic() - started

    def kill(self) -> None:
        if self.is_running():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


class ReaderShell:
    """A reader's terminal in a copy of the repository: bash commands from a tracked folder."""

    def __init__(self, scenario: str, root: Path, start: str, logs: Path):
        self.scenario = scenario
        self.root = root.resolve()
        self.cwd = self.root / start
        self.logs = logs
        self.env = {k: v for k, v in os.environ.items() if k not in READER_ENV_DROP}
        self.started: list[Foreground] = []

    @property
    def where(self) -> str:
        relative = self.cwd.relative_to(self.root).as_posix()
        return "the repository root" if relative == "." else relative

    def run(self, command: str, timeout: float = 120, stdin: str | None = None,
            env: dict[str, str] | None = None) -> CommandResult:
        """Run `command` in bash from the current folder, which a `cd` command moves."""
        is_cd = shlex.split(command)[:1] == ["cd"]
        script = f"{command} && pwd -P" if is_cd else command
        where = self.where
        try:
            completed = subprocess.run(
                ["bash", "-c", script], check=False, cwd=self.cwd, env={**self.env, **(env or {})},
                input=stdin, capture_output=True, text=True, timeout=timeout,
                stdin=None if stdin is not None else subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as error:
            raise AssertionError(CommandResult(
                self.scenario, command, where, -1, _text(error.stdout), _text(error.stderr),
            ).report(f"timed out after {timeout:.0f} s")) from None
        result = CommandResult(self.scenario, command, where, completed.returncode,
                               completed.stdout, completed.stderr)
        if is_cd and result.returncode == 0:
            self.cwd = Path(result.stdout.strip())
            assert self.cwd.is_relative_to(self.root), result.report(
                "cd left the copy of the repository")
        return result

    def check(self, command: str, timeout: float = 120, stdin: str | None = None,
              env: dict[str, str] | None = None) -> CommandResult:
        """Run `command` and fail with its output unless it exits with 0."""
        result = self.run(command, timeout=timeout, stdin=stdin, env=env)
        assert result.returncode == 0, result.report("the command failed")
        return result

    def check_in_terminal(
        self, command: str, keystrokes: str, timeout: float = 60
    ) -> CommandResult:
        """Run `command` under a pseudo-terminal, as `-t` needs one, typing `keystrokes`.

        `script` from util-linux provides the terminal; the result shows the
        command itself, not the `script` line around it.
        """
        wrapped = f"script --quiet --return --command {shlex.quote(command)} /dev/null"
        result = self.run(wrapped, timeout=timeout, stdin=keystrokes)
        result = CommandResult(self.scenario, command, result.where, result.returncode,
                               result.stdout.replace("\r", ""), result.stderr)
        assert result.returncode == 0, result.report("the command failed")
        return result

    def start(self, command: str) -> Foreground:
        """Start a command that runs in the foreground of a first terminal."""
        log = self.logs / f"{self.scenario}-{len(self.started) + 1}.log"
        foreground = Foreground(self, command, self.where, log)
        self.started.append(foreground)
        return foreground

    def stop_all(self) -> None:
        for foreground in self.started:
            foreground.kill()


def wait_until_app_answers(foreground: Foreground, path: str = "/up", timeout: float = 90) -> None:
    """Wait until the app on host port 8000 returns 200 for `path`, while `foreground` runs."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        if not foreground.is_running():
            raise AssertionError(foreground.report("the command exited before the app answered"))
        try:
            with urllib.request.urlopen(APP_URL + path, timeout=3) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last_error = str(error)
        if time.monotonic() > deadline:
            raise AssertionError(foreground.report(
                f"{APP_URL}{path} did not answer within {timeout:.0f} s ({last_error})"))
        time.sleep(0.5)


def request_app(method: str, path: str, body: str | None = None) -> tuple[int, str]:
    """Send one request to the app on 127.0.0.1:8000; return the status and the body."""
    data = body.encode() if body is not None else None
    request = urllib.request.Request(APP_URL + path, data=data, method=method,
                                     headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value
