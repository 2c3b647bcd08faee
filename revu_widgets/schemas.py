"""RevU's Get Progress vocabulary, validated into the project's models.

This module is the only code that knows RevU's field names. It turns the decoded JSON of one
Get Progress answer into a :class:`~revu_widgets.models.ProgressPage`, through marshmallow's
documented extension points only: custom fields implement ``_deserialize``, RevU's names are
resolved in a ``@pre_load`` hook, models are built in a ``@post_load`` hook.

* The envelope (``status``, ``total``, ``offers`` ...) must be right, or the whole answer is
  refused with :class:`~revu_widgets.errors.BadPayloadError`.
* RevU uses several names for some fields across its APIs (``offer_id`` / ``cid`` / ``id``,
  ``name`` / ``offer_name`` ...). :data:`DOCUMENTED_VOCABULARY` lists every name the kit reads;
  a publisher adds names with ``REVU_FIELD_ALIASES`` (:meth:`Vocabulary.extended`).
* Each offer is validated on its own. It is skipped (and reported as a
  :class:`~revu_widgets.models.SkippedOffer`) only when it has no usable id; any other bad
  field is left out of that offer (listed in ``Offer.degraded``), so the member still sees it.
* ``payout`` is the publisher's revenue in US dollars, never a member's reward: it is kept
  apart (``Offer.payout``, ``Step.payout``) and only used to split the offer's member reward
  between its steps (:func:`~revu_widgets.models.split_reward_by_payouts`).
* Unknown fields are ignored and unknown status words are kept as such.

Upstream data is treated as hostile. The limits below keep one answer cheap to process and
safe to render:

* text is stripped of control and bidirectional-override characters and cut to
  :data:`MAX_NAME_LENGTH` (names), :data:`MAX_SHORT_TEXT_LENGTH` (headline, category,
  reporting, status words) or :data:`MAX_LONG_TEXT_LENGTH` (description, requirements, terms,
  reasons) characters, ending with an ellipsis when cut;
* links and images are kept only when they are absolute ``http``/``https`` URLs with a host, no
  credentials, no whitespace or control characters and at most :data:`MAX_URL_LENGTH`
  characters; anything else is dropped and listed in ``ProgressPage.dropped_urls``;
* an offer with more than :data:`MAX_STEPS_PER_OFFER` steps loses its steps, and an answer with
  more than :data:`MAX_OFFERS_PER_PAGE` offers is refused (RevU's own page size stops at 500);
* amounts are finite, non-negative and below :data:`MAX_REWARD`; timestamps fall between 1970
  and 2100; identifiers are bounded integers or short strings.

Pages that need only part of every offer (the tab counts and totals of a long history) load a
subset with :data:`SUMMARY_FIELDS` (marshmallow's ``only=``); what the member sees on screen is
loaded in full.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load

from .errors import BadPayloadError
from .models import (
    Offer,
    ProgressPage,
    RewardStatus,
    SkippedOffer,
    Step,
    StepStatus,
    split_reward_by_payouts,
)

#: Longest offer or step name kept, in characters.
MAX_NAME_LENGTH: Final = 200
#: Longest headline, category, reporting text or status word kept.
MAX_SHORT_TEXT_LENGTH: Final = 300
#: Longest description, requirements, terms or reason kept.
MAX_LONG_TEXT_LENGTH: Final = 5000
#: Longest link or image URL accepted; longer ones are dropped.
MAX_URL_LENGTH: Final = 2048
#: Offers with more steps than this lose their steps (the offer itself is kept).
MAX_STEPS_PER_OFFER: Final = 100
#: Answers with more offers than this are refused.
MAX_OFFERS_PER_PAGE: Final = 1000
#: Largest amount accepted (member reward in the publisher's currency, or USD payout).
MAX_REWARD: Final = Decimal(10) ** 12
#: Longest identifier (support id, step id ...) kept.
MAX_ID_LENGTH: Final = 64
#: Credit windows longer than this are treated as unreadable.
MAX_CREDIT_WINDOW: Final = timedelta(days=366)

_MIN_TIME: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_TIME: Final = datetime(2100, 1, 1, tzinfo=UTC)
_MAX_TIMESTAMP_TEXT: Final = 40
_MAX_OFFER_ID: Final = 2**63 - 1
_MAX_COUNT: Final = 10**9
_ID_NUMBER_LIMIT: Final = 10**MAX_ID_LENGTH

# C0/C1 controls except tab and newline, zero-width and bidi controls: they let hostile text
# reorder or hide what the user reads.
_UNSAFE_CHARS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)

# The moment derived fields (overdue, expected credit) are computed against, set per parse;
# marshmallow 4 passes context through context variables rather than ``Schema.context``.
_AS_OF: ContextVar[datetime | None] = ContextVar("revu_widgets_as_of", default=None)


@dataclass(frozen=True, slots=True)
class _ReadBefore:
    """What an earlier, partial read of some offers already validated (by offer id), so a
    second read of the same offers checks only the fields it adds."""

    values: Mapping[int, Mapping[str, Any]]
    #: Whether the two reads together cover every field (the offers are then complete).
    complete: bool


_READ_BEFORE: ContextVar[_ReadBefore | None] = ContextVar("revu_widgets_read_before", default=None)


# -- RevU's names ------------------------------------------------------------------------------

ObjectKind = Literal["envelope", "offer", "event"]
_KINDS: Final[tuple[ObjectKind, ...]] = ("envelope", "offer", "event")

#: Every upstream name the kit reads, per object and kit field, most specific first. The kit's
#: field names are the names Get Progress is documented or assumed to use; the others come from
#: RevU's sibling APIs (see the README's "Upstream contract"). ``a[].b`` reads ``b`` from the
#: first object in list ``a`` that has it.
DOCUMENTED_NAMES: Final[Mapping[ObjectKind, Mapping[str, tuple[str, ...]]]] = {
    "envelope": {
        "status": ("status",),
        "total": ("total",),
        "offers": ("offers",),
        "offset": ("offset",),
        "limit": ("limit",),
        "support_id": ("support_id",),
        "publisher_id": ("publisher_id", "affiliate_id"),
        "wall_id": ("wall_id",),
    },
    "offer": {
        "offer_id": ("offer_id", "cid", "id"),
        "name": ("name", "offer_name"),
        "headline": ("headline",),
        "description": ("description",),
        "requirements": ("requirements",),
        "terms": ("terms", "extra_terms"),
        "category": ("category",),
        "image_url": ("image_url", "creatives[].url"),
        "click_url": ("click_url", "click_url_base", "offer_url"),
        "reward_status": ("reward_status",),
        "in_progress": ("in_progress",),
        "user_completed": ("user_completed",),
        "total_user_reward": ("total_user_reward", "currency_award"),
        "payout": ("payout",),
        "reporting": ("reporting",),
        "started_at": ("started_at",),
        "updated_at": ("updated_at",),
        "completed_at": ("completed_at",),
        "credited_at": ("credited_at",),
        "expires_at": ("expires_at",),
        "reason": ("reason",),
        "events": ("events",),
    },
    "event": {
        "event_id": ("event_id", "id"),
        "name": ("name",),
        "user_reward": ("user_reward",),
        "payout": ("payout",),
        "status": ("status",),
        "completed_at": ("completed_at",),
        "credited_at": ("credited_at",),
        "reversed_at": ("reversed_at",),
        "reason": ("reason",),
    },
}

# Fields holding a member's reward: no alias may point them at RevU's USD ``payout``.
_MEMBER_MONEY: Final = frozenset({("offer", "total_user_reward"), ("event", "user_reward")})
_USD_NAMES: Final = frozenset({"payout"})
_NAME_PATTERN = re.compile(r"[A-Za-z0-9_$@-]{1,64}(?:\[\]\.[A-Za-z0-9_$@-]{1,64})?")


def _read_name(data: Mapping[str, Any], name: str) -> Any:
    """The value ``data`` holds under one upstream name (``a[].b`` looks into list ``a``)."""
    if "[]." not in name:
        return data.get(name)
    outer, inner = name.split("[].", 1)
    items = data.get(outer)
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and item.get(inner) is not None:
                return item[inner]
    return None


def _top_key(name: str) -> str:
    return name.split("[].", 1)[0]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Which upstream names supply each of the kit's fields, per object kind.

    :data:`DOCUMENTED_VOCABULARY` is every name RevU uses across its documented APIs;
    :meth:`extended` adds a publisher's own (``REVU_FIELD_ALIASES``).
    """

    names: Mapping[ObjectKind, Mapping[str, tuple[str, ...]]]

    def fields_of(self, kind: ObjectKind) -> tuple[str, ...]:
        """The kit's field names for one object kind."""
        return tuple(self.names[kind])

    def resolve(
        self, kind: ObjectKind, data: Mapping[str, Any], wanted: Collection[str] | None = None
    ) -> dict[str, Any]:
        """``{kit field: value}`` from raw upstream data; the first name holding a value wins.

        ``wanted`` limits the fields read (a schema loaded with ``only=``).
        """
        resolved: dict[str, Any] = {}
        kind_names = self.names[kind]
        get = data.get
        for field_name in kind_names if wanted is None else wanted:
            for name in kind_names[field_name]:
                # Most names are plain keys: read them without a call per name.
                value = _read_name(data, name) if "[]." in name else get(name)
                if value is not None:
                    resolved[field_name] = value
                    break
        return resolved

    def sources(self, kind: ObjectKind, data: Mapping[str, Any]) -> dict[str, str]:
        """``{kit field: the upstream name that supplied it}`` for raw upstream data."""
        found: dict[str, str] = {}
        for field_name, names in self.names[kind].items():
            for name in names:
                if _read_name(data, name) is not None:
                    found[field_name] = name
                    break
        return found

    def top_keys(self, kind: ObjectKind) -> frozenset[str]:
        """The upstream keys something reads (``a`` for ``a[].b``)."""
        return frozenset(_top_key(n) for names in self.names[kind].values() for n in names)

    def keys_of(self, kind: ObjectKind, field_name: str) -> tuple[str, ...]:
        """The upstream keys that can supply one kit field."""
        return tuple(_top_key(n) for n in self.names[kind][field_name])

    def extended(self, aliases: object) -> Vocabulary:
        """This vocabulary with a publisher's extra names read first.

        ``aliases`` maps ``"offer.name"``-style keys (``envelope.``, ``offer.`` or ``event.``
        and one of the kit's field names) to one upstream name or a list of them. Raises
        ``ValueError`` with a message listing the valid keys when the shape is wrong.
        """
        if aliases is None:
            return self
        if not isinstance(aliases, Mapping):
            raise ValueError(
                "must be a dict such as {'offer.name': ['title']}; valid keys: "
                + self._valid_keys()
            )
        names = {kind: dict(self.names[kind]) for kind in _KINDS}
        for key, value in aliases.items():
            kind, _, field_name = key.partition(".") if isinstance(key, str) else ("", "", "")
            if kind not in names or field_name not in names[kind]:
                raise ValueError(f"has an unknown key {key!r}; valid keys: {self._valid_keys()}")
            extra = [value] if isinstance(value, str) else value
            if not (
                isinstance(extra, list | tuple)
                and extra
                and all(isinstance(n, str) and _NAME_PATTERN.fullmatch(n) for n in extra)
            ):
                raise ValueError(
                    f"{key!r} must name one upstream field or a list of them, such as "
                    "'title' or ['title', 'offerTitle'] (letters, digits, _ $ @ -, and "
                    "'list[].field' for a field of the first item of a list)"
                )
            if (kind, field_name) in _MEMBER_MONEY and _USD_NAMES.intersection(extra):
                raise ValueError(
                    f"{key!r} cannot read 'payout': that is RevU's word for the publisher's "
                    "revenue in US dollars, never a member's reward"
                )
            current = names[kind][field_name]
            names[kind][field_name] = tuple(dict.fromkeys([*extra, *current]))
        return Vocabulary(names)

    def _valid_keys(self) -> str:
        return ", ".join(
            f"{kind}.{field_name}" for kind in _KINDS for field_name in self.names[kind]
        )


#: The names RevU documents across its APIs; what the kit reads unless told more.
DOCUMENTED_VOCABULARY: Final = Vocabulary(DOCUMENTED_NAMES)

_VOCABULARY: ContextVar[Vocabulary] = ContextVar(
    "revu_widgets_vocabulary", default=DOCUMENTED_VOCABULARY
)


# -- fields --------------------------------------------------------------------------------------


def _clean_text(value: str, max_length: int) -> str | None:
    # Printable ASCII holds none of the unsafe characters: most upstream text skips the regex.
    safe = value.isascii() and value.isprintable()
    text = (value if safe else _UNSAFE_CHARS.sub("", value)).strip()
    if not text:
        return None
    if len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "\u2026"
    return text


class Text(fields.Field[str | None]):
    """Text: strings (numbers are read as their decimal form), cleaned and cut to a limit.

    Blank text reads as ``None``.
    """

    default_error_messages = {"invalid": "Not a text value."}  # noqa: RUF012

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)
        self.max_length = max_length

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str | None:
        if isinstance(value, str):
            return _clean_text(value, self.max_length)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _clean_text(str(value), self.max_length)
        raise self.make_error("invalid")


# Most upstream links are this plain: scheme, a host of letters, digits, dots and dashes, maybe a
# port, then the path. Anything else (credentials, IPv6, odd hosts) goes through urlsplit.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::([0-9]{1,5}))?(?:[/?#].*)?", re.IGNORECASE | re.ASCII
)
_MAX_PORT: Final = 65535


def is_safe_url(value: object) -> bool:
    """Whether ``value`` may be used as a link or image: absolute http(s), a host, nothing odd.

    Refuses other schemes (``javascript:``, ``data:`` ...), relative and scheme-relative URLs,
    credentials (``https://site@evil``), backslashes, whitespace and control or invisible
    characters anywhere (browsers strip some of them, which hides a scheme), and URLs longer
    than :data:`MAX_URL_LENGTH`.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URL_LENGTH:
        return False
    if not value.isprintable() or " " in value or "\\" in value:
        return False
    plain = _PLAIN_URL.fullmatch(value)
    if plain is not None:
        port = plain.group(1)
        return port is None or int(port) <= _MAX_PORT
    lowered = value[:8].lower()
    if not (lowered.startswith("https://") or lowered.startswith("http://")):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a malformed port)
    except ValueError:
        return False
    return bool(parts.hostname) and "@" not in parts.netloc


class HttpUrl(fields.Field[str | None]):
    """A link or image URL that passes :func:`is_safe_url`; blank reads as ``None``."""

    default_error_messages = {"invalid": "Not a safe http(s) URL."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str | None:
        if is_safe_url(value):
            return str(value)
        if isinstance(value, str) and not value.strip():
            return None
        raise self.make_error("invalid")


class OfferId(fields.Field[int]):
    """RevU's offer id: a non-negative integer, also accepted as a string of digits."""

    default_error_messages = {"invalid": "Not a valid offer id."}  # noqa: RUF012

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> int:
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
            value = int(value)
        if type(value) is int and 0 <= value <= _MAX_OFFER_ID:
            return value
        raise self.make_error("invalid")


def _label(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if abs(value) < _ID_NUMBER_LIMIT else None
    if isinstance(value, str):
        return _clean_text(value, MAX_ID_LENGTH)
    return None


class Label(fields.Field[str | None]):
    """A short identifier RevU may send as a number or a string; read as a string."""

    default_error_messages = {"invalid": "Not a valid identifier."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str | None:
        if isinstance(value, int | str) and not isinstance(value, bool):
            return _label(value)
        raise self.make_error("invalid")


class Count(fields.Field[int]):
    """A count or position: a non-negative integer (an integral float or digit string too)."""

    default_error_messages = {"invalid": "Not a valid count."}  # noqa: RUF012

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> int:
        digits = isinstance(value, str) and value.isascii() and value.isdigit()
        if (digits and len(value) <= 10) or (isinstance(value, float) and value.is_integer()):
            value = int(value)
        if type(value) is int and 0 <= value <= _MAX_COUNT:
            return value
        raise self.make_error("invalid")


class Flag(fields.Field[bool]):
    """A yes/no: JSON booleans, 0/1, or the words true/false/yes/no; null means no."""

    default_error_messages = {"invalid": "Not a valid flag."}  # noqa: RUF012
    _WORDS: Final = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=False, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        if value is True or value is False:
            return value
        if type(value) is int and value in (0, 1):
            return value == 1
        if isinstance(value, str):
            word = self._WORDS.get(value.strip().lower())
            if word is not None:
                return word
        raise self.make_error("invalid")


class Amount(fields.Field[Decimal | None]):
    """An amount: a finite, non-negative number below :data:`MAX_REWARD`, read as a Decimal."""

    default_error_messages = {"invalid": "Not a valid amount."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Decimal | None:
        amount: Decimal | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            amount = Decimal(value)
        elif isinstance(value, float):
            # repr gives the shortest text that round-trips: 0.3 stays 0.3, not 0.2999...
            amount = Decimal(repr(value)) if math.isfinite(value) else None
        elif isinstance(value, str) and len(value) <= 40:
            text = value.strip()
            if not text:
                return None
            try:
                amount = Decimal(text)
            except InvalidOperation:
                amount = None
        if amount is None or not amount.is_finite() or not 0 <= amount < MAX_REWARD:
            raise self.make_error("invalid")
        return amount


def parse_timestamp(value: object) -> datetime | None:
    """Read an ISO 8601 string (``Z``, an offset, or naive meaning UTC) or Unix seconds.

    Returns an aware UTC datetime, ``None`` for null or an empty string, and raises
    ``ValueError`` for anything else or for a moment outside 1970..2100.
    """
    if value is None:
        return None
    moment: datetime
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if len(text) > _MAX_TIMESTAMP_TEXT:
            raise ValueError("timestamp too long")
        if text.isascii() and text.isdigit():
            return parse_timestamp(int(text))
        try:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            moment = parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            raise ValueError("not an ISO 8601 timestamp") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
        if not (
            math.isfinite(seconds) and _MIN_TIME.timestamp() <= seconds < _MAX_TIME.timestamp()
        ):
            raise ValueError("timestamp out of range")
        moment = datetime.fromtimestamp(seconds, UTC)
    else:
        raise ValueError("not a timestamp")
    if not _MIN_TIME <= moment < _MAX_TIME:
        raise ValueError("timestamp out of range")
    return moment


class Timestamp(fields.Field[datetime | None]):
    """A moment, as :func:`parse_timestamp` reads it."""

    default_error_messages = {"invalid": "Not a valid timestamp."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> datetime | None:
        try:
            return parse_timestamp(value)
        except ValueError:
            raise self.make_error("invalid") from None


class RewardStatusField(fields.Field[RewardStatus]):
    """RevU's ``reward_status`` code 1..4; other numbers read as ``UNKNOWN``."""

    default_error_messages = {"invalid": "Not a valid reward status."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=RewardStatus.UNKNOWN, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> RewardStatus:
        if isinstance(value, str):
            text = value.strip()
            if text.isascii() and text.isdigit() and len(text) <= 9:
                value = int(text)
        if type(value) is int:
            return RewardStatus.from_code(value)
        raise self.make_error("invalid")


_STEP_STATUS_WORDS: Final = {
    "": StepStatus.NOT_STARTED,
    "not started": StepStatus.NOT_STARTED,
    "in progress": StepStatus.IN_PROGRESS,
    "started": StepStatus.IN_PROGRESS,
    "completed": StepStatus.COMPLETED,
    "complete": StepStatus.COMPLETED,
    "pending": StepStatus.PENDING,
    "pending credit": StepStatus.PENDING,
    "credited": StepStatus.CREDITED,
    "paid": StepStatus.CREDITED,
    "revoked": StepStatus.REVERSED,
    "reversed": StepStatus.REVERSED,
    "expired": StepStatus.EXPIRED,
}


def step_status_from_word(word: str | None) -> StepStatus:
    """The step status for one of RevU's status words (case, spaces, ``_`` and ``-`` ignored).

    ``None`` and the empty word mean not started; any other unknown word is ``UNKNOWN``.
    """
    if not word:
        return StepStatus.NOT_STARTED
    key = " ".join(word.replace("_", " ").replace("-", " ").lower().split())
    return _STEP_STATUS_WORDS.get(key, StepStatus.UNKNOWN)


class StepStatusField(fields.Field[tuple[StepStatus, str]]):
    """A step's status word, read as ``(StepStatus, the word as RevU wrote it)``."""

    default_error_messages = {"invalid": "Not a valid status word."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=(StepStatus.NOT_STARTED, ""), **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[StepStatus, str]:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return _read_status_word(value[: MAX_SHORT_TEXT_LENGTH * 2])


# RevU writes a handful of status words thousands of times per page: each is read once.
@functools.lru_cache(maxsize=256)
def _read_status_word(value: str) -> tuple[StepStatus, str]:
    label = _clean_text(value, MAX_SHORT_TEXT_LENGTH) or ""
    return step_status_from_word(label), label


_REPORTING_NOW = re.compile(r"\b(?:instant(?:ly)?|immediate(?:ly)?|real[- ]?time)\b")
_REPORTING_SPAN = re.compile(
    r"(\d{1,4})(?:\s*(?:-|\u2013|\u2014|to)\s*(\d{1,4}))?\s*"
    r"(minute|min|hour|hr|business day|working day|day|week|wk|month)s?\b"
)
_REPORTING_UNITS: Final = {
    "minute": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "hr": timedelta(hours=1),
    # Five working days span a calendar week.
    "business day": timedelta(days=7) / 5,
    "working day": timedelta(days=7) / 5,
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "wk": timedelta(weeks=1),
    "month": timedelta(days=30),
}


def parse_credit_window(reporting: str | None) -> timedelta | None:
    """Read RevU's ``reporting`` text as the longest time crediting may take.

    ``"up to 30 days"`` -> 30 days, ``"1-3 days"`` -> 3 days (ranges give their upper bound),
    ``"24 hours"``, ``"2 weeks"``, ``"instant"`` -> zero. When the text names several spans the
    longest wins. Unreadable text, or a window over :data:`MAX_CREDIT_WINDOW`, gives ``None``.
    """
    if not reporting:
        return None
    return _read_credit_window(reporting[:MAX_SHORT_TEXT_LENGTH])


# Offers share a few reporting texts ("up to 30 days"); each is read once.
@functools.lru_cache(maxsize=256)
def _read_credit_window(reporting: str) -> timedelta | None:
    text = reporting.lower()
    longest: timedelta | None = None
    for match in _REPORTING_SPAN.finditer(text):
        low, high, unit = match.groups()
        span = max(int(low), int(high or low)) * _REPORTING_UNITS[unit]
        if longest is None or span > longest:
            longest = span
    if longest is None:
        return timedelta(0) if _REPORTING_NOW.search(text) else None
    return longest if longest <= MAX_CREDIT_WINDOW else None


# -- schemas -------------------------------------------------------------------------------------


class _VocabularySchema(Schema):
    """A schema for one kind of RevU object: RevU's names become the kit's field names first."""

    class Meta:
        # RevU adds fields at any time; only the names in the vocabulary are read.
        unknown = EXCLUDE

    kind: ObjectKind

    @pre_load
    def _resolve_names(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data  # marshmallow refuses it with its own "Invalid input type."
        return _VOCABULARY.get().resolve(self.kind, data, self.load_fields)


class StepSchema(_VocabularySchema):
    """One RevU "event" (a step of an offer) -> :class:`~revu_widgets.models.Step`.

    ``user_reward`` is the member's reward for the step, in the publisher's currency; ``payout``
    is the publisher's revenue in USD and is kept apart. Status words are read by
    :func:`step_status_from_word`.
    """

    kind = "event"

    event_id = Label()
    name = Text(max_length=MAX_NAME_LENGTH)
    user_reward = Amount()
    payout = Amount()
    status = StepStatusField()
    completed_at = Timestamp()
    credited_at = Timestamp()
    reversed_at = Timestamp()
    reason = Text(max_length=MAX_LONG_TEXT_LENGTH)

    @post_load
    def _make_step(self, data: dict[str, Any], **kwargs: Any) -> Step:
        status, label = data.get("status") or (StepStatus.NOT_STARTED, "")
        return Step(
            name=data.get("name") or "",
            status=status,
            status_label=label,
            step_id=data.get("event_id"),
            reward=data.get("user_reward"),
            payout=data.get("payout"),
            completed_at=data.get("completed_at"),
            credited_at=data.get("credited_at"),
            reversed_at=data.get("reversed_at"),
            reason=data.get("reason"),
        )


class Steps(fields.Nested):
    """An offer's ``events``: a list bounded before any step is read; null means no steps."""

    default_error_messages = {"too_many": "Too many steps."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(StepSchema, many=True, allow_none=True, load_default=(), **kwargs)

    def _deserialize(
        self,
        value: Any,
        attr: str | None,
        data: Mapping[str, Any] | None,
        partial: bool | Sequence[str] | AbstractSet[str] | None = None,
        **kwargs: Any,
    ) -> tuple[Step, ...]:
        if not isinstance(value, list | tuple):
            raise self.make_error("type")
        if len(value) > MAX_STEPS_PER_OFFER:
            raise self.make_error("too_many")
        return tuple(super()._deserialize(list(value), attr, data, partial, **kwargs))


class OfferSchema(_VocabularySchema):
    """One RevU offer -> :class:`~revu_widgets.models.Offer`.

    Only ``offer_id`` is required. A missing name reads as "Offer <id>". ``payout`` is the
    publisher's revenue in USD (``Offer.payout``); when steps carry only payouts, the offer's
    ``total_user_reward`` is split between them in proportion
    (:func:`~revu_widgets.models.split_reward_by_payouts`).
    """

    kind = "offer"

    offer_id = OfferId(required=True)
    name = Text(max_length=MAX_NAME_LENGTH)
    headline = Text(max_length=MAX_SHORT_TEXT_LENGTH)
    description = Text(max_length=MAX_LONG_TEXT_LENGTH)
    requirements = Text(max_length=MAX_LONG_TEXT_LENGTH)
    terms = Text(max_length=MAX_LONG_TEXT_LENGTH)
    category = Text(max_length=MAX_SHORT_TEXT_LENGTH)
    image_url = HttpUrl()
    click_url = HttpUrl()
    reward_status = RewardStatusField()
    in_progress = Flag()
    user_completed = Flag()
    total_user_reward = Amount()
    payout = Amount()
    reporting = Text(max_length=MAX_SHORT_TEXT_LENGTH)
    started_at = Timestamp()
    updated_at = Timestamp()
    completed_at = Timestamp()
    credited_at = Timestamp()
    expires_at = Timestamp()
    reason = Text(max_length=MAX_LONG_TEXT_LENGTH)
    events = Steps()

    @post_load(pass_original=True)
    def _make_offer(self, data: dict[str, Any], original: Any, **kwargs: Any) -> Offer:
        offer_id: int = data["offer_id"]
        complete = self.only is None
        before = _READ_BEFORE.get()
        if before is not None and offer_id in before.values:
            data = {**before.values[offer_id], **data}
            complete = before.complete
        get = data.get
        total = get("total_user_reward")
        reporting = get("reporting")
        return Offer(
            offer_id=offer_id,
            name=get("name") or f"Offer {offer_id}",
            status=get("reward_status") or RewardStatus.UNKNOWN,
            steps=split_reward_by_payouts(get("events") or (), total),
            headline=get("headline"),
            description=get("description"),
            requirements=get("requirements"),
            terms=get("terms"),
            category=get("category"),
            image_url=get("image_url"),
            click_url=get("click_url"),
            in_progress=bool(get("in_progress")),
            user_completed=bool(get("user_completed")),
            total_reward=total,
            payout=get("payout"),
            reporting=reporting,
            credit_window=parse_credit_window(reporting),
            started_at=get("started_at"),
            updated_at=get("updated_at"),
            completed_at=get("completed_at"),
            credited_at=get("credited_at"),
            expires_at=get("expires_at"),
            reason=get("reason"),
            as_of=_AS_OF.get() or datetime.now(UTC),
            name_given=bool(get("name")),
            complete=complete,
            # What an offer read in part is read from again in full, when it is shown.
            source=None if complete else original,
        )


class Success(fields.Field[str]):
    """The envelope's ``status``: must say ``success``."""

    default_error_messages = {"invalid": "Status is not success."}  # noqa: RUF012

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        if isinstance(value, str) and value.strip().lower() == "success":
            return "success"
        raise self.make_error("invalid")


class OfferList(fields.Field[list[Any]]):
    """The envelope's ``offers``: a bounded list, left raw so each offer is validated alone."""

    default_error_messages = {  # noqa: RUF012
        "invalid": "Not a list.",
        "too_many": "Too many offers.",
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> list[Any]:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        if len(value) > MAX_OFFERS_PER_PAGE:
            raise self.make_error("too_many")
        return value


class EnvelopeSchema(_VocabularySchema):
    """The outside of a Get Progress answer; ``offers`` stays raw for :class:`OfferSchema`."""

    kind = "envelope"

    status = Success(required=True)
    total = Count(required=True)
    offers = OfferList(required=True)
    offset = Count(allow_none=True)
    limit = Count(allow_none=True)
    support_id = Label()
    publisher_id = Label()
    wall_id = Label()


#: What the tab counts, totals, history order and overdue count read from every offer of a
#: long history (marshmallow ``only=``): the offer's own fields, no steps. The offers on
#: screen are read in full (:func:`complete_offer`); see ``Offer.summary_without_steps``.
SUMMARY_FIELDS: Final = (
    "offer_id",
    "name",
    "reward_status",
    "user_completed",
    "total_user_reward",
    "reporting",
    "updated_at",
    "completed_at",
    "expires_at",
)


# The rest of an offer, read when it is shown: its id (to match it with what was read before)
# and every field the summary leaves out.
_DETAIL_FIELDS: Final = ("offer_id",) + tuple(
    name for name in OfferSchema._declared_fields if name not in SUMMARY_FIELDS
)

# What decides the state, order and totals of an offer its summary fields cannot place (status 3
# saying nothing about reversed or expired, no updated_at, no total): its steps' statuses, times
# and rewards (marshmallow ``Nested(only=...)`` through a dotted ``only``), not their words.
_STEP_FACTS: Final = (
    "offer_id",
    "events.status",
    "events.completed_at",
    "events.credited_at",
    "events.reversed_at",
    "events.user_reward",
    "events.payout",
)


def _summary_values(offer: Offer) -> dict[str, Any]:
    """The summary fields an offer was read with, as the schema's post_load received them."""
    values: dict[str, Any] = {
        "offer_id": offer.offer_id,
        "reward_status": offer.status,
        "user_completed": offer.user_completed,
        "total_user_reward": offer.total_reward,
        "reporting": offer.reporting,
        "updated_at": offer.updated_at,
        "completed_at": offer.completed_at,
        "expires_at": offer.expires_at,
    }
    if offer.name_given:
        values["name"] = offer.name
    return values


# -- errors and degradation ----------------------------------------------------------------------


def _flatten(messages: Any, prefix: str) -> Iterator[str]:
    """Dotted paths of a marshmallow error tree; values never appear in them."""
    if isinstance(messages, dict):
        for key, nested in messages.items():
            if key == "_schema":
                yield prefix or "payload"
            else:
                yield from _flatten(nested, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix or "payload"


def field_paths(error: ValidationError, prefix: str = "") -> tuple[str, ...]:
    """The sorted, distinct dotted paths where ``error`` failed, under ``prefix``."""
    return tuple(sorted(set(_flatten(error.messages, prefix))))


def _without_keys(data: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    drop = set(keys)
    return {k: v for k, v in data.items() if k not in drop}


def _without_bad_events(events: list[Any], messages: Mapping[Any, Any]) -> list[Any]:
    vocabulary = _VOCABULARY.get()
    kept: list[Any] = []
    for index, raw in enumerate(events):
        problems = messages.get(index)
        if problems is None:
            kept.append(raw)
        elif isinstance(problems, dict) and "_schema" not in problems:
            bad = [k for name in problems for k in vocabulary.keys_of("event", name)]
            kept.append(_without_keys(raw, bad))
        # An event that is not an object at all is left out.
    return kept


def _without_bad_fields(raw: dict[str, Any], messages: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` without the upstream keys that supplied the fields named in ``messages``."""
    vocabulary = _VOCABULARY.get()
    result = dict(raw)
    for name, problems in messages.items():
        keys = vocabulary.keys_of("offer", name)
        if name == "events" and isinstance(problems, dict):
            source = next((k for k in keys if isinstance(result.get(k), list | tuple)), None)
            if source is not None:
                result[source] = _without_bad_events(list(result[source]), problems)
                continue
        for key in keys:
            result.pop(key, None)
    return result


def _offer_id_failed(messages: object) -> bool:
    return not isinstance(messages, dict) or "_schema" in messages or "offer_id" in messages


# -- entry points ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def offer_schema(only: tuple[str, ...] | None = None, *, many: bool = False) -> OfferSchema:
    """A shared :class:`OfferSchema` (schemas are reusable; building one costs time)."""
    return OfferSchema(only=only, many=many)


_ENVELOPE_SCHEMA: Final = EnvelopeSchema()


def load_offer(
    raw: object, *, only: Sequence[str] | None = None
) -> tuple[Offer | None, tuple[str, ...]]:
    """Validate one raw offer, leaving out any field that fails.

    Returns ``(offer, degraded paths)``; the offer is ``None`` when it has no usable id (or is
    not an object), and the paths then say why. Paths are relative to the offer.
    """
    schema = offer_schema(tuple(only) if only is not None else None)
    degraded: list[str] = []
    data = raw
    # Each pass leaves out what failed; the fields left are valid or absent, so a second pass
    # normally succeeds. Nested failures (a step inside a step list) may need one more.
    for _ in range(3):
        try:
            offer: Offer = schema.load(data)  # type: ignore[arg-type]
        except ValidationError as error:
            paths = field_paths(error)
            if _offer_id_failed(error.messages) or not isinstance(data, dict):
                return None, paths
            degraded.extend(paths)
            data = _without_bad_fields(data, error.messages)  # type: ignore[arg-type]
            continue
        if degraded:
            offer = dataclasses.replace(offer, degraded=tuple(sorted(set(degraded))))
        return offer, tuple(sorted(set(degraded)))
    return None, tuple(sorted(set(degraded)))


def parse_offer(
    raw: object,
    *,
    now: datetime | None = None,
    vocabulary: Vocabulary = DOCUMENTED_VOCABULARY,
) -> Offer:
    """Validate one raw offer; raises marshmallow's ``ValidationError`` when it has no usable id.

    Other bad fields are left out (``Offer.degraded`` lists them).
    """
    as_of = _AS_OF.set(now or datetime.now(UTC))
    names = _VOCABULARY.set(vocabulary)
    try:
        offer, paths = load_offer(raw)
    finally:
        _VOCABULARY.reset(names)
        _AS_OF.reset(as_of)
    if offer is None:
        raise ValidationError({path: ["Not usable."] for path in paths})
    return offer


def complete_offer(offer: Offer, vocabulary: Vocabulary = DOCUMENTED_VOCABULARY) -> Offer:
    """``offer`` read in full, when it was read with only its summary fields.

    See :func:`complete_offers`.
    """
    return complete_offers((offer,), vocabulary)[0]


def complete_offers(
    offers: Iterable[Offer], vocabulary: Vocabulary = DOCUMENTED_VOCABULARY
) -> tuple[Offer, ...]:
    """``offers``, each read in full when it was read with only its summary fields.

    Only the fields the summary left out are read (the summary's are valid already), all the
    offers in one load. The moment each was read against (``as_of``) is kept, so its derived
    fields agree.
    """
    return _read_again(offers, _DETAIL_FIELDS, complete=True, vocabulary=vocabulary)


def read_step_facts(
    offers: Iterable[Offer], vocabulary: Vocabulary = DOCUMENTED_VOCABULARY
) -> tuple[Offer, ...]:
    """``offers`` read in part with their steps' statuses, times and rewards added.

    For offers whose summary fields cannot decide their state, order or totals
    (``Offer.summary_without_steps`` False): after this they can, and they are still read in
    full (:func:`complete_offers`) when shown.
    """
    return _read_again(offers, _STEP_FACTS, complete=False, vocabulary=vocabulary)


def _read_again(
    offers: Iterable[Offer], only: tuple[str, ...], *, complete: bool, vocabulary: Vocabulary
) -> tuple[Offer, ...]:
    listed = tuple(offers)
    # Offers of one walk were read against one moment per upstream page: one load per moment.
    waiting: dict[datetime, list[Offer]] = {}
    for offer in listed:
        if not offer.complete and offer.source is not None:
            waiting.setdefault(offer.as_of, []).append(offer)
    if not waiting:
        return listed
    read: dict[int, Offer] = {}
    names = _VOCABULARY.set(vocabulary)
    try:
        for as_of, group in waiting.items():
            moment = _AS_OF.set(as_of)
            before = _READ_BEFORE.set(
                _ReadBefore({o.offer_id: _summary_values(o) for o in group}, complete)
            )
            try:
                raw = [o.source for o in group]
                for index, _raw, again, _paths in _load_offers(raw, only):
                    # The id read before is still readable: the same data gave it.
                    if again is not None:
                        earlier = group[index]
                        if earlier.degraded:
                            degraded = tuple(sorted({*earlier.degraded, *again.degraded}))
                            again = dataclasses.replace(again, degraded=degraded)
                        read[id(earlier)] = again
            finally:
                _READ_BEFORE.reset(before)
                _AS_OF.reset(moment)
    finally:
        _VOCABULARY.reset(names)
    return tuple(read.get(id(offer), offer) for offer in listed)


def raw_offer_id(raw: object, vocabulary: Vocabulary = DOCUMENTED_VOCABULARY) -> str | None:
    """An offer's id as a short string, read from raw upstream data when it can be found."""
    if not isinstance(raw, Mapping):
        return None
    return _label(vocabulary.resolve("offer", raw).get("offer_id"))


_MAX_ERROR_CODE: Final = 64


def raw_error_code(payload: object) -> str | None:
    """RevU's error code from a decoded error body, upper-cased, or ``None``.

    RevU does not document one error shape; these are read: ``{"code": ...}``,
    ``{"status": "error", "code": ..., "message": ...}``, ``{"error": {"code": ...}}`` and
    ``{"error": "CODE"}``.
    """
    if not isinstance(payload, Mapping):
        return None
    error = payload.get("error")
    for candidate in (
        payload.get("code"),
        error.get("code") if isinstance(error, Mapping) else error,
    ):
        if isinstance(candidate, str) and candidate.isascii():
            code = candidate.strip().upper()
            if code and len(code) <= _MAX_ERROR_CODE and code.replace("_", "").isalnum():
                return code
    return None


def raw_support_id(payload: object) -> str | None:
    """RevU's ``support_id`` from a raw answer (success or error body), when readable."""
    if not isinstance(payload, Mapping):
        return None
    return _label(payload.get("support_id"))


def _load_offers(
    raw_offers: list[Any], only: tuple[str, ...] | None
) -> Iterator[tuple[int, Any, Offer | None, tuple[str, ...]]]:
    """``(index, raw, offer or None, degraded paths)`` for every raw offer."""
    # The usual answer is valid through and through: one many=True load reads it. When
    # anything in it fails, every offer is read alone so only the bad fields are left out.
    try:
        offers: list[Offer] = offer_schema(only, many=True).load(raw_offers)
    except ValidationError:
        for index, raw in enumerate(raw_offers):
            offer, paths = load_offer(raw, only=only)
            yield index, raw, offer, paths
        return
    for index, (raw, offer) in enumerate(zip(raw_offers, offers, strict=True)):
        yield index, raw, offer, ()


_URL_FIELDS: Final = ("image_url", "click_url")


def parse_progress_page(
    payload: object,
    *,
    now: datetime | None = None,
    offset: int = 0,
    limit: int | None = None,
    vocabulary: Vocabulary = DOCUMENTED_VOCABULARY,
    only: Collection[str] | None = None,
) -> ProgressPage:
    """Validate one decoded Get Progress answer into a :class:`ProgressPage`.

    ``now`` is the moment derived fields (overdue, expected credit) are computed against.
    ``offset`` and ``limit`` are what the request asked for; they fill in when the envelope
    leaves them out. ``vocabulary`` says which upstream names are read. ``only`` reads just
    those offer fields (e.g. :data:`SUMMARY_FIELDS`); the offers are then marked incomplete.

    Raises :class:`~revu_widgets.errors.BadPayloadError` (with dotted ``field_paths``, never
    values) when the envelope is wrong. Offers without a usable id are skipped; other bad
    fields are left out of their offer.
    """
    names = _VOCABULARY.set(vocabulary)
    as_of = _AS_OF.set(now or datetime.now(UTC))
    try:
        try:
            envelope: dict[str, Any] = _ENVELOPE_SCHEMA.load(payload)  # type: ignore[arg-type]
        except ValidationError as error:
            paths = field_paths(error)
            raise BadPayloadError(
                "RevU's Get Progress answer did not have the expected shape (problem at: "
                f"{', '.join(paths)}). Try again later; if it keeps happening, contact RevU "
                "support and quote the reference.",
                field_paths=paths,
                reference=raw_support_id(payload),
            ) from None

        raw_offers: list[Any] = envelope["offers"]
        offers: list[Offer] = []
        skipped: list[SkippedOffer] = []
        dropped: list[tuple[int, str]] = []
        subset = tuple(only) if only is not None else None
        for index, raw, offer, paths in _load_offers(raw_offers, subset):
            prefix = f"offers.{index}"
            if offer is None:
                skipped.append(
                    SkippedOffer(
                        index=index,
                        offer_id=raw_offer_id(raw, vocabulary),
                        field_paths=tuple(
                            f"{prefix}.{p}" if p != "payload" else prefix for p in paths
                        ),
                    )
                )
                continue
            offers.append(offer)
            dropped.extend((offer.offer_id, f) for f in _URL_FIELDS if f in paths)
    finally:
        _AS_OF.reset(as_of)
        _VOCABULARY.reset(names)

    return ProgressPage(
        offers=tuple(offers),
        total=envelope["total"],
        offset=_or(envelope.get("offset"), offset),
        limit=_or(envelope.get("limit"), limit if limit is not None else len(raw_offers)),
        support_id=envelope.get("support_id"),
        publisher_id=envelope.get("publisher_id"),
        wall_id=envelope.get("wall_id"),
        skipped=tuple(skipped),
        dropped_urls=tuple(dropped),
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


__all__ = [
    "DOCUMENTED_NAMES",
    "DOCUMENTED_VOCABULARY",
    "MAX_CREDIT_WINDOW",
    "MAX_ID_LENGTH",
    "MAX_LONG_TEXT_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_OFFERS_PER_PAGE",
    "MAX_REWARD",
    "MAX_SHORT_TEXT_LENGTH",
    "MAX_STEPS_PER_OFFER",
    "MAX_URL_LENGTH",
    "SUMMARY_FIELDS",
    "EnvelopeSchema",
    "OfferSchema",
    "StepSchema",
    "Vocabulary",
    "complete_offer",
    "complete_offers",
    "field_paths",
    "is_safe_url",
    "load_offer",
    "offer_schema",
    "parse_credit_window",
    "parse_offer",
    "parse_progress_page",
    "parse_timestamp",
    "raw_error_code",
    "raw_offer_id",
    "raw_support_id",
    "read_step_facts",
    "step_status_from_word",
]
