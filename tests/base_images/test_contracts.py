"""Check the documented contract of each base image that the examples use.

The checks run the images on the real Docker engine and hold for the official
images as well as for the local substitutes that scripts/offline-images builds,
so they never look at the substitute labels. A test skips only when its image is
not on the engine.
"""

from __future__ import annotations

import io
import json
import secrets
import subprocess
import tarfile
import time

import pytest

pytestmark = pytest.mark.docker

TEST_LABEL = "io.devops-zero-to-hero.test=base-images"
COMMAND_TIMEOUT_S = 120
READY_TIMEOUT_S = 60
# docker stop sends SIGKILL after 10 s. An image whose main process handles the
# stop signal exits well before that.
MAX_STOP_S = 3.0

DEBIAN = "debian:trixie-slim"
PYTHON_SLIM = "python:3.13-slim-trixie"
PYTHON_FULL = "python:3.13-trixie"
POSTGRES = "postgres:17-trixie"
REDIS = "redis:8.6-trixie"

# A wheel with one module, written inside the container, so that pip install
# is tested without reaching a package index.
WRITE_WHEEL = """
import zipfile
files = {
    "contract_probe.py": "ANSWER = 42\\n",
    "contract_probe-1.0.dist-info/METADATA":
        "Metadata-Version: 2.1\\nName: contract-probe\\nVersion: 1.0\\n",
    "contract_probe-1.0.dist-info/WHEEL":
        "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
files["contract_probe-1.0.dist-info/RECORD"] = "".join(name + ",,\\n" for name in files) + (
    "contract_probe-1.0.dist-info/RECORD,,\\n"
)
with zipfile.ZipFile("/tmp/contract_probe-1.0-py3-none-any.whl", "w") as wheel:
    for name, text in files.items():
        wheel.writestr(name, text)
"""

# Print where the venv's python leads once its links leave the venv.
VENV_TARGET = """
import os
path = "/tmp/venv/bin/python"
while os.path.islink(path) and path.startswith("/tmp/venv/"):
    path = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
print(path)
"""


# --- Engine helpers ----------------------------------------------------------


def docker(*args: str, check: bool = True, timeout: float = COMMAND_TIMEOUT_S):
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(
            f"docker {' '.join(args)} failed with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}",
            pytrace=False,
        )
    return result


def require_image(image: str) -> dict:
    """Return the image's configuration, or skip when it is not on the engine."""
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config}}", image],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    if result.returncode != 0:
        pytest.skip(
            f"{image} is not on this Docker engine; build it with "
            f"`scripts/offline-images {image}` or pull it with `docker pull {image}`"
        )
    return json.loads(result.stdout)


def unique_name(role: str) -> str:
    return f"base-images-{role}-{secrets.token_hex(3)}"


def start_container(
    request,
    image: str,
    *args: str,
    network: str | None = None,
    env: dict[str, str] | None = None,
    files: dict[str, str] | None = None,
    role: str = "server",
) -> str:
    """Start a detached container, copying files (path: text) in first.

    Returns its name. The container is removed when the requesting fixture or
    test finishes.
    """
    name = unique_name(role)
    create = ["create", "--name", name, "--label", TEST_LABEL]
    if network:
        create += ["--network", network]
    for key, value in (env or {}).items():
        create += ["--env", f"{key}={value}"]
    docker(*create, image, *args)
    request.addfinalizer(lambda: docker("rm", "--force", "--volumes", name, check=False))
    for path, text in (files or {}).items():
        # docker cp reads a tar stream, so no file on the host is needed and the
        # test works against a remote engine too.
        copy_into(name, path, text)
    docker("start", name)
    return name


def copy_into(container: str, path: str, text: str) -> None:
    data = text.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(path.rsplit("/", 1)[-1])
        info.size = len(data)
        info.mode = 0o755 if path.endswith(".sh") else 0o644
        archive.addfile(info, io.BytesIO(data))
    directory = path.rsplit("/", 1)[0] or "/"
    result = subprocess.run(
        ["docker", "cp", "-", f"{container}:{directory}"],
        input=buffer.getvalue(),
        capture_output=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr.decode()


def exec_in(container: str, *command: str, check: bool = True):
    return docker("exec", container, *command, check=check)


def run_once(
    image: str,
    *command: str,
    network: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT_S,
):
    """Run a throwaway container to completion and return the result."""
    args = ["run", "--rm", "--label", TEST_LABEL]
    if network:
        args += ["--network", network]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    return docker(*args, image, *command, check=False, timeout=timeout)


def wait_until(container: str, *probe: str) -> None:
    """Run probe in the container until it succeeds; fail on timeout or exit."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if exec_in(container, *probe, check=False).returncode == 0:
            return
        state = docker("inspect", "--format", "{{.State.Running}}", container).stdout.strip()
        if state != "true":
            logs = docker("logs", container, check=False)
            pytest.fail(f"{container} exited before it was ready:\n{logs.stdout}{logs.stderr}")
        time.sleep(0.25)
    logs = docker("logs", container, check=False)
    pytest.fail(f"{container} not ready within {READY_TIMEOUT_S} s:\n{logs.stdout}{logs.stderr}")


def process_uid(container: str, pid: int = 1) -> int:
    status = exec_in(container, "cat", f"/proc/{pid}/status").stdout
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    return int(uid_line.split()[1])


def stop_and_time(container: str) -> tuple[float, int]:
    """Return the seconds docker stop took and the container's exit code."""
    started = time.monotonic()
    docker("stop", container)
    elapsed = time.monotonic() - started
    exit_code = int(docker("inspect", "--format", "{{.State.ExitCode}}", container).stdout)
    return elapsed, exit_code


@pytest.fixture(scope="module")
def network(request) -> str:
    name = unique_name("net")
    docker("network", "create", "--label", TEST_LABEL, name)
    request.addfinalizer(lambda: docker("network", "rm", name, check=False))
    return name


# --- debian:trixie-slim ------------------------------------------------------


@pytest.fixture(scope="module")
def debian(request) -> str:
    require_image(DEBIAN)
    return start_container(request, DEBIAN, "sleep", "infinity", role="debian")


def test_debian_default_command_is_bash():
    config = require_image(DEBIAN)
    assert config["Cmd"] == ["bash"]


def test_debian_slim_has_no_manual_pages(debian):
    result = exec_in(debian, "find", "/usr/share/man", "-type", "f")
    assert result.stdout == ""


def test_debian_slim_keeps_only_copyright_docs(debian):
    result = exec_in(debian, "find", "/usr/share/doc", "-type", "f", "!", "-name", "copyright")
    assert result.stdout == ""


def test_debian_apt_lists_are_empty(debian):
    result = exec_in(debian, "find", "/var/lib/apt/lists", "-type", "f", "!", "-name", "lock")
    assert result.stdout == ""


# --- python:3.13-slim-trixie and python:3.13-trixie --------------------------


@pytest.fixture(scope="module", params=[PYTHON_SLIM, PYTHON_FULL])
def python(request) -> str:
    require_image(request.param)
    return start_container(request, request.param, "sleep", "infinity", role="python")


def test_python_interpreter_is_3_13(python):
    result = exec_in(python, "/usr/local/bin/python3", "--version")
    assert result.stdout.startswith("Python 3.13.")


@pytest.mark.parametrize("command", ["python", "python3", "pip", "pip3"])
def test_python_command_on_path(python, command):
    result = exec_in(python, "sh", "-c", f"command -v {command}")
    assert result.stdout.strip() == f"/usr/local/bin/{command}"


def test_python_pip_version_runs(python):
    result = exec_in(python, "pip", "--version")
    assert "(python 3.13)" in result.stdout


def test_python_environment(python):
    result = exec_in(
        python,
        "python3",
        "-c",
        "import os, platform; print(os.environ.get('LANG')); "
        "print(os.environ.get('PYTHON_VERSION')); print(platform.python_version())",
    )
    lang, declared, actual = result.stdout.split()
    assert lang == "C.UTF-8"
    assert declared == actual


@pytest.mark.parametrize("image", [PYTHON_SLIM, PYTHON_FULL])
def test_python_default_command_is_python3(image):
    config = require_image(image)
    assert config["Cmd"] == ["python3"]


def test_python_venv_links_to_usr_local(python):
    exec_in(python, "rm", "-rf", "/tmp/venv")
    exec_in(python, "python3", "-m", "venv", "/tmp/venv")
    target = exec_in(python, "python3", "-c", VENV_TARGET).stdout.strip()
    prefix = exec_in(python, "/tmp/venv/bin/python", "-c", "import sys; print(sys.prefix)")
    assert target == "/usr/local/bin/python3"
    assert prefix.stdout.strip() == "/tmp/venv"


def test_python_pip_install_as_root(python):
    exec_in(python, "python3", "-c", WRITE_WHEEL)
    install = exec_in(
        python,
        "pip",
        "install",
        "--no-index",
        "--root-user-action=ignore",
        "/tmp/contract_probe-1.0-py3-none-any.whl",
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    imported = exec_in(
        python, "python3", "-c", "import contract_probe; print(contract_probe.ANSWER)"
    )
    assert imported.stdout.strip() == "42"
    exec_in(python, "pip", "uninstall", "--yes", "--root-user-action=ignore", "contract-probe")


def test_python_ca_bundle_installed(python):
    exec_in(python, "test", "-s", "/etc/ssl/certs/ca-certificates.crt")


def test_python_useradd_available(python):
    exec_in(python, "sh", "-c", "command -v useradd && command -v groupadd")


@pytest.mark.parametrize("tool", ["curl", "wget"])
def test_python_slim_lacks_download_tool(tool):
    require_image(PYTHON_SLIM)
    result = run_once(PYTHON_SLIM, "sh", "-c", f"command -v {tool}")
    assert result.returncode != 0, f"{tool} found at {result.stdout.strip()}"


@pytest.mark.parametrize("tool", ["gcc", "make", "git", "curl", "wget", "ps"])
def test_python_full_has_tool(tool):
    require_image(PYTHON_FULL)
    result = run_once(PYTHON_FULL, "sh", "-c", f"command -v {tool}")
    assert result.returncode == 0, f"{tool} not found in {PYTHON_FULL}"


def test_python_full_has_python_headers():
    require_image(PYTHON_FULL)
    result = run_once(
        PYTHON_FULL,
        "python3",
        "-c",
        "import os, sysconfig; "
        "print(os.path.exists(sysconfig.get_paths()['include'] + '/Python.h'))",
    )
    assert result.stdout.strip() == "True"


# --- postgres:17-trixie ------------------------------------------------------

POSTGRES_ENV = {
    "POSTGRES_PASSWORD": "contract-secret",
    "POSTGRES_USER": "app",
    "POSTGRES_DB": "appdb",
    "POSTGRES_INITDB_ARGS": "--data-checksums",
}
INIT_FILES = {
    "/docker-entrypoint-initdb.d/01-schema.sql": (
        "CREATE TABLE init_log (source text);\nINSERT INTO init_log VALUES ('sql');\n"
    ),
    "/docker-entrypoint-initdb.d/02-seed.sh": (
        "#!/bin/sh\nset -e\n"
        'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" '
        "-c \"INSERT INTO init_log VALUES ('sh')\"\n"
    ),
}
# Ready on TCP, which the entrypoint's temporary server during initialisation
# does not listen on.
PG_READY = ("pg_isready", "--host", "127.0.0.1", "--username", "app", "--dbname", "appdb")


def psql_over_network(network: str, host: str, password: str, sql: str):
    return run_once(
        POSTGRES,
        "psql",
        "--host",
        host,
        "--username",
        "app",
        "--dbname",
        "appdb",
        "--tuples-only",
        "--no-align",
        "--command",
        sql,
        network=network,
        env={"PGPASSWORD": password},
    )


@pytest.fixture(scope="module")
def postgres(request, network) -> str:
    require_image(POSTGRES)
    name = start_container(
        request, POSTGRES, network=network, env=POSTGRES_ENV, files=INIT_FILES, role="postgres"
    )
    wait_until(name, *PG_READY)
    return name


def test_postgres_image_config():
    config = require_image(POSTGRES)
    assert config["StopSignal"] == "SIGINT"
    assert "5432/tcp" in config["ExposedPorts"]
    assert "/var/lib/postgresql/data" in config["Volumes"]
    assert "PGDATA=/var/lib/postgresql/data" in config["Env"]


def test_postgres_tools_on_path(postgres):
    exec_in(postgres, "sh", "-c", "command -v pg_isready && command -v psql")


def test_postgres_password_login_over_network(postgres, network):
    result = psql_over_network(network, postgres, "contract-secret", "SELECT current_user")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "app"


def test_postgres_wrong_password_rejected(postgres, network):
    result = psql_over_network(network, postgres, "wrong", "SELECT 1")
    assert result.returncode != 0
    assert "password authentication failed" in result.stderr


def test_postgres_init_scripts_ran(postgres, network):
    result = psql_over_network(
        network, postgres, "contract-secret", "SELECT source FROM init_log ORDER BY source"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["sh", "sql"]


def test_postgres_restart_skips_init_scripts(postgres, network):
    docker("restart", postgres)
    wait_until(postgres, *PG_READY)
    result = psql_over_network(
        network, postgres, "contract-secret", "SELECT count(*) FROM init_log"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"


def test_postgres_initdb_args_applied(postgres, network):
    result = psql_over_network(network, postgres, "contract-secret", "SHOW data_checksums")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "on"


def test_postgres_server_runs_as_postgres(postgres):
    uid = process_uid(postgres)
    user = exec_in(postgres, "getent", "passwd", str(uid)).stdout
    assert uid != 0
    assert user.startswith("postgres:")


def test_postgres_password_file_read(request, network):
    require_image(POSTGRES)
    name = start_container(
        request,
        POSTGRES,
        network=network,
        env={
            "POSTGRES_PASSWORD_FILE": "/run/db-password",
            "POSTGRES_USER": "app",
            "POSTGRES_DB": "appdb",
        },
        files={"/run/db-password": "from-a-file\n"},
        role="postgres-file",
    )
    wait_until(name, *PG_READY)
    result = psql_over_network(network, name, "from-a-file", "SELECT 1")
    assert result.returncode == 0, result.stderr


def test_postgres_trust_needs_no_password(request, network):
    require_image(POSTGRES)
    name = start_container(
        request,
        POSTGRES,
        network=network,
        env={"POSTGRES_HOST_AUTH_METHOD": "trust", "POSTGRES_USER": "app", "POSTGRES_DB": "appdb"},
        role="postgres-trust",
    )
    wait_until(name, *PG_READY)
    result = psql_over_network(network, name, "", "SELECT current_user")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "app"


def test_postgres_missing_password_fails_clearly():
    require_image(POSTGRES)
    result = run_once(POSTGRES, timeout=READY_TIMEOUT_S)
    assert result.returncode != 0
    assert "superuser password is not specified" in result.stdout + result.stderr


def test_postgres_stops_fast(request):
    require_image(POSTGRES)
    name = start_container(request, POSTGRES, env=POSTGRES_ENV, role="postgres-stop")
    wait_until(name, *PG_READY)
    elapsed, exit_code = stop_and_time(name)
    assert exit_code != 137, "postgres was killed, not stopped"
    assert elapsed < MAX_STOP_S


# --- redis:8.6-trixie --------------------------------------------------------


@pytest.fixture(scope="module")
def redis(request, network) -> str:
    require_image(REDIS)
    name = start_container(request, REDIS, network=network, role="redis")
    wait_until(name, "redis-cli", "ping")
    return name


def test_redis_image_config():
    config = require_image(REDIS)
    assert config["Cmd"] == ["redis-server"]
    assert config["WorkingDir"] == "/data"
    assert "/data" in config["Volumes"]
    assert "6379/tcp" in config["ExposedPorts"]


def test_redis_ping_from_other_container(redis, network):
    result = run_once(REDIS, "redis-cli", "-h", redis, "ping", network=network)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "PONG"


def test_redis_server_not_root(redis):
    assert process_uid(redis) != 0


def test_redis_stops_fast(request):
    require_image(REDIS)
    name = start_container(request, REDIS, role="redis-stop")
    wait_until(name, "redis-cli", "ping")
    elapsed, exit_code = stop_and_time(name)
    assert exit_code != 137, "redis-server was killed, not stopped"
    assert elapsed < MAX_STOP_S
