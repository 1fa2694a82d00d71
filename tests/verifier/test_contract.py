"""Contract parsing: valid files load, and each kind of mistake names the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.contract import ContractError, load_contract
from verifier.discover import EXAMPLES_ROOT, discover_examples


def write_contract(folder: Path, text: str) -> Path:
    (folder / "verify.toml").write_text(text, encoding="utf-8")
    return folder


def test_image_contract_loads_probes(tmp_path):
    write_contract(tmp_path, '[image]\nport = 8000\nprobes = [{ path = "/up", contains = "ok" }]\n')
    contract = load_contract(tmp_path)
    assert contract.image.port == 8000
    assert contract.image.probes[0].path == "/up"
    assert contract.image.probes[0].method == "GET"
    assert contract.compose is None


def test_compose_contract_keeps_json_expectations(tmp_path):
    write_contract(tmp_path, '[compose]\nprobes = [{ path = "/n/{token}", json = { a = "{token}" } }]\n')
    probe = load_contract(tmp_path).compose.probes[0]
    assert probe.json_ == {"a": "{token}"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[image]\nport = 8000\ncolour = 'red'\n", "[image] unknown key 'colour'"),
        ("[image]\nport = '8000'\n", "[image] 'port': Input should be a valid integer"),
        ("[image]\nport = true\n", "[image] 'port': Input should be a valid integer"),
        ("[checks]\nsize = { max_mb = 'big' }\n[image]\nport = 1\n",
         "[checks.size] 'max_mb': Input should be a valid number"),
        ("[checks]\nstop_within = 0\n[image]\nport = 1\n", "'stop_within': Input should be greater than 0"),
        ("[images]\n", "unknown key 'images'"),
        ("[image]\nprobes = [{ path = '/up' }]\n", "needs a port"),
        ("[compose]\nprobes = [{ method = 'GET' }]\n", "[compose.probes[0]] 'path': Field required"),
        ("[compose]\nprobes = ['/up']\n", "[compose.probes[0]] Input should be"),
        ("[image]\nport = 1\n[checks]\ncolour = 1\n", "[checks] unknown key 'colour'"),
        ("", "needs an [image] or a [compose] table"),
        ("[image\n", "invalid TOML"),
    ],
)
def test_invalid_contract_names_file_and_problem(tmp_path, text, message):
    write_contract(tmp_path, text)
    with pytest.raises(ContractError) as error:
        load_contract(tmp_path)
    assert str(tmp_path / "verify.toml") in str(error.value)
    assert message in str(error.value)


def test_missing_contract_is_reported(tmp_path):
    with pytest.raises(ContractError, match="missing"):
        load_contract(tmp_path)


def test_repository_examples_have_valid_contracts():
    names = [example.name for example in discover_examples(EXAMPLES_ROOT)]
    assert "docker/multi-stage" in names
    assert "docker/compose-stack" in names
