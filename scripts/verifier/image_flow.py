"""Verify an [image] example: build, check the image, run it, probe it, stop it."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from . import checks
from .discover import Example, find_compared
from .engine import EXAMPLE_LABEL, Engine
from .probes import ProbeError
from .steps import STOP_GRACE, ExampleRun, StepFailed, no_step, send_probes


def image_tag(example: Example, run_id: str) -> str:
    """Return the tag that the run `run_id` gives the image of an [image] example.

    A tag of its own per run keeps parallel runs, in one checkout or several,
    from running each other's images. The run removes the tag at its end; the
    layers stay in BuildKit's cache for the next build.
    """
    return f"zero-to-hero/{example.slug}:verify-{run_id}"


def verify_image(run: ExampleRun, workdir: Path, planted: dict[str, bytes]) -> None:
    """Run the steps of an [image] contract; raise StepFailed at the first failure."""
    spec, engine, example = run.example.contract.image, run.engine, run.example
    timeouts = example.contract.timeouts
    wanted = example.contract.checks
    tag = image_tag(example, engine.run_id)
    with run.step("build") as details:
        started = time.monotonic()
        engine.build(workdir, spec.dockerfile, tag, example.name, timeout=timeouts.build,
                     no_cache=run.no_cache)
        # Without the layer cache, the time is that of a first build.
        key = "build_cold_seconds" if run.no_cache else "build_seconds"
        run.measurements[key] = time.monotonic() - started
        run.measurements["image_bytes"] = engine.image_size(tag)
        cache = "without the layer cache" if run.no_cache else "with the layer cache"
        details.append(f"{run.measurements['image_bytes'] / checks.MEGABYTE:.1f} MB, {cache}")
    if wanted.size:
        with run.step("size") as details:
            other = _other_image_bytes(run, wanted.size.smaller_than)
            details.append(checks.check_size(run.measurements["image_bytes"], wanted.size, other))
    if planted:
        with run.step("secrets") as details:
            details.append(checks.check_dockerignore(engine, tag, planted))
    if wanted.layer_reuse:
        with run.step("rebuild") as details:
            # A new value each run: a change BuildKit has seen before would come from its cache.
            with (workdir / wanted.layer_reuse.change).open("a", encoding="utf-8") as file:
                file.write(f"\n# A change to the application code only: {secrets.token_hex(8)}\n")
            started = time.monotonic()
            output = engine.build(workdir, spec.dockerfile, tag, example.name,
                                  timeout=timeouts.build)
            run.measurements["build_warm_seconds"] = time.monotonic() - started
            details.append(checks.check_layer_reuse(output, wanted.layer_reuse))

    name = f"verify-{example.slug}-{engine.run_id}"
    if spec.output is not None:
        with run.step("run") as details:
            output = engine.run_to_completion(tag, name, timeout=timeouts.start)
            if spec.output not in output:
                raise ProbeError(f"output lacks {spec.output!r}: {output[-300:]}")
            details.append(f"printed {spec.output!r}")
        return
    try:
        _run_and_probe(run, tag, name)
        if wanted.arbitrary_uid:
            with run.step("any-uid", logs=lambda: engine.logs(f"{name}-uid")) as details:
                _run_and_probe(run, tag, f"{name}-uid", user=checks.ARBITRARY_UID, record=False)
                details.append(f"answers when run as {checks.ARBITRARY_UID}")
        if wanted.stop_within:
            with run.step("stop", logs=lambda: engine.logs(name)) as details:
                seconds, code = engine.stop(name, grace=STOP_GRACE)
                run.measurements["stop_seconds"] = seconds
                details.append(checks.check_stop(seconds, code, wanted.stop_within))
    except StepFailed as failure:
        if run.keep:
            # The image carries the run's label too: clean-up by run id removes all of it.
            failure.removal_command = f"scripts/verify --cleanup {engine.run_id}"
            raise
        _remove(engine, name, example)
        raise
    except BaseException:
        _remove(engine, name, example)
        raise
    _remove(engine, name, example)


def _remove(engine: Engine, name: str, example: Example) -> None:
    """Remove the run's containers with their anonymous volumes, and images left untagged."""
    engine.docker("rm", "--force", "--volumes", name, f"{name}-uid", timeout=60, check=False,
                  cleaning_up=True)
    # A rebuild moves the tag to the new image: prune only the dangling images of this example.
    engine.docker("image", "prune", "--force", "--filter",
                  f"label={EXAMPLE_LABEL}={example.name}", timeout=60, check=False,
                  cleaning_up=True)


def _run_and_probe(run: ExampleRun, tag: str, name: str, user: str | None = None,
                   record: bool = True) -> None:
    spec, engine, wanted = run.example.contract.image, run.engine, run.example.contract.checks
    step = run.step if record else no_step
    with step("run", logs=lambda: engine.logs(name)) as details:
        started = time.monotonic()
        container = engine.start_container(tag, name, spec.port, user=user)
        engine.wait_healthy(container, timeout=run.example.contract.timeouts.start)
        if record:
            run.measurements["healthy_seconds"] = time.monotonic() - started
        details.append("healthy" if engine.health(container) else "running")
    with step("probe", logs=lambda: engine.logs(name)) as details:
        base_url = f"http://127.0.0.1:{engine.host_port(container, spec.port)}"
        details += send_probes(base_url, spec.probes, retry_first=True,
                               timeout=run.example.contract.timeouts.start)
    if record and wanted.non_root:
        with run.step("user") as details:
            details.append(checks.check_non_root(engine, container))
    if record and wanted.read_only:
        with run.step("read-only") as details:
            details.append(checks.check_read_only(engine, container, wanted.read_only))
    if record and wanted.healthchecks:
        with run.step("health") as details:
            details.append(checks.check_healthcheck(engine, container,
                                                    engine.image_config(tag).get("Healthcheck")))


def _other_image_bytes(run: ExampleRun, other_name: str | None) -> int | None:
    """Return the size of another example's image, built now from its current files.

    Building every time (from the layer cache, so quickly) keeps a tag left by
    an earlier run, or by another checkout, from standing in for the files.
    """
    if other_name is None:
        return None
    other = find_compared(run.example, other_name)
    if other is None or not other.contract.image:
        raise ProbeError(f"smaller_than names {other_name!r}, which is no [image] example")
    tag = f"{image_tag(other, run.engine.run_id)}-size"
    run.engine.build(other.path, other.contract.image.dockerfile, tag, other.name,
                     timeout=run.example.contract.timeouts.build)
    try:
        return run.engine.image_size(tag)
    finally:
        run.engine.docker("image", "rm", tag, timeout=60, check=False, cleaning_up=True)


