"""Command line: verify examples with the Docker engine and print each step."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import report
from .cleanup import WORKSPACE_PREFIX, new_run_id, remove_left_runs
from .contract import ContractError
from .discover import EXAMPLES_ROOT, REPOSITORY_ROOT, base_images, discover_examples
from .engine import SUBSTITUTE_LABEL, Engine, EngineError
from .measurements import MEASUREMENTS_FILE, write_measurements
from .preflight import docker_problem
from .reuse import PassStore, example_keys, read_environment, store_path
from .runner import StepFailed, StepResult, verify_example
from .selection import (
    SelectionError,
    affected,
    by_paths,
    changed_files,
    parse_shard,
    shard,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_ENGINE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

EPILOG = """\
exit codes:
  0    every selected example passed (or nothing was selected)
  1    at least one example failed
  2    invalid arguments, contract or selection
  3    no usable Docker engine (with Compose v2 and Buildx)
  130  interrupted (SIGINT or SIGTERM); what the run created was removed
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/verify",
        description="Build, run and probe the course's examples with the Docker engine.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    selection = parser.add_argument_group("which examples")
    selection.add_argument("examples", nargs="*", type=Path, metavar="EXAMPLE",
                           help="example folders to verify (default: every example under "
                                "the root folder)")
    selection.add_argument("--root", type=Path, default=EXAMPLES_ROOT, metavar="DIR",
                           help="folder to discover examples under; an example's name is its "
                                "path relative to DIR (default: examples/)")
    selection.add_argument("--changed", nargs="?", const="main", metavar="REF",
                           help="verify only the examples affected by changes since the git "
                                "reference REF (default: main), committed or not")
    selection.add_argument("--shard", metavar="I/N",
                           help="verify only shard I of N, split by example name")

    running = parser.add_argument_group("how to run them")
    running.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N",
                         help="verify N examples at a time (default: the number of cores, "
                              f"{os.cpu_count() or 1} here)")
    running.add_argument("--keep", action="store_true",
                         help="leave a failed example's containers running and print how to "
                              "remove them")
    running.add_argument("--rerun", action="store_true",
                         help="verify every selected example again, even one whose files, "
                              "base images and tools are those of an earlier pass")
    running.add_argument("--no-cache", action="store_true",
                         help="build images without the layer cache, to time first builds; "
                              "implies --rerun")
    running.add_argument("--cleanup", nargs="?", const="", metavar="RUN",
                         help="remove every container, network, volume and image left by "
                              "earlier runs whose process has ended (or by the run RUN only, "
                              "as a --keep run prints it), then exit")

    output = parser.add_argument_group("what to write")
    output.add_argument("--measure", action="store_true",
                        help="write what the passing examples measured to "
                             "data/measurements.json, which the pages render; implies "
                             "--no-cache, so build times are those of first builds")
    output.add_argument("--junit-xml", type=Path, metavar="FILE",
                        help="also write the results as JUnit XML to FILE")
    output.add_argument("--markdown", type=Path, metavar="FILE",
                        help="also write a Markdown summary to FILE (for a CI job summary)")
    output.add_argument("-v", "--verbose", action="store_true",
                        help="print each docker command, and the output of failed steps in full")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)

    if args.jobs < 1:
        parser.error("--jobs must be 1 or more")
    if args.cleanup is not None and (args.keep or args.examples or args.changed or args.shard):
        parser.error("--cleanup removes what every earlier run left and verifies nothing: "
                     "use it alone")
    if not args.root.is_dir():
        parser.error(f"--root {args.root}: no such folder")
    args.no_cache = args.no_cache or args.measure
    args.rerun = args.rerun or args.no_cache
    return args


def select(args: argparse.Namespace):
    """Return the examples to verify and the pages affected by --changed."""
    if args.examples:
        examples = by_paths(args.root, args.examples)
    else:
        examples = discover_examples(args.root)
    pages: list[str] = []
    if args.changed:
        # git names changed files by their path in the repository, so examples outside
        # it cannot be matched against them.
        if not args.root.resolve().is_relative_to(REPOSITORY_ROOT):
            raise SelectionError(f"--changed needs a --root inside the repository, "
                                 f"not {args.root}")
        examples, pages = affected(examples, changed_files(args.changed))
    if args.shard is not None:
        examples = shard(examples, *parse_shard(args.shard))
    return examples, pages


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.cleanup is not None:
        return cleanup(args.cleanup or None)
    try:
        examples, pages = select(args)
    except (ContractError, SelectionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.changed:
        print(f"changed since {args.changed}: {len(examples)} examples, "
              f"{len(pages)} pages ({', '.join(pages) or 'none'})")
    if not examples:
        print("nothing to verify")
        return EXIT_OK
    problem = docker_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_NO_ENGINE
    return run(examples, args)


def run(examples, args: argparse.Namespace) -> int:
    engine = Engine(run_id=new_run_id())
    root = _shown_path(args.root)
    option = "" if args.root == EXAMPLES_ROOT else f" --root {root}"
    printer = report.Printer(sys.stdout, verbose=args.verbose,
                             rerun=f"scripts/verify -v{option} {root}/")
    outcomes: dict[str, report.Outcome] = {}
    # Every pass is recorded; only a run without --rerun reuses the recorded ones.
    store = PassStore(store_path(args.root))
    environment = read_environment(engine)
    keys = example_keys(examples, environment)
    workspace = Path(tempfile.mkdtemp(prefix=f"{WORKSPACE_PREFIX}{engine.run_id}-"))
    interrupted = threading.Event()

    def verify(example) -> None:
        outcome = report.Outcome(example.name)
        outcomes[example.name] = outcome
        earlier = None if args.rerun else store.find(example, keys[example.name])
        if earlier:
            outcome.reused = True
            printer.step(StepResult(example.name, "reuse", True, 0.0,
                                    f"{earlier.describe()}; --rerun verifies it again"), outcome)
            return
        try:
            result = verify_example(example, engine,
                                    on_step=lambda step: printer.step(step, outcome),
                                    keep=args.keep, workspace=workspace, no_cache=args.no_cache)
            outcome.measurements = result.measurements
            # A file changed during the run was perhaps not what the run verified.
            if example_keys([example], environment)[example.name] == keys[example.name]:
                store.record(example, keys[example.name], outcome.seconds)
            else:
                store.forget(example)
        except (StepFailed, EngineError) as error:
            # An EngineError comes from a docker command between two steps.
            failure = error if isinstance(error, StepFailed) else StepFailed(
                example.name, "engine", str(error), error.output)
            outcome.failure = failure
            store.forget(example)
            if not interrupted.is_set():
                printer.failure(failure)

    previous = _stop_on_sigterm()
    executor = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        # The longest examples start first, so that a short one never holds up the end.
        ordered = sorted(examples, key=store.expected_seconds, reverse=True)
        for future in [executor.submit(verify, example) for example in ordered]:
            future.result()
    except KeyboardInterrupt:
        interrupted.set()
        printer.silenced = True
        print("interrupted: stopping docker commands and removing what this run created",
              file=sys.stderr)
        engine.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
    finally:
        executor.shutdown(wait=True)
        signal.signal(signal.SIGTERM, previous)
        left_running = any(o.failure and o.failure.removal_command for o in outcomes.values())
        # A kept run's containers and work folder stay until `--cleanup RUN`.
        if not (args.keep and left_running) or interrupted.is_set():
            engine.remove_run_resources()
            shutil.rmtree(workspace, ignore_errors=True)
        if args.verbose:
            printer.commands(engine.commands)

    results = [outcomes[example.name] for example in examples if example.name in outcomes]
    printer.summary(results, interrupted=interrupted.is_set())
    if args.measure:
        write_run_measurements(engine, examples, results)
    if args.junit_xml:
        report.write_junit(results, args.junit_xml)
    if args.markdown:
        report.write_markdown(results, args.markdown)
    if interrupted.is_set():
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any(outcome.failure for outcome in results) else EXIT_OK


def write_run_measurements(engine: Engine, examples, results) -> None:
    """Write the measurements of the examples that passed to the site's data file."""
    passed = {outcome.example: outcome.measurements for outcome in results
              if outcome.failure is None}
    images = {example.name: {image: engine.image_label(image, SUBSTITUTE_LABEL) == image
                             for image in base_images(example)}
              for example in examples if example.name in passed}
    write_measurements(passed, images, engine)
    print(f"measurements of {len(passed)} examples written to "
          f"{MEASUREMENTS_FILE.relative_to(MEASUREMENTS_FILE.parents[1])}")


def _stop_on_sigterm():
    """Treat SIGTERM like Ctrl+C, so a CI cancel cleans up too; return the old handler.

    SIGINT gets Python's own handler back too: a process started in the background
    by a non-interactive shell inherits SIGINT as ignored.
    """
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return signal.signal(signal.SIGTERM, interrupt)


def _shown_path(path: Path) -> str:
    """Return `path` relative to the working folder when it lies inside it."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def cleanup(only: str | None) -> int:
    problem = docker_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_NO_ENGINE
    remove_left_runs(Engine(run_id="cleanup"), sys.stdout, only)
    return EXIT_OK
