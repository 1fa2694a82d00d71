"""Verify one example: copy its folder, lint it, then run its image or Compose flow."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import checks
from .compose_flow import verify_compose
from .discover import Example
from .engine import Engine
from .image_flow import image_tag, verify_image
from .steps import ExampleRun, StepFailed, StepResult

__all__ = ["ExampleRun", "StepFailed", "StepResult", "image_tag", "verify_example"]


def verify_example(example: Example, engine: Engine,
                   on_step: Callable[[StepResult], None] = lambda result: None,
                   keep: bool = False, workspace: Path | None = None,
                   no_cache: bool = False) -> ExampleRun:
    """Verify one example in a fresh copy of its folder; raise StepFailed on failure.

    With `keep`, a failed example's containers and its copy stay for inspection:
    the StepFailed's `removal_command` removes them, `kept_folder` is the copy. The copy goes into
    a temporary folder under `workspace` (default: the system's temporary folder).
    With `no_cache`, images are built without the layer cache, to time first builds.
    """
    run = ExampleRun(example, engine, on_step, keep=keep, no_cache=no_cache)
    folder = Path(tempfile.mkdtemp(prefix=f"verify-{example.slug}-", dir=workspace))
    try:
        _verify_in(run, folder)
    except StepFailed as failure:
        if failure.removal_command:
            # A kept stack needs its Compose file and bind-mounted files to be inspected.
            copy = folder / example.path.name
            failure.kept_folder = copy if copy.is_dir() else example.path
        else:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return run


def _verify_in(run: ExampleRun, folder: Path) -> None:
    """Copy the example into `folder` (unless it builds in place), lint it, run its flow."""
    example = run.example
    image = example.contract.image
    if image and image.context:
        workdir = (example.path / image.context).resolve()
    else:
        try:
            workdir = _copy_example(example.path, Path(folder) / example.path.name)
        except OSError as error:
            # shutil.Error lists every file that it failed to copy, so name the first.
            first = error.args[0][0] if isinstance(error, shutil.Error) else error
            raise StepFailed(example.name, "copy",
                             f"{example.path}: cannot copy the folder: {first}") from None
    planted = {}
    if example.contract.checks.dockerignore:
        with run.step("plant") as details:
            planted = checks.plant_ignored_files(workdir)
            details.append(f"{len(planted)} secrets planted where .dockerignore applies")
    _lint(run, workdir)
    if example.contract.image:
        verify_image(run, workdir, planted)
    if example.contract.compose:
        verify_compose(run, workdir, planted)


def _copy_example(source: Path, target: Path) -> Path:
    # A reader starts from a copy of the folder and creates .env from the
    # example file, as the compose example's README tells them. The verifier does the same.
    shutil.copytree(source, target)
    env_example = target / ".env.example"
    if env_example.exists() and not (target / ".env").exists():
        shutil.copyfile(env_example, target / ".env")
    return target


def _lint(run: ExampleRun, workdir: Path) -> None:
    ignored = run.example.contract.checks.lint_ignore
    with run.step("lint") as details:
        if run.example.contract.compose:
            result = run.engine.compose("lint", workdir, run.example.contract.compose.file,
                                        "config", "--quiet", timeout=60)
            details.append(checks.check_compose_config(result.stderr))
        for dockerfile in _dockerfiles(run, workdir):
            # BuildKit first: on a parse error it names the line and the instruction,
            # where hadolint only names the column at which it stopped.
            output = run.engine.build_check(workdir, dockerfile.name,
                                            timeout=run.example.contract.timeouts.build)
            details.append(checks.check_build_warnings(output, dockerfile.name, ignored))
            details.append(checks.check_hadolint(dockerfile, ignored, subprocess.run))


def _dockerfiles(run: ExampleRun, workdir: Path) -> list[Path]:
    image = run.example.contract.image
    if image and image.context:
        # Building in place, only the contract's own Dockerfile belongs to the example.
        return [workdir / image.dockerfile]
    return sorted(workdir.glob("Dockerfile*"))
