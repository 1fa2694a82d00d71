"""Build the site into a temporary folder and serve it on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO_ROOT / "docs"

BUILD_TIMEOUT = 300
SITEMAP_NAMESPACE = {"sitemap": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@dataclass(frozen=True)
class BuiltSite:
    """A built site placed at its URL path under a document root.

    `site_dir` is `document_root` joined with the path of `site_url`, such as
    devops-zero-to-hero/, so that a server of `document_root` serves the
    absolute links that Material writes into 404.html.
    """

    document_root: Path
    site_dir: Path
    url_path: str

    def page_paths(self) -> list[str]:
        """Return the URL of every built HTML page, relative to the site's URL."""
        paths = []
        for html in sorted(self.site_dir.rglob("*.html")):
            relative = html.relative_to(self.site_dir).as_posix()
            if relative == "index.html":
                relative = ""
            elif relative.endswith("/index.html"):
                relative = relative.removesuffix("index.html")
            paths.append(relative)
        return paths


def build_site(work_dir: Path) -> BuiltSite:
    """Run `mkdocs build --strict` and move the result under the path of site_url.

    Raises RuntimeError with the build's output when the build fails.
    """
    build_dir = work_dir / "build"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(build_dir)],
        # The snippets extension resolves include paths from the working directory.
        cwd=REPO_ROOT,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"mkdocs build --strict failed with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )
    url_path = site_url_path(build_dir)
    document_root = work_dir / "root"
    site_dir = document_root / url_path.strip("/")
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    build_dir.rename(site_dir)
    return BuiltSite(document_root=document_root, site_dir=site_dir, url_path=url_path)


def site_url_path(build_dir: Path) -> str:
    """Return the path of site_url, such as /devops-zero-to-hero/, read from the sitemap.

    MkDocs writes sitemap.xml with absolute URLs only when site_url is set,
    so a site without one is served from /.
    """
    sitemap = build_dir / "sitemap.xml"
    if not sitemap.is_file():
        return "/"
    first = ET.parse(sitemap).find("sitemap:url/sitemap:loc", SITEMAP_NAMESPACE)
    if first is None or not first.text:
        return "/"
    path = urlsplit(first.text.strip()).path
    return path if path.endswith("/") else f"{path}/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that writes no access log to the test output."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(document_root: Path) -> Iterator[str]:
    """Serve `document_root` on 127.0.0.1 on a free port and yield its base URL.

    The server stops when the context exits.
    """
    handler = functools.partial(QuietHandler, directory=str(document_root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
