"""The HTTP client for RevU's Get Progress API.

:class:`RevUClient` checks every argument before sending anything, sends the API key only in
the ``X-API-Key`` header, bounds every call (connect and read timeouts, a whole-call deadline
that covers retries and body reading, a body size cap), retries idempotent GETs on transient
failures with jittered exponential backoff, and turns every failure into one of the exceptions
in :mod:`revu_widgets.errors`. Answers are validated by :mod:`revu_widgets.schemas`.

The key never appears in URLs, log lines, exception text or ``repr``.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import random
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from ._version import __version__
from .errors import (
    BadPayloadError,
    ConfigurationError,
    InvalidRequestError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from .models import (
    Offer,
    ProgressPage,
    ProgressSummary,
    RewardStatus,
    SkippedOffer,
    UserProgress,
    activity_sort_key,
)
from .schemas import (
    DOCUMENTED_VOCABULARY,
    SUMMARY_FIELDS,
    Vocabulary,
    complete_offers,
    parse_progress_page,
    read_envelope,
    read_for_support,
    read_step_facts,
)
from .upstream_http import (
    DEFAULT_BASE_URL,
    MAX_USER_ID_LENGTH,
    AnswerMemory,
    DeadlinePassed,
    DecodedAnswer,
    PageMemory,
    Question,
    body_chunks,
    checked_country,
    checked_ipv4,
    checked_sid3,
    decode_answer,
    decode_json,
    encoded_user_id,
    is_timeout,
    moved_skipped,
    page_digest,
    retry_after_seconds,
    reward_status_code,
    status_error,
    whole_number,
)

logger = logging.getLogger("revu_widgets.client")

#: RevU's production root.
#: Connect and read timeouts in seconds (connect slightly above a TCP retransmit window).
DEFAULT_TIMEOUT: Final = (3.05, 8.0)
#: Longest a whole call (all attempts, backoff and body reading) may take, in seconds.
DEFAULT_DEADLINE: Final = 15.0
#: Bodies larger than this are refused (BadPayloadError) without being read further.
MAX_BODY_BYTES: Final = 32 * 1024 * 1024
#: ``Retry-After`` values up to this many seconds are waited out; longer ones fail fast.
MAX_RETRY_AFTER: Final = 2.0
#: Largest offer id RevU takes (a signed 64-bit integer); ids start at 1.
MAX_OFFER_ID: Final = 2**63 - 1
#: The offer id in the kit's URL rules: only ids RevU can have route, so ``/offers/0`` or an id
#: past 64 bits is a plain 404 without an upstream call.
OFFER_ID_RULE: Final = f"<int(min=1, max={MAX_OFFER_ID}):offer_id>"
#: Largest page RevU serves.
MAX_PAGE_SIZE: Final = 500
#: Threads used to fetch the remaining pages of long histories (shared by all walks).
PAGE_FETCH_WORKERS: Final = 16
#: Pages of one walk fetched at once, so one long history leaves page threads to the others.
PAGES_IN_FLIGHT: Final = 4
#: Upstream requests this client sends at once, by default (see ``max_concurrent_requests``).
MAX_CONCURRENT_REQUESTS: Final = 8
#: Connections kept per host in each thread's pool (sized for threaded WSGI servers).
POOL_MAXSIZE: Final = 32
#: Histories whose last known length is remembered, so their pages can be fetched at once.
KNOWN_TOTALS: Final = 2048
#: Offers of recent answers kept validated, to reuse when the same bytes come again.
REMEMBERED_OFFERS: Final = 2500
#: Characters of recent answers kept, to tell the same answer with a new support reference
#: without decoding it (about as many offers as REMEMBERED_OFFERS).
REMEMBERED_ANSWER_CHARACTERS: Final = 3 * 1024 * 1024

_RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
_BACKOFF_BASE: Final = 0.2
_BACKOFF_CAP: Final = 2.0
# Error codes that say the key is the problem (RevU documents none by name; these are the
_PATH: Final = "/api/v1/users/{user_id}/getprogress"
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain"})


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine (plain http is allowed only there)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url(base_url: str) -> str:
    if not isinstance(base_url, str):
        raise ConfigurationError("REVU_BASE_URL must be a string such as " + DEFAULT_BASE_URL)
    try:
        parts = urlsplit(base_url.strip())
        parts.port  # noqa: B018  (raises ValueError for a malformed port)
    except ValueError:
        raise ConfigurationError(
            "REVU_BASE_URL is not a valid URL; use " + DEFAULT_BASE_URL
        ) from None
    host = parts.hostname or ""
    if parts.username is not None or parts.query or parts.fragment:
        raise ConfigurationError(
            "REVU_BASE_URL must be a plain root URL such as "
            f"{DEFAULT_BASE_URL}, without credentials, query or fragment."
        )
    plain_http_ok = parts.scheme == "http" and is_loopback_host(host)
    if not host or not (parts.scheme == "https" or plain_http_ok):
        raise ConfigurationError(
            "REVU_BASE_URL must be an https:// URL such as "
            f"{DEFAULT_BASE_URL}; plain http is accepted only for loopback hosts "
            "(127.0.0.1, ::1, localhost), for tests and the built-in fake."
        )
    return parts.geturl().rstrip("/")


def _check_timeout(timeout: object) -> tuple[float, float]:
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        pair: tuple[object, ...] = (timeout, timeout)
    elif isinstance(timeout, tuple | list) and len(timeout) == 2:
        pair = tuple(timeout)
    else:
        raise ConfigurationError(
            "REVU_TIMEOUT must be seconds or a (connect, read) pair, e.g. (3.05, 8)."
        )
    values = []
    for value in pair:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ConfigurationError(
                "REVU_TIMEOUT values must be positive numbers of seconds, e.g. (3.05, 8)."
            )
        values.append(float(value))
    return values[0], values[1]


class _Secret:
    """Holds the API key so that no repr, debugger or traceback dump can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"


@dataclass(frozen=True, slots=True)
class _Query:
    """A checked request: the encoded path and the query parameters."""

    path: str
    params: tuple[tuple[str, str], ...]
    offset: int
    limit: int
    #: Read only these offer fields (marshmallow ``only=``); ``None`` reads every field.
    only: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """One Get Progress answer as RevU sent it (for diagnostics such as ``flask revu doctor``)."""

    #: The HTTP status (200: anything else is raised as an error).
    status: int
    #: How long the call took, in seconds.
    seconds: float
    #: The decoded JSON body; ``None`` when the body was not JSON.
    payload: object | None


class RevUClient:
    """Client for RevU's Get Progress API (``GET /api/v1/users/{user_id}/getprogress``).

    ``api_key`` is the wall's key, sent only in the ``X-API-Key`` header. ``base_url`` must be
    https (plain http only to loopback hosts). ``timeout`` is seconds or a ``(connect, read)``
    pair; ``deadline`` bounds a whole call including retries, backoff and body reading
    (default :data:`DEFAULT_DEADLINE`). ``max_retries`` retries GETs after connection errors,
    read timeouts and HTTP 429/502/503/504. Pass ``session`` to use your own
    ``requests.Session`` (shared by all threads); otherwise each thread gets its own, never
    shared across a fork. ``field_aliases`` adds upstream field names to the ones RevU
    documents (the ``REVU_FIELD_ALIASES`` shape, see :meth:`Vocabulary.extended`). At most
    ``max_concurrent_requests`` requests are in flight at once;
    when more wait, the free places go to the waiting walks in turn (one request each), so a
    member with a very long history cannot hold other members' pages back.

    The client is safe to share between threads.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        session: requests.Session | None = None,
        deadline: float | None = None,
        field_aliases: Mapping[str, object] | None = None,
        max_concurrent_requests: int = MAX_CONCURRENT_REQUESTS,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ConfigurationError(
                "REVU_API_KEY is empty: set it to your wall's Get Progress key from the "
                "RevU Publisher Portal (Offerwall > API Key)."
            )
        if not (api_key.isascii() and api_key.isprintable()) or api_key != api_key.strip():
            raise ConfigurationError(
                "REVU_API_KEY contains spaces or characters an API key cannot have: copy it "
                "again from the RevU Publisher Portal (Offerwall > API Key)."
            )
        self._key = _Secret(api_key)
        try:
            #: The upstream names this client reads (RevU's documented ones and any aliases).
            self.vocabulary: Vocabulary = DOCUMENTED_VOCABULARY.extended(field_aliases)
        except ValueError as exc:
            raise ConfigurationError(f"REVU_FIELD_ALIASES {exc}.") from None
        self.base_url = _check_base_url(base_url)
        self.connect_timeout, self.read_timeout = _check_timeout(timeout)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError("REVU_MAX_RETRIES must be a whole number, 0 or more.")
        self.max_retries = max_retries
        if deadline is None:
            deadline = DEFAULT_DEADLINE
        if isinstance(deadline, bool) or not isinstance(deadline, int | float) or deadline <= 0:
            raise ConfigurationError("The deadline must be a positive number of seconds.")
        self.deadline = float(deadline)
        if (
            isinstance(max_concurrent_requests, bool)
            or not isinstance(max_concurrent_requests, int)
            or max_concurrent_requests < 1
        ):
            raise ConfigurationError(
                "REVU_MAX_CONCURRENT_REQUESTS must be a whole number, 1 or more."
            )
        self.max_concurrent_requests = max_concurrent_requests
        self._slots = _FairSlots(max_concurrent_requests)
        self._shared_session = session
        self._lock = threading.Lock()
        self._local = threading.local()
        self._pid = os.getpid()
        self._holders: weakref.WeakSet[_ThreadSession] = weakref.WeakSet()
        self._pool: ThreadPoolExecutor | None = None
        self._known_totals = _RecentTotals(KNOWN_TOTALS)
        self._pages = PageMemory(REMEMBERED_OFFERS)
        self._answers = AnswerMemory(REMEMBERED_ANSWER_CHARACTERS)
        self._reference_keys = self.vocabulary.keys_of("envelope", "support_id")

    def __repr__(self) -> str:
        return (
            f"RevUClient(base_url={self.base_url!r}, "
            f"timeout=({self.connect_timeout}, {self.read_timeout}), "
            f"max_retries={self.max_retries}, deadline={self.deadline})"
        )

    # -- public calls ------------------------------------------------------------------------

    def get_progress(
        self,
        user_id: str,
        *,
        limit: int = 100,
        offset: int = 0,
        offer_id: int | None = None,
        reward_status: RewardStatus | int | None = None,
        sid3: str | None = None,
        ip: str | None = None,
        country: str | None = None,
    ) -> ProgressPage:
        """One page of the user's progress (``limit`` 1..500 offers from ``offset``).

        ``reward_status`` filters by status (a :class:`RewardStatus` or RevU's code 1..4);
        ``offer_id`` asks for one offer; ``sid3``, ``ip`` (IPv4) and ``country`` (two
        letters) are passed to RevU for its click URLs. Raises
        :class:`~revu_widgets.errors.InvalidRequestError` before sending anything when an
        argument is wrong, and an :class:`~revu_widgets.errors.UpstreamError` subclass when
        RevU fails.
        """
        query = self._build_query(
            user_id,
            limit=limit,
            offset=offset,
            offer_id=offer_id,
            reward_status=reward_status,
            sid3=sid3,
            ip=ip,
            country=country,
        )
        return self._fetch(query, time.monotonic() + self.deadline)

    def get_all_progress(
        self,
        user_id: str,
        *,
        reward_status: RewardStatus | int | None = None,
        page_size: int = MAX_PAGE_SIZE,
        max_pages: int = 20,
        sid3: str | None = None,
        ip: str | None = None,
        country: str | None = None,
        complete: bool = True,
    ) -> UserProgress:
        """Every offer of the user, across pages, in history order, with a summary.

        With ``complete=False`` each offer is read with only what the summary, tab counts and
        order need (``Offer.complete`` is then False where that sufficed): a long history's
        list page reads the offers it shows in full with :meth:`complete_offers`.

        Fetches the first page, then the remaining ones concurrently (at most
        :data:`PAGES_IN_FLIGHT` at a time); when an earlier walk of the same history (in this
        process) said how long it is, the first of them are asked for with the first page.
        Offers are de-duplicated by id (pages can shift while they are walked) and sorted by
        :func:`~revu_widgets.models.activity_sort_key`. At most ``max_pages`` pages are read;
        ``truncated`` says when that cap stopped the walk. The whole walk shares one
        deadline.
        """
        if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
            raise InvalidRequestError("max_pages must be a whole number, 1 or more.")
        deadline_at = time.monotonic() + self.deadline
        common: dict[str, Any] = {
            "reward_status": reward_status,
            "sid3": sid3,
            "ip": ip,
            "country": country,
        }
        only = None if complete else SUMMARY_FIELDS
        first_query = self._build_query(user_id, limit=page_size, offset=0, **common, only=only)
        limit = first_query.limit
        cap = max_pages * limit
        hint_key = (first_query.path, first_query.params)

        def query_at(offset: int) -> _Query:
            return self._build_query(user_id, limit=limit, offset=offset, **common, only=only)

        # A long history is asked for all at once when the last walk said how long it is:
        # one round trip instead of two. The first page's total still decides what is kept.
        guessed = self._known_totals.get(hint_key)
        early = list(range(limit, min(guessed, cap), limit))[:PAGES_IN_FLIGHT] if guessed else []
        started = self._submit([query_at(o) for o in early], deadline_at)
        try:
            first = self._fetch(first_query, deadline_at)
        except BaseException:
            for future in started:
                future.cancel()
            raise
        self._known_totals.put(hint_key, first.total)

        reachable = min(first.total, cap)
        needed = [f for o, f in zip(early, started, strict=True) if o < reachable]
        for offset, future in zip(early, started, strict=True):
            if offset >= reachable:
                future.cancel()  # the history got shorter: that page is not wanted
        asked = set(early)
        later = [query_at(o) for o in range(limit, reachable, limit) if o not in asked]
        pages = [first, *self._fetch_in_turn(needed, later, deadline_at)]

        seen: set[int] = set()
        offers: list[Offer] = []
        skipped: list[SkippedOffer] = []
        for page in pages:
            for offer in page.offers:
                if offer.offer_id not in seen:
                    seen.add(offer.offer_id)
                    offers.append(offer)
            # Page-relative positions become positions in the whole history.
            skipped.extend(moved_skipped(page.skipped, page.offset.__add__))
        if not complete:
            # Offers whose state, order or totals depend on their steps get their steps' facts.
            undecided = [o for o in offers if not o.summary_without_steps]
            if undecided:
                decided = {o.offer_id: o for o in self._reread(read_step_facts, undecided)}
                offers = [decided.get(o.offer_id, o) for o in offers]
        offers.sort(key=activity_sort_key)
        return UserProgress(
            user_id=str(user_id),
            offers=tuple(offers),
            summary=ProgressSummary.from_offers(offers),
            support_id=first.support_id,
            skipped=tuple(skipped),
            truncated=first.total > max_pages * limit,
            pages_digest=".".join(page.digest for page in pages),
        )

    def get_raw_progress(
        self, user_id: str, *, limit: int = MAX_PAGE_SIZE, offset: int = 0
    ) -> RawAnswer:
        """One Get Progress call, its body decoded as JSON but not validated.

        Used to check what RevU really sends against what the kit reads. Raises the same
        :class:`~revu_widgets.errors.UpstreamError` subclasses as :meth:`get_progress` for a
        failed call or a non-200 answer; nothing is retried.
        """
        query = self._build_query(user_id, limit=limit, offset=offset)
        started = time.monotonic()
        try:
            status, body, headers = self._send(query, started + self.deadline)
        except _Retryable as failure:
            raise failure.error from None
        seconds = time.monotonic() - started
        self._log(query, status, started, 1)
        if status != 200:
            raise status_error(status, body, retry_after_seconds(headers.get("Retry-After")))
        return RawAnswer(status, seconds, decode_json(body))

    def complete_offers(self, offers: Iterable[Offer]) -> tuple[Offer, ...]:
        """``offers`` read in full (those read with ``complete=False`` get the fields they
        were read without)."""
        return self._reread(complete_offers, offers)

    def support_offers(self, offers: Iterable[Offer]) -> tuple[Offer, ...]:
        """``offers`` read with what a support card shows (those read with ``complete=False``
        get :data:`~revu_widgets.schemas.SUPPORT_FIELDS`)."""
        return self._reread(read_for_support, offers)

    def _reread(
        self, read: Callable[..., tuple[Offer, ...]], offers: Iterable[Offer]
    ) -> tuple[Offer, ...]:
        # What a remembered raw offer was read again as is kept with it, by what read it.
        reading = functools.partial(read, vocabulary=self.vocabulary)
        return self._pages.reread(read.__name__, offers, reading)

    def get_offer(self, user_id: str, offer_id: int) -> Offer | None:
        """The user's progress on one offer, or ``None`` when they have none.

        An offer RevU sent with unreadable fields comes back without them
        (``Offer.degraded``); only an offer without a usable id is left out.
        """
        page = self.get_progress(user_id, offer_id=offer_id, limit=1)
        return next((offer for offer in page.offers if offer.offer_id == offer_id), None)

    def close(self) -> None:
        """Close the sessions and page-fetching threads this client created.

        A session passed in is left open. The client stays usable: new sessions are created
        on the next call.
        """
        with self._lock:
            holders = list(self._holders)
            self._holders = weakref.WeakSet()
            self._local = threading.local()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        for holder in holders:
            holder.session.close()

    # -- arguments ---------------------------------------------------------------------------

    def _build_query(
        self,
        user_id: object,
        *,
        limit: object,
        offset: object,
        offer_id: object = None,
        reward_status: object = None,
        sid3: object = None,
        ip: object = None,
        country: object = None,
        only: tuple[str, ...] | None = None,
    ) -> _Query:
        params: list[tuple[str, str]] = []
        limit_value = whole_number("limit", limit, 1, MAX_PAGE_SIZE)
        offset_value = whole_number("offset", offset, 0, None)
        params.append(("limit", str(limit_value)))
        params.append(("offset", str(offset_value)))
        if offer_id is not None:
            params.append(("offer_id", str(whole_number("offer_id", offer_id, 1, MAX_OFFER_ID))))
        if reward_status is not None:
            params.append(("reward_status", str(reward_status_code(reward_status))))
        if sid3 is not None:
            params.append(("sid3", checked_sid3(sid3)))
        if ip is not None:
            params.append(("ip", checked_ipv4(ip)))
        if country is not None:
            params.append(("country", checked_country(country)))
        path = _PATH.format(user_id=encoded_user_id(user_id))
        return _Query(path, tuple(params), offset_value, limit_value, only)

    # -- transport ---------------------------------------------------------------------------

    def _forget_parent_process(self) -> None:
        """After a fork, drop the parent's sockets and threads: they are not ours to use."""
        pid = os.getpid()
        if pid != self._pid:
            with self._lock:
                if pid != self._pid:
                    self._pid = pid
                    self._local = threading.local()
                    self._holders = weakref.WeakSet()
                    self._pool = None
                    self._slots = _FairSlots(self.max_concurrent_requests)

    def _session(self) -> requests.Session:
        if self._shared_session is not None:
            return self._shared_session
        self._forget_parent_process()
        holder: _ThreadSession | None = getattr(self._local, "holder", None)
        if holder is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_MAXSIZE, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            holder = _ThreadSession(session)
            self._local.holder = holder
            with self._lock:
                self._holders.add(holder)
        return holder.session

    def _executor(self) -> ThreadPoolExecutor:
        """The page-fetching threads, kept between calls so their sessions stay warm."""
        self._forget_parent_process()
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=PAGE_FETCH_WORKERS, thread_name_prefix="revu-page"
                )
            return self._pool

    def _submit(self, queries: list[_Query], deadline_at: float) -> list[Future[ProgressPage]]:
        """Start fetching ``queries`` on the page threads."""
        if not queries:
            return []
        pool = self._executor()
        return [pool.submit(self._fetch, q, deadline_at) for q in queries]

    @staticmethod
    def _gather(futures: list[Future[ProgressPage]]) -> list[ProgressPage]:
        """The pages in order; the first failure cancels what has not started and is raised."""
        if not futures:
            return []
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in futures:
            if future in done and (error := future.exception()) is not None:
                raise error
        return [future.result() for future in futures]

    def _fetch_in_turn(
        self, started: list[Future[ProgressPage]], queries: list[_Query], deadline_at: float
    ) -> list[ProgressPage]:
        """``started`` then ``queries``, in order, with at most PAGES_IN_FLIGHT in flight."""
        futures = list(started)
        waiting = deque(queries)
        try:
            while waiting:
                running = [f for f in futures if not f.done()]
                room = PAGES_IN_FLIGHT - len(running)
                while room > 0 and waiting:
                    futures += self._submit([waiting.popleft()], deadline_at)
                    room -= 1
                if waiting:
                    done, _ = wait(
                        [f for f in futures if not f.done()], return_when=FIRST_COMPLETED
                    )
                    for future in done:
                        if (error := future.exception()) is not None:
                            raise error
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return self._gather(futures)

    def _fetch(self, query: _Query, deadline_at: float) -> ProgressPage:
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline_at - time.monotonic()
            if remaining <= 0:
                self._log(query, "deadline", started, attempt - 1)
                raise UpstreamTimeoutError(
                    f"RevU did not answer within {self.deadline:g} s. Try again in a minute.",
                )
            try:
                status, body, headers = self._send(query, deadline_at)
            except _Retryable as failure:
                wait_for = self._backoff(attempt, failure.retry_after, deadline_at)
                if wait_for is None:
                    self._log(query, failure.label, started, attempt)
                    raise failure.error from None
                logger.debug(
                    "GET %s -> %s, retrying in %d ms (attempt %d)",
                    query.path,
                    failure.label,
                    wait_for * 1000,
                    attempt,
                )
                time.sleep(wait_for)
                continue
            except UpstreamError:
                self._log(query, "failed", started, attempt)
                raise
            self._log(query, status, started, attempt)
            return self._interpret(query, status, body, headers)

    def _backoff(self, attempt: int, retry_after: float | None, deadline_at: float) -> float | None:
        """Seconds to wait before the next attempt, or None when no retry is allowed."""
        if attempt > self.max_retries:
            return None
        if retry_after is not None:
            wait_for = retry_after
        else:
            wait_for = random.uniform(0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (attempt - 1)))  # noqa: S311
        if time.monotonic() + wait_for >= deadline_at:
            return None
        return wait_for

    def _send(self, query: _Query, deadline_at: float) -> tuple[int, bytes, Mapping[str, str]]:
        # One place among the client's requests in flight; walks take turns for free places.
        if not self._slots.acquire(query.path, deadline_at):
            raise UpstreamTimeoutError(
                f"RevU did not answer within {self.deadline:g} s (too many requests were "
                "waiting). Try again in a minute."
            )
        try:
            return self._send_now(query, deadline_at)
        finally:
            self._slots.release()

    def _send_now(self, query: _Query, deadline_at: float) -> tuple[int, bytes, Mapping[str, str]]:
        remaining = deadline_at - time.monotonic()
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        headers = {
            "X-API-Key": self._key.reveal(),
            "Accept": "application/json",
            "User-Agent": f"revu-widgets/{__version__}",
        }
        try:
            response = self._session().get(
                self.base_url + query.path,
                params=query.params,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as exc:
            raise _Retryable(
                "timeout",
                UpstreamTimeoutError(
                    f"RevU did not answer in time ({type(exc).__name__}). Try again in a minute.",
                ),
            ) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Retryable(
                "unreachable",
                UpstreamUnavailableError(
                    f"RevU could not be reached ({type(exc).__name__}). Try again in a "
                    "minute; if it keeps happening, check REVU_BASE_URL and the network.",
                ),
            ) from None
        except requests.RequestException as exc:
            raise UpstreamUnavailableError(
                f"The request to RevU failed ({type(exc).__name__}). Try again in a minute.",
            ) from None

        with response:
            status = response.status_code
            if status in _RETRY_STATUSES:
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                body = self._read_body(response, deadline_at, quiet=True)
                error = status_error(status, body, retry_after)
                if retry_after is not None and retry_after > MAX_RETRY_AFTER:
                    raise error
                raise _Retryable(f"HTTP {status}", error, retry_after)
            body = self._read_body(response, deadline_at, quiet=status != 200)
            return status, body, response.headers

    def _read_body(self, response: requests.Response, deadline_at: float, *, quiet: bool) -> bytes:
        """Read at most MAX_BODY_BYTES, stopping at the deadline.

        ``quiet`` is for error answers: their body only helps pick an error, so a broken one
        gives an empty body instead of an exception.
        """
        declared = response.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            if quiet:
                return b""
            raise _too_large()
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in body_chunks(response, deadline_at):
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    if quiet:
                        return b""
                    raise _too_large()
                chunks.append(chunk)
        except DeadlinePassed:
            raise UpstreamTimeoutError(
                f"RevU's answer was still arriving after {self.deadline:g} s. "
                "Try again in a minute."
            ) from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if quiet:
                return b""
            if is_timeout(exc):
                raise _Retryable(
                    "timeout",
                    UpstreamTimeoutError(
                        "RevU stopped sending its answer part-way. Try again in a minute."
                    ),
                ) from None
            raise _Retryable(
                "cut off",
                BadPayloadError(
                    "RevU's answer was cut off before it was complete "
                    f"({type(exc).__name__}). Try again in a minute."
                ),
            ) from None
        return b"".join(chunks)

    def _interpret(
        self, query: _Query, status: int, body: bytes, headers: Mapping[str, str]
    ) -> ProgressPage:
        if status != 200:
            raise status_error(status, body, retry_after_seconds(headers.get("Retry-After")))
        if not body.strip():
            raise BadPayloadError(
                "RevU answered with an empty body instead of progress data. Try again in a minute."
            )
        question = (query.path, query.params)
        answer, digest = self._decode(question, body)
        envelope = read_envelope(answer.payload, vocabulary=self.vocabulary)
        support_id = envelope.get("support_id")
        if digest is None:
            digest = page_digest(body, support_id)
        self._answers.keep(question, digest, answer)
        now = datetime.now(UTC)
        key = (digest, query.only)
        known = self._pages.recall(key, now=now, support_id=support_id)
        if known is not None:
            return known

        def parse(raw_offers: list[Any]) -> ProgressPage:
            return parse_progress_page(
                answer.payload,
                now=now,
                offset=query.offset,
                limit=query.limit,
                vocabulary=self.vocabulary,
                only=query.only,
                envelope={**envelope, "offers": raw_offers},
            )

        return self._pages.read(key, envelope["offers"], parse, now=now)

    def _decode(self, question: Question, body: bytes) -> tuple[DecodedAnswer, str | None]:
        """The answer decoded, with its digest when it is the last answer to ``question`` with
        a new support reference: then only the reference is decoded."""
        known = self._answers.again(question, body)
        if known is not None:
            digest, answer = known
            return answer, digest
        decoded = decode_answer(body, self._reference_keys)
        if decoded is None:
            raise BadPayloadError(
                "RevU answered with something that is not JSON (perhaps an error page from a "
                "proxy). Try again in a minute."
            )
        return decoded, None

    def _log(self, query: _Query, outcome: object, started: float, attempt: int) -> None:
        logger.info(
            "GET %s -> %s in %d ms (attempt %d)",
            query.path,
            outcome,
            (time.monotonic() - started) * 1000,
            attempt,
        )


class _FairSlots:
    """At most ``size`` holders at once; a freed place goes to the waiting owners in turn.

    Waiters queue per owner (one walk, i.e. one member's history); each freed place goes to
    the owner that has waited longest for a turn, which then goes to the back of the line. A
    walk with hundreds of pages therefore delays another walk's request by at most one of its
    own, however many it has queued.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._busy = 0
        self._queues: OrderedDict[str, deque[threading.Event]] = OrderedDict()

    def acquire(self, owner: str, deadline_at: float) -> bool:
        """Take a place for ``owner``; False when none came before ``deadline_at``."""
        with self._lock:
            if self._busy < self._size and not self._queues:
                self._busy += 1
                return True
            ticket = threading.Event()
            self._queues.setdefault(owner, deque()).append(ticket)
        if ticket.wait(max(0.0, deadline_at - time.monotonic())):
            return True
        with self._lock:
            if ticket.is_set():  # a place was handed over just as the wait ended
                return True
            queue = self._queues.get(owner)
            if queue is not None:
                queue.remove(ticket)
                if not queue:
                    del self._queues[owner]
        return False

    def release(self) -> None:
        """Give the place back, or straight to the next owner in turn."""
        with self._lock:
            if not self._queues:
                self._busy -= 1
                return
            owner, queue = next(iter(self._queues.items()))
            ticket = queue.popleft()
            if queue:
                self._queues.move_to_end(owner)
            else:
                del self._queues[owner]
            ticket.set()


class _RecentTotals:
    """The ``total`` of the most recent walks, least recently used forgotten first.

    Only counts are kept, never offers: every walk still fetches every page fresh.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._totals: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], int] = OrderedDict()

    def get(self, key: tuple[str, tuple[tuple[str, str], ...]]) -> int | None:
        with self._lock:
            total = self._totals.get(key)
            if total is not None:
                self._totals.move_to_end(key)
            return total

    def put(self, key: tuple[str, tuple[tuple[str, str], ...]], total: int) -> None:
        with self._lock:
            self._totals[key] = total
            self._totals.move_to_end(key)
            while len(self._totals) > self._size:
                self._totals.popitem(last=False)


class _ThreadSession:
    """One thread's session; closed when the thread ends and drops it, so none leak."""

    __slots__ = ("__weakref__", "session")

    def __init__(self, session: requests.Session) -> None:
        self.session = session

    def __del__(self) -> None:
        self.session.close()


class _Retryable(Exception):
    """A failed attempt that may be retried; ``error`` is raised when it is not."""

    def __init__(self, label: str, error: UpstreamError, retry_after: float | None = None) -> None:
        super().__init__(label)
        self.label = label
        self.error = error
        self.retry_after = retry_after


def _too_large() -> BadPayloadError:
    return BadPayloadError(
        f"RevU's answer is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB, far beyond any "
        "real progress page; it was not read. Try again later; if it keeps happening, "
        "contact RevU support."
    )


__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "MAX_BODY_BYTES",
    "MAX_OFFER_ID",
    "MAX_PAGE_SIZE",
    "MAX_RETRY_AFTER",
    "MAX_USER_ID_LENGTH",
    "OFFER_ID_RULE",
    "RawAnswer",
    "RevUClient",
]
