"""Find the examples of the repository: folders with a contract file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .contract import CONTRACT_FILE, Contract, load_contract

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_ROOT = REPOSITORY_ROOT / "examples"


@dataclass(frozen=True)
class Example:
    """An example folder and its parsed contract."""

    name: str
    path: Path
    contract: Contract

    @property
    def examples_root(self) -> Path:
        """Return the folder the example was discovered under, which names its neighbours."""
        if self.name == "site":
            return self.path / EXAMPLES_ROOT.name
        return self.path.parents[self.name.count("/")]

    @property
    def slug(self) -> str:
        """Return the name as a string usable in image tags and project names."""
        return self.name.replace("/", "-").lower()


def discover_examples(examples_root: Path, include_site: bool = True) -> list[Example]:
    """Return every example under `examples_root`, sorted by name.

    With `include_site`, the site's own container is an example too when the
    repository root has a contract; it is named "site" and comes first.
    """
    examples = []
    root = examples_root.parent
    if include_site and (root / CONTRACT_FILE).exists():
        examples.append(Example(name="site", path=root, contract=load_contract(root)))
    for contract_path in sorted(examples_root.rglob(CONTRACT_FILE)):
        folder = contract_path.parent
        name = folder.relative_to(examples_root).as_posix()
        examples.append(Example(name=name, path=folder, contract=load_contract(folder)))
    return examples


def find_example(name: str, examples_root: Path = EXAMPLES_ROOT) -> Example | None:
    """Return the example called `name` under `examples_root`, loading no other contract."""
    folder = examples_root.parent if name == "site" else examples_root / name
    if not (folder / CONTRACT_FILE).is_file():
        return None
    return Example(name=name, path=folder, contract=load_contract(folder))


def find_compared(example: Example, name: str) -> Example | None:
    """Return the example called `name` that `example` compares its size with.

    A neighbour under the same root comes first, then the course's own example
    of that name, which the test fixtures compare with.
    """
    return find_example(name, example.examples_root) or find_example(name)


def base_images(example: Example) -> list[str]:
    """Return the public images the example starts from: FROM lines and Compose images."""
    images: set[str] = set()
    for dockerfile in example.path.glob("Dockerfile*"):
        stages: set[str] = set()
        for line in dockerfile.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if len(words) < 2 or words[0].upper() != "FROM":
                continue
            names = [word for word in words[1:] if not word.startswith("--")]
            if names[0] not in stages:
                images.add(names[0])
            if len(names) == 3 and names[1].upper() == "AS":
                stages.add(names[2])
    compose = example.contract.compose
    if compose:
        document = yaml.safe_load((example.path / compose.file).read_text(encoding="utf-8"))
        for service in (document.get("services") or {}).values():
            if "image" in service and "build" not in service:
                images.add(service["image"])
    return sorted(images)
