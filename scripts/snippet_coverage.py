"""Check that every code block of the site is verified or marked illustrative.

A fenced code block on a page under docs/ passes when it is one of:

- included: its body is only pymdownx.snippets lines, `--8<-- "examples/..."`
  or `--8<-- "examples/...:section"`, naming files of an example folder (a
  folder under examples/ with a verify.toml, which the verifier runs);
- replayed: a shell block marked `{ .bash data-replay="scenario" }`, whose
  scenario is one that the replay tests run (REPLAYED_SCENARIOS in
  tests/replay/scenarios.py);
- illustrative: a block marked `{ .bash .illustrative data-reason="why" }`,
  which the site shows as not run by the tests, with the reason.

The check also fails on a file under examples/ that no page includes and that
the exemption list does not name, on an include of a missing file or section,
and on an include that selects lines by number.

Run it from anywhere: python scripts/snippet_coverage.py [--root PATH]
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import runpy
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from markdown.extensions.attr_list import get_attrs_and_remainder

REPO_ROOT = Path(__file__).resolve().parents[1]

# Run as a script, this file's folder is on sys.path; imported by the tests,
# scripts/ is on pytest's path.
from markdown_fences import (  # noqa: E402
    INCLUDE_LINE,
    OPENING_FENCE,
    SECTION_MARKER,
    Fence,
    include_targets,
    read_fences,
    split_target,
)

# The verifier runs a folder under examples/ that contains this file. The same
# name is CONTRACT_FILE in scripts/verifier/contract.py, which the site side
# does not import.
CONTRACT_FILE = "verify.toml"

# Both paths are relative to the root that the check runs on.
EXEMPTIONS_FILE = "scripts/snippet_coverage_exemptions.toml"
SCENARIOS_FILE = "tests/replay/scenarios.py"

# Languages of a block that a replay test can run as shell commands.
REPLAY_LANGUAGES = {"bash", "sh", "shell"}

# A fence's info string as pymdownx.superfences reads it: an optional
# language, then either an attribute list in braces or options such as
# title="...". Attribute names may contain "-", option names may not.
INFO = re.compile(
    r"^(?:\.?(?P<lang>[\w#.+-]+)(?=[ \t]|$))?[ \t]*(?:\{(?P<attrs>.*)\}|(?P<options>.*))$"
)
OPTIONS = re.compile(r"""(?:[a-zA-Z][a-zA-Z0-9_]*(?:=(?:"[^"]*"|'[^']*'))?(?:[ \t]+|$))*""")

# A line that pymdownx.snippets treats as an include, in any of its forms:
# a quoted path in single or double quotes, or the marker alone that opens
# and closes a block of paths. A leading `;` escapes the line.
ANY_SNIPPET_LINE = re.compile(r"^[ \t]*-+8<-+(?:[ \t]|$)")

# A section name that pymdownx.snippets accepts after the path.
SECTION_NAME = re.compile(r"^[a-z][-_0-9a-z]*$", re.IGNORECASE)

# Characters that pymdownx.highlight copies into the page's HTML attribute
# without escaping them, so a reason that contains one breaks the page.
UNSAFE_REASON_CHARACTERS = set('"<>&')


@dataclass(frozen=True)
class Problem:
    """A failure of the check, at a line of a file relative to the root."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block of a page, with what superfences reads from its info string."""

    fence: Fence
    page: str
    language: str
    classes: tuple[str, ...]
    attributes: dict[str, str]
    # Set when superfences cannot read the info string.
    info_error: str | None = None

    @property
    def line(self) -> int:
        return self.fence.line


@dataclass(frozen=True)
class Verdict:
    """The coverage of a code block: "included", "replayed", "illustrative" or "unverified"."""

    block: CodeBlock
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class Exemption:
    """Example files that no page has to include, and the reason."""

    patterns: tuple[str, ...]
    reason: str


@dataclass
class Report:
    """The verdict on every code block, and every problem found."""

    verdicts: list[Verdict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def count(self, *kinds: str) -> int:
        return sum(1 for verdict in self.verdicts if verdict.kind in kinds)

    @property
    def passed(self) -> bool:
        return not self.problems

    def coverage_line(self) -> str:
        total = len(self.verdicts)
        verified = self.count("included", "replayed")
        if total == 0:
            return "coverage: no code blocks"
        # Rounded down, so that 100% means every block.
        return f"coverage: {verified} of {total} blocks verified ({verified * 100 // total}%)"


class ConfigurationError(Exception):
    """An exemption list or a scenario list that cannot be read."""


# Reading the pages


def find_pages(docs_dir: Path) -> list[Path]:
    """Return the Markdown pages under docs_dir, without hidden files and folders.

    MkDocs leaves out files and folders whose names start with a dot.
    """
    return sorted(
        page for page in docs_dir.rglob("*.md")
        if not any(part.startswith(".") for part in page.relative_to(docs_dir).parts)
    )


def read_blocks(page: Path, root: Path) -> list[CodeBlock]:
    """Return the fenced code blocks of a page."""
    lines = page.read_text(encoding="utf-8").splitlines()
    page_name = relative(page, root)
    blocks = []
    for fence in read_fences(page):
        info = OPENING_FENCE.match(lines[fence.line - 1]).group("info")
        parsed = parse_info(info)
        if parsed is None:
            blocks.append(CodeBlock(fence, page_name, "", (), {}, info_error=(
                f"invalid fence info string {info!r}: write a language, then either "
                'attributes in braces, as in ```bash { .bash data-replay="step-1" }, '
                'or options, as in ```python title="examples/..."'
            )))
        else:
            blocks.append(CodeBlock(fence, page_name, *parsed))
    return blocks


def parse_info(info: str) -> tuple[str, tuple[str, ...], dict[str, str]] | None:
    """Split a fence's info string into language, classes and attributes, or return None.

    As in pymdownx.superfences, a block without a language before the braces
    takes its first class as the language.
    """
    match = INFO.match(info.strip())
    if not match or not OPTIONS.fullmatch(match.group("options") or ""):
        return None
    language = match.group("lang") or ""
    classes: list[str] = []
    attributes: dict[str, str] = {}
    if match.group("attrs") is not None:
        pairs, remainder = get_attrs_and_remainder(match.group("attrs"))
        if remainder:
            return None
        for name, value in pairs:
            if name == ".":
                classes.append(value)
            elif name != "id":
                attributes[name] = value or ""
        if not language and classes:
            language = classes.pop(0)
    return language.lower(), tuple(classes), attributes


def relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


# Includes


def check_includes(
    page: Path, root: Path, examples_dir: Path
) -> tuple[dict[int, Problem], set[Path]]:
    """Check each include line of a page, wherever it is on the page.

    Return the problems by line number, and the existing files that includes name.
    """
    page_name = relative(page, root)
    problems: dict[int, Problem] = {}
    included: set[Path] = set()
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        match = INCLUDE_LINE.match(line)
        if match:
            file, problem = check_target(match.group("target"), root, examples_dir)
            if problem:
                problems[number] = Problem(page_name, number, problem)
            # The page includes the file even when the include has a problem,
            # so the file is not reported a second time as included by no page.
            if file.is_file():
                included.add(file)
        elif ANY_SNIPPET_LINE.match(line):
            problems[number] = Problem(page_name, number, (
                'unsupported include form: write one --8<-- "examples/..." line per file, '
                "with the path in double quotes"
            ))
    return problems, included


def check_target(target: str, root: Path, examples_dir: Path) -> tuple[Path, str | None]:
    """Resolve an include target, and return the file and the problem with it, if any."""
    path, section = split_target(target)
    file = (root / path).resolve()
    if section is not None and not SECTION_NAME.match(section):
        return file, (
            f'include "{target}" selects lines by number, which drift when the file '
            "changes: mark a named section in the file with # --8<-- [start:NAME] and "
            f'# --8<-- [end:NAME], then include "{path}:NAME"'
        )
    if not file.is_relative_to(examples_dir.resolve()):
        return file, (
            f"include {path} is not under {relative(examples_dir, root)}/, "
            "where the verifier runs the example folders"
        )
    if not file.is_file():
        return file, f"included file {path} not found"
    if find_example_folder(file, examples_dir) is None:
        return file, (
            f"included file {path} is in no example folder: the verifier runs only "
            f"folders that contain a {CONTRACT_FILE}"
        )
    if section is not None:
        problem = check_section(file, section)
        if problem:
            return file, f"{problem} in {path}"
    return file, None


def find_example_folder(file: Path, examples_dir: Path) -> Path | None:
    """Return the nearest folder above file, below examples_dir, with a contract file."""
    top = examples_dir.resolve()
    for folder in file.parents:
        if not folder.is_relative_to(top) or folder == top:
            return None
        if (folder / CONTRACT_FILE).is_file():
            return folder
    return None


def check_section(file: Path, section: str) -> str | None:
    """Return what is wrong with a named section of a file, or None."""
    kinds = set()
    for line in file.read_text(encoding="utf-8").splitlines():
        marker = SECTION_MARKER.search(line)
        if marker and marker.group("name") == section:
            kinds.add(marker.group("kind").lower())
    if "start" not in kinds:
        return f"section {section!r} not found (no # --8<-- [start:{section}] line)"
    if "end" not in kinds:
        # pymdownx.snippets would include everything up to the end of the file.
        return f"section {section!r} has no # --8<-- [end:{section}] line"
    return None


# Judging each block


def judge_block(
    block: CodeBlock, include_problems: dict[int, Problem], scenarios: frozenset[str]
) -> tuple[Verdict, list[Problem]]:
    """Return the coverage verdict on a block, and its problems."""
    where = (block.page, block.line)
    replay = block.attributes.get("data-replay")
    illustrative = "illustrative" in block.classes

    if block.info_error:
        return Verdict(block, "unverified"), [Problem(*where, block.info_error)]
    if replay is not None and illustrative:
        return Verdict(block, "unverified"), [Problem(*where, (
            "a block is either replayed or illustrative: remove data-replay or .illustrative"
        ))]
    if replay is not None:
        return judge_replayed(block, replay, scenarios)
    if illustrative:
        return judge_illustrative(block)

    targets = include_targets(block.fence)
    if targets is not None:
        first_body_line = block.line + 1
        body_lines = range(first_body_line, first_body_line + len(block.fence.body))
        # The include lines report their own problems, at their own line numbers.
        if any(number in include_problems for number in body_lines):
            return Verdict(block, "unverified"), []
        return Verdict(block, "included", ", ".join(targets)), []

    name = block.language or "plain"
    marked = block.language or "text"
    replay_hint = ""
    if block.language in REPLAY_LANGUAGES:
        replay_hint = f'mark it {{ .{marked} data-replay="SCENARIO" }} if a replay test runs it, '
    return Verdict(block, "unverified"), [Problem(*where, (
        f'{name} block is not verified: include a file with --8<-- "examples/...", '
        f'{replay_hint}or mark it {{ .{marked} .illustrative data-reason="why it is not run" }}'
    ))]


def judge_replayed(
    block: CodeBlock, scenario: str, scenarios: frozenset[str]
) -> tuple[Verdict, list[Problem]]:
    where = (block.page, block.line)
    if block.language not in REPLAY_LANGUAGES:
        languages = ", ".join(sorted(REPLAY_LANGUAGES))
        return Verdict(block, "unverified"), [Problem(*where, (
            f"data-replay on a {block.language or 'plain'} block: only shell blocks "
            f"({languages}) can be replayed"
        ))]
    if scenario not in scenarios:
        known = ", ".join(sorted(scenarios)) or "none yet"
        return Verdict(block, "unverified"), [Problem(*where, (
            f"replay scenario {scenario!r} is not run by any replay test "
            f"(REPLAYED_SCENARIOS in {SCENARIOS_FILE}: {known})"
        ))]
    return Verdict(block, "replayed", scenario), []


def judge_illustrative(block: CodeBlock) -> tuple[Verdict, list[Problem]]:
    where = (block.page, block.line)
    reason = block.attributes.get("data-reason", "").strip()
    if not reason:
        return Verdict(block, "unverified"), [Problem(*where, (
            'illustrative block without a reason: add data-reason="why it is not run"'
        ))]
    unsafe = sorted(UNSAFE_REASON_CHARACTERS.intersection(reason))
    if unsafe:
        return Verdict(block, "unverified"), [Problem(*where, (
            f"data-reason contains {' '.join(unsafe)}, which the highlighter writes into "
            "the page unescaped: reword the reason without them"
        ))]
    return Verdict(block, "illustrative", reason), []


# Example files


def list_example_files(root: Path, examples_dir: Path) -> list[Path]:
    """Return the files under examples_dir that git tracks or would track.

    Files that .gitignore excludes, such as a reader's .env, are left out.
    Outside a git work tree, every file counts.
    """
    try:
        result = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--",
             str(examples_dir)],
            cwd=root, capture_output=True, text=True, check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return sorted(path for path in examples_dir.rglob("*") if path.is_file())
    names = {name for name in result.stdout.split("\0") if name}
    return sorted(path for path in (root / name for name in names) if path.is_file())


def check_example_files(
    files: Iterable[Path], included: set[Path], exemptions: list[Exemption], root: Path
) -> list[Problem]:
    """Return a problem for each file that no page includes and no exemption names.

    An exemption that matches no file, or only files that pages include, is
    a problem too, so the list cannot outlive its reasons.
    """
    problems = []
    matched: dict[Exemption, list[Path]] = {exemption: [] for exemption in exemptions}
    for file in files:
        name = relative(file, root)
        covering = [
            exemption for exemption in exemptions
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in exemption.patterns)
        ]
        for exemption in covering:
            matched[exemption].append(file)
        if file.resolve() not in included and not covering:
            problems.append(Problem(name, None, (
                "no page includes this file: include it on a page, or add it to "
                f"{EXEMPTIONS_FILE} with the reason that no page shows it"
            )))
    for exemption, files_matched in matched.items():
        patterns = ", ".join(exemption.patterns)
        if not files_matched:
            problems.append(Problem(EXEMPTIONS_FILE, None, (
                f"exemption {patterns} matches no example file: remove it"
            )))
        elif all(file.resolve() in included for file in files_matched):
            problems.append(Problem(EXEMPTIONS_FILE, None, (
                f"exemption {patterns} only matches files that pages include: remove it"
            )))
    return problems


# Configuration files


def load_exemptions(path: Path) -> list[Exemption]:
    """Read the exemption list: [[exempt]] tables, each with paths and a reason."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"{path}: cannot read the exemption list: {error}") from None
    exemptions = []
    for index, entry in enumerate(data.get("exempt", []), start=1):
        paths = entry.get("paths")
        reason = entry.get("reason")
        if (not isinstance(paths, list) or not paths
                or not all(isinstance(item, str) and item for item in paths)):
            raise ConfigurationError(
                f"{path}: exemption {index}: paths must be a non-empty list of paths"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigurationError(
                f"{path}: exemption {index} ({', '.join(paths)}): reason is missing"
            )
        unknown = set(entry) - {"paths", "reason"}
        if unknown:
            raise ConfigurationError(f"{path}: exemption {index}: unknown keys {sorted(unknown)}")
        exemptions.append(Exemption(tuple(paths), reason.strip()))
    return exemptions


def load_scenarios(path: Path) -> frozenset[str]:
    """Return REPLAYED_SCENARIOS from the replay tests' scenario module."""
    try:
        namespace = runpy.run_path(str(path))
    except OSError as error:
        raise ConfigurationError(f"{path}: cannot read the replay scenarios: {error}") from None
    scenarios = namespace.get("REPLAYED_SCENARIOS")
    if not isinstance(scenarios, frozenset) or not all(isinstance(s, str) for s in scenarios):
        raise ConfigurationError(f"{path}: REPLAYED_SCENARIOS must be a frozenset of str")
    return scenarios


# The whole check


def check_site(
    root: Path,
    *,
    scenarios: frozenset[str],
    exemptions: list[Exemption],
    docs_dir: Path | None = None,
    examples_dir: Path | None = None,
) -> Report:
    """Check every code block of the pages and every example file.

    root is the base path of pymdownx.snippets, from which include paths
    resolve. docs_dir and examples_dir default to root/docs and root/examples.
    """
    docs_dir = docs_dir or root / "docs"
    examples_dir = examples_dir or root / "examples"
    report = Report()
    included: set[Path] = set()

    for page in find_pages(docs_dir):
        include_problems, page_included = check_includes(page, root, examples_dir)
        included |= page_included
        page_problems = list(include_problems.values())
        for block in read_blocks(page, root):
            verdict, problems = judge_block(block, include_problems, scenarios)
            report.verdicts.append(verdict)
            page_problems.extend(problems)
        report.problems.extend(sorted(page_problems, key=lambda problem: problem.line or 0))

    files = list_example_files(root, examples_dir)
    report.problems.extend(check_example_files(files, included, exemptions, root))
    return report


def print_report(report: Report) -> None:
    illustrative = [verdict for verdict in report.verdicts if verdict.kind == "illustrative"]
    if illustrative:
        print("illustrative blocks (not run by any test):")
        for verdict in illustrative:
            print(f"  {verdict.block.page}:{verdict.block.line}: {verdict.detail}")
    for problem in report.problems:
        print(problem)
    print(report.coverage_line())
    if report.problems:
        count = len(report.problems)
        print(f"snippet coverage failed: {count} problem{'' if count == 1 else 's'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check that every code block of the site is included from examples/, "
        "replayed by a test, or marked illustrative with a reason.",
    )
    parser.add_argument(
        "--root", type=Path, default=REPO_ROOT,
        help="repository root, with docs/, examples/, the exemption list and the "
        "replay scenarios (default: this script's repository)",
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()

    try:
        exemptions = load_exemptions(root / EXEMPTIONS_FILE)
        scenarios = load_scenarios(root / SCENARIOS_FILE)
    except ConfigurationError as error:
        print(f"snippet coverage: {error}", file=sys.stderr)
        return 1

    report = check_site(root, scenarios=scenarios, exemptions=exemptions)
    print_report(report)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
