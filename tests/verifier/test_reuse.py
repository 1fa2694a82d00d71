"""Reusing an earlier pass: which changes give an example a new key, and the store.

A reused pass must never hide a change, so each input of the key gets a test
that changes only that input.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from verify_runs import FIXTURES

from verifier import reuse
from verifier.contract import load_contract
from verifier.discover import Example
from verifier.engine import Engine


def example_copy(tmp_path: Path, fixture: str = "ok-minimal", name: str = "one") -> Example:
    folder = tmp_path / name
    shutil.copytree(FIXTURES / fixture, folder)
    return load(folder, name)


def load(folder: Path, name: str) -> Example:
    return Example(name=name, path=folder, contract=load_contract(folder))


def build_base(tag: str, marker: str) -> None:
    """Build a small image under `tag`, a new image ID for each `marker`."""
    subprocess.run(["docker", "build", "--quiet", "--tag", tag, "-"],
                   input=f"FROM python:3.13-slim-trixie\nLABEL marker={marker}\n",
                   capture_output=True, text=True, timeout=120, check=True)


def remove_image(tag: str) -> None:
    subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True,
                   timeout=60, check=False)


def key_of(example: Example, *others: Example) -> str:
    environment = reuse.read_environment(Engine(run_id="test-reuse"))
    return reuse.example_keys([example, *others], environment)[example.name]


@pytest.mark.docker
@pytest.mark.parametrize("change", [
    "edit app.py",
    "add a file",
    "make app.py executable",
    "make app.py readable by its owner only",
    "edit the contract",
    "add a file in a subfolder",
    "add an empty folder",
    "add a link that leads nowhere",
    "edit a file behind a linked folder",
])
def test_key_follows_file_change(tmp_path, change):
    example = example_copy(tmp_path)
    folder = example.path
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text("first\n")
    (folder / "linked").symlink_to(outside)
    before = key_of(load(folder, "one"))

    if change == "edit app.py":
        (folder / "app.py").write_text((folder / "app.py").read_text() + "\n# changed\n")
    elif change == "add a file":
        (folder / "notes.txt").write_text("new\n")
    elif change == "make app.py executable":
        (folder / "app.py").chmod(0o755)
    elif change == "make app.py readable by its owner only":
        (folder / "app.py").chmod(0o600)
    elif change == "add an empty folder":
        (folder / "empty").mkdir()
    elif change == "add a link that leads nowhere":
        (folder / "dangling").symlink_to(tmp_path / "nowhere")
    elif change == "edit a file behind a linked folder":
        (outside / "data.txt").write_text("second\n")
    elif change == "edit the contract":
        contract = folder / "verify.toml"
        contract.write_text(contract.read_text().replace("stop_within = 3", "stop_within = 4"))
    else:
        (folder / "static").mkdir()
        (folder / "static" / "style.css").write_text("body {}\n")

    assert key_of(load(folder, "one")) != before


@pytest.mark.docker
def test_key_same_for_same_files(tmp_path):
    first = example_copy(tmp_path, name="one")
    second = example_copy(tmp_path, name="two")

    assert key_of(first) == key_of(load(first.path, "one"))
    # The name is not an input: two identical folders are verified the same way.
    assert key_of(first) == key_of(second)


@pytest.mark.docker
def test_key_changes_with_base_image_id(tmp_path):
    tag = "zero-to-hero-test/reuse-base:1"
    example = example_copy(tmp_path)
    dockerfile = example.path / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace(
        "FROM python:3.13-slim-trixie", f"FROM {tag}"))

    try:
        build_base(tag, "first")
        before = key_of(example)
        build_base(tag, "second")
        after = key_of(example)
    finally:
        remove_image(tag)

    assert after != before


@pytest.mark.docker
@pytest.mark.parametrize("dockerfile", [
    "ARG BASE={tag}\nFROM ${{BASE}}\n",
    "FROM \\\n    {tag}\n",
    "FROM docker.io/{tag}\n",
    "FROM python:3.13-slim-trixie\nCOPY --from={tag} /etc/os-release /tmp/\n",
], ids=["arg", "continued-line", "docker.io-prefix", "copy-from"])
def test_key_follows_named_image(tmp_path, dockerfile):
    tag = "zero-to-hero-test/reuse-named:1"
    example = example_copy(tmp_path)
    (example.path / "Dockerfile").write_text(dockerfile.format(tag=tag))

    try:
        build_base(tag, "first")
        before = key_of(example)
        build_base(tag, "second")
        after = key_of(example)
    finally:
        remove_image(tag)

    assert after != before


@pytest.mark.docker
def test_context_key_follows_dockerignore(tmp_path):
    context = tmp_path / "repository"
    (context / "docs").mkdir(parents=True)
    (context / "docs" / "index.md").write_text("# Home\n")
    (context / ".dockerignore").write_text("*\n!docs/\n")
    (context / ".gitignore").write_text("test-results/\n")
    (context / "Dockerfile").write_text("FROM python:3.13-slim-trixie\nCOPY docs/ /docs/\n")
    (context / "verify.toml").write_text(
        '[image]\ncontext = "."\nport = 8000\nprobes = [{ path = "/" }]\n')
    subprocess.run(["git", "init", "--quiet"], cwd=context, check=True)
    site = Example(name="site", path=context, contract=load_contract(context))
    before = key_of(site)

    (context / "notes.txt").write_text("outside the context\n")
    unchanged = key_of(site)
    (context / "docs" / "test-results").mkdir()
    (context / "docs" / "test-results" / "index.md").write_text("# Stray page\n")
    changed = key_of(site)

    assert unchanged == before
    assert changed != before


@pytest.mark.docker
def test_key_follows_neighbour_under_root(tmp_path):
    root = tmp_path / "examples"
    larger = example_copy(root, name="larger")
    smaller = example_copy(root, name="smaller")
    contract = smaller.path / "verify.toml"
    contract.write_text(contract.read_text().replace(
        "size = { max_mb = 250 }", 'size = { smaller_than = "larger", factor = 1.0 }'))
    smaller = load(smaller.path, "smaller")
    before = key_of(smaller)

    (larger.path / "app.py").write_text((larger.path / "app.py").read_text() + "\n# changed\n")

    assert smaller.examples_root == root
    assert key_of(smaller) != before


@pytest.mark.docker
def test_key_follows_compared_example(tmp_path):
    larger = example_copy(tmp_path, name="larger")
    smaller = example_copy(tmp_path, name="smaller")
    contract = smaller.path / "verify.toml"
    contract.write_text(contract.read_text().replace(
        "size = { max_mb = 250 }", 'size = { smaller_than = "larger", factor = 1.0 }'))
    smaller = load(smaller.path, "smaller")
    before = key_of(smaller, larger)

    (larger.path / "app.py").write_text((larger.path / "app.py").read_text() + "\n# changed\n")

    assert key_of(smaller, load(larger.path, "larger")) != before


@pytest.mark.docker
def test_key_changes_with_verifier_source(tmp_path, monkeypatch):
    example = example_copy(tmp_path)
    source = tmp_path / "verifier"
    shutil.copytree(reuse.VERIFIER_SOURCE, source, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(reuse, "VERIFIER_SOURCE", source)
    before = key_of(example)

    (source / "checks.py").write_text((source / "checks.py").read_text() + "\n# changed\n")

    assert key_of(example) != before


def test_store_finds_only_same_key(tmp_path):
    store = reuse.PassStore(tmp_path / "passes.json")
    example = Example(name="one", path=tmp_path / "one", contract=None)

    store.record(example, "key-a", 12.34)

    found = store.find(example, "key-a")
    assert found is not None
    assert found.seconds == 12.3
    assert store.find(example, "key-b") is None
    store.forget(example)
    assert store.find(example, "key-a") is None


def test_damaged_store_reuses_nothing(tmp_path):
    path = tmp_path / "passes.json"
    path.write_text("{ not json", encoding="utf-8")
    store = reuse.PassStore(path)
    example = Example(name="one", path=tmp_path / "one", contract=None)

    assert store.find(example, "key-a") is None
    store.record(example, "key-a", 1.0)
    assert json.loads(path.read_text())[str(example.path)]["key"] == "key-a"


@pytest.mark.parametrize("text", ["[]", '"text"', '{{"{path}": "x"}}', '{{"{path}": {{"key": "k"}}}}',
                                  '{{"{path}": {{"key": 1, "passed_at": 1, "seconds": 1}}}}'])
def test_misshapen_store_reuses_nothing(tmp_path, text):
    path = tmp_path / "passes.json"
    example = Example(name="one", path=tmp_path / "one", contract=None)
    path.write_text(text.format(path=example.path), encoding="utf-8")
    store = reuse.PassStore(path)

    assert store.find(example, "k") is None
    store.record(example, "k", 1.0)
    assert store.find(example, "k") is not None


def test_parallel_records_all_kept(tmp_path):
    store = reuse.PassStore(tmp_path / "cache" / "passes.json")
    examples = [Example(name=f"e{n}", path=tmp_path / f"e{n}", contract=None)
                for n in range(16)]
    threads = [threading.Thread(target=store.record, args=(example, f"key-{n}", 1.0))
               for n, example in enumerate(examples)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(store.find(example, f"key-{n}") for n, example in enumerate(examples))
    assert sorted(path.name for path in (tmp_path / "cache").iterdir()) == [
        "passes.json", "passes.lock"]
