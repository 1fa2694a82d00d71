"""Send a contract's HTTP probes to a running example and check the answers."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from .contract import Probe


class ProbeError(Exception):
    """A probe whose response did not match the contract."""


def substitute(value: object, token: str) -> object:
    """Replace `{token}` in strings, recursively through dicts and lists."""
    if isinstance(value, str):
        return value.replace("{token}", token)
    if isinstance(value, dict):
        return {key: substitute(item, token) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, token) for item in value]
    return value


def check_probe(base_url: str, probe: Probe, token: str) -> str:
    """Send one probe and return a one-line description of the response."""
    path = substitute(probe.path, token)
    body = substitute(probe.body, token) if probe.body is not None else None
    request = urllib.request.Request(
        base_url + path,
        data=body.encode() if body is not None else None,
        method=probe.method,
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, text = response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode(errors="replace")
    described = f"{probe.method} {path} -> {status}"
    if status != probe.status:
        raise ProbeError(f"{described}, expected {probe.status}: {text[:300].strip()}")
    if probe.contains is not None and substitute(probe.contains, token) not in text:
        raise ProbeError(f"{described}, body lacks {probe.contains!r}: {text[:300].strip()}")
    if probe.json_:
        _check_json(described, text, substitute(probe.json_, token))
    return described


def _check_json(described: str, text: str, expected: dict) -> None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise ProbeError(f"{described}, body is not JSON: {text[:300]}") from None
    for key, value in expected.items():
        if document.get(key) != value:
            raise ProbeError(f"{described}, '{key}' is {document.get(key)!r}, expected {value!r}")


def wait_until_passes(base_url: str, probe: Probe, token: str, timeout: float,
                       wrong_response_grace: float = 10) -> str:
    """Retry a probe until it passes, and return its description.

    A refused or reset connection is retried for up to `timeout` seconds,
    because the server may still be starting. A wrong response from a server that
    is up is retried for `wrong_response_grace` seconds only, then reported.
    """
    deadline = time.monotonic() + timeout
    first_answer = None
    while True:
        try:
            return check_probe(base_url, probe, token)
        except ProbeError:
            first_answer = first_answer or time.monotonic()
            if time.monotonic() > min(deadline, first_answer + wrong_response_grace):
                raise
        except OSError as error:
            if time.monotonic() > deadline:
                raise ProbeError(f"no response within {timeout:.0f} s: {error}") from None
        time.sleep(0.5)
