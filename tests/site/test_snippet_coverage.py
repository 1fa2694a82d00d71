"""Check that every code block is included, replayed or illustrative, on small sites."""

from __future__ import annotations

from pathlib import Path

import pytest
from site_paths import REPO_ROOT
from snippet_coverage import (
    CONTRACT_FILE,
    EXEMPTIONS_FILE,
    SCENARIOS_FILE,
    ConfigurationError,
    Exemption,
    Report,
    check_site,
    load_exemptions,
    load_scenarios,
    main,
)
from verifier import contract

DOCKERFILE = (
    "FROM python:3.13-slim-trixie\n"
    "# --8<-- [start:command]\n"
    'CMD ["python", "-V"]\n'
    "# --8<-- [end:command]\n"
)

# A page whose only block includes the example's Dockerfile, at line 3.
INCLUDING_PAGE = (
    "# Guide\n\n"
    '```dockerfile title="examples/demo/hello/Dockerfile"\n'
    '--8<-- "examples/demo/hello/Dockerfile"\n'
    "```\n"
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Create a site with one example folder and one page that includes its Dockerfile."""
    root = tmp_path / "project"
    example = root / "examples" / "demo" / "hello"
    example.mkdir(parents=True)
    (example / CONTRACT_FILE).write_text("[image]\nport = 8000\n", encoding="utf-8")
    (example / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    write_page(root, "index.md", INCLUDING_PAGE)
    return root


# The contract file needs no page, in every small site of these tests.
CONTRACTS_EXEMPT = [Exemption(("examples/*/verify.toml",), "The verifier's contract.")]


def write_page(root: Path, name: str, text: str) -> None:
    page = root / "docs" / name
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text, encoding="utf-8")


def add_block(root: Path, block: str) -> None:
    """Append a second page whose first code block starts at line 3."""
    write_page(root, "extra.md", f"# Extra\n\n{block}")


def check(root: Path, scenarios: frozenset[str] = frozenset(),
          exemptions: list[Exemption] = CONTRACTS_EXEMPT) -> Report:
    return check_site(root, scenarios=scenarios, exemptions=exemptions)


def problem_lines(report: Report) -> list[str]:
    return [str(problem) for problem in report.problems]


def test_small_site_passes(site):
    report = check(site)

    assert problem_lines(report) == []
    assert report.coverage_line() == "coverage: 1 of 1 blocks verified (100%)"


def test_pasted_dockerfile_fails_with_page_and_line(site):
    add_block(site, '```dockerfile\nFROM python:3.13-slim-trixie\nCMD ["python", "-V"]\n```\n')

    report = check(site)

    [problem] = problem_lines(report)
    assert problem.startswith("docs/extra.md:3: dockerfile block is not verified")
    assert '--8<-- "examples/...' in problem
    assert "data-replay" not in problem
    assert report.coverage_line() == "coverage: 1 of 2 blocks verified (50%)"


def test_unmarked_bash_block_fails(site):
    add_block(site, "```bash\ndocker build -t hello .\n```\n")

    [problem] = problem_lines(check(site))

    assert problem.startswith("docs/extra.md:3: bash block is not verified")
    assert '{ .bash data-replay="SCENARIO" }' in problem
    assert '{ .bash .illustrative data-reason="why it is not run" }' in problem


def test_unmarked_block_in_tab_fails(site):
    add_block(site, '=== "Tab"\n\n    ```bash\n    docker ps\n    ```\n')

    [problem] = problem_lines(check(site))

    assert problem.startswith("docs/extra.md:5: bash block is not verified")


def test_block_without_language_fails(site):
    add_block(site, "```\nsome output\n```\n")

    [problem] = problem_lines(check(site))

    assert problem.startswith("docs/extra.md:3: plain block is not verified")


def test_inline_code_is_not_a_block(site):
    add_block(site, "Run `docker ps` and read ``` three backticks ``` inline.\n")

    report = check(site)

    assert problem_lines(report) == []
    assert len(report.verdicts) == 1


def test_illustrative_block_with_reason_passes(site):
    add_block(site, (
        '```bash { .bash .illustrative data-reason="Needs a cloud account." }\n'
        "cloud deploy\n"
        "```\n"
    ))

    report = check(site)

    assert problem_lines(report) == []
    [illustrative] = [verdict for verdict in report.verdicts if verdict.kind == "illustrative"]
    assert illustrative.block.page == "docs/extra.md"
    assert illustrative.block.line == 3
    assert illustrative.detail == "Needs a cloud account."
    assert report.coverage_line() == "coverage: 1 of 2 blocks verified (50%)"


@pytest.mark.parametrize("info", [
    "{ .bash .illustrative }",
    '{ .bash .illustrative data-reason="" }',
    '{ .bash .illustrative data-reason="   " }',
    "bash { .bash .illustrative data-reason }",
], ids=["missing", "empty", "blank", "no-value"])
def test_illustrative_block_without_reason_fails(site, info):
    add_block(site, f"```{info}\ncloud deploy\n```\n")

    [problem] = problem_lines(check(site))

    assert problem.startswith("docs/extra.md:3: illustrative block without a reason")


def test_illustrative_reason_with_quote_fails(site):
    add_block(site, (
        "```bash { .bash .illustrative data-reason='Needs \"cloud\" access.' }\n"
        "cloud deploy\n"
        "```\n"
    ))

    [problem] = problem_lines(check(site))

    assert problem.startswith('docs/extra.md:3: data-reason contains "')


def test_illustrative_class_as_language_fails(site):
    # Without a language first, superfences takes the first class as the
    # language, so this block is not marked illustrative at all.
    add_block(site, '```{ .illustrative data-reason="Needs a cloud account." }\nx\n```\n')

    [problem] = problem_lines(check(site))

    assert problem.startswith("docs/extra.md:3: illustrative block is not verified")


def test_known_replay_scenario_passes(site):
    add_block(site, '```bash { .bash data-replay="build-hello" }\ndocker build .\n```\n')

    report = check(site, scenarios=frozenset({"build-hello"}))

    assert problem_lines(report) == []
    assert report.coverage_line() == "coverage: 2 of 2 blocks verified (100%)"


def test_replay_scenario_in_attribute_only_form_passes(site):
    add_block(site, '```{ .bash data-replay="build-hello" }\ndocker build .\n```\n')

    report = check(site, scenarios=frozenset({"build-hello"}))

    assert problem_lines(report) == []


def test_unknown_replay_scenario_fails(site):
    add_block(site, '```bash { .bash data-replay="no-such-scenario" }\ndocker build .\n```\n')

    report = check(site, scenarios=frozenset({"build-hello"}))

    [problem] = problem_lines(report)
    assert problem.startswith("docs/extra.md:3: replay scenario 'no-such-scenario' is not run")
    assert "build-hello" in problem
    assert report.coverage_line() == "coverage: 1 of 2 blocks verified (50%)"


def test_replay_of_non_shell_block_fails(site):
    add_block(site, '```python { .python data-replay="build-hello" }\nprint(1)\n```\n')

    [problem] = problem_lines(check(site, scenarios=frozenset({"build-hello"})))

    assert problem.startswith("docs/extra.md:3: data-replay on a python block")


def test_replayed_and_illustrative_block_fails(site):
    add_block(site, (
        '```bash { .bash .illustrative data-reason="r" data-replay="build-hello" }\n'
        "docker build .\n"
        "```\n"
    ))

    [problem] = problem_lines(check(site, scenarios=frozenset({"build-hello"})))

    assert problem.startswith("docs/extra.md:3: a block is either replayed or illustrative")


def test_hyphenated_option_without_braces_fails(site):
    add_block(site, '```bash data-replay="build-hello"\ndocker build .\n```\n')

    [problem] = problem_lines(check(site, scenarios=frozenset({"build-hello"})))

    assert problem.startswith("docs/extra.md:3: invalid fence info string")


def test_example_file_included_by_no_page_fails(site):
    (site / "examples" / "demo" / "hello" / "app.py").write_text("print(1)\n", encoding="utf-8")

    [problem] = problem_lines(check(site))

    assert problem.startswith("examples/demo/hello/app.py: no page includes this file")
    assert EXEMPTIONS_FILE in problem


def test_exempt_example_file_passes(site):
    (site / "examples" / "demo" / "hello" / "app.py").write_text("print(1)\n", encoding="utf-8")
    exemptions = [*CONTRACTS_EXEMPT, Exemption(("examples/demo/hello/app.py",), "Not shown.")]

    assert problem_lines(check(site, exemptions=exemptions)) == []


def test_contract_without_exemption_fails(site):
    [problem] = problem_lines(check(site, exemptions=[]))

    assert problem.startswith("examples/demo/hello/verify.toml: no page includes this file")


def test_exemption_matching_no_file_fails(site):
    exemptions = [*CONTRACTS_EXEMPT, Exemption(("examples/demo/gone/*",), "Removed.")]

    [problem] = problem_lines(check(site, exemptions=exemptions))

    assert problem == (
        f"{EXEMPTIONS_FILE}: exemption examples/demo/gone/* matches no example file: remove it"
    )


def test_exemption_of_included_file_fails(site):
    exemptions = [*CONTRACTS_EXEMPT, Exemption(("examples/demo/hello/Dockerfile",), "Shown.")]

    [problem] = problem_lines(check(site, exemptions=exemptions))

    assert problem.startswith(f"{EXEMPTIONS_FILE}: exemption examples/demo/hello/Dockerfile")
    assert "only matches files that pages include" in problem


def test_missing_include_fails(site):
    add_block(site, (
        '```dockerfile title="examples/demo/hello/Containerfile"\n'
        '--8<-- "examples/demo/hello/Containerfile"\n'
        "```\n"
    ))

    report = check(site)

    [problem] = problem_lines(report)
    assert problem == "docs/extra.md:4: included file examples/demo/hello/Containerfile not found"
    assert report.coverage_line() == "coverage: 1 of 2 blocks verified (50%)"


def test_missing_section_fails(site):
    add_block(site, (
        '```dockerfile title="examples/demo/hello/Dockerfile"\n'
        '--8<-- "examples/demo/hello/Dockerfile:no-such-section"\n'
        "```\n"
    ))

    [problem] = problem_lines(check(site))

    assert problem.startswith("docs/extra.md:4: section 'no-such-section' not found")
    assert problem.endswith("in examples/demo/hello/Dockerfile")


def test_section_without_end_marker_fails(site):
    dockerfile = site / "examples" / "demo" / "hello" / "Dockerfile"
    dockerfile.write_text(DOCKERFILE.replace("# --8<-- [end:command]\n", ""), encoding="utf-8")
    add_block(site, (
        '```dockerfile title="examples/demo/hello/Dockerfile"\n'
        '--8<-- "examples/demo/hello/Dockerfile:command"\n'
        "```\n"
    ))

    [problem] = problem_lines(check(site))

    assert problem.startswith("docs/extra.md:4: section 'command' has no # --8<-- [end:command]")


def test_named_section_include_passes(site):
    add_block(site, (
        '```dockerfile title="examples/demo/hello/Dockerfile"\n'
        '--8<-- "examples/demo/hello/Dockerfile:command"\n'
        "```\n"
    ))

    report = check(site)

    assert problem_lines(report) == []
    assert report.coverage_line() == "coverage: 2 of 2 blocks verified (100%)"


@pytest.mark.parametrize("lines", ["2:3", "2", ":3", "1:2,4:4"])
def test_line_range_include_fails(site, lines):
    add_block(site, (
        '```dockerfile title="examples/demo/hello/Dockerfile"\n'
        f'--8<-- "examples/demo/hello/Dockerfile:{lines}"\n'
        "```\n"
    ))

    [problem] = problem_lines(check(site))

    assert problem.startswith(
        f'docs/extra.md:4: include "examples/demo/hello/Dockerfile:{lines}" selects lines by number'
    )
    assert "[start:NAME]" in problem


def test_include_outside_examples_fails(site):
    write_page(site, "shared.txt.md", "# Shared\n")
    add_block(site, '```text\n--8<-- "docs/shared.txt.md"\n```\n')

    [problem] = problem_lines(check(site))

    assert problem.startswith("docs/extra.md:4: include docs/shared.txt.md is not under examples/")


def test_include_outside_example_folder_fails(site):
    (site / "examples" / "notes.txt").write_text("note\n", encoding="utf-8")
    add_block(site, '```text\n--8<-- "examples/notes.txt"\n```\n')

    [problem] = problem_lines(check(site))

    assert problem.startswith("docs/extra.md:4: included file examples/notes.txt is in no example")


def test_single_quoted_include_fails(site):
    add_block(site, "```dockerfile\n--8<-- 'examples/demo/hello/Dockerfile'\n```\n")

    problems = problem_lines(check(site))

    assert len(problems) == 2
    assert problems[0].startswith("docs/extra.md:3: dockerfile block is not verified")
    assert problems[1].startswith("docs/extra.md:4: unsupported include form")


def test_escaped_include_is_pasted_text(site):
    add_block(site, '```text\n;--8<-- "examples/demo/hello/Dockerfile"\n```\n')

    [problem] = problem_lines(check(site))

    assert problem.startswith("docs/extra.md:3: text block is not verified")


def test_hidden_folder_pages_are_skipped(site):
    write_page(site, ".drafts/draft.md", "# Draft\n\n```bash\ndocker ps\n```\n")

    assert problem_lines(check(site)) == []


def test_main_prints_report_and_fails(site, capsys):
    (site / "tests" / "replay").mkdir(parents=True)
    (site / SCENARIOS_FILE).write_text("REPLAYED_SCENARIOS = frozenset()\n", encoding="utf-8")
    (site / EXEMPTIONS_FILE).parent.mkdir(parents=True)
    (site / EXEMPTIONS_FILE).write_text(
        '[[exempt]]\npaths = ["examples/*/verify.toml"]\nreason = "The contract."\n',
        encoding="utf-8",
    )
    add_block(site, (
        '```bash { .bash .illustrative data-reason="Needs a cloud account." }\ncloud deploy\n```\n'
        "\n```bash\ndocker ps\n```\n"
    ))

    exit_code = main(["--root", str(site)])

    output = capsys.readouterr().out.splitlines()
    assert exit_code == 1
    assert output == [
        "illustrative blocks (not run by any test):",
        "  docs/extra.md:3: Needs a cloud account.",
        output[2],
        "coverage: 1 of 3 blocks verified (33%)",
        "snippet coverage failed: 1 problem",
    ]
    assert output[2].startswith("docs/extra.md:7: bash block is not verified")


def test_main_passes_on_covered_site(site, capsys):
    (site / "tests" / "replay").mkdir(parents=True)
    (site / SCENARIOS_FILE).write_text("REPLAYED_SCENARIOS = frozenset()\n", encoding="utf-8")
    (site / EXEMPTIONS_FILE).parent.mkdir(parents=True)
    (site / EXEMPTIONS_FILE).write_text(
        '[[exempt]]\npaths = ["examples/*/verify.toml"]\nreason = "The contract."\n',
        encoding="utf-8",
    )

    exit_code = main(["--root", str(site)])

    assert exit_code == 0
    assert capsys.readouterr().out == "coverage: 1 of 1 blocks verified (100%)\n"


def test_exemption_without_reason_raises(tmp_path):
    exemptions = tmp_path / "exemptions.toml"
    exemptions.write_text('[[exempt]]\npaths = ["examples/*/README.md"]\n', encoding="utf-8")

    with pytest.raises(ConfigurationError, match="reason is missing"):
        load_exemptions(exemptions)


def test_scenarios_not_frozenset_raise(tmp_path):
    scenarios = tmp_path / "scenarios.py"
    scenarios.write_text('REPLAYED_SCENARIOS = {"a"}\n', encoding="utf-8")

    with pytest.raises(ConfigurationError, match="must be a frozenset of str"):
        load_scenarios(scenarios)


def test_contract_file_name_matches_verifier():
    assert CONTRACT_FILE == contract.CONTRACT_FILE


def test_real_site_passes():
    report = check_site(
        REPO_ROOT,
        scenarios=load_scenarios(REPO_ROOT / SCENARIOS_FILE),
        exemptions=load_exemptions(REPO_ROOT / EXEMPTIONS_FILE),
    )

    failures = problem_lines(report)
    assert not failures, "\n".join([*failures, report.coverage_line()])
