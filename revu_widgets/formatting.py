"""Words, numbers and times for one request: translation and Babel formatting.

Text is translated by :mod:`revu_widgets.i18n`: the kit's own catalogs for the request's
language (Flask-Babel's locale, else Accept-Language), with the host's Flask-Babel catalogs
first; plain English outside a request (the CLI, background jobs). Numbers and dates are
formatted with Babel for the request's locale and timezone.

A request gets one :class:`Formatter` (:func:`formatter`): the translation, locale, timezone and
currency word are looked up once, and every amount and time of the page is written with them.
The module functions (:func:`format_amount`, :func:`format_datetime` ...) use it too.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import current_app, g, has_app_context, has_request_context, request

from . import i18n

#: The currency word outside an application (``REVU_CURRENCY_NAME`` inside one).
DEFAULT_CURRENCY_NAME = "coins"


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet (it is translated on use)."""
    return message


_AMOUNT_TEXT = N_("%(amount)s %(currency)s")


def gettext(message: str, **variables: Any) -> str:
    """Translate ``message`` for the request (see :mod:`revu_widgets.i18n`), fill placeholders."""
    return i18n.translator().gettext(message, **variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Plural-aware :func:`gettext`; ``%(num)d`` is always available to the message."""
    return i18n.translator().ngettext(singular, plural, num, **variables)


def current_locale() -> Locale:
    """The locale to format for: Flask-Babel's, else the best Accept-Language Babel knows."""
    locale = i18n.host_locale()
    if locale is not None:
        return locale
    if not has_request_context():
        return Locale.parse("en")
    cached = g.get("_revu_locale")
    if isinstance(cached, Locale):
        return cached
    locale = _locale_from_accept_language()
    g._revu_locale = locale
    return locale


def _locale_from_accept_language() -> Locale:
    for tag, _quality in request.accept_languages:
        if tag == "*":
            continue
        try:
            return Locale.parse(tag, sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale.parse("en")


def current_timezone() -> tzinfo:
    """Flask-Babel's timezone for the user when it is active, else UTC."""
    return i18n.host_timezone() or UTC


def html_lang() -> str:
    """The language the kit's text is in, for ``<html lang>`` (``"en"``, ``"de"``, ``"pt-BR"``)."""
    return i18n.translator().language


def currency_name() -> str:
    """The publisher's word for its virtual currency (``REVU_CURRENCY_NAME``)."""
    if has_app_context():
        return str(current_app.config.get("REVU_CURRENCY_NAME") or DEFAULT_CURRENCY_NAME)
    return DEFAULT_CURRENCY_NAME


# Babel re-reads the locale's data and pattern on every call, which dominates a page with
# hundreds of amounts and times. Pages repeat the same amounts, days and minutes over and over,
# so the formatted words are kept per locale; the keys are bounded (value text, day, minute).
# The locale is keyed by its identifier ("de_CH"): Babel's Locale hashes and compares in Python,
# which a page's thousands of lookups would pay each time.
_FORMAT_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _number_text(text: str, locale: str) -> str:
    # Babel itself formats every number as Decimal(str(value)), so the text says it all.
    return str(babel_numbers.format_decimal(Decimal(text), locale=locale))


@functools.lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _date_text(day: date, fmt: str, locale: str) -> str:
    return str(babel_dates.format_date(day, fmt, locale=locale))


@functools.lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _short_time_text(hour: int, minute: int, locale: str) -> str:
    # No locale's short time shows seconds or a zone, so hour and minute decide the words.
    moment = datetime(2000, 1, 1, hour, minute, tzinfo=UTC)
    return str(babel_dates.format_time(moment, "short", tzinfo=UTC, locale=locale))


def _aware(value: datetime) -> datetime:
    # The schemas produce aware datetimes; a naive one from host code is read as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _zone_name(local: datetime, locale: Locale) -> str:
    """The short name of ``local``'s zone ("UTC", "EST", "MEZ"), else its offset ("GMT+01:00")."""
    name = str(babel_dates.get_timezone_name(local, "short", locale=locale))
    if name[:1] in ("+", "-"):
        # No abbreviation for this zone in this language: the locale's offset words read
        # better than a bare "+0100".
        return str(babel_dates.get_timezone_gmt(local, "long", locale=locale))
    return name


# The Formatter's method names (datetime, date) shadow the types inside its body.
_Moment = datetime


class Formatter:
    """Words, numbers and times for one request, with its language, locale, timezone and
    currency word looked up once (:func:`formatter` gives the request's)."""

    def __init__(
        self, translator: i18n.Translator, locale: Locale, zone: tzinfo, currency: str
    ) -> None:
        #: Translate a message and fill its placeholders (:func:`gettext`).
        self.gettext = translator.gettext
        #: The plural-aware form (:func:`ngettext`).
        self.ngettext = translator.ngettext
        self.locale = locale
        self._locale_id = str(locale)
        self.zone = zone
        self.currency = currency
        self._datetime_pattern = str(locale.datetime_formats.get("medium", "{1} {0}"))
        # A zone has one name per UTC offset (summer and winter time); looked up once each.
        self._zone_names: dict[timedelta | None, str] = {}

    def number(self, value: Decimal | int | float | None) -> str:
        """A number in the locale (``4,200`` / ``4.200``); empty for ``None``."""
        if value is None:
            return ""
        if not isinstance(value, Decimal | int | float) or isinstance(value, bool):
            return str(babel_numbers.format_decimal(value, locale=self.locale))
        # The text, not the value, is the key: Decimal("-0") == 0 but is written differently.
        return _number_text(str(value), self._locale_id)

    def amount(self, amount: Decimal | int | float | None) -> str:
        """An amount of the publisher's currency, e.g. ``"4,200 coins"``; empty for ``None``."""
        if amount is None:
            return ""
        return self.gettext(_AMOUNT_TEXT, amount=self.number(amount), currency=self.currency)

    def datetime(self, value: _Moment | None, fmt: str = "medium") -> str:
        """A date and time in the timezone and locale; empty for ``None``.

        The default joins the locale's medium date with its short time and the zone's short
        name ("Nov 20, 2026, 9:00 AM UTC"): seconds are noise to someone waiting for a reward,
        a time without its zone is a guess. Any Babel format name or pattern works.
        """
        if value is None:
            return ""
        local = _aware(value).astimezone(self.zone)
        if fmt != "medium":
            return str(
                babel_dates.format_datetime(local, fmt, tzinfo=local.tzinfo, locale=self.locale)
            )
        offset = local.utcoffset()
        if offset not in self._zone_names:
            self._zone_names[offset] = _zone_name(local, self.locale)
        day = _date_text(local.date(), "medium", self._locale_id)
        time = _short_time_text(local.hour, local.minute, self._locale_id)
        time += " " + self._zone_names[offset]
        return self._datetime_pattern.replace("{1}", day).replace("{0}", time)

    def date(self, value: _Moment | None, fmt: str = "medium") -> str:
        """The calendar date in the timezone and locale; empty for ``None``."""
        if value is None:
            return ""
        return _date_text(_aware(value).astimezone(self.zone).date(), fmt, self._locale_id)

    def relative(self, value: _Moment | None, now: _Moment | None = None) -> str:
        """How long ago or ahead, e.g. ``"3 days ago"`` / ``"in 2 hours"``; empty for ``None``."""
        if value is None:
            return ""
        delta = _aware(value) - (now or datetime.now(UTC))
        return str(
            babel_dates.format_timedelta(
                delta, granularity="minute", add_direction=True, locale=self.locale
            )
        )


def formatter() -> Formatter:
    """The request's :class:`Formatter`, made on first use (a fresh one outside a request)."""
    in_request = has_request_context()
    if in_request:
        cached = g.get("_revu_formatter")
        if isinstance(cached, Formatter):
            return cached
    made = Formatter(i18n.translator(), current_locale(), current_timezone(), currency_name())
    if in_request:
        g._revu_formatter = made
    return made


def format_number(value: Decimal | int | float | None) -> str:
    """A number in the user's locale (``4,200`` / ``4.200``); empty for ``None``."""
    return formatter().number(value)


def format_amount(amount: Decimal | int | float | None) -> str:
    """An amount of the publisher's currency, e.g. ``"4,200 coins"``; empty for ``None``."""
    return formatter().amount(amount)


def format_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A date and time in the user's locale and timezone; empty for ``None``.

    See :meth:`Formatter.datetime` for the default format.
    """
    return formatter().datetime(value, fmt)


def format_date(value: datetime | None, fmt: str = "medium") -> str:
    """The calendar date in the user's timezone and locale; empty for ``None``."""
    return formatter().date(value, fmt)


def format_relative(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago or ahead, e.g. ``"3 days ago"`` / ``"in 2 hours"``; empty for ``None``."""
    return formatter().relative(value, now)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` (for ``<time datetime>`` and JSON); ``None`` stays."""
    if value is None:
        return None
    return _aware(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


def amount_number(value: Decimal | None) -> int | float | None:
    """A reward as a JSON number: an int when whole, else a float."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


__all__ = [
    "DEFAULT_CURRENCY_NAME",
    "N_",
    "Formatter",
    "amount_number",
    "currency_name",
    "current_locale",
    "current_timezone",
    "format_amount",
    "format_date",
    "format_datetime",
    "format_number",
    "format_relative",
    "formatter",
    "gettext",
    "html_lang",
    "isoformat",
    "ngettext",
]
