"""Domain errors of listdock.

Every error raised below the API and web layers derives from ``ListdockError`` and carries no
HTTP status: ``listdock.api.errors`` maps each class to a status and an error ``code``.

    ListdockError
    ├── ConfigurationError        settings that cannot work (missing or placeholder secret key)
    ├── NotFoundError             an object that does not exist or that the caller may not see
    ├── InvalidInputError         a request value that is malformed or of the wrong type
    │   └── InvalidValueError     a value that cannot be converted to a field's type
    ├── ConflictError             a name or key that is already taken
    ├── PermissionDeniedError     the caller is known but lacks a right (carries a ``code``)
    ├── AuthenticationError       a token or password that fails (carries the precise reason)
    ├── RateLimitedError          too many requests or failed attempts (carries ``retry_after``)
    └── SourceError               a data source that fails
        ├── SourceConnectionError a source that cannot be reached or refuses the login
        └── SourceTimeoutError    a source that does not answer in time
"""

from __future__ import annotations


class ListdockError(Exception):
    """Base class of every listdock domain error.

    ``message`` is a short sentence-case clause safe to show to the caller; ``code`` is the
    snake_case identifier that API clients match on.
    """

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigurationError(ListdockError):
    code = "configuration_error"


class NotFoundError(ListdockError):
    code = "not_found"


class InvalidInputError(ListdockError):
    code = "invalid_request"


class InvalidValueError(InvalidInputError):
    """A value that cannot be converted to the type of the field named ``field``."""

    code = "invalid_value"

    def __init__(self, message: str, *, field: str, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class ConflictError(ListdockError):
    code = "conflict"


class PermissionDeniedError(ListdockError):
    code = "forbidden"


class AuthenticationError(ListdockError):
    """A credential that fails; ``reason`` is for the audit log only, never for the caller."""

    code = "invalid_token"

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        message = "Token required" if code == "token_required" else "Invalid token"
        super().__init__(message, code=code)
        self.reason = reason


class RateLimitedError(ListdockError):
    """Too many requests; ``retry_after`` is the number of seconds to wait."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class SourceError(ListdockError):
    code = "source_error"


class SourceConnectionError(SourceError):
    code = "source_unavailable"


class SourceTimeoutError(SourceError):
    code = "source_timeout"
