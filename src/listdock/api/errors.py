"""Mapping of domain errors to API error responses.

Every error body is ``{"error": "<one clause, sentence case>", "code": "<snake_case>"}``.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from listdock.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    ListdockError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SourceConnectionError,
    SourceError,
    SourceTimeoutError,
)

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[ListdockError], int], ...] = (
    (AuthenticationError, 401),
    (NotFoundError, 404),
    (InvalidInputError, 400),
    (ConflictError, 409),
    (PermissionDeniedError, 403),
    (RateLimitedError, 429),
    (SourceTimeoutError, 504),
    (SourceConnectionError, 502),
    (SourceError, 502),
    (ConfigurationError, 500),
)

HTTP_CODES = {
    400: "bad_request",
    401: "token_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    415: "unsupported_media_type",
    422: "invalid_body",
    429: "rate_limited",
}

INVALID_TOKEN_HEADERS = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
TOKEN_REQUIRED_HEADERS = {"WWW-Authenticate": 'Bearer realm="listdock"'}


def error_response(
    status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


def status_for(error: ListdockError) -> int:
    for error_class, status in STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return 500


def response_for(error: ListdockError) -> JSONResponse:
    """Return the API response for a domain error; 401s carry ``WWW-Authenticate``."""
    status = status_for(error)
    if isinstance(error, AuthenticationError):
        headers = (
            TOKEN_REQUIRED_HEADERS if error.code == "token_required" else INVALID_TOKEN_HEADERS
        )
        return error_response(401, error.message, error.code, headers)
    if isinstance(error, RateLimitedError):
        return error_response(
            429, error.message, error.code, {"Retry-After": str(error.retry_after)}
        )
    if status >= 500:
        logger.error("Request failed: %s (%s)", error.message, error.code)
    return error_response(status, error.message, error.code)


def install_error_handlers(app: FastAPI) -> None:
    async def handle_domain_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ListdockError)
        return response_for(error)

    async def handle_validation_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return error_response(422, describe_validation_error(error), "invalid_body")

    async def handle_http_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        message = str(error.detail) if error.detail else "Request failed"
        if error.status_code == 404 and message == "Not Found":
            message = "Not found"
        if error.status_code == 405:
            message = "Method not allowed"
        return error_response(
            error.status_code,
            message,
            HTTP_CODES.get(error.status_code, "error"),
            dict(error.headers) if error.headers else None,
        )

    async def handle_data_error(request: Request, error: Exception) -> JSONResponse:
        # The store rejected a value taken from the request (PostgreSQL's "data exception"
        # class, such as a NUL character in text): the request was invalid, not the server.
        assert isinstance(error, DataError)
        logger.warning(
            "The store rejected a value of %s %s (%s)",
            request.method,
            request.url.path,
            type(error.orig).__name__,
        )
        return error_response(400, "Invalid value in the request", "invalid_value")

    app.add_exception_handler(ListdockError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(DataError, handle_data_error)


def describe_validation_error(error: RequestValidationError) -> str:
    """Return one clause naming the first invalid item of a request, without its value."""
    errors = error.errors()
    if not errors:
        return "Invalid request"
    first = errors[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body",)]
    where = ".".join(location) if location else "body"
    kind = first.get("type", "")
    if kind == "extra_forbidden":
        return f"Unknown key {where}"
    if kind == "missing":
        return f"Missing {where}"
    if kind == "json_invalid":
        return "Body is not valid JSON"
    # Pydantic starts the message of a validator's ValueError with "Value error, ".
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ") or "invalid"
    # Lower a sentence's first word ("Input should be"), but not a name ("ReadOnly applies").
    first_word = message.split(" ", 1)[0]
    if first_word[1:] == first_word[1:].lower():
        message = message[0].lower() + message[1:]
    return f"Invalid {where}: {message}"
