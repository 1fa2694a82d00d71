"""Reuse an earlier pass of an example when nothing it depends on has changed.

An example's inputs are its files, the local images its files name, the
verifier's own source, the versions of the engine, Compose, Buildx and
hadolint, and the inputs of any example it compares its size with. Their
SHA-256 digest is the example's key. After a pass, the key goes into a store
file. A later run that computes the same key reports the example as reused
instead of building and running it again. A failure is never stored, so a
failed example always runs again.

NOTE: hadolint's own configuration files (such as a user's
~/.config/hadolint.yaml) are not part of the key.

An example's files are every file and folder of its own folder, as the
verifier copies the whole folder, with its mode and, for a symbolic link that
leads nowhere, its target. An example built in place from a context outside
its folder (the site) counts the files that its `.dockerignore` lets into
the context, by Docker's own rules.

An image counts when its name appears anywhere in the files, so that
`ARG BASE=...`, `COPY --from=...` and `${IMAGE:-...}` defaults count too; a
name that appears by chance costs a run, never a wrong pass.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from docker.utils.build import exclude_paths

from .checks import hadolint_program
from .discover import Example, find_compared
from .engine import Engine

VERIFIER_SOURCE = Path(__file__).resolve().parent
STORE_NAME = Path(".cache") / "verifier" / "passes.json"


def store_path(examples_root: Path) -> Path:
    """Return the store of the repository around `examples_root`, kept out of git."""
    return examples_root.resolve().parent / STORE_NAME


@dataclass(frozen=True)
class Pass:
    """A stored pass: when it happened and how long it took."""

    key: str
    passed_at: float
    seconds: float

    def describe(self) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.passed_at))
        return f"passed at {stamp} with the same inputs ({self.seconds:.1f} s then)"


class PassStore:
    """The passes of one repository, in a JSON file that several runs may share."""

    def __init__(self, path: Path):
        self.path = path

    def find(self, example: Example, key: str) -> Pass | None:
        entry = self._read().get(str(example.path.resolve()))
        if not entry or entry["key"] != key:
            return None
        return Pass(key, entry["passed_at"], entry["seconds"])

    def expected_seconds(self, example: Example) -> float:
        """Return how long the example's last pass took; a Compose stack counts as long."""
        entry = self._read().get(str(example.path.resolve()))
        if entry:
            return entry["seconds"]
        return 60.0 if example.contract.compose else 10.0

    def record(self, example: Example, key: str, seconds: float) -> None:
        self._update(str(example.path.resolve()),
                     {"key": key, "passed_at": time.time(), "seconds": round(seconds, 1)})

    def forget(self, example: Example) -> None:
        self._update(str(example.path.resolve()), None)

    def _read(self) -> dict[str, dict]:
        """Return the well-formed entries. A missing or damaged store only means more runs."""
        try:
            passes = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(passes, dict):
            return {}
        return {name: entry for name, entry in passes.items() if _well_formed(entry)}

    def _update(self, name: str, entry: dict | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            passes = self._read()
            if entry is None:
                passes.pop(name, None)
            else:
                passes[name] = entry
            partial = self.path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(passes, indent=2, sort_keys=True) + "\n",
                               encoding="utf-8")
            partial.replace(self.path)


def _well_formed(entry: object) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("key"), str)
            and all(isinstance(entry.get(field), (int, float))
                    for field in ("passed_at", "seconds")))


@dataclass(frozen=True)
class Environment:
    """The inputs that every key of a run shares: tool versions, verifier source, local images."""

    tools: str
    source: str
    images: dict[str, str]


def read_environment(engine: Engine) -> Environment:
    """Read the inputs that every example's key shares, once per run."""
    source = _digest_tree(VERIFIER_SOURCE, VERIFIER_SOURCE.glob("*.py"))[0]
    return Environment(tools=engine.versions() + "\n" + _hadolint_version(), source=source,
                       images=engine.local_image_ids())


def example_keys(examples: Iterable[Example], environment: Environment) -> dict[str, str]:
    """Return the key of each of `examples`, by name."""
    selected = list(examples)
    known = {example.name: example for example in selected}

    def other_of(example: Example) -> Example | None:
        size = example.contract.checks.size
        name = size.smaller_than if size else None
        if name and name not in known:
            found = find_compared(example, name)
            if found:
                known[name] = found
        return known.get(name) if name else None

    def key(example: Example, seen: tuple[str, ...] = ()) -> str:
        digest = hashlib.sha256()
        files, contents = _example_files(example)
        for part in (environment.tools, environment.source, files):
            digest.update(part.encode() + b"\0")
        for image, image_id in sorted(environment.images.items()):
            if any(_mentions(image, content) for content in contents):
                digest.update(f"{image}={image_id}\0".encode())
        other = other_of(example)
        size = example.contract.checks.size
        if other is not None and other.name not in seen:
            digest.update(key(other, (*seen, example.name)).encode())
        elif other is not None:
            digest.update(f"{other.name}=compared in a cycle\0".encode())
        elif size and size.smaller_than:
            digest.update(f"{size.smaller_than}=not found\0".encode())
        return digest.hexdigest()

    return {example.name: key(example) for example in selected}


def _mentions(image: str, content: bytes) -> bool:
    """Tell whether `content` may name the local image `image` (repository:tag)."""
    if image.encode() in content:
        return True
    repository, _, tag = image.rpartition(":")
    return tag == "latest" and repository.encode() in content


def _example_files(example: Example) -> tuple[str, list[bytes]]:
    image = example.contract.image
    if image and image.context:
        context = (example.path / image.context).resolve()
        return _digest_tree(context, _context_paths(context, image.dockerfile))
    return _digest_tree(example.path, _every_path(example.path))


def _every_path(folder: Path) -> list[Path]:
    """Return every file, folder and link under `folder`, following links as shutil.copytree does."""
    found = []
    for parent, folders, files in os.walk(folder, followlinks=True):
        found += [Path(parent) / name for name in folders + files]
    return found


def _context_paths(context: Path, dockerfile: str) -> list[Path]:
    ignore = context / ".dockerignore"
    patterns = []
    if ignore.is_file():
        lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
        patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    kept = exclude_paths(str(context), patterns, dockerfile=dockerfile)
    return [context / name for name in kept]


def _digest_tree(folder: Path, paths: Iterable[Path]) -> tuple[str, list[bytes]]:
    """Hash each path's name, kind, mode and content, and return the digest and the contents."""
    digest = hashlib.sha256()
    contents = []
    for path in sorted(paths):
        name = path.relative_to(folder).as_posix()
        if not path.exists():
            digest.update(f"{name}\0link to {os.readlink(path)}\0".encode())
            continue
        mode = path.stat().st_mode
        if path.is_dir():
            digest.update(f"{name}\0folder {mode & 0o7777:o}\0".encode())
            continue
        content = path.read_bytes()
        contents.append(content)
        digest.update(f"{name}\0file {mode & 0o7777:o}\0".encode())
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest(), contents


def _hadolint_version() -> str:
    try:
        result = subprocess.run([hadolint_program(), "--version"], capture_output=True,
                                text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "hadolint absent"
    return result.stdout.strip() or "hadolint absent"
