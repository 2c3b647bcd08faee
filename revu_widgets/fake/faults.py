"""The ways the fake RevU can misbehave on purpose, and the broken bodies it sends.

A :class:`Fault` is queued with :meth:`FakeRevU.add_fault` (or ``POST /_fake/faults``) and
applies to the next ``count`` Get Progress requests (every request when ``count`` is ``None``),
optionally only those for one user id. One fault applies per request: the oldest that matches.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidRequestError

#: Every fault kind, with its parameters and their defaults.
FAULT_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    # Any HTTP status; ``body`` None means a RevU-style JSON error for that status; a str or
    # bytes body is sent as is, anything else as JSON. ``headers`` e.g. {"Retry-After": "2"}.
    "status": {"status": 500, "body": None, "headers": {}},
    # Answer normally, after ``seconds``.
    "latency": {"seconds": 1.0},
    # Say nothing for ``seconds`` (longer than any client timeout), then drop the connection;
    # ends at once when the server shuts down or the fake is reset.
    "hang": {"seconds": 3600.0},
    # An HTML error page from a proxy in front of RevU.
    "non_json": {"status": 502},
    # The normal JSON cut half-way. ``honest_length`` False: Content-Length announces the whole
    # body, half of it comes, then the connection closes.
    "truncated": {"honest_length": True},
    # Close the connection without answering.
    "drop": {},
    # Status 200 with an empty body.
    "empty": {"status": 200},
    # Valid JSON in the wrong shape; see ENVELOPE_VARIANTS.
    "envelope": {"variant": "no_offers"},
    # A valid-looking success page of about ``megabytes`` MB, streamed.
    "huge": {"megabytes": 30.0},
    # The normal answer, a few bytes at a time.
    "slow_drip": {"bytes_per_second": 8.0},
    # The normal page with the offer at ``index`` corrupted (or replaced by ``offer``).
    "bad_offer": {"index": 1, "offer": None},
}
FAULT_KINDS = frozenset(FAULT_DEFAULTS)

#: Shapes of the "envelope" fault.
ENVELOPE_VARIANTS = frozenset(
    {
        "no_offers",  # "offers" missing
        "offers_object",  # "offers" is an object, not a list
        "list",  # the whole body is a JSON array of offers
        "total_text",  # "total" is a word
        "not_success",  # "status" is neither success nor error
        "string",  # the whole body is a JSON string
    }
)

_MAX_HUGE_MB = 1024.0


@dataclass(slots=True)
class Fault:
    """One queued fault: what goes wrong, for how many more requests, and for whom."""

    kind: str
    #: Requests it still applies to; ``None`` means every request until cleared.
    remaining: int | None
    #: Only requests for this user id, or every user when ``None``.
    user_id: str | None
    params: dict[str, Any] = field(default_factory=dict)
    #: Requests it has applied to so far.
    hits: int = 0

    def matches(self, user_id: str) -> bool:
        """Whether this fault applies to a request for ``user_id``."""
        return (self.remaining is None or self.remaining > 0) and (
            self.user_id is None or self.user_id == user_id
        )

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready description (for the control endpoints)."""
        params = {k: v for k, v in self.params.items() if not isinstance(v, bytes)}
        return {
            "kind": self.kind,
            "remaining": self.remaining,
            "user_id": self.user_id,
            "hits": self.hits,
            "params": params,
        }


def make_fault(
    kind: str, *, count: int | None = 1, user_id: str | None = None, **params: Any
) -> Fault:
    """Check a fault request and fill in defaults; raises ``InvalidRequestError`` if wrong."""
    if kind not in FAULT_DEFAULTS:
        raise InvalidRequestError(
            f"unknown fault kind {kind!r}; use one of {', '.join(sorted(FAULT_KINDS))}"
        )
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise InvalidRequestError("count must be a positive integer, or None for every request")
    if user_id is not None and not isinstance(user_id, str):
        raise InvalidRequestError("user_id must be a string")
    defaults = FAULT_DEFAULTS[kind]
    unknown = set(params) - set(defaults)
    if unknown:
        allowed = ", ".join(sorted(defaults)) or "none"
        raise InvalidRequestError(
            f"fault {kind!r} takes no parameter {', '.join(sorted(unknown))}; it takes: {allowed}"
        )
    merged = {**defaults, **params}
    _check(kind, merged)
    return Fault(kind=kind, remaining=count, user_id=user_id, params=merged)


def _number(params: dict[str, Any], name: str, low: float, high: float) -> float:
    value = params[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidRequestError(f"{name} must be a number")
    if not low <= value <= high:
        raise InvalidRequestError(f"{name} must be from {low:g} to {high:g}")
    return float(value)


def _check(kind: str, params: dict[str, Any]) -> None:
    if "status" in params:
        status = params["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise InvalidRequestError("status must be an HTTP status code from 100 to 599")
    if "seconds" in params:
        params["seconds"] = _number(params, "seconds", 0, 86400)
    if kind == "status":
        headers = params["headers"]
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise InvalidRequestError("headers must map header names to string values")
        if any("\r" in k + v or "\n" in k + v for k, v in headers.items()):
            raise InvalidRequestError("headers must not contain line breaks")
        params["headers"] = dict(headers)
    elif kind == "truncated":
        if not isinstance(params["honest_length"], bool):
            raise InvalidRequestError("honest_length must be true or false")
    elif kind == "envelope":
        if params["variant"] not in ENVELOPE_VARIANTS:
            raise InvalidRequestError(
                f"variant must be one of {', '.join(sorted(ENVELOPE_VARIANTS))}"
            )
    elif kind == "huge":
        params["megabytes"] = _number(params, "megabytes", 0.001, _MAX_HUGE_MB)
    elif kind == "slow_drip":
        params["bytes_per_second"] = _number(params, "bytes_per_second", 0.1, 1e6)
    elif kind == "bad_offer":
        index = params["index"]
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise InvalidRequestError("index must be a non-negative integer")
        if params["offer"] is not None and not isinstance(params["offer"], dict):
            raise InvalidRequestError("offer must be an object (the raw offer to send)")


_ERROR_CODES = {
    400: "INVALID_PARAMETER",
    401: "INVALID_API_KEY",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


def error_body(status: int) -> dict[str, Any]:
    """A RevU-style JSON error body for ``status``."""
    code = _ERROR_CODES.get(status, "ERROR" if status >= 400 else "OK")
    return {"status": "error", "code": code, "message": f"Fake RevU answered {status}."}


def proxy_error_page(status: int) -> bytes:
    """The HTML a proxy or captive portal puts in front of an API."""
    if status >= 500:
        title = f"{status} Bad Gateway" if status == 502 else f"{status} Server Error"
        body = f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    else:
        title = "Scheduled maintenance"
        body = "<h1>We'll be right back</h1><p>RevU is down for scheduled maintenance.</p>"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n{body}</body>\r\n</html>\r\n"
    ).encode()


def wrong_envelope(variant: str, page: dict[str, Any]) -> Any:
    """``page`` (a success envelope) reshaped as the "envelope" fault's ``variant`` says."""
    offers = page["offers"]
    if variant == "no_offers":
        return {k: v for k, v in page.items() if k != "offers"}
    if variant == "offers_object":
        return {**page, "offers": {"items": offers}}
    if variant == "list":
        return offers
    if variant == "total_text":
        return {**page, "total": "many"}
    if variant == "not_success":
        return {**page, "status": "maintenance"}
    return "OK"


def corrupt_offer(offer: dict[str, Any]) -> dict[str, Any]:
    """The same offer (same id) with fields no validator can accept."""
    return {
        **offer,
        "total_user_reward": "a lot",
        "started_at": "the other day",
        "events": "see the advertiser's website",
    }


def huge_body(page: dict[str, Any], megabytes: float) -> tuple[int, Iterator[bytes]]:
    """A success page of about ``megabytes`` MB, as (exact length, chunks), built lazily."""
    sample = dict(page["offers"][0]) if page["offers"] else {"name": "Offer", "events": []}
    # Every id has the same number of digits, so every item has the same length.
    first_id = 10_000_000
    sample["offer_id"] = 0
    sample["description"] = "An offer with a very long description. " * 40
    before, after = json.dumps(sample, separators=(",", ":")).split('"offer_id":0', 1)
    item_length = len(f'{before}"offer_id":{first_id}{after}'.encode())
    count = max(1, math.ceil(megabytes * 1_000_000 / (item_length + 1)))
    envelope = {k: v for k, v in page.items() if k != "offers"}
    envelope.update(total=count, offset=0, limit=count)
    head = json.dumps(envelope, separators=(",", ":"))[:-1].encode() + b',"offers":['
    tail = b"]}"
    length = len(head) + count * item_length + (count - 1) + len(tail)

    def chunks() -> Iterator[bytes]:
        yield head
        for start in range(0, count, 64):
            items = (
                f'{before}"offer_id":{first_id + n}{after}'
                for n in range(start, min(start + 64, count))
            )
            yield (("," if start else "") + ",".join(items)).encode()
        yield tail

    return length, chunks()


__all__ = [
    "ENVELOPE_VARIANTS",
    "FAULT_DEFAULTS",
    "FAULT_KINDS",
    "Fault",
    "make_fault",
]
