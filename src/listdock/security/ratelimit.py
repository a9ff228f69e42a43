"""Rate limits: failed token attempts per client address, and requests per token.

Counters live in memory (one process) or in Redis when ``LISTDOCK_REDIS_URL`` is set, so that
several processes share them. A storage failure is logged and the request is let through:
an unreachable Redis must not lock every caller out.

Failed attempts use an exact moving window. Requests per token use a sliding window counter:
two counters per token (this window and the one before, weighted by how much of it still
overlaps), so counting a request costs the same however many were counted before. A moving
window keeps one entry per request, which makes each count slower as the limit grows.

Without Redis, requests are counted by ``LocalWindowCounter``, the same algorithm as the
limits library's, because its memory storage starts a timer thread every 10 ms while any
counter exists, and every request counts.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.util import WindowStats

from listdock.errors import ConfigurationError, RateLimitedError

logger = logging.getLogger(__name__)


class RateLimiter:
    """Checks and counts failed token attempts and per-token requests."""

    def __init__(
        self, storage_url: str | None, failed_token_limit: str, token_request_limit: str
    ) -> None:
        try:
            self._failed_limit: RateLimitItem = parse(failed_token_limit)
            self._token_limit: RateLimitItem = parse(token_request_limit)
        except ValueError as error:
            raise ConfigurationError(f"Invalid rate limit: {error}") from error
        storage = storage_from_string(storage_url or "memory://")
        if not isinstance(storage, Storage):
            raise ConfigurationError("LISTDOCK_REDIS_URL must name a synchronous storage")
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._request_limiter: SlidingWindowCounterRateLimiter | LocalWindowCounter = (
            SlidingWindowCounterRateLimiter(self._storage) if storage_url else LocalWindowCounter()
        )

    def __repr__(self) -> str:
        return "RateLimiter()"

    def check_client(self, address: str | None) -> None:
        """Raise RateLimitedError when ``address`` used up its failed token attempts."""
        if address is None:
            return
        try:
            allowed = self._limiter.test(self._failed_limit, "failed-token", address)
        except Exception:
            logger.exception("Rate limit storage failed; letting the request through")
            return
        if not allowed:
            raise RateLimitedError(
                "Too many failed token attempts",
                retry_after=self._retry_after(
                    self._limiter, self._failed_limit, "failed-token", address
                ),
            )

    def record_failure(self, address: str | None) -> None:
        """Count one failed token attempt from ``address``."""
        if address is None:
            return
        try:
            self._limiter.hit(self._failed_limit, "failed-token", address)
        except Exception:
            logger.exception("Rate limit storage failed while counting a failed attempt")

    def hit_token(self, token_id: str) -> None:
        """Count one request with ``token_id``; raise RateLimitedError past the limit."""
        try:
            allowed = self._request_limiter.hit(self._token_limit, "token", token_id)
        except Exception:
            logger.exception("Rate limit storage failed; letting the request through")
            return
        if not allowed:
            raise RateLimitedError(
                "Too many requests with this token",
                retry_after=self._retry_after(
                    self._request_limiter, self._token_limit, "token", token_id
                ),
            )

    def _retry_after(
        self,
        limiter: MovingWindowRateLimiter | SlidingWindowCounterRateLimiter | LocalWindowCounter,
        item: RateLimitItem,
        *keys: str,
    ) -> int:
        try:
            stats = limiter.get_window_stats(item, *keys)
            return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception:
            return int(item.get_expiry())

    def reset(self) -> None:
        """Clear every counter (used by tests and by an administrator after an incident)."""
        self._storage.reset()
        if isinstance(self._request_limiter, LocalWindowCounter):
            self._request_limiter.reset()


class LocalWindowCounter:
    """Sliding window counters in this process's memory, with no background thread.

    Windows are aligned to multiples of the limit's period. The count of a key is the
    previous window's count weighted by the part of it the sliding window still covers, plus
    the current window's count, as in the limits library's sliding window counter.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self._max_keys = max_keys
        self._lock = threading.Lock()
        # key -> (window number, previous window's count, this window's count)
        self._windows: dict[tuple[str, ...], tuple[int, int, int]] = {}

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one hit and return True, or return False when the limit is reached."""
        period = item.get_expiry()
        now = time.time()
        window = int(now // period)
        key = (item.key_for(), *identifiers)
        with self._lock:
            previous, current = self._counts(key, window)
            overlap = 1 - (now - window * period) / period
            if previous * overlap + current + 1 > item.amount:
                return False
            if len(self._windows) >= self._max_keys and key not in self._windows:
                self._windows.clear()
            self._windows[key] = (window, previous, current + 1)
            return True

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        """Return when the current window ends and how many hits it still allows."""
        period = item.get_expiry()
        now = time.time()
        window = int(now // period)
        with self._lock:
            previous, current = self._counts((item.key_for(), *identifiers), window)
        overlap = 1 - (now - window * period) / period
        remaining = max(0, math.floor(item.amount - previous * overlap - current))
        return WindowStats((window + 1) * period, remaining)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def _counts(self, key: tuple[str, ...], window: int) -> tuple[int, int]:
        stored = self._windows.get(key)
        if stored is None or stored[0] < window - 1:
            return 0, 0
        if stored[0] == window - 1:
            return stored[2], 0
        return stored[1], stored[2]
