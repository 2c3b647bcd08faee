"""The fake RevU Get Progress API as a WSGI app: data, key checks, faults and control endpoints."""

from __future__ import annotations

import copy
import hmac
import ipaddress
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from werkzeug.wrappers import Request, Response

from ..errors import ConfigurationError, InvalidRequestError, OfferNotFoundError
from .answers import KeptAnswers, encode_answer
from .data import (
    BANNED_PREFIX,
    IMAGE_BASE,
    generate_offers,
    iso_utc,
    offer_image_svg,
    start_of_day,
)
from .dialects import DEFAULT_DIALECT, check_dialect, speak_envelope, speak_offer
from .faults import (
    Fault,
    corrupt_offer,
    error_body,
    huge_body,
    make_fault,
    proxy_error_page,
    wrong_envelope,
)
from .server import DROP_CONNECTION, STOPPING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

#: The key the fake accepts unless told otherwise (20 characters, like a real wall key).
FAKE_API_KEY = "fake-revu-test-key-1"
#: The ``publisher_id`` and ``wall_id`` the fake reports.
FAKE_PUBLISHER_ID = 4021
FAKE_WALL_ID = 7788

CONTROL_PREFIX = "/_fake/"
#: Offer images of generated data, served without a key (browsers fetch them).
IMAGES_PREFIX = "/_fake/images/"
#: Addresses the fake treats as banned (TEST-NET-3): ``ip=203.0.113.x`` answers 403 IP_BANNED.
BANNED_NETWORK = ipaddress.IPv4Network("203.0.113.0/24")
#: What recorded query parameters and headers show instead of a key.
REDACTED = "<redacted>"

_KEY_HEADERS = frozenset({"authorization", "x-api-key"})
_DIGITS = re.compile(r"[0-9]{1,12}")
# Query parameters: RevU takes 64-bit numbers, offer ids up to 2**63 - 1.
_PARAMETER_DIGITS = re.compile(r"[0-9]{1,19}")
_MAX_OFFER_ID = 2**63 - 1
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_MAX_SID3 = 255
# Generated users are cached; past this many, untouched ones are forgotten (they regenerate
# identically), so a load test over random ids cannot grow memory without bound.
_MAX_CACHED_USERS = 5000
_TICK = 0.05
# Faults that distort a successful answer (the others replace the answer or delay it).
_LATE_FAULTS = frozenset({"envelope", "bad_offer", "truncated", "huge", "slow_drip"})


@dataclass(slots=True)
class RecordedRequest:
    """One Get Progress request as the fake received it. The key's value is never kept."""

    method: str
    #: The path exactly as sent, percent-encoding intact, without the query string.
    path: str
    #: The user id decoded from its single path segment; ``None`` when the path did not match.
    user_id: str | None
    #: Query parameters (first value of each); an ``api_key`` shows as ``"<redacted>"``.
    query: dict[str, str]
    #: How a key came: ``"x-api-key"``, ``"authorization-apikey"``, ``"authorization-bearer"``,
    #: ``"authorization-other"``, ``"query"``, or ``None`` when none came.
    key_source: str | None
    key_valid: bool
    #: Request headers; ``Authorization`` and ``X-API-Key`` show as ``"<redacted>"``.
    headers: dict[str, str] = field(default_factory=dict)
    #: Status answered; ``None`` when the connection was dropped or hung up.
    status: int | None = None
    #: Kind of the fault applied to this request, if any.
    fault: str | None = None

    @property
    def key_header(self) -> bool:
        """The key came in a header (``X-API-Key`` or ``Authorization``)."""
        return self.key_source is not None and self.key_source != "query"

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready copy (for ``GET /_fake/requests``)."""
        return {
            "method": self.method,
            "path": self.path,
            "user_id": self.user_id,
            "query": dict(self.query),
            "key_source": self.key_source,
            "key_header": self.key_header,
            "key_valid": self.key_valid,
            "headers": dict(self.headers),
            "status": self.status,
            "fault": self.fault,
        }


# Every version of every member's data gets its own number: answers kept for one are never
# served for another (see answers.KeptAnswers).
_REVISIONS = itertools.count()


@dataclass(slots=True)
class _UserData:
    offers: list[Any]
    generated: bool
    modified: bool = False
    revision: int = field(default_factory=lambda: next(_REVISIONS))


@dataclass(frozen=True, slots=True)
class _Query:
    limit: int = 100
    offset: int = 0
    offer_id: int | None = None
    reward_status: int | None = None
    sid3: str | None = None
    ip: ipaddress.IPv4Address | None = None
    country: str | None = None


class _BadParameter(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _integer(args: Any, name: str, low: int, high: int | None) -> int | None:
    raw = args.get(name)
    if raw is None:
        return None
    if (
        not _PARAMETER_DIGITS.fullmatch(raw)
        or int(raw) < low
        or (high is not None and int(raw) > high)
    ):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise _BadParameter(name, f"{name} must be a whole number {bounds}")
    return int(raw)


def _parse_query(args: Any) -> _Query:
    limit = _integer(args, "limit", 1, 500)
    offset = _integer(args, "offset", 0, None)
    offer_id = _integer(args, "offer_id", 1, _MAX_OFFER_ID)
    reward_status = _integer(args, "reward_status", 1, 4)
    sid3 = args.get("sid3")
    if sid3 is not None and (len(sid3) > _MAX_SID3 or not sid3.isprintable()):
        raise _BadParameter(
            "sid3", f"sid3 must be printable text of at most {_MAX_SID3} characters"
        )
    ip = None
    if args.get("ip") is not None:
        try:
            ip = ipaddress.IPv4Address(args["ip"])
        except ValueError:
            raise _BadParameter("ip", "ip must be an IPv4 address") from None
    country = args.get("country")
    if country is not None and not _COUNTRY.fullmatch(country):
        raise _BadParameter("country", "country must be a two-letter country code")
    return _Query(
        limit=100 if limit is None else limit,
        offset=offset or 0,
        offer_id=offer_id,
        reward_status=reward_status,
        sid3=sid3,
        ip=ip,
        country=country.upper() if country else None,
    )


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body).encode(), status=status, headers=headers, content_type="application/json"
    )


def _offer_image(name: str) -> Response:
    offer_id = name.removesuffix(".png")
    if not _DIGITS.fullmatch(offer_id):
        return _json(404, error_body(404))
    return Response(
        offer_image_svg(int(offer_id)),
        content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _raw_path(environ: WSGIEnvironment) -> str:
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if isinstance(raw, str) and raw:
        path = raw.partition("?")[0]
        # An absolute-form request target ("http://host/path") carries its path after the host.
        if "://" in path:
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return path
    # Served where the raw target is unknown: PATH_INFO is already decoded, re-encode it.
    path_info = environ.get("PATH_INFO", "")
    return quote(path_info.encode("latin-1").decode("utf-8", "replace"))


def _resolve_dot_segments(segments: list[str]) -> list[str]:
    """Apply "." and ".." segments the way servers and proxies in front of an API do.

    Encoded dots count too (many servers decode before resolving), so an id of "." or ".."
    can never name a user: a client has to refuse such ids rather than send them.
    """
    resolved: list[str] = []
    for segment in segments:
        word = unquote(segment)
        if word == ".":
            continue
        if word == "..":
            if len(resolved) > 1:
                resolved.pop()
            continue
        resolved.append(segment)
    return resolved


def _offer_id_of(offer: Any) -> str | None:
    if not isinstance(offer, dict):
        return None
    for name in ("offer_id", "cid", "id"):
        if offer.get(name) is not None:
            return str(offer[name])
    return None


def _served(offer: dict[str, Any], image_root: str, click_extra: str) -> dict[str, Any]:
    """A generated offer as this server sends it: images it draws itself (so pages look
    finished offline), the request's ``sid3``/``country`` echoed into the click URL."""
    return dict(
        offer,
        image_url=offer["image_url"].replace(IMAGE_BASE, image_root),
        click_url=offer["click_url"] + click_extra,
    )


def _is_open(event: Any) -> bool:
    return isinstance(event, dict) and event.get("status") in (None, "", "in_progress")


def _advance_offer(offer: dict[str, Any], moment: datetime) -> None:
    """Credit what was pending, finish the next open step, and update the offer's status."""
    stamp = iso_utc(moment)
    raw_events = offer.get("events")
    events = raw_events if isinstance(raw_events, list) else []
    steps = [e for e in events if isinstance(e, dict)]
    if not steps:
        # An offer without steps: in progress -> pending -> credited.
        code = offer.get("reward_status")
        offer["reward_status"] = 4 if code == 1 else 2
    else:
        for event in steps:
            if event.get("status") == "pending":
                event["status"] = "credited"
                event["credited_at"] = stamp
        step = next((e for e in steps if _is_open(e)), None)
        if step is not None:
            step["status"] = "pending"
            step["completed_at"] = stamp
        if any(_is_open(e) for e in steps):
            offer["reward_status"] = 1
        elif any(e.get("status") == "pending" for e in steps):
            offer["reward_status"] = 4
        else:
            offer["reward_status"] = 2
    if offer["reward_status"] == 1:
        offer.update(in_progress=True, user_completed=False)
    else:
        offer.update(in_progress=False, user_completed=True)
        offer.setdefault("completed_at", stamp)
        if offer["reward_status"] == 2:
            offer["credited_at"] = stamp
    offer["updated_at"] = stamp


class FakeRevU:
    """A fake of RevU's Get Progress API, as a WSGI app.

    Serve it with :func:`~revu_widgets.fake.serve_in_thread` (or any WSGI server) and point the
    client's base URL at it. It checks the key like RevU (``X-API-Key``, ``Authorization:
    ApiKey``/``Bearer``, or ``?api_key=``), validates every query parameter, and answers with
    deterministic, realistic data per user id (see :mod:`revu_widgets.fake.data`).

    :param api_key: the key it accepts (the default is :data:`FAKE_API_KEY`).
    :param latency: seconds to wait before every Get Progress answer.
    :param now: the moment the data is relative to (naive means UTC); by default the start of
        the current UTC day, so every process serves the same data all day.
    :param dialect: the field names generated data is sent with (one of
        :data:`~revu_widgets.fake.dialects.DIALECTS`; RevU's documented names by default).
    """

    def __init__(
        self,
        api_key: str = FAKE_API_KEY,
        *,
        latency: float = 0.0,
        now: datetime | None = None,
        dialect: str = DEFAULT_DIALECT,
    ) -> None:
        if not api_key:
            raise ConfigurationError("FakeRevU needs a non-empty api_key")
        try:
            #: The vocabulary generated data is sent in (see :mod:`revu_widgets.fake.dialects`).
            self.dialect = check_dialect(dialect)
        except ValueError as exc:
            raise ConfigurationError(f"FakeRevU: {exc}") from None
        self._api_key = api_key.encode()
        #: Seconds to wait before every Get Progress answer; may be changed at any time.
        self.latency = latency
        if now is not None and now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self._now = now
        self._lock = threading.RLock()
        self._users: dict[str, _UserData] = {}
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self._connections = 0
        self._release = threading.Event()
        self._support_ids = itertools.count(918273645)
        self._kept = KeptAnswers()

    def __repr__(self) -> str:
        return (
            f"<FakeRevU users={len(self._users)} faults={len(self._faults)} "
            f"requests={len(self._requests)}>"
        )

    # -- data -------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The moment generated data is relative to."""
        return self._now or start_of_day(datetime.now(UTC))

    def _clock(self) -> datetime:
        return self._now or datetime.now(UTC)

    def _user(self, user_id: str) -> _UserData:
        data = self._users.get(user_id)
        if data is None:
            if len(self._users) >= _MAX_CACHED_USERS:
                for cached_id, cached in list(self._users.items()):
                    if cached.generated and not cached.modified:
                        del self._users[cached_id]
                        break
            data = _UserData(generate_offers(user_id, self.now), generated=True)
            self._users[user_id] = data
        return data

    def offers_for(self, user_id: str) -> list[Any]:
        """A copy of every offer the fake holds for ``user_id``, as raw dicts, in served order."""
        with self._lock:
            return copy.deepcopy(self._user(user_id).offers)

    def set_offers(self, user_id: str, offers: Sequence[Any]) -> None:
        """Serve exactly ``offers`` (raw dicts, or anything JSON can carry) for ``user_id``.

        Nothing is checked or fixed: this is how tests feed hostile or odd upstream data.
        """
        try:
            json.dumps(list(offers))
        except (TypeError, ValueError) as error:
            raise InvalidRequestError(f"offers must be JSON-serialisable: {error}") from None
        with self._lock:
            self._users[user_id] = _UserData(copy.deepcopy(list(offers)), generated=False)

    def advance(self, user_id: str, offer_id: int | None = None) -> dict[str, Any]:
        """Move one offer on, as if the user (then RevU) acted; returns the offer afterwards.

        Each call credits the offer's pending step and completes its next open step (which is
        pending until the next call). With no open step left the offer becomes pending credit,
        and credited on the call after. Without ``offer_id`` the first in-progress offer moves,
        else the first pending one. Raises ``OfferNotFoundError`` when there is nothing to move
        and ``InvalidRequestError`` when the offer is already credited, reversed or expired.
        """
        with self._lock:
            data = self._user(user_id)
            offers = [o for o in data.offers if isinstance(o, dict)]
            offer: dict[str, Any] | None
            if offer_id is None:
                offer = next((o for o in offers if o.get("reward_status") == 1), None) or next(
                    (o for o in offers if o.get("reward_status") == 4), None
                )
                if offer is None:
                    raise OfferNotFoundError(
                        f"user {user_id!r} has no offer in progress or pending credit"
                    )
            else:
                offer = next((o for o in offers if _offer_id_of(o) == str(offer_id)), None)
                if offer is None:
                    raise OfferNotFoundError(f"user {user_id!r} has no offer {offer_id}")
                if offer.get("reward_status") not in (1, 4):
                    raise InvalidRequestError(
                        f"offer {offer_id} is already finished; only offers in progress or "
                        "pending credit can advance"
                    )
            _advance_offer(offer, self._clock())
            data.modified = True
            data.revision = next(_REVISIONS)
            return copy.deepcopy(offer)

    def reset(self) -> None:
        """Forget overrides, advances, faults, recorded requests and the connection count.

        Requests hanging or trickling on purpose end now.
        """
        with self._lock:
            self._users.clear()
            self._kept.clear()
            self._faults.clear()
            self._requests.clear()
            self._connections = 0
            self.release()

    # -- faults -----------------------------------------------------------------------------

    def add_fault(
        self, kind: str, *, count: int | None = 1, user_id: str | None = None, **params: Any
    ) -> Fault:
        """Misbehave on the next ``count`` Get Progress requests (all of them if ``None``).

        ``user_id`` limits the fault to that user's requests. Kinds and their parameters are
        listed in :data:`revu_widgets.fake.faults.FAULT_DEFAULTS`. Returns the queued
        :class:`Fault`; its ``hits`` counts the requests it applied to.
        """
        fault = make_fault(kind, count=count, user_id=user_id, **params)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Drop every queued fault; requests hanging or trickling on purpose end now."""
        with self._lock:
            self._faults.clear()
            self.release()

    @property
    def faults(self) -> list[Fault]:
        """The faults still queued."""
        with self._lock:
            return [f for f in self._faults if f.remaining is None or f.remaining > 0]

    def release(self) -> None:
        """End every response that is hanging, delayed or trickling on purpose, right now."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()

    def _take_fault(self, user_id: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(user_id):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    self._faults = [f for f in self._faults if f.remaining != 0]
                    return fault
        return None

    def _wait(self, seconds: float, environ: WSGIEnvironment) -> bool:
        """Sleep ``seconds``; ``True`` if cut short by shutdown or :meth:`release`."""
        release = self._release
        stopping = environ.get(STOPPING)
        deadline = time.monotonic() + seconds
        while True:
            if release.is_set() or (stopping is not None and stopping.is_set()):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            release.wait(min(left, _TICK))

    # -- records ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every Get Progress request received since creation or :meth:`reset`, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def connections(self) -> int:
        """TCP connections accepted by the server(s) serving this fake."""
        return self._connections

    def note_connection(self) -> None:
        """Count one accepted TCP connection (``serve_in_thread`` calls this)."""
        with self._lock:
            self._connections += 1

    # -- WSGI -------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request (WSGI)."""
        request = Request(environ)
        path = _raw_path(environ)
        if path.startswith(IMAGES_PREFIX):
            response = _offer_image(path[len(IMAGES_PREFIX) :])
        elif path.startswith(CONTROL_PREFIX):
            response = self._control(request, path)
        else:
            response = self._api(request, path, environ)
        return response(environ, start_response)

    def _key(self, request: Request) -> tuple[str | None, bool]:
        presented: str | None = None
        source: str | None = None
        if "X-API-Key" in request.headers:
            source, presented = "x-api-key", request.headers["X-API-Key"]
        elif "Authorization" in request.headers:
            scheme, _, token = request.headers["Authorization"].strip().partition(" ")
            if scheme.lower() in ("apikey", "bearer"):
                source, presented = f"authorization-{scheme.lower()}", token
            else:
                source = "authorization-other"
        elif "api_key" in request.args:
            source, presented = "query", request.args["api_key"]
        valid = presented is not None and hmac.compare_digest(
            presented.strip().encode("utf-8", "surrogateescape"), self._api_key
        )
        return source, valid

    def _record(self, request: Request, path: str, user_id: str | None) -> RecordedRequest:
        source, valid = self._key(request)
        record = RecordedRequest(
            method=request.method,
            path=path,
            user_id=user_id,
            query={k: REDACTED if k == "api_key" else v for k, v in request.args.items()},
            key_source=source,
            key_valid=valid,
            headers={
                k: REDACTED if k.lower() in _KEY_HEADERS else v for k, v in request.headers.items()
            },
        )
        with self._lock:
            self._requests.append(record)
        return record

    def _api(self, request: Request, path: str, environ: WSGIEnvironment) -> Response:
        segments = _resolve_dot_segments(path.split("/"))
        # "/api/v1/users/<id>/getprogress": the id is exactly one segment, decoded once.
        matched = (
            segments[:4] == ["", "api", "v1", "users"]
            and len(segments) == 6
            and segments[5] == "getprogress"
            and segments[4] != ""
        )
        user_id = unquote(segments[4]) if matched else None
        record = self._record(request, path, user_id)
        if user_id is None:
            record.status = 404
            return _json(404, {"status": "error", "code": "NOT_FOUND", "message": "No such API."})
        if request.method != "GET":
            record.status = 405
            body = {"status": "error", "code": "METHOD_NOT_ALLOWED", "message": "Use GET."}
            return _json(405, body, {"Allow": "GET"})

        fault = self._take_fault(user_id)
        record.fault = fault.kind if fault else None
        if self.latency > 0 and self._wait(self.latency, environ):
            return self._drop(environ, record)
        if fault is not None:
            early = self._early_fault(fault, environ, record)
            if early is not None:
                return early

        outcome = self._check(request, user_id, record)
        if not isinstance(outcome, _Query):
            return _json(*outcome)
        image_root = request.host_url + IMAGES_PREFIX[1:]
        if fault is not None and fault.kind in _LATE_FAULTS:
            return self._late_fault(fault, self._page(user_id, outcome, image_root), environ)
        answer = self._kept_page(user_id, outcome, image_root)
        return Response(answer, status=200, content_type="application/json")

    def _check(
        self, request: Request, user_id: str, record: RecordedRequest
    ) -> tuple[int, dict[str, Any]] | _Query:
        """The refusal (status, JSON body) RevU would answer, or the query to answer."""
        if not record.key_valid:
            record.status = 401
            return 401, {
                "status": "error",
                "code": "INVALID_API_KEY",
                "message": "The API key is missing or not valid for this wall.",
            }
        try:
            query = _parse_query(request.args)
        except _BadParameter as error:
            record.status = 400
            return 400, {
                "status": "error",
                "code": "INVALID_PARAMETER",
                "parameter": error.name,
                "message": error.message,
            }
        if user_id.startswith(BANNED_PREFIX):
            record.status = 403
            return 403, {
                "status": "error",
                "code": "USER_BANNED",
                "message": "This user is banned from the offerwall.",
            }
        if query.ip is not None and query.ip in BANNED_NETWORK:
            record.status = 403
            return 403, {
                "status": "error",
                "code": "IP_BANNED",
                "message": "This IP address is banned from the offerwall.",
            }
        record.status = 200
        return query

    def _kept_page(self, user_id: str, query: _Query, image_root: str) -> bytes:
        """The body of the answer to ``query``: encoded once per version of the member's data
        and kept (see :mod:`~revu_widgets.fake.answers`); each request writes in its own
        ``support_id``."""
        question = (
            user_id,
            self.dialect,
            image_root,
            query.limit,
            query.offset,
            query.offer_id,
            query.reward_status,
            query.sid3,
            query.country,
        )
        with self._lock:
            data = self._user(user_id)
            support_id = next(self._support_ids)
            kept = self._kept.get(question, data.revision)
            if kept is None:
                kept = encode_answer(self._envelope(data, query, image_root, support_id))
                self._kept.put(question, data.revision, kept)
        return kept.body(support_id)

    def _page(self, user_id: str, query: _Query, image_root: str) -> dict[str, Any]:
        """The answer to ``query``, built afresh as a JSON-ready dict (for faults to distort)."""
        with self._lock:
            return self._envelope(self._user(user_id), query, image_root, next(self._support_ids))

    def _envelope(
        self, data: _UserData, query: _Query, image_root: str, support_id: int
    ) -> dict[str, Any]:
        """The answer's envelope and copies of its offers (call with the lock held)."""
        extra = "".join(
            f"&{name}={quote(value, safe='')}"
            for name, value in (("sid3", query.sid3), ("country", query.country))
            if value
        )
        offers = data.offers
        if query.offer_id is not None:
            offers = [o for o in offers if _offer_id_of(o) == str(query.offer_id)]
        if query.reward_status is not None:
            offers = [
                o
                for o in offers
                if isinstance(o, dict) and o.get("reward_status") == query.reward_status
            ]
        selected = offers[query.offset : query.offset + query.limit]
        if data.generated:
            # Generated offers are flat dicts with a list of flat events: speak_offer copies
            # both levels, which is a whole copy at a fraction of deepcopy's cost.
            page = [
                speak_offer(_served(offer, image_root, extra), self.dialect) for offer in selected
            ]
        else:
            page = copy.deepcopy(selected)
        envelope = {
            "status": "success",
            "publisher_id": FAKE_PUBLISHER_ID,
            "wall_id": FAKE_WALL_ID,
            "support_id": support_id,
            "total": len(offers),
            "offset": query.offset,
            "limit": query.limit,
            "offers": page,
        }
        return speak_envelope(envelope, self.dialect) if data.generated else envelope

    # -- faults applied ---------------------------------------------------------------------

    def _drop(self, environ: WSGIEnvironment, record: RecordedRequest) -> Response:
        record.status = None
        drop = environ.get(DROP_CONNECTION)
        if callable(drop):
            drop()
        else:
            sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
            if not isinstance(sock, socket.socket):
                raise ConfigurationError(
                    "this WSGI server cannot drop connections; serve the fake with "
                    "revu_widgets.fake.serve_in_thread or python -m revu_widgets.fake"
                )
            sock.shutdown(socket.SHUT_RDWR)
        return Response(b"", status=500)

    def _early_fault(
        self, fault: Fault, environ: WSGIEnvironment, record: RecordedRequest
    ) -> Response | None:
        """Faults that answer without looking at the data; ``None`` for the others."""
        params = fault.params
        if fault.kind == "status":
            status = params["status"]
            record.status = status
            body = params["body"]
            headers = dict(params["headers"])
            if body is None:
                return _json(status, error_body(status), headers)
            if isinstance(body, str | bytes):
                raw = body.encode() if isinstance(body, str) else body
                headers.setdefault("Content-Type", "text/plain; charset=utf-8")
                return Response(raw, status=status, headers=headers)
            return _json(status, body, headers)
        if fault.kind == "latency":
            if self._wait(params["seconds"], environ):
                return self._drop(environ, record)
            return None
        if fault.kind == "hang":
            self._wait(params["seconds"], environ)
            return self._drop(environ, record)
        if fault.kind == "drop":
            return self._drop(environ, record)
        if fault.kind == "non_json":
            record.status = params["status"]
            return Response(
                proxy_error_page(params["status"]),
                status=params["status"],
                content_type="text/html; charset=utf-8",
            )
        if fault.kind == "empty":
            record.status = params["status"]
            return Response(b"", status=params["status"], content_type="application/json")
        return None

    def _late_fault(self, fault: Fault, page: dict[str, Any], environ: WSGIEnvironment) -> Response:
        """Faults that distort a successful answer."""
        params = fault.params
        if fault.kind == "envelope":
            return _json(200, wrong_envelope(params["variant"], page))
        if fault.kind == "bad_offer":
            offers = page["offers"]
            replacement = params["offer"]
            if offers:
                index = min(params["index"], len(offers) - 1)
                offers[index] = (
                    replacement if replacement is not None else corrupt_offer(offers[index])
                )
            else:
                broken = {"offer_id": 99999999, "name": "Broken offer", "reward_status": 1}
                offers.append(replacement if replacement is not None else corrupt_offer(broken))
                page["total"] = max(page["total"], page["offset"] + 1)
            return _json(200, page)
        body = json.dumps(page).encode()
        if fault.kind == "truncated":
            cut = body[: len(body) // 2]
            length = len(cut) if params["honest_length"] else len(body)
            return self._stream(iter([cut]), length)
        if fault.kind == "huge":
            length, chunks = huge_body(page, params["megabytes"])
            return self._stream(chunks, length)
        if fault.kind == "slow_drip":
            return self._stream(self._drip(body, params["bytes_per_second"], environ), len(body))
        raise AssertionError(f"unhandled fault kind {fault.kind!r}")  # pragma: no cover

    def _drip(
        self, body: bytes, bytes_per_second: float, environ: WSGIEnvironment
    ) -> Iterator[bytes]:
        step = max(1, round(bytes_per_second * 0.25))
        interval = step / bytes_per_second
        for start in range(0, len(body), step):
            if start and self._wait(interval, environ):
                return
            yield body[start : start + step]

    @staticmethod
    def _stream(chunks: Iterator[bytes], length: int) -> Response:
        return Response(
            chunks,
            status=200,
            headers={"Content-Length": str(length)},
            content_type="application/json",
            direct_passthrough=True,
        )

    # -- control endpoints ------------------------------------------------------------------

    def _control(self, request: Request, path: str) -> Response:
        source, valid = self._key(request)
        # The key must come in a header here: a web page can make a browser send a simple
        # cross-site POST with ``?api_key=`` in the URL, but never with a custom header.
        if not valid or source == "query":
            body = {
                **error_body(401),
                "message": "Send the key in the X-API-Key header (not in the query string).",
            }
            return _json(401, body)
        route = path[len(CONTROL_PREFIX) :]
        method = request.method
        if route == "reset" and method == "POST":
            self.reset()
            return _json(200, {"status": "success"})
        if route == "stats" and method == "GET":
            with self._lock:
                stats = {
                    "status": "success",
                    "requests": len(self._requests),
                    "connections": self._connections,
                    "faults": len(self.faults),
                }
            return _json(200, stats)
        if route == "requests" and method == "GET":
            return _json(
                200, {"status": "success", "requests": [r.as_json() for r in self.requests]}
            )
        if route == "faults":
            return self._control_faults(request)
        parts = route.split("/")
        if len(parts) == 3 and parts[0] == "users" and parts[1]:
            user_id = unquote(parts[1])
            if parts[2] == "advance" and method == "POST":
                return self._control_advance(request, user_id)
            if parts[2] == "offers" and method == "PUT":
                offers = request.get_json(silent=True)
                if not isinstance(offers, list):
                    return _json(400, {**error_body(400), "message": "Send a JSON list of offers."})
                self.set_offers(user_id, offers)
                return _json(200, {"status": "success", "count": len(offers)})
        return _json(404, error_body(404))

    def _control_faults(self, request: Request) -> Response:
        if request.method == "GET":
            return _json(200, {"status": "success", "faults": [f.as_json() for f in self.faults]})
        if request.method == "DELETE":
            self.clear_faults()
            return _json(200, {"status": "success"})
        if request.method != "POST":
            return _json(405, error_body(405), {"Allow": "GET, POST, DELETE"})
        spec = request.get_json(silent=True)
        if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str):
            message = 'Send a JSON object such as {"kind": "status", "status": 503}.'
            return _json(400, {**error_body(400), "message": message})
        params = {k: v for k, v in spec.items() if k not in ("kind", "count", "user_id")}
        try:
            fault = self.add_fault(
                spec["kind"], count=spec.get("count", 1), user_id=spec.get("user_id"), **params
            )
        except InvalidRequestError as error:
            return _json(400, {**error_body(400), "message": error.message})
        return _json(201, {"status": "success", "fault": fault.as_json()})

    def _control_advance(self, request: Request, user_id: str) -> Response:
        body = request.get_json(silent=True)
        raw = body.get("offer_id") if isinstance(body, dict) else request.args.get("offer_id")
        offer_id: int | None = None
        if raw is not None:
            if isinstance(raw, int) and not isinstance(raw, bool):
                offer_id = raw
            elif isinstance(raw, str) and _DIGITS.fullmatch(raw):
                offer_id = int(raw)
            else:
                return _json(400, {**error_body(400), "message": "offer_id must be a number."})
        try:
            offer = self.advance(user_id, offer_id)
        except OfferNotFoundError as error:
            return _json(
                404, {"status": "error", "code": "OFFER_NOT_FOUND", "message": error.message}
            )
        except InvalidRequestError as error:
            return _json(
                409, {"status": "error", "code": "NOT_ADVANCEABLE", "message": error.message}
            )
        return _json(200, {"status": "success", "offer": offer})


__all__ = [
    "FAKE_API_KEY",
    "FAKE_PUBLISHER_ID",
    "FAKE_WALL_ID",
    "FakeRevU",
    "RecordedRequest",
]
