"""RevU's Get Progress vocabulary, validated into the project's models.

This module is the only code that knows RevU's field names. It turns the decoded JSON of one
Get Progress answer into a :class:`~revu_widgets.models.ProgressPage`:

* the envelope (``status``, ``total``, ``offers``, ``offset``, ``limit`` and the ids) must be
  right, or the whole answer is refused with :class:`~revu_widgets.errors.BadPayloadError`;
* each offer is validated on its own: a bad offer is left out and reported as a
  :class:`~revu_widgets.models.SkippedOffer`, the others are kept;
* unknown fields are ignored (``unknown = EXCLUDE``) because RevU may add fields at any time,
  known aliases are accepted, and unknown status words are kept as such.

Upstream data is treated as hostile. The limits below keep one answer cheap to process and
safe to render:

* text is stripped of control and bidirectional-override characters and cut to
  :data:`MAX_NAME_LENGTH` (names), :data:`MAX_SHORT_TEXT_LENGTH` (headline, category,
  reporting, status words) or :data:`MAX_LONG_TEXT_LENGTH` (description, requirements, terms,
  reasons) characters, ending with an ellipsis when cut;
* links and images are kept only when they are absolute ``http``/``https`` URLs with a host, no
  credentials, no whitespace or control characters and at most :data:`MAX_URL_LENGTH`
  characters; anything else is dropped and listed in ``ProgressPage.dropped_urls``;
* an offer with more than :data:`MAX_STEPS_PER_OFFER` steps is skipped, and an answer with more
  than :data:`MAX_OFFERS_PER_PAGE` offers is refused (RevU's own page size stops at 500);
* rewards are finite, non-negative and below :data:`MAX_REWARD`; timestamps fall between 1970
  and 2100; identifiers are bounded integers or short strings.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing, post_load, pre_load

from .errors import BadPayloadError
from .models import (
    Offer,
    ProgressPage,
    RewardStatus,
    SkippedOffer,
    Step,
    StepStatus,
)

#: Longest offer or step name kept, in characters.
MAX_NAME_LENGTH: Final = 200
#: Longest headline, category, reporting text or status word kept.
MAX_SHORT_TEXT_LENGTH: Final = 300
#: Longest description, requirements, terms or reason kept.
MAX_LONG_TEXT_LENGTH: Final = 5000
#: Longest link or image URL accepted; longer ones are dropped.
MAX_URL_LENGTH: Final = 2048
#: Offers with more steps than this are skipped.
MAX_STEPS_PER_OFFER: Final = 100
#: Answers with more offers than this are refused.
MAX_OFFERS_PER_PAGE: Final = 1000
#: Largest reward accepted, in the publisher's virtual currency.
MAX_REWARD: Final = Decimal(10) ** 12
_MAX_WHOLE_REWARD: Final = int(MAX_REWARD)
#: Longest identifier (support id, step id ...) kept.
MAX_ID_LENGTH: Final = 64
#: Credit windows longer than this are treated as unreadable.
MAX_CREDIT_WINDOW: Final = timedelta(days=366)

_T = TypeVar("_T")

_MIN_TIME: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_TIME: Final = datetime(2100, 1, 1, tzinfo=UTC)
_MAX_TIMESTAMP_TEXT: Final = 40
_MAX_OFFER_ID: Final = 2**63 - 1
_MAX_COUNT: Final = 10**9

# C0/C1 controls except tab and newline, zero-width and bidi controls: they let hostile text
# reorder or hide what the user reads.
_UNSAFE_CHARS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)

# The moment derived fields (overdue, expected credit) are computed against, set per parse.
_AS_OF: ContextVar[datetime | None] = ContextVar("revu_widgets_as_of", default=None)


def _clean_text(value: str, max_length: int) -> str | None:
    # Printable ASCII holds none of the unsafe characters: most upstream text skips the regex.
    safe = value.isascii() and value.isprintable()
    text = (value if safe else _UNSAFE_CHARS.sub("", value)).strip()
    if not text:
        return None
    if len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "\u2026"
    return text


class _LeanField(fields.Field[_T]):
    """A field that does its own checks in ``_deserialize``.

    marshmallow's ``Field.deserialize`` also runs per-field validators and pre/post-load
    functions; these fields use neither, and skipping them makes a 500-offer page noticeably
    cheaper. Required and null handling stay as marshmallow defines them.
    """

    def deserialize(
        self,
        value: Any,
        attr: str | None = None,
        data: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> _T:
        if value is missing:
            if self.required:
                raise self.make_error("required")
            default = self.load_default
            return default() if callable(default) else default  # type: ignore[no-any-return]
        if value is None:
            if self.allow_none:
                return None  # type: ignore[return-value]
            raise self.make_error("null")
        return self._deserialize(value, attr, data, **kwargs)


class _Text(_LeanField[str | None]):
    """Text: strings (numbers are read as their decimal form), cleaned and cut to a limit."""

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


class _RequiredText(_Text):
    """Text that must be present and not blank."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            raise self.make_error("required")
        return text


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
        # Host and port alone, no credentials: what urlsplit would accept, without its cost.
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


class _HttpUrl(_LeanField[str | None]):
    """A link or image URL; anything unsafe becomes ``None`` (never an error)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str | None:
        return value if is_safe_url(value) else None


def _url_was_dropped(raw: object) -> bool:
    """Whether an upstream URL value was there (not null or blank) yet could not be kept."""
    if raw is None:
        return False
    return not (isinstance(raw, str) and not raw.strip())


class _OfferId(_LeanField[int]):
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


_ID_NUMBER_LIMIT: Final = 10**MAX_ID_LENGTH


def _label(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if abs(value) < _ID_NUMBER_LIMIT else None
    if isinstance(value, str):
        return _clean_text(value, MAX_ID_LENGTH)
    return None


class _Label(_LeanField[str | None]):
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


class _Count(_LeanField[int]):
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


class _Flag(_LeanField[bool]):
    """A yes/no: JSON booleans, 0/1, or the words true/false; null means no."""

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


class _Amount(_LeanField[Decimal | None]):
    """A reward: a finite, non-negative number below :data:`MAX_REWARD`, read as a Decimal."""

    default_error_messages = {"invalid": "Not a valid amount."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Decimal | None:
        if type(value) is int:
            # Whole numbers, most rewards, are checked as ints: cheaper than as Decimals.
            if 0 <= value < _MAX_WHOLE_REWARD:
                return Decimal(value)
            amount = None
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
        else:
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
    # Strings first: RevU sends most times as ISO 8601 text.
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


class _Timestamp(_LeanField[datetime | None]):
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


class _RewardStatusField(_LeanField[RewardStatus]):
    """RevU's ``reward_status`` code; numbers other than 1..4 read as ``UNKNOWN``."""

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


class _StepStatusField(_LeanField[tuple[StepStatus, str]]):
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
        if len(value) <= _MAX_KEPT_STATUS_WORD:
            return _read_status_word(value)
        label = _clean_text(value, MAX_SHORT_TEXT_LENGTH) or ""
        return step_status_from_word(label), label


# RevU writes a handful of status words thousands of times per page; short ones are read once.
_MAX_KEPT_STATUS_WORD: Final = 40


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


# Offers share a few reporting texts ("up to 30 days"); each is read once (256 kept).
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


def _first_present(data: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = data.get(name)
        if value is not None:
            return value
    return None


def _with_aliases(data: Any, aliases: tuple[tuple[str, tuple[str, ...]], ...]) -> Any:
    """Copy the first present alias into the canonical key, copying the dict only if needed."""
    if not isinstance(data, dict):
        return data
    resolved: dict[str, Any] | None = None
    for canonical, others in aliases:
        if data.get(canonical) is None:
            value = _first_present(data, others)
            if value is not None:
                if resolved is None:
                    resolved = dict(data)
                resolved[canonical] = value
    return data if resolved is None else resolved


# Marks a field whose absent or null value must be read by the field itself (an error, or a
# value that is not fixed).
_ASK_FIELD: Final = object()

_FieldPlan = tuple[str, _LeanField[Any], Callable[..., Any], Any, Any]


def _fixed_read(field: _LeanField[Any], raw: Any) -> Any:
    """What ``field`` reads ``raw`` (missing or None) as, when that is one immutable value."""
    if callable(field.load_default):
        return _ASK_FIELD
    try:
        value = field.deserialize(raw)
        hash(value)
    except (ValidationError, TypeError):
        return _ASK_FIELD
    return value


class _LeanSchema(Schema):
    """A schema whose plain ``load(data)`` reads its fields directly.

    marshmallow's generic load (hook lookup, per-field closures, an error store, many/partial
    handling) costs more than the checks themselves on a 500-offer page. These schemas have
    only :class:`_LeanField` fields, ``unknown = EXCLUDE``, one alias-resolving pre-load hook
    and one model-building post-load hook, so ``load`` calls exactly those, field by field, and
    raises the same ``ValidationError`` shape (``{data key: messages}``, ``{"_schema": ...}``
    for a non-object). ``many``, ``partial`` or ``unknown`` go through marshmallow as usual.
    """

    class Meta:
        unknown = EXCLUDE

    _ALIASES: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __init__(self) -> None:
        super().__init__()
        lean = [
            (name, field)
            for name, field in self.load_fields.items()
            if isinstance(field, _LeanField)
        ]
        if len(lean) != len(self.load_fields):
            raise TypeError(f"{type(self).__name__} may have only lean fields")
        # Per field: its check, bound once, and what an absent or null value reads as when
        # that is fixed; a page of 500 x 5 reads some 30,000 fields, a third of them absent.
        self._plan: tuple[_FieldPlan, ...] = tuple(
            (name, field, field._deserialize, _fixed_read(field, missing), _fixed_read(field, None))
            for name, field in lean
        )

    def load(
        self,
        data: Any,
        *,
        many: bool | None = None,
        partial: Any = None,
        unknown: Any = None,
    ) -> Any:
        """Validate one object into its model (see the class docstring)."""
        if many or partial is not None or unknown is not None:
            return super().load(data, many=many, partial=partial, unknown=unknown)
        data = _with_aliases(data, self._ALIASES)
        # JSON objects are dicts; the Mapping ABC check is several times slower.
        if type(data) is not dict and not isinstance(data, Mapping):
            raise ValidationError({"_schema": [self.error_messages["type"]]})
        values: dict[str, Any] = {}
        errors: dict[str, Any] | None = None
        get = data.get
        for name, field, check, if_missing, if_null in self._plan:
            raw = get(name, missing)
            try:
                if raw is missing:
                    value = if_missing
                    if value is _ASK_FIELD:
                        value = field.deserialize(raw, name, data)
                elif raw is None:
                    value = if_null
                    if value is _ASK_FIELD:
                        value = field.deserialize(raw, name, data)
                else:
                    # A present value needs only the field's own check (see _LeanField).
                    value = check(raw, name, data)
            except ValidationError as error:
                if errors is None:
                    errors = {}
                errors[name] = error.messages
                continue
            if value is not missing:
                values[name] = value
        if errors:
            raise ValidationError(errors, data=data, valid_data=values)
        return self._build(values)

    def _build(self, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    @pre_load
    def _resolve_aliases(self, data: Any, **kwargs: Any) -> Any:
        return _with_aliases(data, self._ALIASES)

    @post_load
    def _make_model(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return self._build(data)


class StepSchema(_LeanSchema):
    """One RevU "event" (a step of an offer) -> :class:`~revu_widgets.models.Step`.

    Aliases: ``event_id`` / ``id``; ``user_reward`` / ``payout`` (``user_reward`` is in the
    publisher's currency and wins). Status words are read by :func:`step_status_from_word`.
    """

    _ALIASES = (("event_id", ("id",)), ("user_reward", ("payout",)))

    event_id = _Label()
    name = _Text(max_length=MAX_NAME_LENGTH)
    user_reward = _Amount()
    status = _StepStatusField()
    completed_at = _Timestamp()
    credited_at = _Timestamp()
    reversed_at = _Timestamp()
    reason = _Text(max_length=MAX_LONG_TEXT_LENGTH)

    def _build(self, data: dict[str, Any]) -> Step:
        # A null status is RevU's "not done yet", like the empty word.
        status, label = data.get("status") or (StepStatus.NOT_STARTED, "")
        return Step(
            name=data.get("name") or "",
            status=status,
            status_label=label,
            step_id=data.get("event_id"),
            reward=data.get("user_reward"),
            completed_at=data.get("completed_at"),
            credited_at=data.get("credited_at"),
            reversed_at=data.get("reversed_at"),
            reason=data.get("reason"),
        )


class _Steps(_LeanField[tuple[Step, ...]]):
    """An offer's ``events`` list: bounded before any step is read; null means no steps.

    Each step goes through :class:`StepSchema`; failures are reported per index, as
    marshmallow's ``Nested(many=True)`` would (``events.1.completed_at``).
    """

    default_error_messages = {  # noqa: RUF012
        "type": "Invalid type.",
        "too_many": "Too many steps.",
    }

    def __init__(self) -> None:
        super().__init__(allow_none=True, load_default=())
        self._schema = StepSchema()

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[Step, ...]:
        if not isinstance(value, list | tuple):
            raise self.make_error("type")
        if len(value) > MAX_STEPS_PER_OFFER:
            raise self.make_error("too_many")
        load = self._schema.load
        steps: list[Step] = []
        errors: dict[int, Any] = {}
        for index, raw in enumerate(value):
            try:
                steps.append(load(raw))
            except ValidationError as error:
                errors[index] = error.messages
        if errors:
            raise ValidationError(errors)
        return tuple(steps)


class OfferSchema(_LeanSchema):
    """One RevU offer -> :class:`~revu_widgets.models.Offer`.

    Aliases: ``offer_id`` / ``cid`` / ``id``; ``terms`` / ``extra_terms``;
    ``total_user_reward`` / ``currency_award``. ``name`` and an id are required. Unsafe
    ``image_url`` / ``click_url`` values become ``None`` (see :func:`is_safe_url`).
    ``reporting`` is also read as ``credit_window`` (see :func:`parse_credit_window`).
    """

    _ALIASES = (
        ("offer_id", ("cid", "id")),
        ("terms", ("extra_terms",)),
        ("total_user_reward", ("currency_award",)),
    )

    offer_id = _OfferId(required=True)
    name = _RequiredText(max_length=MAX_NAME_LENGTH, required=True)
    headline = _Text(max_length=MAX_SHORT_TEXT_LENGTH)
    description = _Text(max_length=MAX_LONG_TEXT_LENGTH)
    requirements = _Text(max_length=MAX_LONG_TEXT_LENGTH)
    terms = _Text(max_length=MAX_LONG_TEXT_LENGTH)
    category = _Text(max_length=MAX_SHORT_TEXT_LENGTH)
    image_url = _HttpUrl()
    click_url = _HttpUrl()
    reward_status = _RewardStatusField()
    in_progress = _Flag()
    user_completed = _Flag()
    total_user_reward = _Amount()
    reporting = _Text(max_length=MAX_SHORT_TEXT_LENGTH)
    started_at = _Timestamp()
    updated_at = _Timestamp()
    completed_at = _Timestamp()
    credited_at = _Timestamp()
    expires_at = _Timestamp()
    reason = _Text(max_length=MAX_LONG_TEXT_LENGTH)
    events = _Steps()

    def _build(self, data: dict[str, Any]) -> Offer:
        get = data.get
        reporting = get("reporting")
        return Offer(
            offer_id=data["offer_id"],
            name=data["name"],
            status=get("reward_status") or RewardStatus.UNKNOWN,
            steps=get("events") or (),
            headline=get("headline"),
            description=get("description"),
            requirements=get("requirements"),
            terms=get("terms"),
            category=get("category"),
            image_url=get("image_url"),
            click_url=get("click_url"),
            in_progress=bool(get("in_progress")),
            user_completed=bool(get("user_completed")),
            total_reward=get("total_user_reward"),
            reporting=reporting,
            credit_window=parse_credit_window(reporting),
            started_at=get("started_at"),
            updated_at=get("updated_at"),
            completed_at=get("completed_at"),
            credited_at=get("credited_at"),
            expires_at=get("expires_at"),
            reason=get("reason"),
            as_of=_AS_OF.get() or datetime.now(UTC),
        )


class _Success(_LeanField[str]):
    """The envelope's ``status``: must say ``success``."""

    default_error_messages = {"invalid": "Status is not success."}  # noqa: RUF012

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        if isinstance(value, str) and value.strip().lower() == "success":
            return "success"
        raise self.make_error("invalid")


class _OfferList(_LeanField[list[Any]]):
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


class EnvelopeSchema(Schema):
    """The outside of a Get Progress answer; ``offers`` stays raw for :class:`OfferSchema`."""

    class Meta:
        unknown = EXCLUDE

    status = _Success(required=True)
    total = _Count(required=True)
    offers = _OfferList(required=True)
    offset = _Count(allow_none=True)
    limit = _Count(allow_none=True)
    support_id = _Label()
    publisher_id = _Label()
    wall_id = _Label()


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


def raw_offer_id(raw: object) -> str | None:
    """An offer's id as a short string, read from raw upstream data when it can be found."""
    if not isinstance(raw, Mapping):
        return None
    return _label(_first_present(raw, ("offer_id", "cid", "id")))


def raw_support_id(payload: object) -> str | None:
    """RevU's ``support_id`` from a raw answer (success or error body), when readable."""
    if not isinstance(payload, Mapping):
        return None
    return _label(payload.get("support_id"))


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


_ENVELOPE_SCHEMA: Final = EnvelopeSchema()
_OFFER_SCHEMA: Final = OfferSchema()


def parse_offer(raw: object, *, now: datetime | None = None) -> Offer:
    """Validate one raw offer; raises marshmallow's ``ValidationError`` when it is bad."""
    token = _AS_OF.set(now or datetime.now(UTC))
    try:
        offer: Offer = _OFFER_SCHEMA.load(raw)
    finally:
        _AS_OF.reset(token)
    return offer


def parse_progress_page(
    payload: object,
    *,
    now: datetime | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> ProgressPage:
    """Validate one decoded Get Progress answer into a :class:`ProgressPage`.

    ``now`` is the moment derived fields (overdue, expected credit) are computed against.
    ``offset`` and ``limit`` are what the request asked for; they fill in when the envelope
    leaves them out. Raises :class:`~revu_widgets.errors.BadPayloadError` (with dotted
    ``field_paths``, never values) when the envelope is wrong; bad offers are skipped.
    """
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
    load = _OFFER_SCHEMA.load
    token = _AS_OF.set(now or datetime.now(UTC))
    try:
        for index, raw in enumerate(raw_offers):
            try:
                offer: Offer = load(raw)
            except ValidationError as error:
                skipped.append(
                    SkippedOffer(
                        index=index,
                        offer_id=raw_offer_id(raw),
                        field_paths=field_paths(error, f"offers.{index}"),
                    )
                )
                continue
            offers.append(offer)
            if offer.image_url is None and _url_was_dropped(raw.get("image_url")):
                dropped.append((offer.offer_id, "image_url"))
            if offer.click_url is None and _url_was_dropped(raw.get("click_url")):
                dropped.append((offer.offer_id, "click_url"))
    finally:
        _AS_OF.reset(token)

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


__all__ = [
    "MAX_CREDIT_WINDOW",
    "MAX_ID_LENGTH",
    "MAX_LONG_TEXT_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_OFFERS_PER_PAGE",
    "MAX_REWARD",
    "MAX_SHORT_TEXT_LENGTH",
    "MAX_STEPS_PER_OFFER",
    "MAX_URL_LENGTH",
    "EnvelopeSchema",
    "OfferSchema",
    "StepSchema",
    "field_paths",
    "is_safe_url",
    "parse_credit_window",
    "parse_offer",
    "parse_progress_page",
    "parse_timestamp",
    "raw_offer_id",
    "raw_support_id",
    "step_status_from_word",
]
