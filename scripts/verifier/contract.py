"""Read an example's contract: the `verify.toml` file that says what to check."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CONTRACT_FILE = "verify.toml"


class ContractError(Exception):
    """A contract file that is missing, unreadable or invalid."""


@dataclass(frozen=True)
class Probe:
    """One HTTP request to a running example and what its response must contain.

    `{token}` in `path`, `body` or `json` is replaced by a value unique to the
    run, so data left over from an earlier run cannot satisfy a probe.
    """

    path: str
    method: str = "GET"
    body: str | None = None
    status: int = 200
    contains: str | None = None
    json: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageSpec:
    """Build the example's Dockerfile, run the image and probe it."""

    dockerfile: str = "Dockerfile"
    port: int | None = None
    probes: tuple[Probe, ...] = ()
    output: str | None = None


@dataclass(frozen=True)
class ComposeSpec:
    """Bring the example's Compose stack up, wait for health and probe a service."""

    file: str = "compose.yaml"
    service: str = "web"
    port: int = 8000
    port_variable: str | None = None
    probes: tuple[Probe, ...] = ()


@dataclass(frozen=True)
class Contract:
    """What the verifier checks for one example."""

    path: Path
    image: ImageSpec | None = None
    compose: ComposeSpec | None = None


_PROBE_KEYS = {"path": str, "method": str, "body": str, "status": int,
               "contains": str, "json": dict}
_IMAGE_KEYS = {"dockerfile": str, "port": int, "probes": list, "output": str}
_COMPOSE_KEYS = {"file": str, "service": str, "port": int, "port_variable": str,
                 "probes": list}
_TOP_KEYS = {"image": dict, "compose": dict}


def load_contract(example_dir: Path) -> Contract:
    """Parse and validate `verify.toml` in `example_dir`."""
    path = example_dir / CONTRACT_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"{path}: missing; every example needs a {CONTRACT_FILE}") from None
    except tomllib.TOMLDecodeError as error:
        raise ContractError(f"{path}: invalid TOML: {error}") from None

    _check_keys(path, "", data, _TOP_KEYS)
    if not data:
        raise ContractError(f"{path}: empty; add an [image] or a [compose] table")
    image = compose = None
    if "image" in data:
        table = data["image"]
        _check_keys(path, "image", table, _IMAGE_KEYS)
        probes = _parse_probes(path, "image", table.get("probes", []))
        image = ImageSpec(**{**table, "probes": probes})
        if image.port is None and image.output is None:
            raise ContractError(f"{path}: [image] needs a port to probe or an expected output")
        if image.probes and image.port is None:
            raise ContractError(f"{path}: [image] has probes but no port")
    if "compose" in data:
        table = data["compose"]
        _check_keys(path, "compose", table, _COMPOSE_KEYS)
        probes = _parse_probes(path, "compose", table.get("probes", []))
        compose = ComposeSpec(**{**table, "probes": probes})
    return Contract(path=path, image=image, compose=compose)


def _parse_probes(path: Path, section: str, items: list) -> tuple[Probe, ...]:
    probes = []
    for index, item in enumerate(items):
        where = f"{section}.probes[{index}]"
        if not isinstance(item, dict):
            raise ContractError(f"{path}: {where} must be a table")
        _check_keys(path, where, item, _PROBE_KEYS)
        if "path" not in item:
            raise ContractError(f"{path}: {where} needs a path")
        probes.append(Probe(**item))
    return tuple(probes)


def _check_keys(path: Path, where: str, table: dict, allowed: dict[str, type]) -> None:
    prefix = f"[{where}] " if where else ""
    for key, value in table.items():
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise ContractError(f"{path}: {prefix}unknown key '{key}' (known: {known})")
        expected = allowed[key]
        # bool is a subclass of int in Python, but `port = true` is a mistake.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ContractError(
                f"{path}: {prefix}'{key}' must be {expected.__name__}, "
                f"not {type(value).__name__}"
            )
