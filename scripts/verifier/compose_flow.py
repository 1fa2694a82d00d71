"""Verify a [compose] example: bring the stack up, check it, probe it, tear it down."""

from __future__ import annotations

import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import checks
from .engine import Engine, EngineError
from .steps import STOP_GRACE, ExampleRun, StepFailed, send_probes


def verify_compose(run: ExampleRun, workdir: Path, planted: dict[str, bytes]) -> None:
    """Run the steps of a [compose] contract; raise StepFailed at the first failure."""
    spec, engine, example = run.example.contract.compose, run.engine, run.example
    timeouts = example.contract.timeouts
    wanted = example.contract.checks
    project = f"verify-{example.slug}-{engine.run_id}"
    env = {spec.port_variable: "0"} if spec.port_variable else {}

    override = engine.write_label_override(workdir, spec.file,
                                           workdir.parent / "verify-labels.yaml", env=env)
    files = [spec.file, str(override)]

    def compose(*args: str, timeout: float = 120, check: bool = True):
        return engine.compose(project, workdir, files, *args,
                              timeout=timeout, env=env, check=check)

    def up(step: str, build: bool = False) -> None:
        with run.step(step, logs=lambda: engine.compose_health_report(project)) as details:
            started = time.monotonic()
            # The first life builds; later lives start the images it built.
            # Compose takes whole seconds: a contract's `start = 60` reads as 60.0, invalid here.
            compose("up", *(["--build"] if build else ["--no-build"]), "--detach", "--wait",
                    "--wait-timeout", f"{max(timeouts.start, 1):.0f}",
                    timeout=timeouts.build + timeouts.start)
            run.measurements.setdefault("up_seconds", time.monotonic() - started)
            details.append("every service healthy")

    def probe(step: str, probes, token: str) -> None:
        def logs() -> str:
            return compose("logs", "--tail", "20", check=False).stdout

        with run.step(step, logs=logs) as details:
            address = compose("port", spec.service, str(spec.port)).stdout.strip()
            details += send_probes(f"http://{address}", probes, retry_first=False,
                                   timeout=timeouts.start, token=token)

    try:
        up("up", build=True)
        containers = engine.compose_containers(project)
        built = _built_services(compose)
        if wanted.healthchecks:
            with run.step("health") as details:
                for service, container in sorted(containers.items()):
                    healthcheck = _container_healthcheck(engine, container)
                    details.append(f"{service}: "
                                   + checks.check_healthcheck(engine, container, healthcheck))
        probe("probe", spec.probes, secrets.token_hex(8))
        if wanted.non_root:
            with run.step("user") as details:
                for service in built:
                    details.append(f"{service}: "
                                   + checks.check_non_root(engine, containers[service]))
        if wanted.read_only:
            with run.step("read-only") as details:
                for service in built:
                    details.append(f"{service}: " + checks.check_read_only(
                        engine, containers[service], wanted.read_only))
        # The scan reads whole images, so it runs while the persistence check
        # waits for the stack to come back up.
        images = {service: container_image(engine, containers[service]) for service in built}
        scans = ThreadPoolExecutor(max_workers=1)
        scan = scans.submit(_scan_images, engine, images, planted)
        try:
            if wanted.persistence:
                _check_persistence(run, project, compose, up, probe)
        finally:
            scans.shutdown(wait=True)
        if planted:
            with run.step("secrets") as details:
                details += scan.result()
        if wanted.stop_within:
            with run.step("stop") as details:
                started = time.monotonic()
                compose("stop", "--timeout", str(STOP_GRACE), timeout=STOP_GRACE + 60)
                seconds = time.monotonic() - started
                run.measurements["stop_seconds"] = seconds
                for service, container in sorted(containers.items()):
                    code = engine.docker("inspect", "--format", "{{.State.ExitCode}}", container,
                                         timeout=30).stdout
                    details.append(f"{service}: " + checks.check_stop(
                        seconds, int(code), wanted.stop_within))
    except StepFailed as failure:
        if run.keep:
            failure.removal_command = f"scripts/verify --cleanup {engine.run_id}"
            raise
        _tear_down(run, compose, project, failing=True)
        raise
    _tear_down(run, compose, project, failing=False)


def _scan_images(engine: Engine, images: dict[str, str],
                 planted: dict[str, bytes]) -> list[str]:
    """Look for the planted files in each built service's image; raise CheckFailed."""
    if not planted:
        return []
    return [f"{service}: " + checks.check_dockerignore(engine, image, planted)
            for service, image in sorted(images.items())]


def _check_persistence(run: ExampleRun, project: str, compose, up, probe) -> None:
    """Write, then read after `down` + `up`, then find nothing after `down -v` + `up`."""
    persistence = run.example.contract.checks.persistence
    token = secrets.token_hex(8)
    probe("write", [persistence.write], token)
    with run.step("down"):
        # `down` keeps volumes, and so orphans the anonymous ones of an image's
        # VOLUME lines, which carry no label: remove those by name.
        containers = run.engine.compose_containers(project).values()
        anonymous = run.engine.anonymous_volumes(list(containers))
        compose("down")
        if anonymous:
            run.engine.docker("volume", "rm", "--force", *anonymous, timeout=60)
    up("up-again")
    probe("kept", [persistence.read], token)
    with run.step("down-v"):
        compose("down", "--volumes")
    up("up-fresh")
    probe("gone", [persistence.gone], token)


def _built_services(compose) -> list[str]:
    document = json.loads(compose("config", "--format", "json").stdout)
    return sorted(name for name, service in document["services"].items() if "build" in service)


def container_image(engine: Engine, container: str) -> str:
    return engine.docker("inspect", "--format", "{{.Image}}", container, timeout=30).stdout.strip()


def _container_healthcheck(engine: Engine, container: str) -> dict | None:
    result = engine.docker("inspect", "--format", "{{json .Config.Healthcheck}}", container,
                           timeout=30)
    return json.loads(result.stdout or "null")


def _tear_down(run: ExampleRun, compose, project: str, failing: bool) -> None:
    """Remove the stack with its volumes; a clean-up error never hides the first failure.

    Only the project's resources are removed: other examples of the same run
    may still be running in parallel.
    """
    project_label = f"label=com.docker.compose.project={project}"
    try:
        with run.step("down") as details:
            compose("down", "--volumes", "--remove-orphans", "--rmi", "local")
            # A rebuild in a later life of the stack leaves the earlier image untagged.
            run.engine.docker("image", "prune", "--force", "--filter", project_label,
                              timeout=60, cleaning_up=True)
            left = run.engine.remove_labelled([project_label])
            if left:
                raise EngineError(f"'compose down' left {', '.join(left)}")
            details.append("containers, networks, volumes and built images removed")
    except StepFailed:
        if not failing:
            raise
        run.engine.remove_labelled([project_label])


