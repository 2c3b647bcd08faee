"""One rate limiter for the kit, shared by every worker and host through ``REVU_CACHE_URL``.

Built on the ``limits`` library (Flask-Limiter's core) with a moving window, stored where the
member snapshots are: in this process for ``memory://``, in Redis for ``redis://`` /
``rediss://``. Keys are hashed, so client addresses and member ids are never stored in clear.

When the shared storage cannot be reached, attempts are allowed (and one line per minute is
logged), and it is left alone for a few seconds so requests do not each wait for it: a throttle
must never turn an outage of Redis into an outage of the site.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from .errors import ConfigurationError
from .store import Outage, keyed_hash

logger = logging.getLogger("revu_widgets.limiter")

#: Prefix of the limiter's keys in a shared store.
KEY_PREFIX: Final = "revu:limits"
#: Seconds between two log lines about the same storage failure.
LOG_INTERVAL: Final = 60.0
#: Longest a limiter call may wait for Redis, in seconds.
REDIS_TIMEOUT: Final = 0.5
#: After a storage failure, attempts are allowed without asking it for this many seconds.
RETRY_SECONDS: Final = 5.0


@dataclass(frozen=True, slots=True)
class Decision:
    """What the limiter says about one key: go ahead, or wait ``retry_after`` seconds."""

    allowed: bool
    #: Whole seconds until the next attempt would be allowed (0 when allowed).
    retry_after: int = 0


class RateLimiter:
    """Count attempts per key against a rule such as ``"10/10 minutes"``.

    ``scope`` names what is limited (``"support-token"``), ``key`` whose attempts they are (a
    client address, a member id). Rules use the ``limits`` notation: ``"5/minute"``,
    ``"20 per hour"``, ``"10/10 minutes"``.
    """

    def __init__(self, url: str, *, key_secret: str) -> None:
        self._secret = key_secret.encode()
        self._storage = _storage_for(url)
        self._window = MovingWindowRateLimiter(self._storage)
        self._outage = Outage(
            logger,
            "revu-widgets rate limiter cannot reach REVU_CACHE_URL (%s); attempts are not "
            "limited until it is back",
            retry_seconds=RETRY_SECONDS,
            log_interval=LOG_INTERVAL,
        )

    def hit(self, rule: str, scope: str, key: str) -> Decision:
        """Count one attempt; ``allowed`` is False when it is one too many."""
        item, ids = _item(rule), self._ids(scope, key)
        if self._outage.active():
            return Decision(True)
        try:
            if self._window.hit(item, *ids):
                return Decision(True)
            return Decision(False, self._retry_after(item, ids))
        except StorageError as exc:
            self._outage.record(exc)
            return Decision(True)

    def peek(self, rule: str, scope: str, key: str) -> Decision:
        """Whether one more attempt would be allowed, without counting it."""
        item, ids = _item(rule), self._ids(scope, key)
        if self._outage.active():
            return Decision(True)
        try:
            if self._window.test(item, *ids):
                return Decision(True)
            return Decision(False, self._retry_after(item, ids))
        except StorageError as exc:
            self._outage.record(exc)
            return Decision(True)

    def reset(self, rule: str, scope: str, key: str) -> None:
        """Forget the attempts counted for ``key`` under ``rule``."""
        try:
            self._window.clear(_item(rule), *self._ids(scope, key))
        except StorageError as exc:
            self._outage.record(exc)

    def _ids(self, scope: str, key: str) -> tuple[str, str]:
        return scope, keyed_hash(self._secret, key)

    def _retry_after(self, item: RateLimitItem, ids: tuple[str, str]) -> int:
        stats = self._window.get_window_stats(item, *ids)
        return max(1, math.ceil(stats.reset_time - time.time()))


def _item(rule: str) -> RateLimitItem:
    try:
        return parse(rule)
    except ValueError:
        raise ConfigurationError(
            f"{rule!r} is not a rate limit: write it like '10/10 minutes' or '5 per hour'."
        ) from None


def _storage_for(url: str) -> Storage:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryStorage()
    if scheme in ("redis", "rediss"):
        return RedisStorage(
            url,
            key_prefix=KEY_PREFIX,
            wrap_exceptions=True,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
        )
    raise ConfigurationError(
        "REVU_CACHE_URL must be memory:// (one process) or redis://host:6379/0 / "
        "rediss://... (shared by every worker and host)."
    )
