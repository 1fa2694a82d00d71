"""Read the measurements file that the verifier writes and the pages quote.

`make test` runs the verifier, which builds and runs every example with a
Docker engine and writes what it measured to data/measurements.json. The site
build only reads that file. A missing file, an unknown example or a missing
measurement raises MeasurementsError, with a message that names the file and
the key.
"""

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

# The verifier's output, relative to the folder of mkdocs.yml (the repository root).
MEASUREMENTS_FILE = "data/measurements.json"

# Appended to the error messages: how to get a file that has what a page shows.
REMEDY = (
    "Run `make test` with a Docker engine to measure the examples, or remove "
    "the macro that shows this value from the page"
)

# Suffixes of the keys that hold a measurement, and the JSON types each allows.
# bool is excluded separately, because Python counts it as an int.
MEASUREMENT_TYPES = {"_bytes": (int,), "_seconds": (int, float)}


class MeasurementsError(ValueError):
    """A measurements file that is missing or invalid, or lacks a value a page shows."""


@dataclass(frozen=True)
class ExampleMeasurements:
    """The verifier's record of one example: when, with which engine, and the measured values."""

    source: Path
    name: str
    verified_at: datetime.datetime
    engine: str
    os: str
    base_images: tuple[str, ...]
    substitute_base_images: tuple[str, ...]
    buildx: str | None = None
    compose: str | None = None
    values: dict[str, int | float] = field(default_factory=dict)

    def get(self, key: str) -> int | float | None:
        """Return a measurement such as "image_bytes", or None if it was not measured."""
        return self.values.get(key)

    def require(self, key: str) -> int | float:
        """Return a measurement, or raise MeasurementsError if it was not measured."""
        if key not in self.values:
            measured = ", ".join(sorted(self.values)) or "none"
            raise MeasurementsError(
                f"{self.source}: measurement {key!r} of example {self.name!r} is missing "
                f"(measured: {measured}). {REMEDY}."
            )
        return self.values[key]


@dataclass(frozen=True)
class MeasurementsFile:
    """The parsed measurements file: one entry per example, by name such as docker/multi-stage."""

    path: Path
    examples: dict[str, dict]

    @classmethod
    def read(cls, path: Path) -> "MeasurementsFile":
        """Parse the file at `path`, or raise MeasurementsError if it is missing or invalid."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise MeasurementsError(
                f"{path} not found. The verifier writes it: run `make test` with a "
                f"Docker engine, or restore the committed {MEASUREMENTS_FILE} from git"
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise MeasurementsError(f"{path}: invalid JSON: {error}") from None
        examples = data.get("examples") if isinstance(data, dict) else None
        if not isinstance(examples, dict):
            raise MeasurementsError(
                f"{path}: the top level must be an object with an \"examples\" object"
            )
        return cls(path=path, examples=examples)

    def example(self, name: str) -> ExampleMeasurements:
        """Return the entry of example `name`, or raise MeasurementsError if it is absent."""
        entry = self.examples.get(name)
        if entry is None:
            known = ", ".join(sorted(self.examples)) or "none"
            raise MeasurementsError(
                f"{self.path}: example {name!r} not found under \"examples\" (found: {known}). "
                f"Check the example name in the page. {REMEDY}."
            )
        if not isinstance(entry, dict):
            raise MeasurementsError(f"{self.path}: example {name!r} must be an object")
        return ExampleMeasurements(
            source=self.path,
            name=name,
            verified_at=self._timestamp(name, entry),
            engine=self._text(name, entry, "engine"),
            os=self._text(name, entry, "os"),
            base_images=self._images(name, entry, "base_images"),
            substitute_base_images=self._images(name, entry, "substitute_base_images"),
            buildx=self._text(name, entry, "buildx", required=False),
            compose=self._text(name, entry, "compose", required=False),
            values=self._values(name, entry),
        )

    def _field(self, name: str, entry: dict, key: str) -> object:
        if key not in entry:
            raise MeasurementsError(
                f"{self.path}: {key!r} of example {name!r} is missing. {REMEDY}."
            )
        return entry[key]

    def _invalid(self, name: str, key: str, expected: str, value: object) -> MeasurementsError:
        return MeasurementsError(
            f"{self.path}: {key!r} of example {name!r} must be {expected}, not {value!r}"
        )

    def _text(self, name: str, entry: dict, key: str, required: bool = True) -> str | None:
        if not required and key not in entry:
            return None
        value = self._field(name, entry, key)
        if not isinstance(value, str) or not value.strip():
            raise self._invalid(name, key, "a non-empty string", value)
        return value

    def _timestamp(self, name: str, entry: dict) -> datetime.datetime:
        value = self._text(name, entry, "verified_at")
        try:
            timestamp = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise self._invalid(name, "verified_at", "an ISO 8601 date and time", value) from None
        if timestamp.tzinfo is None:
            raise self._invalid(name, "verified_at", "a time with its UTC offset", value)
        return timestamp

    def _images(self, name: str, entry: dict, key: str) -> tuple[str, ...]:
        value = self._field(name, entry, key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._invalid(name, key, "a list of image names", value)
        return tuple(value)

    def _values(self, name: str, entry: dict) -> dict[str, int | float]:
        values = {}
        for key, value in entry.items():
            suffix = next((suffix for suffix in MEASUREMENT_TYPES if key.endswith(suffix)), None)
            if suffix is None:
                continue
            allowed = MEASUREMENT_TYPES[suffix]
            if isinstance(value, bool) or not isinstance(value, allowed) or value < 0:
                expected = "a whole number" if allowed == (int,) else "a number"
                raise self._invalid(name, key, f"{expected}, 0 or more", value)
            values[key] = value
        return values
