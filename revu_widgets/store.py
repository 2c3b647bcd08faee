"""Member snapshots with single-flight: one upstream walk per member, shared by every route.

Every page, JSON route, live refresh, support view and ``revu.progress()`` reads a member's
offers through :meth:`SnapshotStore.read`. Concurrent readers of the same member share one
upstream walk (single-flight); its validated result then serves that member for
``REVU_CACHE_SECONDS``. RevU asks for on-demand data, so the window is seconds, and
:meth:`SnapshotStore.refresh` (called on a RevU postback) ends it at once.

``REVU_CACHE_URL`` picks the backend: ``memory://`` (this process only) or ``redis://`` /
``rediss://`` (every worker and host; see :mod:`revu_widgets.redis_store`).
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from .errors import ConfigurationError, UpstreamTimeoutError
from .models import UserProgress
from .snapshots import fingerprint

#: Members whose version stamp a memory store remembers (least recently used forgotten first).
MEMORY_MEMBERS: Final = 4096

Walk = Callable[[], UserProgress]


class Outage:
    """Remembers that a shared store (Redis) failed, so callers skip it for a few seconds.

    Every request would otherwise wait for a store that is down; ``record`` also logs ``message``
    (with the exception's class name) at most once every ``log_interval`` seconds.
    """

    def __init__(
        self, logger: logging.Logger, message: str, *, retry_seconds: float, log_interval: float
    ) -> None:
        self._logger, self._message = logger, message
        self._retry_seconds, self._log_interval = retry_seconds, log_interval
        self._lock = threading.Lock()
        self._until = -math.inf
        self._logged_at = -math.inf

    def active(self) -> bool:
        """True while the store is to be left alone."""
        return time.monotonic() < self._until

    def record(self, exc: BaseException) -> None:
        """The store just failed with ``exc``: leave it alone for a while, log if not lately."""
        with self._lock:
            now = time.monotonic()
            self._until = now + self._retry_seconds
            if now - self._logged_at < self._log_interval:
                return
            self._logged_at = now
        self._logger.warning(self._message, type(exc).__name__)


class SnapshotStore(abc.ABC):
    """Where validated member snapshots live, and how concurrent walks are shared.

    ``seconds`` is how long a snapshot serves its member (0: only while its walk is running);
    ``wait_limit`` is the longest a reader waits for another reader's walk.
    """

    def __init__(self, *, seconds: float, wait_limit: float) -> None:
        if seconds < 0:
            raise ConfigurationError("REVU_CACHE_SECONDS must be 0 or more seconds.")
        self.seconds = float(seconds)
        self.wait_limit = float(wait_limit)

    @abc.abstractmethod
    def read(self, user_id: str, walk: Walk) -> UserProgress:
        """The member's snapshot, walking RevU (once, for all concurrent readers) when needed."""

    @abc.abstractmethod
    def refresh(self, user_id: str) -> None:
        """Drop the member's snapshot and change their version stamp (a postback arrived)."""

    @abc.abstractmethod
    def version(self, user_id: str) -> str:
        """A cheap stamp that changes when the member's data may have changed; no upstream call."""


class _Flight:
    """One walk in progress; readers that arrive meanwhile wait for its result."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self._done = threading.Event()
        self._result: UserProgress | None = None
        self._error: BaseException | None = None

    def finish(self, result: UserProgress | None, error: BaseException | None) -> None:
        self._result, self._error = result, error
        self._done.set()

    def wait(self, limit: float) -> UserProgress:
        if not self._done.wait(limit):
            raise UpstreamTimeoutError(
                f"RevU did not answer within {limit:g} s. Try again in a minute."
            )
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


@dataclass(slots=True)
class _Member:
    generation: int = 0
    digest: str = ""
    snapshot: UserProgress | None = None
    fresh_until: float = 0.0
    flight: _Flight | None = field(default=None, repr=False)


class MemoryStore(SnapshotStore):
    """Snapshots in this process's memory: the default, and right for a single process.

    With several workers each keeps its own snapshots and its own walks; use Redis to share.
    """

    def __init__(self, *, seconds: float, wait_limit: float, versioned: bool = True) -> None:
        super().__init__(seconds=seconds, wait_limit=wait_limit)
        # The version stamp costs a fingerprint per walk; a store used only to share walks
        # inside a process (in front of Redis) does without.
        self._versioned = versioned
        self._lock = threading.Lock()
        self._members: OrderedDict[str, _Member] = OrderedDict()

    def _member(self, user_id: str) -> _Member:
        member = self._members.get(user_id)
        if member is None:
            member = self._members[user_id] = _Member()
            while len(self._members) > MEMORY_MEMBERS:
                oldest = next(iter(self._members))
                if self._members[oldest].flight is not None:
                    break  # never forget a member whose walk is running
                del self._members[oldest]
        self._members.move_to_end(user_id)
        return member

    def read(self, user_id: str, walk: Walk) -> UserProgress:
        with self._lock:
            member = self._member(user_id)
            if member.snapshot is not None and time.monotonic() < member.fresh_until:
                return member.snapshot
            flight = member.flight
            if flight is not None:
                leader = False
            else:
                leader = True
                flight = member.flight = _Flight(member.generation)
        if not leader:
            return flight.wait(self.wait_limit)
        try:
            result = walk()
        except BaseException as exc:
            self._land(user_id, flight, None)
            flight.finish(None, exc)
            raise
        self._land(user_id, flight, result)
        flight.finish(result, None)
        return result

    def _land(self, user_id: str, flight: _Flight, result: UserProgress | None) -> None:
        stamp = fingerprint(result) if result is not None and self._versioned else ""
        with self._lock:
            member = self._member(user_id)
            if member.flight is flight:
                member.flight = None
            # A refresh during the walk means its answer may predate the postback: not kept.
            if result is None or member.generation != flight.generation:
                return
            member.digest = stamp
            if self.seconds > 0:
                member.snapshot = result
                member.fresh_until = time.monotonic() + self.seconds

    def refresh(self, user_id: str) -> None:
        with self._lock:
            member = self._member(user_id)
            member.generation += 1
            member.snapshot = None
            # Readers arriving after the postback must not join a walk that started before it.
            member.flight = None

    def version(self, user_id: str) -> str:
        with self._lock:
            member = self._members.get(user_id)
            return f"{member.generation}.{member.digest}" if member is not None else "0."


def keyed_hash(secret: bytes, text: str) -> str:
    """What stands for a member's id (or a client address) in shared storage.

    An HMAC keyed with the site's API key: whoever reads the Redis keys learns no ids, and
    ids cannot be confirmed by hashing guesses without the key.
    """
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:32]
