"""The command line: each option, each exit code, and the report files it writes.

Tests without the docker mark replace the run or the engine, so they need no
Docker engine. The others verify small fixtures from tests/fixtures, copied
into a root folder of their own that --root points at.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from verify_runs import REPOSITORY, copy_fixtures, leftovers, remove_example_images

from verifier import cleanup, cli
from verifier.discover import EXAMPLES_ROOT
from verifier.engine import RUN_LABEL, Engine, EngineError
from verifier.steps import ExampleRun


def fixture_root(tmp_path: Path, *names: str) -> Path:
    """Copy the fixtures `names` into a new root, under cli/, and return the root.

    The cli/ prefix gives these runs' images and containers names of their own.
    """
    root = tmp_path / "root"
    copy_fixtures(root / "cli", *names)
    return root


@pytest.fixture
def selected(monkeypatch) -> list[list[str]]:
    """Return the names that each call of cli.run receives, in place of running them."""
    calls: list[list[str]] = []

    def run(examples, args) -> int:
        calls.append([example.name for example in examples])
        return cli.EXIT_OK

    monkeypatch.setattr(cli, "run", run)
    monkeypatch.setattr(cli, "docker_problem", lambda: None)
    return calls


def test_help_lists_exit_codes(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["--help"])
    assert raised.value.code == 0
    help_text = capsys.readouterr().out
    for line in ("0    every selected example passed", "1    at least one example failed",
                 "2    invalid arguments", "3    no usable Docker engine", "130  interrupted"):
        assert line in help_text


def test_root_defaults_to_examples():
    assert cli.parse_args([]).root == EXAMPLES_ROOT


def test_jobs_below_one_exits_2(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["--jobs", "0"])
    assert raised.value.code == cli.EXIT_USAGE
    assert "--jobs must be 1 or more" in capsys.readouterr().err


def test_root_discovers_every_example(tmp_path, selected):
    root = fixture_root(tmp_path, "ok-minimal", "ok-compose")
    assert cli.main(["--root", str(root)]) == cli.EXIT_OK
    assert selected == [["cli/ok-compose", "cli/ok-minimal"]]


def test_example_path_selects_only_it(tmp_path, selected):
    root = fixture_root(tmp_path, "ok-minimal", "ok-compose")
    assert cli.main(["--root", str(root), str(root / "cli" / "ok-minimal")]) == cli.EXIT_OK
    assert selected == [["cli/ok-minimal"]]


def test_example_path_ignores_broken_contract_elsewhere(tmp_path, selected):
    root = fixture_root(tmp_path, "ok-minimal", "failing/contract-unknown-key")
    assert cli.main(["--root", str(root), str(root / "cli" / "ok-minimal")]) == cli.EXIT_OK
    assert selected == [["cli/ok-minimal"]]


def test_example_path_outside_root_exits_2(tmp_path, capsys, selected):
    root = fixture_root(tmp_path, "ok-minimal")
    outside = copy_fixtures(tmp_path / "elsewhere", "ok-compose") / "ok-compose"
    assert cli.main(["--root", str(root), str(outside)]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == (f"error: {outside}: not under {root}; "
                                       "choose it with --root\n")
    assert selected == []


def test_shard_selects_its_part(tmp_path, selected):
    root = fixture_root(tmp_path, "ok-minimal", "ok-compose")
    for index in (1, 2):
        assert cli.main(["--root", str(root), "--shard", f"{index}/2"]) == cli.EXIT_OK
    assert selected == [["cli/ok-compose"], ["cli/ok-minimal"]]


def test_empty_shard_exits_0_without_engine(tmp_path, capsys, selected):
    root = fixture_root(tmp_path, "ok-minimal")
    assert cli.main(["--root", str(root), "--shard", "2/2"]) == cli.EXIT_OK
    assert capsys.readouterr().out == "nothing to verify\n"
    assert selected == []


def test_unknown_example_path_exits_2(tmp_path, capsys, selected):
    root = fixture_root(tmp_path, "ok-minimal")
    missing = root / "no-such-example"
    assert cli.main(["--root", str(root), str(missing)]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == f"error: {missing}: not an example folder (no verify.toml)\n"
    assert selected == []


def test_changed_unknown_ref_exits_2(capsys, selected):
    assert cli.main(["--changed", "no-such-ref-for-the-verifier"]) == cli.EXIT_USAGE
    error = capsys.readouterr().err
    assert len(error.splitlines()) == 1
    assert error.startswith("error: git rev-parse --verify --quiet no-such-ref-for-the-verifier")
    assert selected == []


def test_changed_with_outside_root_exits_2(tmp_path, capsys, selected):
    root = fixture_root(tmp_path, "ok-minimal")
    assert cli.main(["--root", str(root), "--changed", "HEAD"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == (f"error: --changed needs a --root inside the "
                                       f"repository, not {root}\n")
    assert selected == []


def test_changed_prints_examples_and_pages(monkeypatch, capsys, selected):
    # A change to the verifier affects every example; the page list comes from the real docs/.
    monkeypatch.setattr(cli, "changed_files", lambda ref: ["scripts/verifier/runner.py"])
    assert cli.main(["--changed", "HEAD"]) == cli.EXIT_OK
    printed = capsys.readouterr().out
    assert printed.startswith(f"changed since HEAD: {len(selected[0])} examples, 0 pages (none)")
    assert "docker/multi-stage" in selected[0]


def test_missing_docker_exits_3(tmp_path):
    root = fixture_root(tmp_path, "ok-minimal")
    no_docker = tmp_path / "bin"
    no_docker.mkdir()
    result = subprocess.run(
        [sys.executable, "scripts/verify", "--root", str(root)],
        cwd=REPOSITORY, env={**os.environ, "PATH": str(no_docker)},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == cli.EXIT_NO_ENGINE
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: the docker command is not installed: ")


def test_cleanup_spares_runs_in_progress(monkeypatch, work_folder, capsys):
    live = subprocess.Popen(["sleep", "60"])
    ended = subprocess.Popen(["true"])
    ended.wait()
    running, finished, older = f"{live.pid}-aaaaaa", f"{ended.pid}-bbbbbb", "1a2b3c"
    filters: list[list[str]] = []

    class RecordedEngine(Engine):
        def labelled_runs(self) -> set[str]:
            return {running, finished, older}

        def remove_labelled(self, label_filters: list[str]) -> list[str]:
            filters.append(label_filters)
            return ["container 0123abcd", "volume verify-x_data"]

    monkeypatch.setattr(cli, "Engine", RecordedEngine)
    monkeypatch.setattr(cli, "docker_problem", lambda: None)
    for name in (f"verify-run-{running}-x1", f"verify-run-{finished}-x2",
                 f"verify-run-{older}-x3", "unrelated"):
        (work_folder / name).mkdir()
    try:
        assert cli.main(["--cleanup"]) == cli.EXIT_OK
        first = capsys.readouterr().out.splitlines()
        left_after_first = sorted(path.name for path in work_folder.iterdir())
        assert cli.main(["--cleanup", running]) == cli.EXIT_OK
        second = capsys.readouterr().out.splitlines()
    finally:
        live.kill()
        live.wait()

    assert filters[0] == sorted([f"label={RUN_LABEL}={finished}", f"label={RUN_LABEL}={older}"])
    assert left_after_first == ["unrelated", f"verify-run-{running}-x1"]
    assert first[0] == (f"* skipped run {running}: a process of it is still running; "
                        f"'scripts/verify --cleanup {running}' removes it anyway")
    assert first[1:3] == ["* removed container 0123abcd", "* removed volume verify-x_data"]
    assert first[3].endswith(" and 2 work folders left by earlier runs")
    assert filters[1] == [f"label={RUN_LABEL}={running}"]
    assert second[-1].endswith(f" and 1 work folders left by run {running}")
    assert sorted(path.name for path in work_folder.iterdir()) == ["unrelated"]


def test_cleanup_spares_live_docker_command(tmp_path):
    # A run killed with SIGKILL: its process is gone, a docker command of it is not.
    ended = subprocess.Popen(["true"])
    ended.wait()
    run_id = f"{ended.pid}-cccccc"
    docker = tmp_path / "docker"
    docker.symlink_to(sys.executable)
    command = subprocess.Popen([str(docker), "-c", "import time; time.sleep(60)",
                                f"--label=io.devops-zero-to-hero.run={run_id}"])
    try:
        time.sleep(0.2)
        running = cleanup.in_progress(run_id)
    finally:
        command.kill()
        command.wait()

    assert running
    assert not cleanup.in_progress(run_id)


# With the Docker engine


@pytest.fixture(scope="module")
def remove_cli_images():
    """Remove the images that these tests' builds tagged, once the module is done."""
    yield
    remove_example_images("cli/ok-minimal", "cli/failing/never-healthy",
                          "cli/failing/copy-missing-file", "cli/failing/exits-at-start")


@pytest.mark.docker
def test_cleanup_removes_labelled_resources():
    # The scoped filter that cleanup uses with the label's value, so other runs keep theirs.
    run_id = f"test-{secrets.token_hex(3)}"
    label = f"{RUN_LABEL}={run_id}"

    def docker(*args: str) -> str:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120,
                              check=True).stdout

    docker("network", "create", "--label", label, f"verify-cleanup-{run_id}")
    docker("volume", "create", "--label", label, f"verify-cleanup-{run_id}")
    docker("create", "--label", label, "--name", f"verify-cleanup-{run_id}",
           "--network", f"verify-cleanup-{run_id}",
           "--volume", f"verify-cleanup-{run_id}:/data", "debian:trixie-slim", "true")
    subprocess.run(["docker", "build", "--quiet", "--label", label, "--tag",
                    f"verify-cleanup-{run_id}:latest", "-"],
                   input="FROM debian:trixie-slim\n", capture_output=True, text=True,
                   timeout=120, check=True)
    created = leftovers(run_id)

    removed = Engine(run_id="cleanup").remove_labelled([f"label={label}"])

    assert [item.split()[0] for item in created] == ["container", "network", "volume", "image"]
    assert len(removed) == 4
    assert leftovers(run_id) == []


@pytest.mark.docker
@pytest.mark.usefixtures("remove_cli_images")
def test_jobs_2_verifies_examples_in_parallel(tmp_path, work_folder, run_ids, capsys):
    root = fixture_root(tmp_path, "ok-minimal", "ok-compose")
    report = tmp_path / "junit.xml"

    started = time.monotonic()
    exit_code = cli.main(["--root", str(root), "--jobs", "2", "--junit-xml", str(report)])
    wall_seconds = time.monotonic() - started

    printed = capsys.readouterr().out
    assert exit_code == cli.EXIT_OK, printed
    suite = ElementTree.parse(report).getroot()
    assert suite.get("tests") == "2"
    assert suite.get("failures") == "0"
    step_seconds = sum(float(case.get("time")) for case in suite.iter("testcase"))
    assert wall_seconds < step_seconds, printed
    assert printed.splitlines()[-1] == "2 passed, 0 failed"
    assert leftovers(run_ids[0]) == []
    assert list(work_folder.iterdir()) == []


@pytest.mark.docker
@pytest.mark.usefixtures("remove_cli_images")
def test_keep_leaves_failed_container(tmp_path, work_folder, run_ids, capsys):
    root = fixture_root(tmp_path, "failing/never-healthy")

    assert cli.main(["--root", str(root), "--keep"]) == cli.EXIT_FAILED

    printed = capsys.readouterr().out
    tips = [line for line in printed.splitlines() if line.startswith("TIP kept for inspection")]
    assert len(tips) == 1, printed
    command = tips[0].split("remove it with: ", 1)[1]
    assert command == f"scripts/verify --cleanup {run_ids[0]}"
    container = f"verify-cli-failing-never-healthy-{run_ids[0]}"
    state = subprocess.run(["docker", "inspect", "--format", "{{.State.Running}}", container],
                           capture_output=True, text=True, timeout=30, check=False)
    assert state.stdout.strip() == "true"
    kept = Path(tips[0].split("(its files: ", 1)[1].split(")", 1)[0])
    assert (kept / "Dockerfile").is_file()
    assert kept.is_relative_to(work_folder)

    removal = subprocess.run(shlex.split(command), cwd=REPOSITORY, capture_output=True,
                             env={**os.environ, "TMPDIR": str(work_folder)}, text=True,
                             timeout=60, check=False)

    assert removal.returncode == 0, removal.stderr
    assert leftovers(run_ids[0]) == []
    assert list(work_folder.iterdir()) == []


@pytest.mark.docker
@pytest.mark.usefixtures("remove_cli_images")
def test_reports_name_failed_step(tmp_path, work_folder, run_ids, capsys):
    root = fixture_root(tmp_path, "failing/copy-missing-file", "ok-minimal")
    junit, markdown = tmp_path / "reports" / "junit.xml", tmp_path / "reports" / "summary.md"

    exit_code = cli.main(["--root", str(root), "--jobs", "2", "--junit-xml", str(junit),
                          "--markdown", str(markdown)])

    assert exit_code == cli.EXIT_FAILED, capsys.readouterr().out
    suite = ElementTree.parse(junit).getroot()
    assert suite.tag == "testsuite"
    assert suite.get("tests") == "2"
    assert suite.get("failures") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert sorted(cases) == ["cli/failing/copy-missing-file", "cli/ok-minimal"]
    failure = cases["cli/failing/copy-missing-file"].find("failure")
    assert failure.get("type") == "build"
    assert failure.get("message").startswith(
        "cli/failing/copy-missing-file: build failed: Dockerfile:5: COPY requirements.txt ./")
    assert "requirements.txt" in failure.text
    assert cases["cli/ok-minimal"].find("failure") is None
    assert "* cli/ok-minimal  stop     ok" in cases["cli/ok-minimal"].find("system-out").text

    lines = markdown.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "## Examples verified"
    assert "1 passed, 1 failed." in lines
    rows = [line for line in lines if line.startswith("| `")]
    assert [row.count("|") for row in rows] == [5, 5]
    assert "| `cli/failing/copy-missing-file` | failed at `build` |" in rows[0]
    assert "| `cli/ok-minimal` | passed |" in rows[1]
    assert "### `cli/failing/copy-missing-file`" in lines
    reason = lines[lines.index("### `cli/failing/copy-missing-file`") + 2]
    assert reason.startswith("Dockerfile:5: COPY requirements.txt ./: requirements.txt is not")
    assert lines.count("```text") == 1
    assert lines[-1] == "```"
    assert leftovers(run_ids[0]) == []


@pytest.mark.docker
@pytest.mark.usefixtures("remove_cli_images")
def test_verbose_prints_commands_and_all_output(tmp_path, work_folder, run_ids, capsys):
    root = fixture_root(tmp_path, "failing/copy-missing-file")

    assert cli.main(["--root", str(root)]) == cli.EXIT_FAILED
    quiet = capsys.readouterr().out
    assert cli.main(["--root", str(root), "-v"]) == cli.EXIT_FAILED
    verbose = capsys.readouterr().out

    assert "> docker build" not in quiet
    assert "> docker build --progress plain --file Dockerfile --tag " in verbose
    # Without -v a failure shows the last 15 lines of its logs, with -v all of them.
    assert len([line for line in quiet.splitlines() if line.startswith("  | ")]) == 15
    assert len([line for line in verbose.splitlines() if line.startswith("  | ")]) > 15


@pytest.mark.docker
@pytest.mark.usefixtures("remove_cli_images")
def test_no_cache_builds_without_layer_cache(tmp_path, work_folder, run_ids, capsys):
    root = fixture_root(tmp_path, "failing/exits-at-start")

    assert cli.main(["--root", str(root), "--no-cache"]) == cli.EXIT_FAILED

    build = [line for line in capsys.readouterr().out.splitlines()
             if line.startswith("* cli/failing/exits-at-start  build ")]
    assert len(build) == 1
    assert build[0].endswith("without the layer cache")


@pytest.mark.docker
@pytest.mark.usefixtures("remove_cli_images")
def test_second_run_reuses_until_change(tmp_path, work_folder, run_ids, capsys):
    root = fixture_root(tmp_path, "ok-minimal")

    assert cli.main(["--root", str(root)]) == cli.EXIT_OK
    first = capsys.readouterr().out
    assert cli.main(["--root", str(root), "-v"]) == cli.EXIT_OK
    second = capsys.readouterr().out
    app = root / "cli" / "ok-minimal" / "app.py"
    app.write_text(app.read_text() + "\n# A change after the pass.\n")
    assert cli.main(["--root", str(root)]) == cli.EXIT_OK
    third = capsys.readouterr().out

    assert "* cli/ok-minimal  build " in first
    assert "* cli/ok-minimal  reuse    ok " in second
    assert "passed at " in second
    assert "--rerun verifies it again" in second
    assert "> docker build " not in second
    assert "> docker run " not in second
    assert second.splitlines()[-1] == "1 passed (1 reused from an earlier pass), 0 failed"
    assert "* cli/ok-minimal  build " in third
    assert all(leftovers(run_id) == [] for run_id in run_ids)


@pytest.mark.docker
@pytest.mark.usefixtures("remove_cli_images")
def test_rerun_verifies_a_passed_example_again(tmp_path, work_folder, run_ids, capsys):
    root = fixture_root(tmp_path, "ok-minimal")
    assert cli.main(["--root", str(root)]) == cli.EXIT_OK
    capsys.readouterr()

    assert cli.main(["--root", str(root), "--rerun"]) == cli.EXIT_OK

    printed = capsys.readouterr().out
    assert "* cli/ok-minimal  build " in printed
    assert " reuse " not in printed


@pytest.mark.docker
@pytest.mark.usefixtures("remove_cli_images")
def test_failure_is_never_reused(tmp_path, work_folder, run_ids, capsys):
    root = fixture_root(tmp_path, "failing/exits-at-start")

    assert cli.main(["--root", str(root)]) == cli.EXIT_FAILED
    assert cli.main(["--root", str(root)]) == cli.EXIT_FAILED

    printed = capsys.readouterr().out
    assert printed.count("ERROR cli/failing/exits-at-start: run failed: ") == 2
    assert " reuse " not in printed


def test_jobs_defaults_to_the_number_of_cores():
    assert cli.parse_args([]).jobs == (os.cpu_count() or 1)


def test_make_verify_passes_args_and_exit_code():
    def make(args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "--silent", "verify", f"ARGS={args}"], cwd=REPOSITORY,
                              capture_output=True, text=True, timeout=120, check=False)

    usage, invalid = make("--help"), make("--shard 9/3")

    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith("usage: scripts/verify ")
    assert invalid.returncode != 0
    assert "error: invalid shard '9/3': I must be between 1 and N" in invalid.stderr


@pytest.mark.docker
def test_edit_during_run_keeps_no_pass(tmp_path, work_folder, monkeypatch, capsys):
    root = fixture_root(tmp_path, "ok-minimal")
    app = root / "cli" / "ok-minimal" / "app.py"

    def verify_then_edit(example, engine, on_step, **options):
        app.write_text(app.read_text() + "\n# An edit made while the run went on.\n")
        return ExampleRun(example, engine)

    monkeypatch.setattr(cli, "verify_example", verify_then_edit)
    assert cli.main(["--root", str(root)]) == cli.EXIT_OK
    assert cli.main(["--root", str(root)]) == cli.EXIT_OK

    assert " reuse " not in capsys.readouterr().out


@pytest.mark.docker
def test_engine_error_fails_example(tmp_path, work_folder, monkeypatch, capsys):
    root = fixture_root(tmp_path, "ok-minimal")

    def engine_fails(example, engine, on_step, **options):
        raise EngineError("'docker ps --all' exited with 1", "Cannot connect to the daemon")

    monkeypatch.setattr(cli, "verify_example", engine_fails)

    assert cli.main(["--root", str(root)]) == cli.EXIT_FAILED
    printed = capsys.readouterr().out
    assert "ERROR cli/ok-minimal: engine failed: 'docker ps --all' exited with 1" in printed
    assert printed.splitlines()[-1] == "0 passed, 1 failed"


@pytest.mark.docker
def test_uncopyable_folder_fails_in_one_line(tmp_path, work_folder, run_ids, capsys):
    root = fixture_root(tmp_path, "ok-minimal")
    folder = root / "cli" / "ok-minimal"
    (folder / "dangling").symlink_to(tmp_path / "nowhere")

    assert cli.main(["--root", str(root)]) == cli.EXIT_FAILED

    errors = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1
    assert errors[0].startswith(f"ERROR cli/ok-minimal: copy failed: {folder}: cannot copy "
                                "the folder: ")
    assert "dangling" in errors[0]
    assert list(work_folder.iterdir()) == []
