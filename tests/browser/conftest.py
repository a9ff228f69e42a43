"""Fixtures for browser tests: a real ``listdock serve`` process, a host page server, Chromium.

Browser tests skip when ``/usr/bin/chromium`` is absent, unless ``CI`` is set, where they
fail. Every process and server started here is stopped by its fixture's finalizer.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from listdock.app import build_services
from listdock.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
START_TIMEOUT = 30.0


def screenshot_directory() -> Path:
    """Return where screenshots go: ``docs/screenshots`` when ``LISTDOCK_UPDATE_SCREENSHOTS``
    is ``1``, else a temporary folder, so an ordinary test run leaves the repository unchanged.
    """
    if os.environ.get("LISTDOCK_UPDATE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    return Path(tempfile.mkdtemp(prefix="listdock-screenshots-"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listdock_environment(folder: Path, log_level: str) -> dict[str, str]:
    """Return this process's environment plus the settings of a listdock in ``folder``.

    The store is ``folder/store.db`` (SQLite), the data folder ``folder/data``, and the secret
    key a new random one.
    """
    return {
        **os.environ,
        "LISTDOCK_DATA_DIR": str(folder / "data"),
        "LISTDOCK_DATABASE_URL": f"sqlite:///{folder / 'store.db'}",
        "LISTDOCK_SECRET_KEY": secrets.token_urlsafe(48),
        "LISTDOCK_LOG_LEVEL": log_level,
    }


@contextmanager
def serve_listdock(environment: dict[str, str], log_path: Path, ready_path: str) -> Iterator[str]:
    """Run ``listdock serve`` on a free 127.0.0.1 port and yield its base URL.

    The process gets ``environment`` and writes its output to ``log_path``. The test fails,
    with the end of that log, when the process exits or ``ready_path`` has not returned a 2xx
    response within START_TIMEOUT seconds. On exit the process is terminated, and killed if it
    has not stopped 10 seconds later.
    """
    port = free_port()
    executable = Path(sys.executable).parent / "listdock"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(f"{base_url}{ready_path}", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log_text = log_path.read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"listdock serve did not start:\n{log_text[-2000:]}")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class ListdockServer:
    """A running ``listdock serve`` on 127.0.0.1 and an administrator's token for it."""

    base_url: str
    admin_token: str
    log_path: Path

    @property
    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base_url}/api/v2",
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM}; install Debian's chromium package"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def listdock_server(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: Path
) -> Iterator[ListdockServer]:
    """Start ``listdock serve`` on a fresh SQLite store with one administrator."""
    folder = tmp_path_factory.mktemp("listdock-server")
    environment = listdock_environment(folder, "DEBUG")
    settings = Settings(
        data_dir=folder / "data",
        database_url=environment["LISTDOCK_DATABASE_URL"],
        secret_key=environment["LISTDOCK_SECRET_KEY"],
    )
    services = build_services(settings)
    try:
        with services.sessions.begin() as session:
            admin = services.principals.create_user(
                session,
                name="Ada Admin",
                email="ada@example.com",
                password="correct horse battery",
                actor_id=None,
            )
            services.principals.assign_system_roles(
                session, admin, ["Administrator"], actor_id=None
            )
            admin_token = services.tokens.create(session, admin, "browser", created_by=None).value
    finally:
        services.close()

    log_path = folder / "server.log"
    with serve_listdock(environment, log_path, "/api/v2/openapi.json") as base_url:
        yield ListdockServer(base_url, admin_token, log_path)


class HtmlPage(BaseHTTPRequestHandler):
    """A handler that responds to every GET with the HTML page that ``page`` builds.

    Subclasses build the page from the query string. Requests are not logged.
    """

    def page(self, query: dict[str, list[str]]) -> str:
        raise NotImplementedError

    def do_GET(self) -> None:  # noqa: N802
        body = self.page(parse_qs(urlsplit(self.path).query)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@contextmanager
def serve_pages(handler: type[HtmlPage]) -> Iterator[int]:
    """Serve ``handler`` on a free 127.0.0.1 port from a background thread and yield the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class HostPage(HtmlPage):
    """Serves ``/host?src=URL``: a page that frames ``URL`` in an iframe."""

    def page(self, query: dict[str, list[str]]) -> str:
        source = query.get("src", [""])[0].replace('"', "%22")
        return (
            "<!DOCTYPE html><html><head><title>Host application</title></head><body>"
            "<h1>Customer portal</h1>"
            f'<iframe id="widget" src="{source}" width="900" height="700"></iframe>'
            "</body></html>"
        )


@pytest.fixture(scope="module")
def host_server() -> Iterator[int]:
    """Start the host page server on 127.0.0.1 and return its port."""
    with serve_pages(HostPage) as port:
        yield port


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="module")
def chinook_copy(tmp_path_factory: pytest.TempPathFactory, chinook_sqlite_path: Path) -> Path:
    target = tmp_path_factory.mktemp("chinook") / "chinook.sqlite"
    shutil.copyfile(chinook_sqlite_path, target)
    return target
