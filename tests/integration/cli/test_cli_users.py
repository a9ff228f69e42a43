"""``listdock user`` and ``listdock api-user``, run as an operator would on a tmp data directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from listdock.app import Services, build_services
from listdock.cli import app
from listdock.errors import AuthenticationError
from listdock.security.tokens import TOKEN_PATTERN
from listdock.settings import Settings

EMAIL = "grace@example.com"
PASSWORD = "correct horse battery staple"


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


@pytest.fixture
def store(data_dir: Path) -> Iterator[Services]:
    """The services over the data directory's store, for checking what the commands did."""
    services = build_services(Settings(data_dir=data_dir))
    try:
        yield services
    finally:
        services.close()


def run(*args: str, answer: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=answer)


def assert_one_sentence_error(result: Result, *words: str) -> None:
    """Check an error exit: status 1, one line on standard error, no traceback."""
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0]


def status_of(store: Services, login: str) -> str:
    with store.sessions() as session:
        return store.principals.find_by_login(session, login).status


def roles_of(store: Services, login: str) -> list[str]:
    with store.sessions() as session:
        principal = store.principals.find_by_login(session, login)
        return store.principals.system_role_names(session, principal.id)


def create_grace(*extra: str) -> Result:
    result = run("user", "create", EMAIL, "--password", PASSWORD, *extra)
    assert result.exit_code == 0, result.output
    return result


# user create ------------------------------------------------------------------------------


def test_user_create_with_role(store: Services) -> None:
    result = create_grace("--role", "ApiReader", "--name", "Grace")

    assert result.stdout.startswith(f"Created user {EMAIL} (")
    assert roles_of(store, EMAIL) == ["ApiReader"]
    with store.sessions() as session:
        user = store.principals.find_by_login(session, EMAIL)
        assert user.kind == "user"
        assert user.name == "Grace"
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2")


def test_user_create_several_roles(store: Services) -> None:
    create_grace("--role", "ApiReader", "--role", "Developer")

    assert roles_of(store, EMAIL) == ["ApiReader", "Developer"]


def test_user_create_prints_no_password(store: Services) -> None:
    result = create_grace()

    assert PASSWORD not in result.output


def test_user_create_duplicate_email_fails(store: Services) -> None:
    create_grace()

    result = run("user", "create", EMAIL.upper(), "--password", PASSWORD)

    assert_one_sentence_error(result, "email")


def test_user_create_short_password_fails(store: Services) -> None:
    result = run("user", "create", EMAIL, "--password", "short")

    assert_one_sentence_error(result, "Password")


def test_user_create_unknown_role_fails(store: Services) -> None:
    result = run("user", "create", EMAIL, "--password", PASSWORD, "--role", "Overlord")

    assert_one_sentence_error(result, "Overlord")
    with store.sessions() as session:
        assert not store.principals.has_any_user(session)


# disable, enable, delete ------------------------------------------------------------------


def test_user_disable_stops_tokens(store: Services) -> None:
    create_grace()
    token = run("token", "create", "--user", EMAIL, "--name", "ci").stdout.strip()

    result = run("user", "disable", EMAIL)

    assert result.exit_code == 0, result.output
    assert status_of(store, EMAIL) == "Disabled"
    with pytest.raises(AuthenticationError) as refused:
        store.tokens.authenticate(token, surface="api", ip=None)
    assert refused.value.reason == "owner_disabled"


def test_user_enable_restores_tokens(store: Services) -> None:
    create_grace()
    token = run("token", "create", "--user", EMAIL, "--name", "ci").stdout.strip()
    run("user", "disable", EMAIL)

    result = run("user", "enable", EMAIL)

    assert result.exit_code == 0, result.output
    assert status_of(store, EMAIL) == "Active"
    assert store.tokens.authenticate(token, surface="api", ip=None).token_name == "ci"


def test_user_delete_with_yes(store: Services) -> None:
    create_grace()
    token = run("token", "create", "--user", EMAIL, "--name", "ci").stdout.strip()

    result = run("user", "delete", EMAIL, "--yes")

    assert result.exit_code == 0, result.output
    with store.sessions() as session:
        assert not store.principals.has_any_user(session)
    with pytest.raises(AuthenticationError) as refused:
        store.tokens.authenticate(token, surface="api", ip=None)
    assert refused.value.reason == "unknown"


def test_user_delete_declined_keeps_user(store: Services) -> None:
    create_grace()

    result = run("user", "delete", EMAIL, answer="n\n")

    assert result.exit_code == 1
    assert status_of(store, EMAIL) == "Active"


@pytest.mark.parametrize("command", ["disable", "enable", "delete"])
def test_unknown_user_fails(store: Services, command: str) -> None:
    result = (
        run("user", command, "nobody@example.com", "--yes")
        if command == "delete"
        else run("user", command, "nobody@example.com")
    )

    assert_one_sentence_error(result, "nobody@example.com")


# api-user create --------------------------------------------------------------------------


def test_api_user_prints_only_token(store: Services) -> None:
    result = run("api-user", "create", "Robot", "--token-name", "ci")

    assert result.exit_code == 0, result.output
    assert TOKEN_PATTERN.fullmatch(result.stdout.strip())
    assert result.stdout.count("\n") == 1
    authenticated = store.tokens.authenticate(result.stdout.strip(), surface="api", ip=None)
    assert authenticated.principal_kind == "api"
    assert authenticated.principal_name == "Robot"


def test_api_user_with_role(store: Services) -> None:
    result = run("api-user", "create", "Robot", "--token-name", "ci", "--role", "ApiReader")

    assert result.exit_code == 0, result.output
    assert roles_of(store, "Robot") == ["ApiReader"]


def test_api_user_without_token(store: Services) -> None:
    result = run("api-user", "create", "Robot")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Created API user Robot (")
    with store.sessions() as session:
        robot = store.principals.find_by_login(session, "Robot")
        assert robot.email is None
        assert robot.password_hash is None
        assert store.tokens.list_for_principal(session, robot.id) == []


def test_api_user_unknown_role_fails(store: Services) -> None:
    result = run("api-user", "create", "Robot", "--token-name", "ci", "--role", "Overlord")

    assert_one_sentence_error(result, "Overlord")


def test_api_user_disabled_by_name(store: Services) -> None:
    token = run("api-user", "create", "Robot", "--token-name", "ci").stdout.strip()

    result = run("user", "disable", "Robot")

    assert result.exit_code == 0, result.output
    with pytest.raises(AuthenticationError):
        store.tokens.authenticate(token, surface="api", ip=None)


@pytest.mark.parametrize("command", [("disable",), ("delete", "--yes")], ids=["disable", "delete"])
def test_last_administrator_kept(store: Services, command: tuple[str, ...]) -> None:
    create_grace("--role", "Administrator")

    result = run("user", command[0], EMAIL, *command[1:])

    assert_one_sentence_error(result, "Administrator")
    assert status_of(store, EMAIL) == "Active"


def test_second_administrator_disabled(store: Services) -> None:
    create_grace("--role", "Administrator")
    run("user", "create", "ops@example.com", "--password", PASSWORD, "--role", "Administrator")

    result = run("user", "disable", EMAIL)

    assert result.exit_code == 0, result.output
    assert status_of(store, EMAIL) == "Disabled"
