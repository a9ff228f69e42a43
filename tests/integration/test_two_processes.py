"""Two ``listdock serve`` processes on one PostgreSQL store: security changes apply everywhere.

A change made through server A (revoke a token, disable a user, remove a grant, a role or a
team member) must be obeyed by the very next request to server B, with no cache window.
The test skips when PostgreSQL is unreachable, unless ``CI`` is set, where it fails.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from .conftest import POSTGRES_ADMIN_URL, postgres_available

LISTDOCK = Path(sys.executable).with_name("listdock")
API = "/api/v2"
STARTUP_SECONDS = 60
ADMIN_EMAIL = "ops@example.com"
ADMIN_PASSWORD = "correct horse battery staple"


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(env: dict[str, str], *args: str) -> str:
    """Run a ``listdock`` command and return its standard output, failing the test on error."""
    result = subprocess.run(
        [str(LISTDOCK), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(LISTDOCK), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    """Poll the OpenAPI document until the server responds, failing after STARTUP_SECONDS."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"listdock serve exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{base_url}{API}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"listdock serve did not answer within {STARTUP_SECONDS} s: {log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Cluster:
    """Two servers on one store, the administrator's token and the Chinook connector."""

    server_a: httpx.Client
    server_b: httpx.Client
    admin_headers: dict[str, str]
    connector_id: str
    invoice_id: str

    def as_admin(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """Send a request to server A with the administrator's token, failing on an error status."""
        response = self.server_a.request(
            method, f"{API}{path}", json=body, headers=self.admin_headers
        )
        assert response.status_code < 300, response.text
        return response

    def new_reader(self, name: str) -> tuple[str, dict[str, str]]:
        """Create, through server A, an API user granted every Chinook list, with ApiReader."""
        created = self.as_admin(
            "POST", "/user", {"Name": name, "Kind": "api", "TokenName": "ci"}
        ).json()
        user_id = created["UserId"]
        self.as_admin("PUT", f"/user/{user_id}/role", {"Roles": ["ApiReader"]})
        self.as_admin(
            "PUT",
            f"/user/{user_id}/connector/{self.connector_id}",
            {"Roles": ["User"], "Companies": "all", "Lists": "all"},
        )
        return user_id, {"Authorization": f"Bearer {created['Token']['Value']}"}

    def read_on_b(self, headers: dict[str, str]) -> httpx.Response:
        return self.server_b.get(
            f"{API}/entity/{self.invoice_id}/data", params={"MaxRecords": 1}, headers=headers
        )


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, chinook_sqlite_path: Path
) -> Iterator[Cluster]:
    reason = postgres_available()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    database = f"listdock_two_processes_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')

    tmp = tmp_path_factory.mktemp("two_processes")
    env = {name: value for name, value in os.environ.items() if not name.startswith("LISTDOCK_")}
    env.update(
        LISTDOCK_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
        LISTDOCK_SECRET_KEY=secrets.token_urlsafe(48),
        LISTDOCK_DATA_DIR=str(tmp / "data"),
        LISTDOCK_LOG_LEVEL="WARNING",
    )
    processes: list[subprocess.Popen[bytes]] = []
    clients: list[httpx.Client] = []
    try:
        run_cli(env, "init", "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD)
        admin_token = run_cli(env, "token", "create", "--user", ADMIN_EMAIL, "--name", "tests")
        run_cli(env, "connector", "add", "sqlite", str(chinook_sqlite_path), "--name", "Chinook")

        # Start one server at a time, so only one of them migrates a new store.
        for label in ("a", "b"):
            port = free_port()
            log = tmp / f"server_{label}.log"
            process = start_server(env, port, log)
            processes.append(process)
            base_url = f"http://127.0.0.1:{port}"
            wait_until_ready(process, base_url, log)
            clients.append(httpx.Client(base_url=base_url, timeout=10))

        admin_headers = {"Authorization": f"Bearer {admin_token}"}
        connectors = clients[0].get(f"{API}/connector", headers=admin_headers).json()
        connector_id = connectors[0]["ConnectorId"]
        entities = (
            clients[0].get(f"{API}/connector/{connector_id}/entity", headers=admin_headers).json()
        )
        invoice_id = next(entity["EntityId"] for entity in entities if entity["Name"] == "Invoice")
        yield Cluster(clients[0], clients[1], admin_headers, connector_id, invoice_id)
    finally:
        for client in clients:
            client.close()
        for process in processes:
            stop(process)
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_revoke_applies_on_other_server(cluster: Cluster) -> None:
    user_id, headers = cluster.new_reader("Revoked")
    before = cluster.read_on_b(headers)
    token_id = cluster.as_admin("GET", f"/user/{user_id}/token").json()[0]["TokenId"]

    cluster.as_admin("DELETE", f"/token/{token_id}")
    after = cluster.read_on_b(headers)

    assert before.status_code == 200
    assert after.status_code == 401


def test_disable_applies_on_other_server(cluster: Cluster) -> None:
    user_id, headers = cluster.new_reader("Disabled")
    before = cluster.read_on_b(headers)

    cluster.as_admin("PATCH", f"/user/{user_id}", {"Status": "Disabled"})
    after = cluster.read_on_b(headers)

    assert before.status_code == 200
    assert after.status_code == 401


def test_grant_removal_applies_on_other_server(cluster: Cluster) -> None:
    user_id, headers = cluster.new_reader("Ungranted")
    before = cluster.read_on_b(headers)

    cluster.as_admin("DELETE", f"/user/{user_id}/connector/{cluster.connector_id}")
    after = cluster.read_on_b(headers)

    assert before.status_code == 200
    assert after.status_code == 404


def test_role_removal_applies_on_other_server(cluster: Cluster) -> None:
    user_id, headers = cluster.new_reader("Roleless")
    before = cluster.read_on_b(headers)

    cluster.as_admin("PUT", f"/user/{user_id}/role", {"Roles": []})
    after = cluster.read_on_b(headers)

    assert before.status_code == 200
    assert after.status_code == 403
    assert after.json()["code"] == "missing_role"


def test_member_removal_applies_on_other_server(cluster: Cluster) -> None:
    user_id, headers = cluster.new_reader("Member")
    cluster.as_admin("PUT", f"/user/{user_id}/role", {"Roles": []})
    team_id = cluster.as_admin("POST", "/team", {"Name": "Readers"}).json()["TeamId"]
    cluster.as_admin("PUT", f"/team/{team_id}/role", {"Roles": ["ApiReader"]})
    cluster.as_admin("POST", f"/team/{team_id}/member", {"UserId": user_id})
    before = cluster.read_on_b(headers)

    cluster.as_admin("DELETE", f"/team/{team_id}/member/{user_id}")
    after = cluster.read_on_b(headers)

    assert before.status_code == 200
    assert after.status_code == 403
