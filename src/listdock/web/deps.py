"""Dependencies of the web pages: the signed-in user, CSRF checks, and the store session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session

from listdock.security.policy import Access, load_access
from listdock.web.sessions import SESSION_COOKIE, WebUser, csrf_matches

if TYPE_CHECKING:
    from listdock.app import Services


class LoginRequiredError(Exception):
    """No live web session, so the app responds with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__("login required")
        self.next_path = next_path


class CsrfError(Exception):
    """A form post without the session's CSRF token, so the app responds with 403."""


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_session(request: Request) -> Iterator[Session]:
    with get_services(request).sessions() as session:
        yield session


def web_user(request: Request) -> WebUser:
    """Return the signed-in user or raise LoginRequiredError."""
    user = get_services(request).web_sessions.resolve(request.cookies.get(SESSION_COOKIE))
    if user is None:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        raise LoginRequiredError(quote(target, safe="/?=&"))
    return user


def checked_user(
    request: Request,
    user: Annotated[WebUser, Depends(web_user)],
    csrf_token: Annotated[str | None, Form()] = None,
) -> WebUser:
    """Return the signed-in user of a form post whose CSRF token matches its session."""
    if not csrf_matches(user.csrf_token, csrf_token):
        raise CsrfError()
    return user


def user_access(
    user: Annotated[WebUser, Depends(web_user)],
    session: Annotated[Session, Depends(get_session)],
) -> Access:
    return load_access(session, user.principal_id)


ServicesDep = Annotated["Services", Depends(get_services)]
SessionDep = Annotated[Session, Depends(get_session)]
UserDep = Annotated[WebUser, Depends(web_user)]
PostUserDep = Annotated[WebUser, Depends(checked_user)]
AccessDep = Annotated[Access, Depends(user_access)]
