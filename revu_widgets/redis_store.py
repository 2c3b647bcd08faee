"""Member snapshots in Redis: one upstream walk per member across every worker and host.

Keys start with ``revu:v1:`` and carry a keyed hash of the member's id, never the id itself.
Values are JSON text (:mod:`revu_widgets.snapshots`), never pickle.

- ``gen:<member>``: the member's generation, increased by :meth:`RedisStore.refresh`.
- ``snap:<member>``: ``{"token", "gen"}`` of the snapshot that serves the member; expires after
  ``REVU_CACHE_SECONDS`` (never written when it is 0).
- ``data:<member>:<token>``: the validated snapshot a walk produced. Readers waiting for that
  walk read it here, so they never call RevU themselves; each process decodes it once.
- ``lock:<member>``: the walk in progress, owned by a random token and expiring after
  :data:`LOCK_SECONDS` unless its owner, still walking, extends it. A crashed worker therefore
  blocks no one for longer than that.
- ``ver:<member>``: the fingerprint of the latest snapshot, for the pages' cheap version check.

Redis down or slow: pages are served straight from RevU (with concurrent requests in this
process still sharing one walk), one warning per minute is logged, and Redis is tried again
after :data:`RETRY_SECONDS`. A page never fails and never waits past its deadline for Redis.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any, Final

import redis
from redis.exceptions import RedisError

from .errors import UpstreamTimeoutError
from .models import UserProgress
from .snapshots import SnapshotFormatError, decode_progress, fingerprint, to_json
from .store import MemoryStore, Outage, SnapshotStore, Walk, keyed_hash

logger = logging.getLogger("revu_widgets.store")

#: Prefix of every key this store writes (the number changes with the value format).
PREFIX: Final = "revu:v1:"
#: Longest one Redis call may take before the store counts Redis as down, in seconds.
REDIS_TIMEOUT: Final = 0.25
#: After a failure, Redis is left alone (pages served from RevU) for this many seconds.
RETRY_SECONDS: Final = 5.0
#: Seconds between two log lines about Redis being unreachable.
LOG_INTERVAL: Final = 60.0
#: A walk's lock expires this long after its owner last extended it.
LOCK_SECONDS: Final = 2.0
#: Generations and fingerprints are kept this long after a member's last walk or postback.
STAMP_SECONDS: Final = 24 * 3600
#: Decoded snapshots each process keeps, so one is decoded once per process.
DECODED_SNAPSHOTS: Final = 256

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class RedisStore(SnapshotStore):
    """Snapshots and single-flight locks in Redis (``redis://`` or ``rediss://``)."""

    def __init__(self, url: str, *, seconds: float, wait_limit: float, key_secret: str) -> None:
        super().__init__(seconds=seconds, wait_limit=wait_limit)
        self._redis = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        self._release = self._redis.register_script(_RELEASE)
        self._extend = self._redis.register_script(_EXTEND)
        self._secret = key_secret.encode()
        # Threads of this process reading the same member share one Redis conversation.
        self._local = MemoryStore(seconds=0, wait_limit=wait_limit, versioned=False)
        self._decoded: OrderedDict[str, UserProgress] = OrderedDict()
        self._state_lock = threading.Lock()
        self._outage = Outage(
            logger,
            "revu-widgets cannot use REVU_CACHE_URL (%s): pages are served straight from RevU "
            "until it is back",
            retry_seconds=RETRY_SECONDS,
            log_interval=LOG_INTERVAL,
        )

    # -- the store's surface -----------------------------------------------------------------

    def read(self, user_id: str, walk: Walk) -> UserProgress:
        if self._outage.active():
            return self._local.read(user_id, walk)
        return self._local.read(user_id, lambda: self._shared_read(user_id, walk))

    def refresh(self, user_id: str) -> None:
        self._local.refresh(user_id)
        member = self._member(user_id)
        try:
            with self._redis.pipeline() as pipe:
                pipe.incr(PREFIX + "gen:" + member)
                pipe.expire(PREFIX + "gen:" + member, STAMP_SECONDS)
                pipe.delete(PREFIX + "snap:" + member)
                pipe.execute()
        except RedisError as exc:
            self._outage.record(exc)

    def version(self, user_id: str) -> str:
        member = self._member(user_id)
        if self._outage.active():
            return "down"
        try:
            generation, stamp = self._redis.mget(PREFIX + "gen:" + member, PREFIX + "ver:" + member)
        except RedisError as exc:
            self._outage.record(exc)
            return "down"
        return f"{_text(generation) or 0}.{_text(stamp)}"

    # -- one member, across processes --------------------------------------------------------

    def _shared_read(self, user_id: str, walk: Walk) -> UserProgress:
        member = self._member(user_id)
        give_up = time.monotonic() + self.wait_limit
        try:
            while True:
                generation, snap = self._redis.mget(
                    PREFIX + "gen:" + member, PREFIX + "snap:" + member
                )
                found = self._fresh(member, _text(generation), _text(snap))
                if found is not None:
                    return found
                token = secrets.token_hex(16)
                lock = PREFIX + "lock:" + member
                if self._redis.set(lock, token, nx=True, px=int(LOCK_SECONDS * 1000)):
                    return self._walk_as_owner(member, token, _text(generation), walk)
                result = self._wait_for_owner(member, give_up)
                if result is not None:
                    return result
                if time.monotonic() >= give_up:
                    raise UpstreamTimeoutError(
                        f"RevU did not answer within {self.wait_limit:g} s. Try again in a minute."
                    )
        except RedisError as exc:
            self._outage.record(exc)
            return walk()

    def _fresh(self, member: str, generation: str, snap: str) -> UserProgress | None:
        """The snapshot ``snap:`` points at, when it belongs to the current generation."""
        if not snap:
            return None
        try:
            pointer = json.loads(snap)
            token, snap_generation = str(pointer["token"]), str(pointer["gen"])
        except (ValueError, KeyError, TypeError):
            return None
        if snap_generation != (generation or "0"):
            return None
        return self._load(member, token)

    def _walk_as_owner(self, member: str, token: str, generation: str, walk: Walk) -> UserProgress:
        lock = PREFIX + "lock:" + member
        keeper = _LockKeeper(self._extend, lock, token)
        keeper.start()
        try:
            result = walk()
            # Written before the lock goes, so a waiter that sees the lock gone finds the data.
            self._publish(member, token, generation, result)
            return result
        finally:
            keeper.stop()
            try:
                self._release(keys=[lock], args=[token])
            except RedisError as exc:
                self._outage.record(exc)

    def _publish(self, member: str, token: str, generation: str, result: UserProgress) -> None:
        self._remember(member + ":" + token, result)
        pointer = json.dumps({"token": token, "gen": generation or "0"})
        # Waiters may still be polling when the reuse window is over (or 0): keep the data
        # for as long as any of them may wait.
        keep_data = max(self.seconds, self.wait_limit) + 1.0
        try:
            with self._redis.pipeline() as pipe:
                pipe.set(
                    f"{PREFIX}data:{member}:{token}", to_json(result), px=int(keep_data * 1000)
                )
                if self.seconds > 0:
                    pipe.set(PREFIX + "snap:" + member, pointer, px=int(self.seconds * 1000))
                pipe.set(PREFIX + "ver:" + member, fingerprint(result), ex=STAMP_SECONDS)
                pipe.execute()
        except RedisError as exc:
            self._outage.record(exc)

    def _wait_for_owner(self, member: str, give_up: float) -> UserProgress | None:
        """The result of the walk that holds the lock, or None when it ended without one."""
        lock = PREFIX + "lock:" + member
        owner = _text(self._redis.get(lock))
        pause = 0.01
        while owner and time.monotonic() < give_up:
            result = self._load(member, owner)
            if result is not None:
                return result
            time.sleep(min(pause, max(0.0, give_up - time.monotonic())))
            pause = min(pause * 1.5, 0.1)
            current = _text(self._redis.get(lock))
            if current != owner:
                # Finished (its data may have just landed), failed, or expired with its owner.
                return self._load(member, owner)
        return None

    def _load(self, member: str, token: str) -> UserProgress | None:
        name = member + ":" + token
        with self._state_lock:
            known = self._decoded.get(name)
            if known is not None:
                self._decoded.move_to_end(name)
                return known
        text = _text(self._redis.get(f"{PREFIX}data:{name}"))
        if not text:
            return None
        try:
            progress = decode_progress(json.loads(text))
        except (ValueError, SnapshotFormatError):
            logger.warning("revu-widgets ignored a stored snapshot it cannot read")
            return None
        self._remember(name, progress)
        return progress

    def _remember(self, name: str, progress: UserProgress) -> None:
        with self._state_lock:
            self._decoded[name] = progress
            while len(self._decoded) > DECODED_SNAPSHOTS:
                self._decoded.popitem(last=False)

    # -- Redis health --------------------------------------------------------------------------

    def _member(self, user_id: str) -> str:
        return keyed_hash(self._secret, user_id)


class _LockKeeper:
    """Extends a walk's lock while the walk runs, so only a dead owner lets it expire."""

    def __init__(self, extend: Any, lock: str, token: str) -> None:
        self._extend, self._lock, self._token = extend, lock, token
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="revu-lock", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(LOCK_SECONDS / 3):
            try:
                self._extend(keys=[self._lock], args=[self._token, int(LOCK_SECONDS * 1000)])
            except RedisError:
                return  # the owner's own calls report Redis trouble


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)
