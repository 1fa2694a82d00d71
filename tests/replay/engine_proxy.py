"""A Unix-socket proxy to the Docker engine that keeps `docker system prune` off the build cache.

`docker system prune --filter label=...` sends the label filter with each of
its prune requests. The engine's build cache prune, though, reads only its own
filter keys (id, parent, type, description, inuse, shared, private, until) and
drops the rest, label included, as moby's builder-next code does in Engine 26
and 28. A labelled prune would so remove the unused build cache of every
project on a shared engine. The proxy forwards every request to the engine
unchanged, except POST .../build/prune, which it records and responds to with
an empty prune report of its own.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HEAD_END = b"\r\n\r\n"
MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class ProxiedRequest:
    """The request line of one API request that passed through the proxy."""

    method: str
    target: str

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)

    @property
    def is_prune(self) -> bool:
        return self.method == "POST" and self.path.endswith("/prune")

    @property
    def is_build_cache_prune(self) -> bool:
        return self.method == "POST" and self.path.endswith("/build/prune")

    def filters(self) -> dict:
        """Return the request's `filters` query parameter, decoded from JSON."""
        values = self.query.get("filters")
        return json.loads(values[0]) if values else {}


class EngineProxy:
    """Listen on `socket_path` and forward to the engine's Unix socket at `engine_socket`."""

    def __init__(self, socket_path: Path, engine_socket: str):
        self.socket_path = socket_path
        self.engine_socket = engine_socket
        self.requests: list[ProxiedRequest] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy.handle(self.request)

        self._server = socketserver.ThreadingUnixStreamServer(str(socket_path), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> EngineProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.socket_path.unlink(missing_ok=True)

    def handle(self, client: socket.socket) -> None:
        head, rest = _read_head(client)
        if not head:
            return
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        request = ProxiedRequest(method, target)
        with self._lock:
            self.requests.append(request)
        if request.is_build_cache_prune:
            _answer_empty_build_cache_prune(client)
            return
        # One request per connection, so each one passes through the head parsing above.
        headers = [line for line in header_lines
                   if line and not line.lower().startswith("connection:")]
        forwarded = "\r\n".join([request_line, *headers, "Connection: close", "", ""])
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as engine:
            engine.connect(self.engine_socket)
            engine.sendall(forwarded.encode("latin-1") + rest)
            upload = threading.Thread(target=_pump, args=(client, engine), daemon=True)
            upload.start()
            _pump(engine, client)
        _close_quietly(client)


def _read_head(client: socket.socket) -> tuple[bytes, bytes]:
    """Read the request head, and return it with any body bytes that came after it."""
    data = b""
    while HEAD_END not in data:
        chunk = client.recv(65536)
        if not chunk:
            return b"", b""
        data += chunk
        if len(data) > MAX_HEAD_BYTES:
            raise ValueError("request head larger than 64 KiB")
    head, _, rest = data.partition(HEAD_END)
    return head, rest


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        # The other direction closed the connection, which ends the exchange.
        pass


def _answer_empty_build_cache_prune(client: socket.socket) -> None:
    body = json.dumps({"CachesDeleted": None, "SpaceReclaimed": 0}).encode()
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    client.sendall(head.encode("latin-1") + body)
    _close_quietly(client)


def _close_quietly(client: socket.socket) -> None:
    """End both directions of a client connection that the client may have closed already."""
    try:
        client.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
