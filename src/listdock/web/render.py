"""Page rendering: the Jinja2 environment, the layout's context, and notices after redirects.

Every page gets ``user``, ``csrf_token`` and ``notice``. Notices travel as a short code in the
``done`` query parameter of the redirect that follows a POST, so no server-side flash state is
needed; ``NOTICES`` maps each code to its sentence.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from listdock.web.sessions import WebUser

NOTICES = {
    "account_saved": "Account settings saved.",
    "api_user_created": "API user created.",
    "company_added": "Company added.",
    "connector_added": "Connector added and its lists discovered.",
    "connector_refreshed": "Connector refreshed: its lists were rediscovered.",
    "field_saved": "Field settings saved.",
    "grant_removed": "Connector grant removed.",
    "grant_saved": "Connector grant saved.",
    "member_added": "Member added.",
    "member_removed": "Member removed.",
    "role_created": "Role created.",
    "role_deleted": "Role deleted.",
    "roles_saved": "Roles saved.",
    "team_created": "Team created.",
    "team_deleted": "Team deleted.",
    "token_disabled": "Token disabled. Requests with it are refused until you enable it.",
    "token_enabled": "Token enabled.",
    "token_revoked": "Token revoked. It can never be used again.",
    "user_created": "User created. Give them their temporary password.",
    "user_deleted": "User deleted, with all of their tokens.",
    "user_saved": "User saved.",
    "favorite_saved": "Favorite saved.",
    "endpoint_saved": "Endpoint saved.",
    "endpoint_deleted": "Endpoint deleted.",
    "widget_saved": "Widget saved.",
    "action_run": "The action ran on the records.",
    "widget_deleted": "Widget deleted and its tokens revoked.",
}


def build_environment() -> Environment:
    """Return the Jinja2 environment of the web pages, with HTML autoescaping on."""
    environment = Environment(
        loader=PackageLoader("listdock", "web/templates"),
        autoescape=select_autoescape(["html", "xml"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


class PageRenderer:
    """Renders page templates inside the layout with the shared context."""

    def __init__(self, environment: Environment) -> None:
        self._environment = environment

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        user: WebUser | None,
        status_code: int = 200,
        no_store: bool = False,
    ) -> HTMLResponse:
        done = request.query_params.get("done")
        full_context = {
            "request": request,
            "user": user,
            "csrf_token": user.csrf_token if user else context.get("csrf_token", ""),
            "notice": NOTICES.get(done or ""),
            "path": request.url.path,
            **context,
        }
        body = self._environment.get_template(template).render(full_context)
        headers = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": (
                "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                "script-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
                "frame-ancestors 'none'; form-action 'self'"
            ),
        }
        if no_store:
            headers["Cache-Control"] = "no-store"
        return HTMLResponse(body, status_code=status_code, headers=headers)
