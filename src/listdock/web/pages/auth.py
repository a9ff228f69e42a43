"""Login and logout."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from listdock.errors import AuthenticationError, RateLimitedError
from listdock.web.deps import PostUserDep, ServicesDep
from listdock.web.sessions import LOGIN_CSRF_COOKIE, SESSION_COOKIE, csrf_matches

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Return ``target`` when it is a path on this site, else ``/`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_page(
    request: Request,
    services: ServicesDep,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = services.pages.render(
        request,
        "pages/login.html",
        {"csrf_token": token, "next": next_path, "email": email, "error": error},
        user=None,
        status_code=status_code,
        no_store=True,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


@router.get("/login")
def login_form(request: Request, services: ServicesDep, next: str = "/") -> Response:  # noqa: A002
    return _login_page(request, services, next_path=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    """Sign in with email and password; API users can never sign in."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if expected is None or not csrf_matches(expected, csrf_token):
        return _login_page(
            request,
            services,
            next_path=safe_next(next),
            email=email,
            error="Your login form expired. Please enter your email and password again.",
            status_code=403,
        )
    ip = request.client.host if request.client else None
    try:
        cookie = services.web_sessions.login(email, password, ip=ip)
    except RateLimitedError as error:
        minutes = max(1, round(error.retry_after / 60))
        return _login_page(
            request,
            services,
            next_path=safe_next(next),
            email=email,
            error=f"Too many failed logins. Wait {minutes} minute(s) and try again.",
            status_code=429,
        )
    except AuthenticationError:
        return _login_page(
            request,
            services,
            next_path=safe_next(next),
            email=email,
            error="The email or password is not correct. Check them and try again.",
            status_code=401,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, services: ServicesDep, user: PostUserDep) -> Response:
    services.web_sessions.logout(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
