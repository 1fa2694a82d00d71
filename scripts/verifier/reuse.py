"""Reuse an earlier pass of an example when nothing it depends on has changed.

An example's inputs are its files, the local image ID of each base image, the
verifier's own source, the versions of the engine, Compose, Buildx and
hadolint, and the inputs of any example it compares its size with. Their
SHA-256 digest is the example's key. After a pass, the key goes into a store
file; a later run that computes the same key reports the example as reused
instead of building and running it again. A failure is never stored, so a
failed example always runs again.

An example's files are every file in its folder, as the verifier copies the
whole folder. An example built in place from a context outside its folder
(the site) counts the files git tracks or would track in that context.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .discover import Example, base_images, find_example
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
        if not entry or entry.get("key") != key:
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

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            # A missing or damaged store only means that every example runs.
            return {}

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


def example_keys(examples: Iterable[Example], engine: Engine) -> dict[str, str]:
    """Return the key of each of `examples`, by name."""
    wanted = list(examples)
    known = {example.name: example for example in wanted}
    for example in wanted:
        size = example.contract.checks.size
        if size and size.smaller_than and size.smaller_than not in known:
            other = find_example(size.smaller_than)
            if other:
                known[other.name] = other
    tools = engine.versions() + "\n" + _hadolint_version()
    local = engine.local_image_ids()
    images = {image: local[_with_tag(image)] for example in known.values()
              for image in base_images(example) if _with_tag(image) in local}
    source = _digest_files(VERIFIER_SOURCE, sorted(VERIFIER_SOURCE.glob("*.py")))
    keys: dict[str, str] = {}

    def key(example: Example, seen: tuple[str, ...] = ()) -> str:
        if example.name in keys:
            return keys[example.name]
        digest = hashlib.sha256()
        for part in (tools, source, _example_files_digest(example)):
            digest.update(part.encode() + b"\0")
        for image in base_images(example):
            digest.update(f"{image}={images.get(image, 'absent')}\0".encode())
        size = example.contract.checks.size
        other = size.smaller_than if size else None
        if other in known and other not in seen:
            digest.update(key(known[other], (*seen, example.name)).encode())
        elif other:
            digest.update(f"{other}=unknown\0".encode())
        keys[example.name] = digest.hexdigest()
        return keys[example.name]

    return {example.name: key(example) for example in wanted}


def _example_files_digest(example: Example) -> str:
    image = example.contract.image
    if image and image.context:
        context = (example.path / image.context).resolve()
        return _digest_files(context, _git_visible_files(context))
    files = sorted(path for path in example.path.rglob("*") if path.is_file())
    return _digest_files(example.path, files)


def _git_visible_files(folder: Path) -> list[Path]:
    result = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=folder, capture_output=True, check=False,
    )
    if result.returncode != 0:
        # Outside git, every file counts: a key that changes too often costs a run, never a pass.
        return sorted(path for path in folder.rglob("*") if path.is_file())
    names = sorted(set(result.stdout.decode().split("\0")) - {""})
    return [folder / name for name in names if (folder / name).is_file()]


def _digest_files(folder: Path, files: Iterable[Path]) -> str:
    """Hash the files' names relative to `folder`, executable bits and contents."""
    digest = hashlib.sha256()
    for path in files:
        executable = os.access(path, os.X_OK)
        digest.update(f"{path.relative_to(folder).as_posix()}\0{executable:d}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _hadolint_version() -> str:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        return "hadolint absent"
    try:
        result = subprocess.run([hadolint, "--version"], capture_output=True, text=True,
                                timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "hadolint unknown"
    return result.stdout.strip()


def _with_tag(image: str) -> str:
    # `FROM debian` means debian:latest, while a registry's port also holds a colon.
    return image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest"
