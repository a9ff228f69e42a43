"""Error responses of the web pages: login redirects, CSRF refusals and error pages."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from listdock.errors import ListdockError, RateLimitedError
from listdock.web.deps import CsrfError, LoginRequiredError, get_services, web_user
from listdock.web.render import PageRenderer

logger = logging.getLogger(__name__)

TITLES = {
    400: "That request cannot be completed",
    401: "Please log in",
    403: "You are not allowed to do that",
    404: "Not found",
    409: "That conflicts with what exists",
    429: "Too many requests",
    502: "The data source failed",
    504: "The data source timed out",
}


def web_error_page(request: Request, status: int, message: str) -> Response:
    """Render the error page for a web request, inside the layout when a user is signed in."""
    renderer: PageRenderer = get_services(request).pages
    try:
        user = web_user(request)
    except LoginRequiredError:
        user = None
    sentence = message if message.endswith(".") else message + "."
    return renderer.render(
        request,
        "pages/error.html",
        {"title": TITLES.get(status, "Something went wrong"), "message": sentence},
        user=user,
        status_code=status,
    )


def domain_error_page(request: Request, error: ListdockError, status: int) -> Response:
    """Render a domain error for a web request with a next step for the reader."""
    advice = {
        403: " Ask an administrator for the role or grant you need.",
        404: " It may have been deleted, or you may not have access to it.",
        409: " Reload the page and try again.",
    }.get(status, " Go back, correct it and try again.")
    if isinstance(error, RateLimitedError):
        advice = f" Wait {error.retry_after} seconds and try again."
    return web_error_page(request, status, error.message.rstrip(".") + "." + advice)


def install_web_error_handlers(app: FastAPI) -> None:
    async def handle_login_required(request: Request, error: Exception) -> Response:
        assert isinstance(error, LoginRequiredError)
        return RedirectResponse(f"/login?next={error.next_path}", status_code=303)

    async def handle_csrf(request: Request, _error: Exception) -> Response:
        return web_error_page(
            request,
            403,
            "The form was not accepted because its security token is missing or expired. "
            "Reload the page and submit it again",
        )

    app.add_exception_handler(LoginRequiredError, handle_login_required)
    app.add_exception_handler(CsrfError, handle_csrf)


def is_web_page(path: str) -> bool:
    """Return whether ``path`` belongs to the web pages (not the API, embeds or docs)."""
    return not path.startswith(("/api/", "/embed", "/docs", "/static"))
