"""Choose which examples a run verifies: by path, by what changed in git, by shard."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from .contract import CONTRACT_FILE
from .discover import REPOSITORY_ROOT, Example, find_example

# A change under these paths can change any example's outcome.
VERIFIER_PATHS = ("scripts/verifier/", "scripts/base-images/", "scripts/offline-images")

_INCLUDE = re.compile(r'^\s*-{1,3}8<-{1,3}\s+"([^"]+)"', re.MULTILINE)


class SelectionError(Exception):
    """A selection that names no example, or a git reference that cannot be read."""


def parse_shard(text: str) -> tuple[int, int]:
    """Parse `I/N` (1 <= I <= N) into (I, N)."""
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match:
        raise SelectionError(f"invalid shard {text!r}: expected I/N, such as 1/4")
    index, total = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= total:
        raise SelectionError(f"invalid shard {text!r}: I must be between 1 and N")
    return index, total


def shard(examples: list[Example], index: int, total: int) -> list[Example]:
    """Return shard `index` of `total`: every total-th example by name, from index - 1.

    The split depends only on the sorted names, so every machine of a CI matrix
    computes the same shards without talking to the others.
    """
    ordered = sorted(examples, key=lambda example: example.name)
    return ordered[index - 1::total]


def by_paths(examples_root: Path, paths: list[Path]) -> list[Example]:
    """Return the examples whose folders are `paths`, loading only their own contracts.

    A broken contract elsewhere under `examples_root` does not stop the
    verification of the examples asked for.
    """
    root = examples_root.resolve()
    selected: dict[str, Example] = {}
    for path in paths:
        folder = path.resolve()
        if not (folder / CONTRACT_FILE).is_file():
            raise SelectionError(f"{path}: not an example folder (no {CONTRACT_FILE})")
        if folder == root.parent:
            name = "site"
        elif folder.is_relative_to(root):
            name = folder.relative_to(root).as_posix()
        else:
            raise SelectionError(f"{path}: not under {examples_root}; choose it with --root")
        selected[name] = find_example(name, examples_root)
    # In discovery's order: the site first, then by name.
    return sorted(selected.values(), key=lambda example: (example.name != "site", example.name))


def changed_files(ref: str, root: Path = REPOSITORY_ROOT) -> list[str]:
    """Return the paths changed since `ref`, committed or not, and untracked files."""
    def git(*args: str) -> list[str]:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                check=False)
        if result.returncode != 0:
            detail = result.stderr.strip() or "no such commit, branch or tag"
            raise SelectionError(f"git {' '.join(args)} failed: {detail}")
        return [line for line in result.stdout.splitlines() if line]

    git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return sorted(set(git("diff", "--name-only", ref, "--"))
                  | set(git("ls-files", "--others", "--exclude-standard")))


def affected(examples: list[Example], changed: list[str],
             root: Path = REPOSITORY_ROOT) -> tuple[list[Example], list[str]]:
    """Return the examples and the pages that `changed` files affect.

    An example is affected when a file in its folder changed, when a changed page
    includes one of its files, or when the verifier itself changed. A page is
    affected when it changed or when a file it includes changed.
    """
    if any(path.startswith(VERIFIER_PATHS) for path in changed):
        hit = {example.name for example in examples}
    else:
        hit = {example.name for example in examples
               if any(_inside(path, example, root) for path in changed)}
    # A size claim compares with another example's image, so it depends on it too.
    hit |= {example.name for example in examples
            if example.contract.checks.size and example.contract.checks.size.smaller_than in hit}
    pages = []
    for page in sorted((root / "docs").rglob("*.md")):
        relative = page.relative_to(root).as_posix()
        included = _included_files(page)
        page_changed = relative in changed
        if page_changed or any(path in changed for path in included):
            pages.append(relative)
        if page_changed:
            hit |= {example.name for example in examples
                    if any(_inside(path, example, root) for path in included)}
    return [example for example in examples if example.name in hit], pages


def _inside(path: str, example: Example, root: Path) -> bool:
    folder = example.path.resolve().relative_to(root.resolve()).as_posix() + "/"
    return path.startswith(folder)


def _included_files(page: Path) -> list[str]:
    # `path:section` names a part of a file; only the file matters here.
    return [target.split(":")[0] for target in _INCLUDE.findall(page.read_text(encoding="utf-8"))]
