"""The two edges of a call to RevU: the request's arguments, and what the answer says.

The client (:mod:`revu_widgets.client`) pages, retries and keeps the deadline; this module
checks and encodes a request's arguments for the URL (the user id above all), and reads what
comes back: the body in chunks that each respect the call's deadline, a failed answer's status
and error body as the kit's exception (with RevU's support reference), and ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import marshal
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import quote

import requests
import urllib3

from .errors import (
    AuthenticationError,
    ForbiddenError,
    InvalidRequestError,
    IpBannedError,
    RateLimitedError,
    UpstreamBadRequestError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    UserBannedError,
)
from .models import Offer, ProgressPage, RewardStatus, SkippedOffer
from .schemas import raw_error_code, raw_support_id

#: RevU's production address (``REVU_BASE_URL``'s default).
DEFAULT_BASE_URL: Final = "https://publishers.revenueuniverse.com"

#: Longest accepted user id, in characters.
MAX_USER_ID_LENGTH: Final = 255

# A "." or ".." segment between slashes (either kind), percent-encoded ones included.
_DOT_SEGMENT: Final = re.compile(
    r"(?:^|/|\\|%2f|%5c)(?:\.|%2e){1,2}(?:$|/|\\|%2f|%5c)", re.IGNORECASE
)

_CHUNK_BYTES: Final = 64 * 1024

# usual spellings).
_KEY_WORDS: Final = ("KEY", "AUTH", "CREDENTIAL", "TOKEN")


def _is_key_code(code: str) -> bool:
    return any(word in code for word in _KEY_WORDS) or code == "UNAUTHORIZED"


class DeadlinePassed(Exception):
    """The call's deadline passed while the body was still arriving."""


def body_chunks(response: requests.Response, deadline_at: float) -> Iterator[bytes]:
    """The decoded body in chunks, each read bounded by what is left of the deadline.

    ``read1`` returns as soon as some bytes arrive, so a body trickling in a few bytes at a
    time is noticed at the deadline; a plain ``read(n)`` would wait for all ``n`` bytes.
    """
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    if read1 is None:  # urllib3 1.x: chunks still bound the size, only less often the time
        for chunk in response.iter_content(_CHUNK_BYTES):
            if time.monotonic() >= deadline_at:
                raise DeadlinePassed
            yield chunk
        return
    while True:
        remaining = deadline_at - time.monotonic()
        if remaining <= 0:
            raise DeadlinePassed
        _tighten_read_timeout(raw, remaining)
        chunk = read1(_CHUNK_BYTES, decode_content=True)
        if not chunk:
            return
        yield chunk


def _tighten_read_timeout(raw: Any, remaining: float) -> None:
    """Let no single socket read outlast the deadline (urllib3 resets it per request)."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is None:
        return
    try:
        current = sock.gettimeout()
        if current is None or current > remaining:
            sock.settimeout(max(remaining, 0.001))
    except OSError:
        pass


def is_timeout(exc: BaseException) -> bool:
    """Whether a failure while reading the body was, underneath, a socket timeout."""
    current: BaseException | None = exc
    for _ in range(8):
        if current is None:
            return False
        if isinstance(current, TimeoutError | requests.Timeout | urllib3.exceptions.TimeoutError):
            return True
        nested = next((a for a in current.args if isinstance(a, BaseException)), None)
        current = nested or current.__cause__ or current.__context__
    return False


def page_digest(body: bytes, reference: str | None) -> str:
    """A digest of a Get Progress answer's body as received, the same in every process.

    Equal bytes give equal digests, so two reads of an unchanged history agree and any change
    in an offer or one of its steps moves it, at the cost of one C-speed hash instead of a walk
    over the decoded offers. RevU's per-request support reference is left out: it changes with
    every request, not with the member's progress. (Its text is dropped wherever it appears;
    should it also appear elsewhere in the body, that only costs a needless refresh.)
    """
    if reference:
        body = body.replace(reference.encode(), b"")
    return hashlib.blake2b(body, digest_size=16).hexdigest()


#: A remembered page: ``(page digest, offer fields read)`` (``None``: every field).
PageKey = tuple[str, tuple[str, ...] | None]


def offer_key(raw: Any) -> bytes | None:
    """A digest of exactly what one raw offer of a decoded answer says, or ``None``.

    Equal keys mean equal JSON values, types included: ``marshal`` writes ``true``, ``1`` and
    ``1.0`` apart, where ``==`` calls them equal (and the schemas read them differently).
    Format 2 writes no back-references, so the same value always gives the same bytes.
    """
    try:
        data = marshal.dumps(raw, 2)
    except ValueError:  # nested beyond what marshal writes: read such an offer every time
        return None
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass(slots=True, eq=False)
class _Known:
    """One validated offer of remembered pages, shared by every page that sent it unchanged."""

    offer: Offer
    #: ``(offer_key, offer fields read)``, when it can be found again by what it was read from.
    key: tuple[bytes, tuple[str, ...] | None] | None
    #: How many remembered pages hold it.
    pages: int = 0
    #: What it was read again as (in full for the screen, or its steps' facts), by purpose.
    rereads: dict[str, Offer] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Page:
    page: ProgressPage
    offers: tuple[_Known, ...]


class PageMemory:
    """Validated pages of recent answers, by :func:`page_digest`, and their offers, by what each
    raw offer says (:func:`offer_key`).

    A walk that gets the same bytes as an earlier one (a history re-read when its snapshot
    has expired, or after a postback that changed another page) reuses that page's validation
    instead of reading its offers again. A page whose bytes changed (a postback moved one of
    its offers on) validates only the offers that changed, and reuses the rest. Either way
    each offer is brought to the new moment (:meth:`Offer.at`: its derived fields, overdue
    and expired, are derived again only when an expiry or an expected credit date passed in
    between). What was read again of a remembered offer (in full for the screen, or its
    steps' facts) is kept with it and reused the same way. At most ``offers`` offers are kept,
    least recently used pages forgotten first.
    """

    def __init__(self, offers: int) -> None:
        self._room = offers
        self._lock = threading.Lock()
        self._pages: OrderedDict[PageKey, _Page] = OrderedDict()
        self._held = 0
        self._by_key: dict[tuple[bytes, tuple[str, ...] | None], _Known] = {}
        # By the identity of the raw offer an offer read in part was read from (the offer holds
        # it, so an id is not reused while it is listed): where its rereads are kept.
        self._by_source: dict[int, _Known] = {}

    def recall(self, key: PageKey, *, now: datetime, support_id: str | None) -> ProgressPage | None:
        """The page validated for ``key``, as read at ``now`` with this request's reference."""
        with self._lock:
            kept = self._pages.get(key)
            if kept is None:
                return None
            self._pages.move_to_end(key)
        return replace(
            kept.page,
            offers=tuple(offer.at(now) for offer in kept.page.offers),
            support_id=support_id,
        )

    def read(
        self,
        key: PageKey,
        raw_offers: Sequence[Any],
        parse: Callable[[list[Any]], ProgressPage],
        *,
        now: datetime,
    ) -> ProgressPage:
        """The page of ``raw_offers`` (whose bytes gave ``key``), validated: each raw offer a
        remembered page sent the same is reused at ``now``, the others go to ``parse`` (which
        validates a list of raw offers into a page at ``now``). The page is remembered."""
        only = key[1]
        keys = [offer_key(raw) for raw in raw_offers]
        with self._lock:
            known = [self._by_key.get((k, only)) if k is not None else None for k in keys]
        reused = {i: e.offer.at(now) for i, e in enumerate(known) if e is not None}
        fresh_at = [i for i in range(len(raw_offers)) if i not in reused]
        fresh = parse([raw_offers[i] for i in fresh_at])
        skipped = moved_skipped(fresh.skipped, lambda index: fresh_at[index])
        skipped_at = {item.index for item in skipped}
        fresh_offers = iter(fresh.offers)
        offers: list[Offer] = []
        offer_keys: list[bytes | None] = []
        for index in range(len(raw_offers)):
            offer = reused.get(index)
            if offer is None:
                if index in skipped_at:
                    continue
                offer = next(fresh_offers)
            offers.append(offer)
            # An offer with a field left out is not shared: its page says what was dropped.
            offer_keys.append(None if offer.degraded else keys[index])
        page = replace(fresh, offers=tuple(offers), skipped=tuple(skipped), digest=key[0])
        self.keep(key, page, offer_keys)
        return page

    def keep(
        self, key: PageKey, page: ProgressPage, offer_keys: Sequence[bytes | None] | None = None
    ) -> None:
        """Remember ``page`` (validated) for ``key``; ``offer_keys`` (one per offer of the page)
        lets later pages find its offers by what each was read from."""
        if len(page.offers) > self._room:
            return
        keys = offer_keys if offer_keys is not None else [None] * len(page.offers)
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._forget(old)
            pairs = zip(page.offers, keys, strict=True)
            entries = tuple(self._hold(offer, k, key[1]) for offer, k in pairs)
            self._pages[key] = _Page(page, entries)
            self._held += len(page.offers)
            while self._held > self._room:
                _, forgotten = self._pages.popitem(last=False)
                self._forget(forgotten)

    def reread(
        self,
        purpose: str,
        offers: Iterable[Offer],
        read: Callable[[Sequence[Offer]], Sequence[Offer]],
    ) -> tuple[Offer, ...]:
        """``read(offers)`` (the same offers, each read again for ``purpose``), reusing what
        an earlier read of a remembered raw offer gave, at each offer's moment."""
        listed = tuple(offers)
        done: dict[int, Offer] = {}
        with self._lock:
            for index, offer in enumerate(listed):
                entry = self._entry_of(offer)
                earlier = entry.rereads.get(purpose) if entry is not None else None
                if earlier is not None:
                    done[index] = earlier
        rest = [offer for index, offer in enumerate(listed) if index not in done]
        fresh = iter(read(rest) if rest else ())
        result: list[Offer] = []
        with self._lock:
            for index, offer in enumerate(listed):
                earlier = done.get(index)
                if earlier is not None:
                    again = earlier.at(offer.as_of)
                else:
                    again = next(fresh)
                    entry = self._entry_of(offer)
                    if entry is not None:
                        entry.rereads[purpose] = again
                result.append(again)
        return tuple(result)

    def _entry_of(self, offer: Offer) -> _Known | None:
        source = offer.source
        if source is None:
            return None
        entry = self._by_source.get(id(source))
        return entry if entry is not None and entry.offer.source is source else None

    def _hold(self, offer: Offer, key: bytes | None, only: tuple[str, ...] | None) -> _Known:
        entry = self._by_key.get((key, only)) if key is not None else None
        if entry is None or entry.offer.source is not offer.source:
            entry = _Known(offer, (key, only) if key is not None else None)
            if entry.key is not None:
                self._by_key[entry.key] = entry
            if offer.source is not None:
                self._by_source[id(offer.source)] = entry
        entry.pages += 1
        return entry

    def _forget(self, kept: _Page) -> None:
        self._held -= len(kept.page.offers)
        for entry in kept.offers:
            entry.pages -= 1
            if entry.pages:
                continue
            if entry.key is not None and self._by_key.get(entry.key) is entry:
                del self._by_key[entry.key]
            source = entry.offer.source
            if source is not None and self._by_source.get(id(source)) is entry:
                del self._by_source[id(source)]


def moved_skipped(
    skipped: Iterable[SkippedOffer], position: Callable[[int], int]
) -> list[SkippedOffer]:
    """``skipped`` with each position (and the field paths under it) moved to
    ``position(index)``: from a part of a page to the page, or from a page to the history."""
    result = []
    for item in skipped:
        new_index = position(item.index)
        old, new = f"offers.{item.index}", f"offers.{new_index}"
        paths = tuple(
            new + path[len(old) :] if path == old or path.startswith(old + ".") else path
            for path in item.field_paths
        )
        result.append(SkippedOffer(new_index, item.offer_id, paths))
    return result


#: A question put to RevU: the request's path and query (the same bytes answer every subset).
Question = tuple[str, tuple[tuple[str, str], ...]]

# What json.loads takes for whitespace, and its decoder (raw_decode reads one value at an index).
_JSON_SPACE: Final = re.compile(r"[ \t\n\r]*")
_JSON: Final = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class DecodedAnswer:
    """An answer's body decoded as :func:`json.loads` would, with where its per-request
    references sit: ``(key, start, end)`` of each top-level value under a reference key, in
    ``text`` order."""

    payload: object
    text: str
    references: tuple[tuple[str, int, int], ...] = ()

    def again(self, body: bytes) -> DecodedAnswer | None:
        """``body`` decoded, when it is this answer's text with other reference values.

        Only the new reference values are decoded: the text between them is compared, and
        equal text decodes to equal values. ``None`` when anything else differs.
        """
        text = _body_text(body)
        if text is None or not isinstance(self.payload, dict):
            return None
        payload = dict(self.payload)
        references = []
        old = new = 0
        try:
            for key, start, end in self.references:
                same = self.text[old:start]
                if not text.startswith(same, new):
                    return None
                value, new_end = _JSON.raw_decode(text, new + len(same))
                payload[key] = value
                references.append((key, new + len(same), new_end))
                old, new = end, new_end
        except (ValueError, RecursionError):
            return None
        if text[new:] != self.text[old:]:
            return None
        return DecodedAnswer(payload, text, tuple(references))


def decode_answer(body: bytes, reference_keys: Collection[str]) -> DecodedAnswer | None:
    """``body`` decoded, noting where the top-level values under ``reference_keys`` sit;
    ``None`` when it is not JSON (deep nesting and huge numbers too).

    The top-level object is read key by key with the standard library's decoder, so the
    result is what :func:`json.loads` gives (a repeated key keeps its last value).
    """
    text = _body_text(body)
    if text is None:
        return None
    try:
        return _decode_top_level(text, frozenset(reference_keys))
    except (ValueError, RecursionError):
        return None


def _body_text(body: bytes) -> str | None:
    # As json.loads reads bytes: UTF-8, -16 or -32, told apart by the first bytes.
    try:
        return body.decode(json.detect_encoding(body), "surrogatepass")
    except (UnicodeDecodeError, LookupError):
        return None


def _decode_top_level(text: str, reference_keys: frozenset[str]) -> DecodedAnswer:
    index = _after_space(text, 0)
    if not text.startswith("{", index):
        return DecodedAnswer(_JSON.decode(text), text)
    payload: dict[str, Any] = {}
    references = []
    index = _after_space(text, index + 1)
    closed = text.startswith("}", index)
    while not closed:
        if not text.startswith('"', index):
            raise ValueError("a key was expected")
        key, index = _JSON.raw_decode(text, index)
        index = _after_space(text, index)
        if not text.startswith(":", index):
            raise ValueError("':' was expected")
        start = _after_space(text, index + 1)
        payload[key], index = _JSON.raw_decode(text, start)
        if key in reference_keys:
            references.append((key, start, index))
        index = _after_space(text, index)
        closed = text.startswith("}", index)
        if not closed:
            if not text.startswith(",", index):
                raise ValueError("',' or '}' was expected")
            index = _after_space(text, index + 1)
    if _after_space(text, index + 1) != len(text):
        raise ValueError("extra data after the answer")
    return DecodedAnswer(payload, text, tuple(references))


def _after_space(text: str, index: int) -> int:
    return _JSON_SPACE.match(text, index).end()  # type: ignore[union-attr]  # "*" always matches


class AnswerMemory:
    """The last answer to each recent question, to tell the same bytes without decoding them.

    RevU puts a new support reference in every answer; an answer that is the last one with
    other references is read from it (:meth:`DecodedAnswer.again`), with the digest it had.
    At most ``characters`` characters of answers are kept, least recently kept forgotten
    first.
    """

    def __init__(self, characters: int) -> None:
        self._room = characters
        self._lock = threading.Lock()
        self._answers: OrderedDict[Question, tuple[str, DecodedAnswer]] = OrderedDict()
        self._held = 0

    def again(self, question: Question, body: bytes) -> tuple[str, DecodedAnswer] | None:
        """``(digest, answer)`` when ``body`` is the last answer to ``question`` with other
        references; ``None`` otherwise."""
        with self._lock:
            remembered = self._answers.get(question)
        if remembered is None:
            return None
        digest, earlier = remembered
        answer = earlier.again(body)
        return (digest, answer) if answer is not None else None

    def keep(self, question: Question, digest: str, answer: DecodedAnswer) -> None:
        """Remember ``answer`` (whose body has ``digest``) as the last one to ``question``."""
        if len(answer.text) > self._room:
            return
        with self._lock:
            old = self._answers.pop(question, None)
            if old is not None:
                self._held -= len(old[1].text)
            self._answers[question] = (digest, answer)
            self._held += len(answer.text)
            while self._held > self._room:
                _, (_, forgotten) = self._answers.popitem(last=False)
                self._held -= len(forgotten.text)


def decode_json(body: bytes) -> object | None:
    """The decoded body, or None when it is not JSON (deep nesting and huge numbers too)."""
    try:
        payload: object = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return payload


def _error_body(body: bytes) -> tuple[str | None, str | None]:
    """``(code, support_id)`` from a JSON error body, when it has them."""
    payload = decode_json(body) if body else None
    return raw_error_code(payload), raw_support_id(payload)


def status_error(status: int, body: bytes, retry_after: float | None) -> UpstreamError:
    code, reference = _error_body(body)
    if code == "USER_BANNED":
        return UserBannedError(
            "RevU says this user is banned from the offerwall (USER_BANNED), so offer progress "
            "cannot be shown. The user can contact the publisher's support.",
            reason=code,
            reference=reference,
        )
    if code == "IP_BANNED":
        return IpBannedError(
            "RevU says the IP address this request came from is banned from the offerwall "
            "(IP_BANNED), so offer progress cannot be shown.",
            reason=code,
            reference=reference,
        )
    if status == 401 or (status == 403 and code is not None and _is_key_code(code)):
        said = f", code {code}" if code else ""
        return AuthenticationError(
            f"RevU refused the API key (HTTP {status}{said}): check REVU_API_KEY is this wall's "
            "Get Progress key from the RevU Publisher Portal (Offerwall > API Key).",
            reference=reference,
        )
    if status == 403:
        said = f"with code {code}" if code else "without an error code"
        return ForbiddenError(
            f"RevU refused the request (HTTP 403, {said}). RevU did not say the API key is "
            "wrong; if it keeps happening, contact RevU support and quote the reference.",
            reference=reference,
        )
    if status == 400:
        return UpstreamBadRequestError(
            "RevU rejected the request's parameters (HTTP 400). This is likely a bug in how "
            "revu-widgets called it; please report it with the reference.",
            reference=reference,
        )
    if status == 429:
        wait_hint = f" RevU asked to wait {retry_after:g} s." if retry_after is not None else ""
        return RateLimitedError(
            f"RevU is limiting how often progress can be fetched (HTTP 429).{wait_hint} "
            "Try again shortly.",
            retry_after=retry_after,
            reference=reference,
        )
    if status == 504:
        # RevU's own gateway gave up waiting: a timeout, answered as one (504).
        return UpstreamTimeoutError(
            "RevU's gateway timed out (HTTP 504). Try again in a minute.",
            reference=reference,
        )
    if status >= 500:
        return UpstreamUnavailableError(
            f"RevU is having trouble (HTTP {status}). Try again in a minute.",
            reference=reference,
        )
    if 300 <= status < 400:
        return UpstreamError(
            f"RevU answered with a redirect (HTTP {status}), which this client does not "
            "follow: check REVU_BASE_URL is " + DEFAULT_BASE_URL + ".",
            reference=reference,
        )
    return UpstreamError(
        f"RevU answered with an unexpected HTTP {status}. Check REVU_BASE_URL; if it is "
        "right, try again later.",
        reference=reference,
    )


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if value.isascii() and value.isdigit():
        return float(min(int(value[:9]), 10**9))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def whole_number(name: str, value: object, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(f"{name} must be a whole number.")
    if value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f"{low} or more"
        raise InvalidRequestError(f"{name} must be {bounds}.")
    return value


def reward_status_code(value: object) -> int:
    if isinstance(value, RewardStatus):
        code = value.code
        if code is None:
            raise InvalidRequestError(
                "reward_status must be in_progress, credited, reversed or pending."
            )
        return code
    return whole_number("reward_status", value, 1, 4)


def encoded_user_id(user_id: object) -> str:
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not user_id:
        raise InvalidRequestError("The user id must be a non-empty string.")
    if len(user_id) > MAX_USER_ID_LENGTH:
        raise InvalidRequestError(f"The user id is longer than {MAX_USER_ID_LENGTH} characters.")
    if not (user_id.isascii() and user_id.isprintable()):
        raise InvalidRequestError(
            "The user id must be printable ASCII (RevU accepts ASCII user ids only)."
        )
    if not user_id.strip():
        raise InvalidRequestError("The user id cannot be only spaces.")
    if _DOT_SEGMENT.search(user_id):
        # Even encoded, dot segments may be collapsed by a proxy and change the path: a hop
        # that decodes %2F and normalises would read "x/../victim" as the member "victim".
        raise InvalidRequestError(
            "The user id cannot hold a '.' or '..' path segment (such as 'x/../y')."
        )
    return quote(user_id, safe="")


def checked_sid3(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 255:
        raise InvalidRequestError("sid3 must be a string of 1 to 255 characters.")
    if not (value.isascii() and value.isprintable()):
        raise InvalidRequestError("sid3 must be printable ASCII.")
    return value


def checked_ipv4(value: object) -> str:
    if isinstance(value, str):
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError:
            pass
    raise InvalidRequestError("ip must be an IPv4 address such as 203.0.113.7.")


def checked_country(value: object) -> str:
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha():
        return value.upper()
    raise InvalidRequestError("country must be a two-letter country code such as US.")


__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_USER_ID_LENGTH",
    "DeadlinePassed",
    "body_chunks",
    "checked_country",
    "checked_ipv4",
    "checked_sid3",
    "decode_json",
    "encoded_user_id",
    "is_timeout",
    "retry_after_seconds",
    "reward_status_code",
    "status_error",
    "whole_number",
]
