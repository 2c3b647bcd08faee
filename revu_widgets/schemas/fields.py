"""The marshmallow fields the schemas read RevU's values with, and the limits they enforce.

Each field overrides ``_deserialize`` (marshmallow's documented extension point) and treats its
value as hostile: text is cleaned and cut, links must be safe, amounts and times bounded.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import urlsplit

from marshmallow import fields

from ..models import RewardStatus, StepStatus

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


def read_label(value: object) -> str | None:
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
            return read_label(value)
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
