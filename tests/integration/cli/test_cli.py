"""The ``listdock`` command line, run as an operator would, on a data directory in tmp."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from listdock.app import build_services
from listdock.cli import app
from listdock.security.tokens import TOKEN_PATTERN
from listdock.settings import Settings

# The console script installed beside the interpreter running the tests.
LISTDOCK = Path(sys.executable).parent / "listdock"
ADMIN_EMAIL = "ops@example.com"
ADMIN_PASSWORD = "correct horse battery staple"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory in tmp, with every other ``LISTDOCK_*`` variable unset."""
    for name in list(os.environ):
        if name.startswith("LISTDOCK_"):
            monkeypatch.delenv(name)
    directory = tmp_path / "data"
    monkeypatch.setenv("LISTDOCK_DATA_DIR", str(directory))
    monkeypatch.setenv("LISTDOCK_LOG_LEVEL", "WARNING")
    return directory


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def initialised(data_dir: Path) -> Result:
    result = run("init", "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD)
    assert result.exit_code == 0, result.output
    return result


def assert_one_sentence_error(result: Result, *words: str) -> None:
    """Check an error exit: status 1, one line on standard error, no traceback."""
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0]


# init -------------------------------------------------------------------------------------


def test_init_creates_store_and_admin(data_dir: Path) -> None:
    result = initialised(data_dir)

    assert result.stdout.strip() == f"Created the store and the administrator {ADMIN_EMAIL}."
    assert (data_dir / "listdock.db").is_file()
    services = build_services(Settings(data_dir=data_dir), migrate=False)
    try:
        with services.sessions() as session:
            admin = services.principals.find_by_login(session, ADMIN_EMAIL)
            assert admin.kind == "user"
            assert admin.status == "Active"
    finally:
        services.close()


def test_init_secret_key_mode_0600(data_dir: Path) -> None:
    initialised(data_dir)

    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text(encoding="utf-8").strip()) >= 32


def test_init_twice_keeps_store(data_dir: Path) -> None:
    initialised(data_dir)
    key = (data_dir / "secret_key").read_text(encoding="utf-8")

    again = run("init")

    assert again.exit_code == 0
    assert "already has an administrator" in again.stdout
    assert (data_dir / "secret_key").read_text(encoding="utf-8") == key


def test_init_uses_set_secret_key(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTDOCK_SECRET_KEY", "k" * 20 + "8f3Jq0aZ_x9Lw2mB7")

    initialised(data_dir)

    assert not (data_dir / "secret_key").exists()


@pytest.mark.parametrize("value", ["", "   ", "changeme", "CHANGEME", "secret", "short-key"])
def test_placeholder_secret_key_fails(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LISTDOCK_SECRET_KEY", value)

    result = run("init", "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD)

    assert_one_sentence_error(result, "LISTDOCK_SECRET_KEY")
    assert not (data_dir / "listdock.db").exists()


def test_placeholder_key_no_traceback(data_dir: Path, tmp_path: Path) -> None:
    environment = {**os.environ, "LISTDOCK_SECRET_KEY": "changeme"}

    completed = subprocess.run(
        [str(LISTDOCK), "init", "--admin-email", ADMIN_EMAIL,
         "--admin-password", ADMIN_PASSWORD],
        env=environment, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip

    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert completed.stderr.strip().startswith("Error: LISTDOCK_SECRET_KEY")
    assert len(completed.stderr.strip().splitlines()) == 1


# token create -----------------------------------------------------------------------------


def test_token_create_prints_value(data_dir: Path) -> None:
    initialised(data_dir)

    result = run("token", "create", "--user", ADMIN_EMAIL, "--name", "ci")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert TOKEN_PATTERN.fullmatch(lines[0])
    services = build_services(Settings(data_dir=data_dir), migrate=False)
    try:
        caller = services.tokens.authenticate(lines[0], surface="api", ip=None)
    finally:
        services.close()
    assert caller.token_name == "ci"


def test_token_create_unknown_user(data_dir: Path) -> None:
    initialised(data_dir)

    result = run("token", "create", "--user", "nobody@example.com", "--name", "ci")

    assert_one_sentence_error(result, "Error:", str(data_dir.resolve()), "LISTDOCK_DATA_DIR")


@pytest.mark.parametrize(
    "command",
    [
        ("token", "create", "--user", ADMIN_EMAIL, "--name", "ci"),
        ("connector", "add", "sqlite", "chinook.sqlite", "--name", "Chinook"),
        ("user", "disable", ADMIN_EMAIL),
        ("endpoint", "list"),
    ],
)
def test_command_without_store_creates_none(data_dir: Path, command: tuple[str, ...]) -> None:
    result = run(*command)

    assert_one_sentence_error(result, str(data_dir.resolve()), "`listdock init`")
    assert not data_dir.exists()


def test_token_create_duplicate_name(data_dir: Path) -> None:
    initialised(data_dir)
    assert run("token", "create", "--user", ADMIN_EMAIL, "--name", "ci").exit_code == 0

    result = run("token", "create", "--user", ADMIN_EMAIL, "--name", "CI")

    assert_one_sentence_error(result, "already exists")


def test_token_create_past_expiry(data_dir: Path) -> None:
    initialised(data_dir)

    result = run(
        "token", "create", "--user", ADMIN_EMAIL, "--name", "ci", "--expires-at", "2001-01-01"
    )

    assert_one_sentence_error(result, "ExpiresAt")


# connector add ----------------------------------------------------------------------------


def test_connector_add_chinook(data_dir: Path, chinook_sqlite_path: Path) -> None:
    initialised(data_dir)

    result = run("connector", "add", "sqlite", str(chinook_sqlite_path), "--name", "Chinook")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Added connector Chinook (")
    assert result.stdout.strip().endswith("with 11 lists.")


def test_connector_add_missing_file(data_dir: Path, tmp_path: Path) -> None:
    initialised(data_dir)
    missing = tmp_path / "missing.sqlite"

    result = run("connector", "add", "sqlite", str(missing), "--name", "Missing")

    assert_one_sentence_error(result, "Database file not found", str(missing))


def test_connector_add_duplicate_name(data_dir: Path, chinook_sqlite_path: Path) -> None:
    initialised(data_dir)
    assert run("connector", "add", "sqlite", str(chinook_sqlite_path)).exit_code == 0

    result = run("connector", "add", "sqlite", str(chinook_sqlite_path))

    assert_one_sentence_error(result, "already exists")


def test_connector_add_other_type(data_dir: Path, chinook_sqlite_path: Path) -> None:
    initialised(data_dir)

    result = run("connector", "add", "postgresql", str(chinook_sqlite_path))

    assert_one_sentence_error(result, "sqlite")
