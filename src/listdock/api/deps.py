"""FastAPI dependencies: the services of the app, a store session, the calling token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from listdock.api.auth import Caller, authenticate, require_not_widget_token
from listdock.domain.models import Principal
from listdock.errors import NotFoundError
from listdock.security.policy import Access, load_access

if TYPE_CHECKING:
    from listdock.app import Services

T = TypeVar("T")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def run_data_work(request: Request, function: Callable[..., T], *args: Any) -> T:
    """Run blocking data-request work in a worker thread, in the pool sized for data requests.

    Data requests are CPU-bound in Python, so a few threads serve them faster than many that
    contend for the global interpreter lock. Other routes keep the default pool.
    """
    limiter = get_services(request).data_threads
    return await anyio.to_thread.run_sync(function, *args, limiter=limiter)


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


def caller_access(caller: CallerDep, session: SessionDep) -> Access:
    """Load the caller's effective rights from the store (fresh on every request)."""
    return load_access(session, caller.principal_id)


AccessDep = Annotated[Access, Depends(caller_access)]


def visible_principal(session: Session, access: Access, principal_id: str) -> Principal:
    """Return the principal if the caller may see it (itself, or anyone for SecurityManagers).

    Raises NotFoundError for any other principal, exactly as for one that does not exist.
    """
    principal = session.get(Principal, principal_id)
    if principal is None or not (access.is_security_manager or principal.id == access.principal_id):
        raise NotFoundError("User not found", code="user_not_found")
    return principal
