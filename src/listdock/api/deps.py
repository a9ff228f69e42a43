"""FastAPI dependencies: the services of the app, a store session, the calling token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from listdock.api.auth import Caller, authenticate, require_not_widget_token

if TYPE_CHECKING:
    from listdock.app import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_session(request: Request) -> Iterator[Session]:
    """Yield a store session for one request; the route commits what it changes."""
    with get_services(request).sessions() as session:
        yield session


def api_caller(request: Request) -> Caller:
    """Authenticate a REST API request; widget tokens are out of scope here (403)."""
    caller = authenticate(request, get_services(request).tokens, surface="api")
    require_not_widget_token(caller)
    return caller


ServicesDep = Annotated["Services", Depends(get_services)]
SessionDep = Annotated[Session, Depends(get_session)]
CallerDep = Annotated[Caller, Depends(api_caller)]
