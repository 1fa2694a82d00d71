"""Command line: verify examples with the Docker engine and print each step."""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from .contract import ContractError
from .discover import EXAMPLES_ROOT, discover_examples
from .engine import Engine
from .preflight import docker_problem
from .report import format_step, print_summary, use_colour
from .runner import StepFailed, verify_example

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_ENGINE = 0, 1, 2, 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/verify",
        description="Build, run and probe the course's examples with the Docker engine.",
        epilog="Exit codes: 0 all passed, 1 an example failed, 2 invalid arguments or "
               "contract, 3 no usable Docker engine.",
    )
    parser.add_argument("examples", nargs="*", type=Path, metavar="EXAMPLE",
                        help="example folders to verify (default: every folder under examples/)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print the docker commands run for each example")
    return parser.parse_args(argv)


def select_examples(paths: list[Path]):
    examples = discover_examples(EXAMPLES_ROOT)
    if not paths:
        return examples
    wanted = {path.resolve() for path in paths}
    selected = [example for example in examples if example.path.resolve() in wanted]
    unknown = wanted - {example.path.resolve() for example in selected}
    if unknown:
        raise ContractError(f"{sorted(unknown)[0]}: not an example folder (no verify.toml)")
    return selected


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        examples = select_examples(args.examples)
    except ContractError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    problem = docker_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_NO_ENGINE

    engine = Engine(run_id=secrets.token_hex(3))
    colour = use_colour(sys.stdout)
    passed, failed = [], []
    try:
        for example in examples:
            try:
                verify_example(example, engine,
                               on_step=lambda result: print(format_step(result, colour), flush=True))
                passed.append(example.name)
            except StepFailed as failure:
                failed.append(example.name)
                print(f"ERROR {failure}", file=sys.stderr)
                print(failure.logs, file=sys.stderr, end="")
            if args.verbose:
                print("\n".join(f"> {command}" for command in engine.commands))
                engine.commands.clear()
    finally:
        engine.remove_run_resources()
    print_summary(passed, failed)
    return EXIT_FAILED if failed else EXIT_OK
