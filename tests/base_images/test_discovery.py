"""Test how scripts/offline-images finds the public images that examples pull.

These tests read Dockerfiles and compose files written to a temporary folder
and need no Docker engine.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "offline-images"


def load_script():
    # The entry script has no .py suffix, so it needs an explicit loader.
    loader = importlib.machinery.SourceFileLoader("offline_images", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up while the class body runs.
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


offline_images = load_script()


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("python:3.13-slim-trixie", "python:3.13-slim-trixie"),
        ("docker.io/library/redis:8.6-trixie", "redis:8.6-trixie"),
        ("library/postgres:17-trixie", "postgres:17-trixie"),
        ("nginx", "nginx:latest"),
        ("ghcr.io/astral-sh/uv:0.5", "ghcr.io/astral-sh/uv:0.5"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
    ],
)
def test_normalise_image_short_form(name, expected):
    assert offline_images.normalise_image(name) == expected


def test_dockerfile_skips_stage_names(tmp_path):
    path = write(
        tmp_path,
        "Dockerfile",
        (
            "FROM python:3.13-slim-trixie AS builder\n"
            "RUN true\n"
            "FROM builder AS test\n"
            "FROM --platform=linux/amd64 python:3.13-slim-trixie AS runner\n"
            "COPY --from=builder /opt/venv /opt/venv\n"
            "COPY --from=0 /a /b\n"
        ),
    )
    images, unresolved = offline_images.dockerfile_images(path)
    assert set(images) == {"python:3.13-slim-trixie"}
    assert unresolved == []


def test_dockerfile_reads_copy_and_mount_images(tmp_path):
    path = write(
        tmp_path,
        "Dockerfile",
        (
            "FROM scratch\n"
            "COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv\n"
            "RUN --mount=type=bind,from=redis:8.6-trixie,source=/usr/bin,target=/x true\n"
        ),
    )
    images, _ = offline_images.dockerfile_images(path)
    assert images == ["ghcr.io/astral-sh/uv:0.5", "redis:8.6-trixie"]


def test_dockerfile_expands_global_arg_default(tmp_path):
    path = write(
        tmp_path, "Dockerfile", ("ARG PYTHON_TAG=3.13-slim-trixie\nFROM python:${PYTHON_TAG}\n")
    )
    images, unresolved = offline_images.dockerfile_images(path)
    assert images == ["python:3.13-slim-trixie"]
    assert unresolved == []


def test_dockerfile_arg_without_default_unresolved(tmp_path):
    path = write(tmp_path, "Dockerfile", "ARG TAG\nFROM python:$TAG\n")
    images, unresolved = offline_images.dockerfile_images(path)
    assert images == []
    assert unresolved == ["python:$TAG"]


def test_compose_services_image_and_build(tmp_path):
    path = write(
        tmp_path,
        "compose.yaml",
        (
            "name: demo\n"
            "services:\n"
            "  web:\n"
            "    build: .\n"
            "    image: demo-web:dev  # built here\n"
            "    environment:\n"
            "      image: not-a-key-of-the-service\n"
            "  db:\n"
            '    image: "postgres:17-trixie"\n'
            "volumes:\n"
            "  data:\n"
        ),
    )
    assert offline_images.compose_services(path) == [
        ("demo-web:dev", True),
        ("postgres:17-trixie", False),
    ]


def test_scan_skips_images_examples_build(tmp_path):
    write(
        tmp_path,
        "examples/a/stack/compose.yaml",
        (
            "services:\n"
            "  web:\n"
            "    build: .\n"
            "    image: stack-web:dev\n"
            "  cache:\n"
            "    image: ${REDIS_IMAGE:-redis:8.6-trixie}\n"
        ),
    )
    write(tmp_path, "examples/a/stack/Dockerfile", "FROM python:3.13-slim-trixie\n")
    write(tmp_path, "examples/a/child/Dockerfile", "FROM stack-web:dev\n")
    pulled, errors = offline_images.scan_examples(tmp_path)
    assert sorted(pulled) == ["python:3.13-slim-trixie", "redis:8.6-trixie"]
    assert errors == []


def test_scan_reports_unresolved_compose_image(tmp_path):
    write(tmp_path, "examples/a/compose.yaml", "services:\n  db:\n    image: ${DB_IMAGE}\n")
    _, errors = offline_images.scan_examples(tmp_path)
    assert len(errors) == 1
    assert "compose.yaml" in errors[0]
    assert "${DB_IMAGE}" in errors[0]


def test_recipe_folder_for_every_recipe():
    for recipe in offline_images.RECIPES.values():
        assert recipe.folder.is_dir(), recipe.image


def test_build_order_puts_bases_first():
    order = offline_images.build_order(["python:3.13-trixie", "redis:8.6-trixie"])
    assert order == [
        "debian:trixie-slim",
        "python:3.13-slim-trixie",
        "python:3.13-trixie",
        "redis:8.6-trixie",
    ]


@pytest.mark.parametrize(
    ("debian_version", "expected"),
    [
        ("3.13.5-2+deb13u5", "3.13.5"),
        ("5:8.0.2-3", "8.0.2"),
        ("17.12-0+deb13u1", "17.12"),
        ("1.0", "1.0"),
    ],
)
def test_upstream_version_strips_epoch_and_revision(debian_version, expected):
    assert offline_images.upstream_version(debian_version) == expected


def test_package_version_from_status(tmp_path):
    status = write(
        tmp_path,
        "status",
        (
            "Package: python3.13\nStatus: deinstall ok config-files\nVersion: 3.13.1-1\n\n"
            "Package: python3.13\nStatus: install ok installed\nVersion: 3.13.5-2\n"
            "Description: interpreter\n continued line: with a colon\n\n"
        ),
    )
    assert offline_images.package_version(status, "python3.13") == "3.13.5-2"


def test_missing_ca_file_rejected(tmp_path):
    with pytest.raises(offline_images.UserError, match="cannot read CA file"):
        offline_images.read_ca_file(str(tmp_path / "absent.crt"))


def test_ca_file_without_pem_rejected(tmp_path):
    path = write(tmp_path, "ca.der", "not a certificate")
    with pytest.raises(offline_images.UserError, match="no PEM certificate"):
        offline_images.read_ca_file(str(path))


def test_pulled_image_without_recipe_rejected(tmp_path, monkeypatch, capsys):
    write(tmp_path, "examples/a/web/Dockerfile", "FROM nginx:1.27-trixie\n")
    write(tmp_path, "examples/a/db/compose.yaml", "services:\n  db:\n    image: mysql:9\n")
    monkeypatch.setattr(offline_images, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(offline_images, "inspect_image", lambda name: None)
    with pytest.raises(offline_images.UserError) as raised:
        offline_images.requested_images([])
    printed = capsys.readouterr().err.splitlines()
    messages = printed + [f"error: {raised.value}"]
    assert len(messages) == 2
    assert "examples/a/db/compose.yaml: mysql:9 has no recipe" in messages[0]
    assert "examples/a/web/Dockerfile: nginx:1.27-trixie has no recipe" in messages[1]


def test_present_image_without_recipe_kept(tmp_path, monkeypatch, capsys):
    write(tmp_path, "examples/a/web/Dockerfile", "FROM nginx:1.27-trixie\n")
    monkeypatch.setattr(offline_images, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(offline_images, "inspect_image", lambda name: {"Id": "sha256:1"})
    assert offline_images.requested_images([]) == []
    assert "* kept nginx:1.27-trixie" in capsys.readouterr().out
