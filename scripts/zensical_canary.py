"""Build the site with Zensical as well as MkDocs, and print what differs.

Zensical, from the makers of Material for MkDocs, reads mkdocs.yml and is the
announced successor of MkDocs with Material. This canary shows what a move to
it would lose. It installs a pinned Zensical into a virtual environment of its
own and builds a copy of the site with Zensical and with MkDocs. Then it
compares the two outputs feature by feature.

It exits 0 whatever it finds, also when Zensical cannot be installed or cannot
build the site: it prints what failed instead. `make build-zensical` runs it and
ignores its exit code even after an unexpected crash; `make test` does not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENV = REPO_ROOT / ".cache" / "zensical-venv"
# Zensical 0.0.74 and later need the zensical-ui package, which the package
# index that this project's machines reach does not serve. So 0.0.73 is the
# newest release that installs there.
DEFAULT_VERSION = "0.0.73"

# The files that a build reads: the configuration, the pages, the theme
# overrides and hooks, the example files that pages include and the
# measurements that the macros show. The macros module is found by name, as a
# package or a file.
SITE_SOURCES = ("mkdocs.yml", "docs", "overrides", "examples", "data")
MACROS_MODULE_GLOB = "scripts/docs_macros*"

INSTALL_TIMEOUT_S = 600
BUILD_TIMEOUT_S = 300
OUTPUT_TAIL_LINES = 15

# Features to look for in one built page, each by a marker that only the
# feature writes: (feature, page, marker).
MARKERS = [
    ("series listing macro", "index.html", "series-listing"),
    ("measurement macros", "docker/production-image/index.html", 'class="verified-mark"'),
    ("hook for illustrative blocks", "docker/security/index.html", 'class="illustrative-reason"'),
    ("front matter in overrides/main.html", "docker/index.html", 'class="chapter-meta"'),
    ("chapter of a step page", "docker/compose/index.html", 'class="chapter-meta__chapter"'),
    ("link preview tags", "docker/index.html", 'property="og:title"'),
    ("tags on the chapter", "docker/index.html", 'class="md-tag'),
    ("chapter on the tags page", "tags/index.html", 'href="../docker/'),
    ("custom 404 page", "404.html", "Page not found"),
    ("sitemap", "sitemap.xml", "<loc>"),
]

# Lines of a build's output worth showing: warnings, and the last line of a
# traceback, such as "RuntimeError: Python error: ModuleNotFoundError: ...".
WARNING_LINE = re.compile(r"warn|error|not supported|ignor", re.IGNORECASE)
EXCEPTION_LINE = re.compile(r"^\w+(?:Error|Exception)\b.*:")
# A code block as pymdownx.highlight writes it, e.g. class="language-bash highlight".
CODE_BLOCK = re.compile(r'class="[^"]*\bhighlight\b[^"]*"')
# Kinds of <link> that make a browser load the address, unlike canonical.
LOADED_LINK_RELATIONS = frozenset(
    {"stylesheet", "preload", "icon", "modulepreload", "manifest", "apple-touch-icon"}
)
# Text that a snippet include or a macro leaves behind when nothing renders it.
SNIPPET_MARKER = re.compile(r"--8(?:<|&lt;)--")
MACRO_CALL = re.compile(r"\{\{\s*\w+\(")


class CanaryError(Exception):
    """A step that failed, with the reason and what to do next."""


@dataclass
class Build:
    """The outcome of one site build."""

    label: str
    returncode: int
    output: str
    site: Path
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Finding:
    """One feature compared between the MkDocs and the Zensical output."""

    feature: str
    same: bool
    detail: str


# --- Installing and building --------------------------------------------------


def install_zensical(venv: Path, version: str) -> Path:
    """Install zensical==version into venv unless it is there; return its command."""
    command = venv / "bin" / "zensical"
    if command.exists():
        installed = subprocess.run([str(command), "--version"], capture_output=True,
                                   text=True, check=False)
        if version in installed.stdout.split():
            print(f"* zensical {version}: already in {relative(venv)}")
            return command
    started = time.monotonic()
    if not (venv / "bin" / "python").exists():
        run_step([sys.executable, "-m", "venv", str(venv)], f"creating {relative(venv)}")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
           "--disable-pip-version-check", f"zensical=={version}"]
    run_step(pip, f"installing zensical {version}")
    print(f"* zensical {version}: installed in {relative(venv)} "
          f"({time.monotonic() - started:.1f} s)")
    return command


def run_step(command: list[str], step: str) -> None:
    """Run a setup command; raise CanaryError with its last output lines on failure."""
    try:
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=INSTALL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise CanaryError(f"{step} timed out after {INSTALL_TIMEOUT_S} s") from None
    if result.returncode != 0:
        raise CanaryError(
            f"{step} failed (exit code {result.returncode}):\n"
            f"{tail(result.stdout + result.stderr)}\n"
            f"rerun: {' '.join(command)}"
        )


def copy_sources(project: Path) -> None:
    """Copy what a site build reads into the project folder."""
    sources = [REPO_ROOT / name for name in SITE_SOURCES]
    sources += sorted(REPO_ROOT.glob(MACROS_MODULE_GLOB))
    for source in sources:
        target = project / source.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copyfile(source, target)


def build(label: str, command: list[str], project: Path, site: Path) -> Build:
    """Run a build command in the project folder and return its outcome."""
    # Both tools resolve snippet include paths from the working directory.
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    started = time.monotonic()
    try:
        result = subprocess.run(command, cwd=project, env=environment, capture_output=True,
                                text=True, timeout=BUILD_TIMEOUT_S, check=False)
        returncode, output = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired:
        returncode, output = -1, f"timed out after {BUILD_TIMEOUT_S} s"
    outcome = Build(label, returncode, output, site, time.monotonic() - started)
    state = "ok" if outcome.ok else f"failed (exit code {returncode})"
    print(f"* {label}: {state} ({outcome.seconds:.1f} s)")
    return outcome


def zensical_build(zensical: Path, project: Path, label: str) -> Build:
    # Zensical has no option for the output folder, so it writes to the
    # site_dir of mkdocs.yml, which is the default site/ in this repository.
    shutil.rmtree(project / "site", ignore_errors=True)
    return build(label, [str(zensical), "build", "-f", "mkdocs.yml"], project, project / "site")


def drop_macros_plugin(config_text: str) -> str | None:
    """Return mkdocs.yml without the macros plugin entry, or None if it has none."""
    pattern = re.compile(r"^(?P<indent> *)- macros:?[^\n]*\n(?:(?P=indent)  +[^\n]*\n|\n)*",
                         re.MULTILINE)
    if not pattern.search(config_text):
        return None
    return pattern.sub("", config_text, count=1)


def print_output(outcome: Build) -> None:
    """Print the lines of a build's output that matter.

    On success those are its warnings. On failure they are the exception lines
    of its tracebacks, or its last lines when it raised nothing.
    """
    lines = outcome.output.strip().splitlines()
    if outcome.ok:
        lines = [line for line in lines if WARNING_LINE.search(line)]
    else:
        lines = [line for line in lines if EXCEPTION_LINE.match(line)] or lines
    for line in lines[-OUTPUT_TAIL_LINES:]:
        print(f"    | {line}")


def tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-OUTPUT_TAIL_LINES:])


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# --- Comparing the outputs ----------------------------------------------------


def compare(reference: Path, candidate: Path) -> list[Finding]:
    """Compare the MkDocs output (reference) with the Zensical output (candidate)."""
    findings = [compare_pages(reference, candidate)]
    findings += [compare_marker(reference, candidate, *marker) for marker in MARKERS]
    findings.append(compare_includes(reference, candidate))
    findings.append(compare_macro_text(reference, candidate))
    findings.append(compare_features(reference, candidate))
    findings.append(compare_files(reference, candidate))
    findings.append(check_other_hosts(candidate))
    return findings


def compare_pages(reference: Path, candidate: Path) -> Finding:
    expected = html_pages(reference)
    built = html_pages(candidate)
    missing = sorted(expected - built)
    extra = sorted(built - expected)
    if not missing and not extra:
        return Finding("pages", True, f"the same {len(expected)} pages")
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if extra:
        parts.append(f"extra {', '.join(extra)}")
    return Finding("pages", False, "; ".join(parts))


def compare_marker(reference: Path, candidate: Path, feature: str, page: str,
                   marker: str) -> Finding:
    expected = count_in(reference / page, marker)
    found = count_in(candidate / page, marker)
    if (expected > 0) == (found > 0):
        state = "present in both" if expected else "absent from both"
        return Finding(feature, True, f"{state} ({page})")
    if not (candidate / page).exists():
        return Finding(feature, False, f"{page} was not built")
    where = "only in the MkDocs output" if expected else "only in the Zensical output"
    return Finding(feature, False, f"{marker!r} {where} ({page})")


def compare_includes(reference: Path, candidate: Path) -> Finding:
    def count(site: Path) -> tuple[int, int]:
        blocks = markers = 0
        for page in html_pages(site):
            text = (site / page).read_text(encoding="utf-8")
            blocks += len(CODE_BLOCK.findall(text))
            markers += len(SNIPPET_MARKER.findall(text))
        return blocks, markers

    expected_blocks, _ = count(reference)
    blocks, markers = count(candidate)
    if markers:
        return Finding("snippet includes", False, f"{markers} include lines left as text")
    if blocks != expected_blocks:
        return Finding("snippet includes", False,
                       f"{blocks} code blocks, MkDocs built {expected_blocks}")
    return Finding("snippet includes", True, f"rendered, {blocks} code blocks in both")


def compare_macro_text(reference: Path, candidate: Path) -> Finding:
    def calls(site: Path) -> int:
        return sum(len(MACRO_CALL.findall((site / page).read_text(encoding="utf-8")))
                   for page in html_pages(site))

    expected, found = calls(reference), calls(candidate)
    if found > expected:
        return Finding("macro calls", False, f"{found - expected} left as text, such as "
                       "{{ series_listing(...) }}")
    return Finding("macro calls", True, "none left as text")


def compare_features(reference: Path, candidate: Path) -> Finding:
    expected = theme_features(reference / "docker" / "index.html")
    found = theme_features(candidate / "docker" / "index.html")
    if expected is None or found is None:
        return Finding("theme features", False, "no __config on docker/index.html to compare")
    missing = sorted(set(expected) - set(found))
    if missing:
        return Finding("theme features", False, f"not passed to the theme: {', '.join(missing)}")
    return Finding("theme features", True, f"the same {len(expected)} features")


def compare_files(reference: Path, candidate: Path) -> Finding:
    # Hashed asset names differ between the two themes, so only other files count.
    def files(site: Path) -> set[str]:
        return {path.relative_to(site).as_posix() for path in site.rglob("*")
                if path.is_file() and not path.relative_to(site).as_posix().startswith("assets/")}

    expected, built = files(reference), files(candidate)
    extra = sorted(built - expected)
    missing = sorted(expected - built)
    if not extra and not missing:
        return Finding("other files", True, "the same")
    parts = []
    if extra:
        parts.append(f"only in Zensical's: {', '.join(extra[:8])}")
    if missing:
        parts.append(f"only in MkDocs': {', '.join(missing[:8])}")
    return Finding("other files", False, "; ".join(parts))


def check_other_hosts(candidate: Path) -> Finding:
    loads = []
    for page in sorted(html_pages(candidate)):
        collector = ResourceCollector()
        collector.feed((candidate / page).read_text(encoding="utf-8"))
        loads += [f"{page}: {address}" for address in collector.addresses if "//" in address]
    if loads:
        return Finding("assets from other hosts", False, "; ".join(loads[:5]))
    return Finding("assets from other hosts", True, "none")


class ResourceCollector(HTMLParser):
    """Collect the addresses that a page loads: scripts, images, styles, fonts, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag in ("script", "img", "iframe", "source", "audio", "video") and "src" in attributes:
            self.addresses.append(attributes["src"])
        elif tag == "link" and set(attributes.get("rel", "").split()) & LOADED_LINK_RELATIONS:
            self.addresses.append(attributes.get("href", ""))


def html_pages(site: Path) -> set[str]:
    if not site.is_dir():
        return set()
    return {path.relative_to(site).as_posix() for path in site.rglob("*.html")}


def count_in(path: Path, marker: str) -> int:
    if not path.exists():
        return 0
    return path.read_text(encoding="utf-8").count(marker)


def theme_features(page: Path) -> list[str] | None:
    """Return the features in the theme's __config JSON of a page, or None."""
    if not page.exists():
        return None
    match = re.search(r'<script id="__config" type="application/json">(.*?)</script>',
                      page.read_text(encoding="utf-8"), re.DOTALL)
    if not match:
        return None
    return json.loads(match.group(1)).get("features", [])


# --- Command line ---------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/zensical_canary.py",
        description=(
            "Build the site with Zensical and with MkDocs and print which features "
            "differ. Always exits 0, also when Zensical fails."
        ),
    )
    parser.add_argument("--version", default=DEFAULT_VERSION, metavar="VERSION",
                        help=f"Zensical release to install (default: {DEFAULT_VERSION})")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, metavar="DIR",
                        help=f"virtual environment for Zensical (default: {relative(DEFAULT_VENV)})")
    parser.add_argument("--keep", action="store_true",
                        help="keep the two built sites and print where they are")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="zensical-canary-"))
    try:
        findings, failure = run_canary(args, work)
    finally:
        if args.keep:
            print(f"* kept the builds in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(findings, failure)
    return 0


def run_canary(args: argparse.Namespace, work: Path) -> tuple[list[Finding], str | None]:
    """Install, build both ways and compare; return the findings and any failure."""
    try:
        zensical = install_zensical(args.venv, args.version)
    except CanaryError as error:
        print(f"error: {error}")
        return [], f"Zensical {args.version} could not be installed"

    project = work / "project"
    copy_sources(project)
    reference = build("mkdocs build", [sys.executable, "-m", "mkdocs", "build", "--strict",
                                       "--site-dir", str(work / "mkdocs-site")],
                      project, work / "mkdocs-site")
    if not reference.ok:
        print_output(reference)
        return [], "MkDocs failed to build the site, so there is nothing to compare with"

    candidate = zensical_build(zensical, project, f"zensical {args.version} build")
    print_output(candidate)
    failure = None
    if not candidate.ok:
        failure = "Zensical failed to build the site as it is"
        candidate = retry_without_macros(zensical, project, args.version)
        if candidate is None:
            return [], failure
    return compare(reference.site, candidate.site), failure


def retry_without_macros(zensical: Path, project: Path, version: str) -> Build | None:
    """Build again without the macros plugin, to see the differences past that failure."""
    config = project / "mkdocs.yml"
    without_macros = drop_macros_plugin(config.read_text(encoding="utf-8"))
    if without_macros is None:
        return None
    config.write_text(without_macros, encoding="utf-8")
    outcome = zensical_build(zensical, project, f"zensical {version} build without macros")
    print_output(outcome)
    return outcome if outcome.ok else None


def report(findings: list[Finding], failure: str | None) -> None:
    for finding in findings:
        state = "same   " if finding.same else "differs"
        print(f"  {state}  {finding.feature}: {finding.detail}")
    if not findings:
        print(f"zensical canary: nothing compared; {failure}")
        return
    differences = sum(not finding.same for finding in findings)
    summary = f"zensical canary: {differences} of {len(findings)} features differ"
    if failure:
        summary += f"; {failure}"
    print(summary)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
