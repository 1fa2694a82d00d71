"""Read an example's contract: the `verify.toml` file that lists what to check.

The format is documented in CONTRIBUTING.md. Every table rejects unknown keys
and values of the wrong type, so a typo fails loudly instead of disabling a check.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CONTRACT_FILE = "verify.toml"


class ContractError(Exception):
    """A contract file that is missing, unreadable or invalid."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Probe(_Table):
    """One HTTP request to a running example and what its response must contain.

    `{token}` in `path`, `body`, `contains` or `json` is replaced by a value
    unique to the run, so data left over from an earlier run cannot satisfy it.
    """

    path: str
    method: str = "GET"
    body: str | None = None
    status: int = 200
    contains: str | None = None
    json_: dict[str, str | int | bool | None] = Field(default_factory=dict, alias="json")


class ImageSpec(_Table):
    """Build the example's Dockerfile, run the image and probe it."""

    dockerfile: str = "Dockerfile"
    # The build context, relative to the contract's folder. Set it only for an
    # image built from outside its example folder, such as the site's own image:
    # the verifier then builds in place instead of in a copy of the folder.
    context: str | None = None
    port: int | None = None
    probes: list[Probe] = Field(default_factory=list)
    output: str | None = None

    @model_validator(mode="after")
    def _needs_something_to_check(self) -> ImageSpec:
        if self.port is None and self.output is None:
            raise ValueError("needs a port to probe or an expected output")
        if self.probes and self.port is None:
            raise ValueError("has probes but no port")
        return self


class ComposeSpec(_Table):
    """Bring the example's Compose stack up, wait for health and probe a service."""

    file: str = "compose.yaml"
    service: str = "web"
    port: int = 8000
    port_variable: str | None = None
    probes: list[Probe] = Field(default_factory=list)


class SizeBudget(_Table):
    """A maximum image size, and how much smaller than another example's image it must be."""

    max_mb: float | None = None
    smaller_than: str | None = None
    factor: float = Field(default=1.0, gt=0)


class LayerReuse(_Table):
    """After a change to `change` only, the RUN step containing `layer` comes from cache."""

    change: str
    layer: str


class Persistence(_Table):
    """Data written in a stack's first life survives `down` + `up`, and not `down -v`."""

    write: Probe
    read: Probe
    gone: Probe


class Checks(_Table):
    """Claims the chapter makes about the example, each verified by a check."""

    non_root: bool = False
    arbitrary_uid: bool = False
    # Folders the container's user must not be able to write to, such as the app's code.
    read_only: list[str] = Field(default_factory=list)
    size: SizeBudget | None = None
    layer_reuse: LayerReuse | None = None
    stop_within: float | None = Field(default=None, gt=0)
    dockerignore: bool = False
    healthchecks: bool = False
    persistence: Persistence | None = None
    # Rule codes of hadolint (DL3008) or BuildKit build checks (FromAsCasing),
    # each with the reason why the example keeps the flagged line.
    lint_ignore: dict[str, str] = Field(default_factory=dict)


class Timeouts(_Table):
    """Seconds a step may take before the verifier stops it and reports a timeout."""

    build: float = Field(default=900, gt=0)
    start: float = Field(default=120, gt=0)


class Contract(_Table):
    """The checks the verifier runs for one example."""

    path: Path
    image: ImageSpec | None = None
    compose: ComposeSpec | None = None
    checks: Checks = Checks()
    timeouts: Timeouts = Timeouts()

    @model_validator(mode="after")
    def _needs_image_or_compose(self) -> Contract:
        if self.image is None and self.compose is None:
            raise ValueError("needs an [image] or a [compose] table")
        if self.checks.persistence and self.compose is None:
            raise ValueError("[checks] persistence needs a [compose] table")
        if self.image and self.image.context and (self.checks.dockerignore or self.compose):
            raise ValueError("[image] context cannot be combined with [compose] or "
                             "dockerignore, which work on a copy of the example folder")
        return self


def load_contract(example_dir: Path) -> Contract:
    """Parse and validate `verify.toml` in `example_dir`."""
    path = example_dir / CONTRACT_FILE
    try:
        # utf-8-sig: a byte order mark, which some editors add, is not a TOML error.
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ContractError(f"{path}: missing; every example needs a {CONTRACT_FILE}") from None
    except UnicodeDecodeError:
        raise ContractError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ContractError(f"{path}: invalid TOML: {error}") from None
    try:
        return Contract.model_validate({**data, "path": path})
    except ValidationError as error:
        raise ContractError(f"{path}: {_describe(error)}") from None


def _describe(error: ValidationError) -> str:
    """Turn pydantic's first error into one line such as `[image] 'port': ...`."""
    first = error.errors()[0]
    *table, key = first["loc"] or ("",)
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in table)
    where = f"[{where.lstrip('.')}] " if where else ""
    if isinstance(key, int):
        where, key = where.rstrip("] ") + f"[{key}]] ", ""
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        return f"{where}unknown key '{key}'"
    return f"{where}'{key}': {message}" if key else f"{where}{message}"
