"""Settings of a listdock deployment, read from ``LISTDOCK_*`` environment variables.

``Settings`` is built once at an entry point (the CLI) and passed down; nothing imports a global
settings object. ``resolve_secret_key`` turns an unset secret key into one generated on first run
and kept in the data directory with mode 0600.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from listdock.errors import ConfigurationError
from listdock.security.webhook_targets import DEFAULT_BLOCKED_NETWORKS

logger = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret_key"
# The default store: a SQLite file of this name in the data directory.
STORE_FILE = "listdock.db"
MIN_SECRET_KEY_LENGTH = 32
PLACEHOLDER_SECRET_KEYS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "secret-key",
        "secret_key",
        "your-secret-key",
        "your_secret_key",
        "placeholder",
        "xxx",
        "todo",
        "none",
        "null",
    }
)


class Settings(BaseSettings):
    """Every setting of a deployment; each field is the variable ``LISTDOCK_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="LISTDOCK_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".listdock"),
        description="Directory for the default SQLite store and the generated secret key.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the metadata store; unset means a SQLite file in the data "
            "directory. Use postgresql+psycopg://... when several processes share the store."
        ),
    )
    secret_key: str | None = Field(
        default=None,
        repr=False,
        description=(
            "Server secret for token hashes, sessions and connector password encryption; "
            "generated on first run and kept in the data directory when unset."
        ),
    )
    redis_url: str | None = Field(
        default=None,
        description=(
            "Redis URL for rate limits shared by several processes; unset keeps them in memory."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `listdock serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `listdock serve` binds to.")
    workers: int = Field(default=1, ge=1, description="Number of server processes.")
    log_level: str = Field(default="INFO", description="Log level of the server and the CLI.")
    data_threads: int = Field(
        default=8,
        ge=1,
        le=64,
        description=(
            "Worker threads per server process for data requests; fewer threads contend less "
            "for Python's global lock, more let slow sources overlap."
        ),
    )
    default_max_records: int = Field(
        default=100, ge=1, description="Rows returned by a data request that names no MaxRecords."
    )
    max_records_limit: int = Field(
        default=100_000,
        ge=1,
        description="Largest MaxRecords a data request may ask for; larger requests are rejected.",
    )
    source_connect_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to wait when connecting to a data source."
    )
    source_statement_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a data source query may run before it is cancelled.",
    )
    last_used_flush_seconds: float = Field(
        default=15.0,
        gt=0,
        le=60,
        description="Seconds between writes of token usage (LastUsed, UseCount); at most 60.",
    )
    failed_token_limit: str = Field(
        default="20/minute",
        description="Failed token attempts allowed per client address, as a `limits` rate string.",
    )
    failed_login_limit: str = Field(
        default="10/15 minutes",
        description="Failed web logins allowed per email and per client address.",
    )
    token_request_limit: str = Field(
        default="6000/minute",
        description="Requests allowed per token, as a `limits` rate string.",
    )
    webhook_blocked_networks: str = Field(
        default=DEFAULT_BLOCKED_NETWORKS,
        description=(
            "Networks webhook actions may not post to, separated by commas; the default "
            "covers link-local (cloud metadata), unspecified and multicast addresses."
        ),
    )

    def store_url(self) -> str:
        """Return the metadata store URL, defaulting to ``listdock.db`` in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / STORE_FILE).resolve()}"


def validate_secret_key(value: str) -> str:
    """Return ``value`` stripped, or raise ConfigurationError when it is empty or a placeholder."""
    key = value.strip()
    if not key:
        raise ConfigurationError(
            "LISTDOCK_SECRET_KEY is empty. Unset it to let listdock generate one, "
            "or set it to a random string of at least 32 characters."
        )
    if key.lower() in PLACEHOLDER_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigurationError(
            "LISTDOCK_SECRET_KEY looks like a placeholder or is shorter than 32 characters. "
            "Set it to a random string, for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    return key


def resolve_secret_key(settings: Settings) -> str:
    """Return the server secret, creating ``<data_dir>/secret_key`` (mode 0600) when needed.

    Raises ConfigurationError when ``LISTDOCK_SECRET_KEY`` is set but empty or a placeholder,
    or when the stored key file is empty.
    """
    if settings.secret_key is not None:
        return validate_secret_key(settings.secret_key)

    path = settings.data_dir / SECRET_KEY_FILE
    if path.exists():
        return validate_secret_key(path.read_text(encoding="utf-8"))

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Write a private temporary file, then link it into place: the link fails when another
    # process got there first, and nobody ever reads a half-written key.
    temporary = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return validate_secret_key(path.read_text(encoding="utf-8"))
    finally:
        temporary.unlink()
    logger.info("Generated a new secret key in %s", path)
    return key
