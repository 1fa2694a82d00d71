"""Write what a verifier run measured to the data file that the site renders.

The file is the only thing the site reads from the verifier: image sizes, build
times, time until healthy and stop times per example, with the engine version,
the date, and whether the base images were local substitutes.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from .discover import REPOSITORY_ROOT
from .engine import Engine

MEASUREMENTS_FILE = REPOSITORY_ROOT / "data" / "measurements.json"


def engine_facts(engine: Engine) -> dict[str, str]:
    """Return the versions of the engine, Buildx and Compose that ran the examples."""
    version = json.loads(engine.docker("version", "--format", "{{json .}}", timeout=30).stdout)
    server = version.get("Server") or {}
    return {
        "engine": server.get("Version", "unknown"),
        "os": f"{server.get('Os', '?')}/{server.get('Arch', '?')}",
        "buildx": engine.docker("buildx", "version", timeout=30).stdout.split()[1],
        "compose": engine.docker("compose", "version", "--short", timeout=30).stdout.strip(),
    }


def write_measurements(
    results: dict[str, dict[str, float]],
    base_images: dict[str, dict[str, bool]],
    engine: Engine,
    path: Path = MEASUREMENTS_FILE,
) -> None:
    """Merge this run's measurements into `path`; examples not run keep their old entry.

    `results` maps an example name to its measurements, and `base_images` maps
    it to its base images, each with whether it was a local substitute.
    """
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    facts = engine_facts(engine)
    examples = data.get("examples", {})
    for name, measured in sorted(results.items()):
        examples[name] = {
            "verified_at": now,
            **facts,
            "base_images": sorted(base_images.get(name, {})),
            "substitute_base_images": sorted(
                image for image, substitute in base_images.get(name, {}).items() if substitute
            ),
            **{key: _rounded(key, value) for key, value in sorted(measured.items())},
        }
    data = {"updated_at": now, **facts, "examples": dict(sorted(examples.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _rounded(key: str, value: float) -> float | int:
    return int(value) if key.endswith("_bytes") else round(value, 1)
