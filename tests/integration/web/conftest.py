"""Fixtures for the web page tests: Chinook connected through the API, a signed-in client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from listdock.app import Services
from listdock.web.sessions import SESSION_COOKIE

from ..api.conftest import chinook  # noqa: F401 (pytest finds a fixture by its name here)
from ..conftest import Login


@pytest.fixture
def browser(services: Services, client: TestClient, admin: Login) -> TestClient:
    """The test client, signed in to the web app as the administrator.

    A test module that signs in another way defines its own ``browser``, which pytest uses there.
    """
    cookie = services.web_sessions.login("ada@example.com", "correct horse battery", ip="1.1.1.1")
    client.cookies.set(SESSION_COOKIE, cookie)
    return client
