"""``listdock serve`` as a real process on a loopback port, read with a token over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

LISTDOCK = Path(sys.executable).parent / "listdock"
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listdock(environment: dict[str, str], *args: str) -> str:
    """Run one CLI command to completion and return its standard output."""
    completed = subprocess.run(
        [str(LISTDOCK), *args], env=environment, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    kept = {name: value for name, value in os.environ.items() if not name.startswith("LISTDOCK_")}
    return {**kept, "LISTDOCK_DATA_DIR": str(tmp_path / "data"), "LISTDOCK_LOG_LEVEL": "INFO"}


@pytest.fixture
def server(
    environment: dict[str, str], chinook_sqlite_path: Path, tmp_path: Path
) -> Iterator[tuple[str, str, Path]]:
    """Start ``listdock serve``; yield its base URL, a token and its log file; then stop it."""
    listdock(
        environment,
        "init",
        "--admin-email",
        "ops@example.com",
        "--admin-password",
        "correct horse battery",
    )
    token = listdock(environment, "token", "create", "--user", "ops@example.com", "--name", "t")
    listdock(environment, "connector", "add", "sqlite", str(chinook_sqlite_path), "--name", "C")
    port = free_port()
    log_path = tmp_path / "serve.log"

    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(LISTDOCK), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base_url, process)
            yield base_url, token.strip(), log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_SECONDS)


def wait_until_up(base_url: str, process: subprocess.Popen[bytes]) -> None:
    """Poll the OpenAPI document until the server responds, failing after ``STARTUP_SECONDS``."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"listdock serve exited with status {process.returncode}")
        try:
            if httpx.get(f"{base_url}/api/v2/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"listdock serve did not answer within {STARTUP_SECONDS} seconds")


def test_serve_reads_data_with_token(server: tuple[str, str, Path]) -> None:
    base_url, token, log_path = server
    headers = {"Authorization": f"Bearer {token}"}

    with httpx.Client(base_url=base_url, timeout=10) as client:
        entities = client.get("/api/v2/entity", headers=headers).json()
        genre = next(entity for entity in entities if entity["Name"] == "Genre")
        by_header = client.get(f"/api/v2/entity/{genre['EntityId']}/data", headers=headers)
        by_query = client.get(
            f"/api/v2/entity/{genre['EntityId']}/data",
            params={"token": token, "format": "csv", "MaxRecords": 5},
        )
        refused = client.get("/api/v2/entity", headers={"Authorization": f"Bearer {token}x"})

    assert by_header.status_code == 200
    assert len(by_header.json()) == 25
    assert by_header.json()[0] == {"GenreId": 1, "Name": "Rock"}
    assert by_query.text.splitlines()[:2] == ["GenreId,Name", "1,Rock"]
    assert refused.status_code == 401
    assert token not in log_path.read_text(encoding="utf-8")
