"""Presenting a token: the Authorization header or the ``token`` query parameter.

Rules: the ``Bearer`` scheme is case-insensitive and surrounding white space is trimmed; any
other header form is an invalid token (401). The query parameter is accepted on GET routes
only. A token in both places, or the parameter given twice, is a 400. No token at all is a
401 with code ``token_required``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import Request

from listdock.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from listdock.services.tokens import AuthenticatedToken, TokenService

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """The authenticated principal behind a request, and the token it used."""

    principal_id: str
    principal_name: str
    token: AuthenticatedToken


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def presented_token(request: Request, *, query_allowed: bool) -> str | None:
    """Return the token the request carries, stripped, or None when it carries none.

    Raises InvalidInputError (400) for a token in both places, a repeated parameter, or a
    query token on a route that does not accept one. A malformed header is returned as an
    empty string so that authentication refuses and audits it.
    """
    header = request.headers.get("authorization")
    query_values = request.query_params.getlist("token")
    if header is not None and query_values:
        raise InvalidInputError(
            "Send the token in the Authorization header or the token parameter, not both",
            code="token_conflict",
        )
    if len(query_values) > 1:
        raise InvalidInputError(
            "The token parameter is given more than once", code="token_conflict"
        )

    if header is not None:
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return ""
        return rest.strip()

    if query_values:
        if not query_allowed:
            raise InvalidInputError(
                "The token parameter is accepted on GET routes only; use the Authorization header",
                code="token_in_query",
            )
        return query_values[0].strip()
    return None


def authenticate(request: Request, tokens: TokenService, *, surface: str) -> Caller:
    """Return the caller of a token-authenticated route, or raise AuthenticationError."""
    value = presented_token(request, query_allowed=request.method in ("GET", "HEAD"))
    if value is None:
        raise AuthenticationError("missing", code="token_required")
    token = tokens.authenticate(value, surface=surface, ip=client_address(request))
    return Caller(principal_id=token.principal_id, principal_name=token.principal_name, token=token)


def require_not_widget_token(caller: Caller) -> None:
    """Raise PermissionDeniedError (``token_scope``) for a widget token outside its widget."""
    if caller.token.widget_id is not None:
        raise PermissionDeniedError("Widget tokens work only on their widget", code="token_scope")
