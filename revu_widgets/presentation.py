"""How offers read to a person: labels, explanations, formatted amounts and dates, JSON.

Everything user-facing the kit shows is worded here, once, and the Jinja macros, the kit's pages,
the JSON API and the support tools all read it from here. :func:`install` puts these functions
on an application's Jinja environment as ``revu_*`` filters and globals, so the macros work in any
host template, even one that imports them without context.

Text is translated by :mod:`revu_widgets.i18n`: the kit's own catalogs for the request's
language (Flask-Babel's locale, else Accept-Language), with the host's Flask-Babel catalogs
first; plain English outside a request (the CLI, background jobs).
Numbers and dates are always formatted with Babel for the request's locale. Nothing here returns
markup: upstream text stays plain, and Jinja escapes it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal, NamedTuple
from urllib.parse import quote

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask, current_app, g, has_app_context, has_request_context, request

from . import i18n
from .errors import (
    BannedError,
    InvalidRequestError,
    IpBannedError,
    NotSignedInError,
    OfferNotFoundError,
    RateLimitedError,
    RevUError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from .models import (
    LOST_STATES,
    Offer,
    OfferState,
    ProgressSummary,
    SkippedOffer,
    Step,
    StepStatus,
)
from .schemas import is_safe_url

DEFAULT_CURRENCY_NAME = "coins"

#: Longest raw upstream status word shown in an "Unknown (...)" label.
_RAW_WORD_LIMIT = 40

RewardKind = Literal["earned", "pending", "possible", "lost", "partial"]


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet (it is translated on use)."""
    return message


# The one mapping of statuses to words. Colours and icons live in revu.css, keyed by the
# status value (``data-revu-state="pending"``), so a theme never has to touch Python.
_OFFER_STATE_LABELS: Mapping[OfferState, str] = {
    OfferState.IN_PROGRESS: N_("In progress"),
    OfferState.PENDING: N_("Pending credit"),
    OfferState.CREDITED: N_("Credited"),
    OfferState.REVERSED: N_("Reversed"),
    OfferState.EXPIRED: N_("Expired"),
    OfferState.REVERSED_OR_EXPIRED: N_("Reversed or expired"),
    OfferState.UNKNOWN: N_("Unknown"),
}

_STEP_STATUS_LABELS: Mapping[StepStatus, str] = {
    StepStatus.NOT_STARTED: N_("Not started"),
    StepStatus.IN_PROGRESS: N_("In progress"),
    StepStatus.COMPLETED: N_("Completed"),
    StepStatus.PENDING: N_("Pending credit"),
    StepStatus.CREDITED: N_("Credited"),
    StepStatus.REVERSED: N_("Reversed"),
    StepStatus.EXPIRED: N_("Expired"),
    StepStatus.UNKNOWN: N_("Unknown"),
}

# Messages worded through a translator looked up once per call (see _translator).
_AMOUNT_TEXT = N_("%(amount)s %(currency)s")
_UNKNOWN_STEP_TEXT = N_("Unknown (%(word)s)")
_REASON_TEXT = N_("Reason given: %(reason)s")
_CLAIM_STEP_TEXT = N_("%(number)d. %(name)s — %(status)s, reward %(reward)s")
_CLAIM_STEP_TIMES_TEXT = N_("completed %(completed)s; credited %(credited)s; reversed %(reversed)s")

_REWARD_KIND_LABELS: Mapping[str, str] = {
    "earned": N_("Earned"),
    "pending": N_("Pending"),
    "possible": N_("Possible"),
    "lost": N_("Lost"),
    # What the credited steps of an offer not yet credited in full gave (a partial credit).
    "partial": N_("Credited so far"),
}


# --- translation ----------------------------------------------------------------------------


Translate = Callable[..., str]


def _translator() -> Translate:
    # Code that words many things asks for the request's translator once, not per message.
    return i18n.translator().gettext


def gettext(message: str, **variables: Any) -> str:
    """Translate ``message`` for the request (see :mod:`revu_widgets.i18n`), fill placeholders."""
    return i18n.translator().gettext(message, **variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Plural-aware :func:`gettext`; ``%(num)d`` is always available to the message."""
    return i18n.translator().ngettext(singular, plural, num, **variables)


# --- locale, timezone, formatting -----------------------------------------------------------


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
_FORMAT_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _number_text(text: str, locale: Locale) -> str:
    # Babel itself formats every number as Decimal(str(value)), so the text says it all.
    return str(babel_numbers.format_decimal(Decimal(text), locale=locale))


@functools.lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _date_text(day: date, fmt: str, locale: Locale) -> str:
    return str(babel_dates.format_date(day, fmt, locale=locale))


@functools.lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _short_time_text(hour: int, minute: int, locale: Locale) -> str:
    # No locale's short time shows seconds or a zone, so hour and minute decide the words.
    moment = datetime(2000, 1, 1, hour, minute, tzinfo=UTC)
    return str(babel_dates.format_time(moment, "short", tzinfo=UTC, locale=locale))


def _number(value: Decimal | int | float, locale: Locale) -> str:
    if not isinstance(value, Decimal | int | float) or isinstance(value, bool):
        return str(babel_numbers.format_decimal(value, locale=locale))
    # The text, not the value, is the key: Decimal("-0") == 0 but is written differently.
    return _number_text(str(value), locale)


def format_number(value: Decimal | int | float | None) -> str:
    """A number in the user's locale (``4,200`` / ``4.200``); empty for ``None``."""
    if value is None:
        return ""
    return _number(value, current_locale())


AmountFormatter = Callable[[Decimal | int | float | None], str]


def _amount_formatter() -> AmountFormatter:
    """:func:`format_amount` with the locale, currency word and translation looked up once.

    For code that formats many amounts in one request (a page of offers, a claim summary).
    """
    translate = _translator()
    locale = current_locale()
    currency = currency_name()

    def amount_text(amount: Decimal | int | float | None) -> str:
        if amount is None:
            return ""
        return translate(_AMOUNT_TEXT, amount=_number(amount, locale), currency=currency)

    return amount_text


def format_amount(amount: Decimal | int | float | None) -> str:
    """An amount of the publisher's currency, e.g. ``"4,200 coins"``; empty for ``None``."""
    if amount is None:
        return ""
    return _amount_formatter()(amount)


def _aware(value: datetime) -> datetime:
    # The schemas produce aware datetimes; a naive one from host code is read as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def format_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A date and time in the user's locale and timezone; empty for ``None``.

    The default joins the locale's medium date with its short time and the zone's short name
    ("Nov 20, 2026, 9:00 AM UTC"): seconds are noise to someone waiting for a reward, a time
    without its zone is a guess. Any Babel format name or pattern works.
    """
    if value is None:
        return ""
    if fmt != "medium":
        locale = current_locale()
        local = _aware(value).astimezone(current_timezone())
        return str(babel_dates.format_datetime(local, fmt, tzinfo=local.tzinfo, locale=locale))
    return _datetime_formatter()(value)


DatetimeFormatter = Callable[[datetime | None], str]


def _datetime_formatter() -> DatetimeFormatter:
    """:func:`format_datetime`'s default format, with locale and timezone looked up once."""
    locale = current_locale()
    zone = current_timezone()
    pattern = str(locale.datetime_formats.get("medium", "{1} {0}"))
    # A zone has one name per UTC offset (summer and winter time); looked up once each.
    zone_names: dict[timedelta | None, str] = {}

    def datetime_text(value: datetime | None) -> str:
        if value is None:
            return ""
        local = _aware(value).astimezone(zone)
        offset = local.utcoffset()
        if offset not in zone_names:
            zone_names[offset] = _zone_name(local, locale)
        day = _date_text(local.date(), "medium", locale)
        time = _short_time_text(local.hour, local.minute, locale) + " " + zone_names[offset]
        return pattern.replace("{1}", day).replace("{0}", time)

    return datetime_text


def _zone_name(local: datetime, locale: Locale) -> str:
    """The short name of ``local``'s zone ("UTC", "EST", "MEZ"), else its offset ("GMT+01:00")."""
    name = str(babel_dates.get_timezone_name(local, "short", locale=locale))
    if name[:1] in ("+", "-"):
        # No abbreviation for this zone in this language: the locale's offset words read
        # better than a bare "+0100".
        return str(babel_dates.get_timezone_gmt(local, "long", locale=locale))
    return name


def format_date(value: datetime | None, fmt: str = "medium") -> str:
    """The calendar date in the user's timezone and locale; empty for ``None``."""
    if value is None:
        return ""
    local = _aware(value).astimezone(current_timezone())
    return _date_text(local.date(), fmt, current_locale())


def format_relative(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago or ahead, e.g. ``"3 days ago"`` / ``"in 2 hours"``; empty for ``None``."""
    if value is None:
        return ""
    delta = _aware(value) - (now or datetime.now(UTC))
    return str(
        babel_dates.format_timedelta(
            delta, granularity="minute", add_direction=True, locale=current_locale()
        )
    )


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


# --- labels ---------------------------------------------------------------------------------

StatusLike = Offer | OfferState | Step | StepStatus


def _clean_word(raw: str) -> str:
    # Upstream words are hostile: no control characters, no layout-breaking length.
    word = " ".join(raw.split())
    return word[:_RAW_WORD_LIMIT] + ("…" if len(word) > _RAW_WORD_LIMIT else "")


def status_label(value: StatusLike) -> str:
    """The words for an offer's state or a step's status (an unknown step word shown as such)."""
    if isinstance(value, Offer):
        value = value.state
    if isinstance(value, OfferState):
        return gettext(_OFFER_STATE_LABELS[value])
    if isinstance(value, Step):
        return _step_label(value, _translator())
    return gettext(_STEP_STATUS_LABELS[value])


def _step_label(step: Step, translate: Translate) -> str:
    if step.status is StepStatus.UNKNOWN and step.status_label.strip():
        return translate(_UNKNOWN_STEP_TEXT, word=_clean_word(step.status_label))
    return translate(_STEP_STATUS_LABELS[step.status])


def status_value(value: StatusLike) -> str:
    """The status value CSS is keyed on (``data-revu-state``), e.g. ``"pending"``."""
    if isinstance(value, Offer):
        return value.state.value
    if isinstance(value, Step):
        return value.status.value
    return str(value.value)


def reward_label(kind: str) -> str:
    """The word before an amount: Earned / Pending / Possible / Lost / Credited so far."""
    return gettext(_REWARD_KIND_LABELS.get(kind, _REWARD_KIND_LABELS["possible"]))


def steps_text(offer: Offer) -> str:
    """The visible progress words, e.g. ``"2 of 4 steps"``."""
    if not offer.steps_total:
        return gettext("Completed") if offer.progress >= 1 else gettext("Not completed yet")
    return ngettext(
        "%(done)s of %(num)d step",
        "%(done)s of %(num)d steps",
        offer.steps_total,
        done=format_number(offer.steps_done),
    )


def progress_values(offer: Offer) -> tuple[int, int]:
    """``(value, max)`` for a progress bar; a step-less offer counts as one step."""
    if offer.steps_total:
        return offer.steps_done, offer.steps_total
    return (1 if offer.progress >= 1 else 0), 1


# --- explanations ---------------------------------------------------------------------------


def credited_at(offer: Offer) -> datetime | None:
    """When the offer's reward was credited (the offer's time, else its latest step's)."""
    if offer.credited_at is not None:
        return offer.credited_at
    times = [s.credited_at for s in offer.steps if s.credited_at is not None]
    return max(times) if times else None


def explain(offer: Offer) -> str:
    """Plain words for what the offer's status means for the user, and what happens next."""
    state = offer.state
    if state is OfferState.IN_PROGRESS:
        return _explain_in_progress(offer)
    if state is OfferState.PENDING:
        return _explain_pending(offer)
    if state is OfferState.CREDITED:
        when = credited_at(offer)
        if not offer.reward_known:
            return gettext("Credited: the reward was added to your balance.")
        if when is None:
            return gettext(
                "Credited: %(amount)s were added to your balance.",
                amount=format_amount(offer.earned),
            )
        return gettext(
            "Credited on %(date)s: %(amount)s were added to your balance.",
            date=format_date(when),
            amount=format_amount(offer.earned),
        )
    if state is OfferState.REVERSED:
        reason = offer.reversal_reason
        text = gettext(
            "Reversed: the advertiser took back the reward after the offer was completed, "
            "usually because it could not confirm the activity."
        )
        if reason:
            text += " " + gettext("Reason given: %(reason)s", reason=" ".join(reason.split()))
        else:
            text += " " + gettext("No reason was given.")
        return text
    if state is OfferState.EXPIRED:
        text = gettext(
            "Expired: the time to finish this offer ran out before every step was done. "
            "Unlike a reversal, nothing was taken back."
        )
        return text + _kept_text(offer)
    if state is OfferState.REVERSED_OR_EXPIRED:
        text = gettext(
            "Reversed or expired: RevU closed this offer without crediting its reward, and did "
            "not say whether the time ran out or the advertiser took the reward back."
        )
        return text + _kept_text(offer)
    return gettext(
        "RevU reported a status we do not recognise for this offer. "
        "It usually settles within a day."
    )


def _kept_text(offer: Offer) -> str:
    kept = offer.credited_steps_reward
    if not kept:
        return ""
    return " " + gettext("You keep the %(amount)s already credited.", amount=format_amount(kept))


def _explain_in_progress(offer: Offer) -> str:
    parts = []
    if offer.steps_total:
        parts.append(gettext("You have finished %(steps)s.", steps=steps_text(offer)))
    if offer.next_step is not None:
        parts.append(gettext("Next: %(step)s.", step=" ".join(offer.next_step.name.split())))
    else:
        parts.append(gettext("Finish the offer to earn your reward."))
    if offer.expires_at is not None:
        parts.append(gettext("Finish by %(date)s.", date=format_date(offer.expires_at)))
    return " ".join(parts)


def _explain_pending(offer: Offer) -> str:
    if offer.reward_known:
        text = gettext(
            "Pending credit: you completed this, and the advertiser is confirming it "
            "before %(amount)s are credited.",
            amount=format_amount(offer.pending or offer.possible),
        )
    else:
        text = gettext(
            "Pending credit: you completed this, and the advertiser is confirming it "
            "before the reward is credited."
        )
    expected = offer.expected_credit_at
    if offer.is_overdue and expected is not None:
        return (
            text
            + " "
            + gettext(
                "Credit was expected by %(date)s and is now overdue.", date=format_date(expected)
            )
        )
    if expected is not None:
        return text + " " + gettext("Expected by %(date)s.", date=format_date(expected))
    if offer.reporting:
        return (
            text
            + " "
            + gettext(
                "The advertiser says crediting takes %(reporting)s.",
                reporting=" ".join(offer.reporting.split()),
            )
        )
    return text


NextActionCode = Literal["continue", "wait", "contact_support", "none"]


def next_action_code(offer: Offer) -> NextActionCode:
    """What the user should do, as a stable code (for JSON clients and support chatbots)."""
    state = offer.state
    if state is OfferState.IN_PROGRESS:
        return "continue"
    if state is OfferState.PENDING:
        return "contact_support" if offer.is_overdue else "wait"
    if state in (OfferState.REVERSED, OfferState.REVERSED_OR_EXPIRED, OfferState.UNKNOWN):
        return "contact_support"
    return "none"


def next_action(offer: Offer, *, can_report: bool = False) -> str:
    """The suggested next action in plain words (continue / wait until ... / report a problem).

    ``can_report``: the member can send "Report a problem" for this offer now (its claim
    clock is open), so the words point there instead of to support in general.
    """
    code = next_action_code(offer)
    if code == "continue":
        if offer.next_step is not None:
            return gettext(
                "Continue the offer: next step is “%(step)s”.",
                step=" ".join(offer.next_step.name.split()),
            )
        return gettext("Continue the offer to finish it.")
    if code == "wait":
        if offer.expected_credit_at is not None:
            return gettext(
                "Nothing to do yet: wait until %(date)s.",
                date=format_date(offer.expected_credit_at),
            )
        return gettext("Nothing to do yet: wait for the advertiser to confirm.")
    if code == "contact_support":
        disputed = offer.state in (OfferState.REVERSED, OfferState.REVERSED_OR_EXPIRED)
        if can_report and disputed:
            return gettext(
                "If you think this is a mistake, use “Report a problem” on this offer's page: "
                "the claim details go with your report."
            )
        if can_report:
            return gettext(
                "Use “Report a problem” on this offer's page: the claim details go with your "
                "report."
            )
        if disputed:
            return gettext(
                "If you think this is a mistake, contact support with the claim details."
            )
        return gettext("Contact support with the claim details.")
    return gettext("Nothing to do.")


# --- the same, worded for support staff ---------------------------------------------------


def explain_for_staff(offer: Offer) -> str:
    """:func:`explain` in the words an agent reads about a member (not to them)."""
    state = offer.state
    if state is OfferState.IN_PROGRESS:
        parts = []
        if offer.steps_total:
            parts.append(gettext("The member has finished %(steps)s.", steps=steps_text(offer)))
        if offer.next_step is not None:
            parts.append(gettext("Next: %(step)s.", step=" ".join(offer.next_step.name.split())))
        if offer.expires_at is not None:
            parts.append(
                gettext("Must be finished by %(date)s.", date=format_date(offer.expires_at))
            )
        return " ".join(parts) or gettext("The member has not finished this offer yet.")
    if state is OfferState.PENDING:
        text = gettext(
            "Pending credit: the member completed this and the advertiser is confirming it "
            "before %(amount)s are credited.",
            amount=format_amount(offer.pending or offer.possible),
        )
        expected = offer.expected_credit_at
        if offer.is_overdue and expected is not None:
            return (
                text
                + " "
                + gettext(
                    "Credit was expected by %(date)s and is overdue.", date=format_date(expected)
                )
            )
        if expected is not None:
            return text + " " + gettext("Expected by %(date)s.", date=format_date(expected))
        return text
    if state is OfferState.CREDITED:
        when = credited_at(offer)
        if when is None:
            return gettext(
                "Credited: %(amount)s went to the member.", amount=format_amount(offer.earned)
            )
        return gettext(
            "Credited on %(date)s: %(amount)s went to the member.",
            date=format_date(when),
            amount=format_amount(offer.earned),
        )
    if state is OfferState.REVERSED:
        reason = offer.reversal_reason
        if reason:
            return gettext(
                "Reversed by the advertiser after completion. Reason given: %(reason)s",
                reason=" ".join(reason.split()),
            )
        return gettext("Reversed by the advertiser after completion; no reason was given.")
    if state is OfferState.EXPIRED:
        return gettext("Expired: time ran out before every step was done; nothing was taken back.")
    return gettext("RevU reported a status the kit does not know; it usually settles in a day.")


def next_action_for_staff(offer: Offer) -> str:
    """:func:`next_action` as what the agent does or tells the member."""
    code = next_action_code(offer)
    if code == "continue":
        if offer.next_step is not None:
            return gettext(
                "Tell the member to continue the offer: next step is “%(step)s”.",
                step=" ".join(offer.next_step.name.split()),
            )
        return gettext("Tell the member to continue the offer to finish it.")
    if code == "wait":
        if offer.expected_credit_at is not None:
            return gettext(
                "Ask the member to wait until %(date)s.",
                date=format_date(offer.expected_credit_at),
            )
        return gettext("Ask the member to wait for the advertiser to confirm.")
    if code == "contact_support":
        if offer.state is OfferState.REVERSED:
            return gettext("If the member disputes it, send RevU the claim summary below.")
        return gettext("Send RevU the claim summary below.")
    return gettext("Nothing to do.")


# --- JSON -----------------------------------------------------------------------------------


def _reward_json(value: Decimal | None) -> dict[str, Any]:
    return {"amount": amount_number(value), "text": format_amount(value)}


def step_as_json(step: Step) -> dict[str, Any]:
    """One step, normalised (the shape inside :func:`offer_as_json`).

    Times are ISO 8601 strings in UTC (``completed_at``), like every time in the kit's JSON,
    with the member's words beside them (``completed_text``).
    """
    return {
        "step_id": step.step_id,
        "name": step.name,
        "status": step.status.value,
        "status_label": status_label(step),
        "raw_status": step.status_label or None,
        "is_done": step.is_done,
        "reward": _reward_json(step.reward),
        "completed_at": isoformat(step.completed_at),
        "completed_text": format_datetime(step.completed_at),
        "credited_at": isoformat(step.credited_at),
        "credited_text": format_datetime(step.credited_at),
        "reversed_at": isoformat(step.reversed_at),
        "reversed_text": format_datetime(step.reversed_at),
        "reason": step.reason,
    }


def offer_as_json(offer: Offer, *, can_report: bool = False) -> dict[str, Any]:
    """One offer as normalised JSON for the kit's API routes and the live refresh.

    Rewards carry both a number and the formatted words; times are ISO 8601 strings in UTC,
    with words in a ``*_text`` field where pages show them. Nothing from the raw upstream dict
    passes through. ``can_report`` as for :func:`next_action`.
    """
    done, total = progress_values(offer)
    return {
        "offer_id": offer.offer_id,
        "name": offer.name,
        "headline": offer.headline,
        "description": offer.description,
        "requirements": offer.requirements,
        "category": offer.category,
        "image_url": offer.image_url,
        "click_url": offer.click_url,
        "status": offer.status.value,
        "state": offer.state.value,
        "state_label": status_label(offer),
        "can_continue": offer.can_continue,
        "progress": round(offer.progress, 4),
        "progress_value": done,
        "progress_max": total,
        "progress_text": steps_text(offer),
        "steps_done": offer.steps_done,
        "steps_total": offer.steps_total,
        # The member's amounts only (RevU's USD payout never leaves the server); null when
        # RevU gave none.
        "rewards": {
            kind: _reward_json(amount if offer.reward_known else None)
            for kind, amount in (
                ("earned", offer.earned),
                ("pending", offer.pending),
                ("lost", offer.lost),
                ("remaining", offer.remaining),
                ("possible", offer.possible),
            )
        },
        "currency": currency_name(),
        "reporting": offer.reporting,
        "started_at": isoformat(offer.started_at),
        "last_activity_at": isoformat(offer.last_activity_at),
        "credited_at": isoformat(credited_at(offer)),
        "expires_at": isoformat(offer.expires_at),
        "expected_credit_at": isoformat(offer.expected_credit_at),
        "expected_credit_text": format_date(offer.expected_credit_at),
        "overdue": offer.is_overdue,
        "reversal_reason": offer.reversal_reason if offer.state is OfferState.REVERSED else None,
        "needs_claim_details": offer.needs_claim_details,
        "explanation": explain(offer),
        "next_action": {
            "code": next_action_code(offer),
            "text": next_action(offer, can_report=can_report),
        },
        "steps": [step_as_json(step) for step in offer.steps],
    }


def skipped_as_json(skipped: SkippedOffer) -> dict[str, Any]:
    """An offer left out by validation: its id when known and the failing fields (no values)."""
    return {"offer_id": skipped.offer_id, "fields": list(skipped.field_paths)}


def summary_counts(summary: ProgressSummary) -> dict[str, int]:
    """How many offers in each state, and how many are overdue (for the JSON routes)."""
    return {
        "total": summary.total,
        "in_progress": summary.in_progress,
        "pending": summary.pending,
        "credited": summary.credited,
        "reversed": summary.reversed,
        "expired": summary.expired,
        "reversed_or_expired": summary.reversed_or_expired,
        "unknown": summary.unknown,
        "overdue": summary.overdue,
    }


def summary_totals(summary: ProgressSummary) -> dict[str, Decimal]:
    """A member's reward totals under the names both JSON APIs use (offers' rewards too)."""
    return {
        "earned": summary.earned,
        "pending": summary.pending_amount,
        "lost": summary.lost,
        "remaining": summary.remaining,
    }


def totals_as_json(summary: ProgressSummary) -> dict[str, Any]:
    """A member's reward totals as the member API sends them: each a number and its words."""
    return {name: _reward_json(amount) for name, amount in summary_totals(summary).items()}


# --- support ticket text --------------------------------------------------------------------


def _line(value: str) -> str:
    # One upstream value may not forge extra lines in the block a user pastes to support.
    return " ".join(value.split())


def _ticket_time(value: datetime | None) -> str:
    # Support staff read tickets from anywhere: one unambiguous format, always UTC.
    if value is None:
        return "-"
    moment = _aware(value).astimezone(UTC)
    # What strftime("%Y-%m-%d %H:%M UTC") writes, in half the time (15 times per claim).
    return (
        f"{moment.year}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d} UTC"
    )


def claim_details(offer: Offer, *, user_id: str, support_id: str | None) -> str:
    """The plain-text block a user pastes into a support ticket about this offer."""
    # One translator and amount formatter per block: the support page words 100 of them.
    translate = _translator()
    amount_text = _amount_formatter()
    status = status_label(offer)
    if offer.is_overdue:
        status = translate(N_("%(status)s (overdue)"), status=status)
    lines = [
        translate(N_("Offer claim details")),
        translate(N_("User ID: %(value)s"), value=_line(user_id)),
        translate(N_("Offer: %(id)s — %(name)s"), id=offer.offer_id, name=_line(offer.name)),
        translate(N_("Status: %(value)s"), value=status),
        translate(N_("RevU support reference: %(value)s"), value=_line(support_id or "-")),
        translate(N_("Started: %(value)s"), value=_ticket_time(offer.started_at)),
        translate(N_("Completed: %(value)s"), value=_ticket_time(offer.completed_at)),
        translate(N_("Expected credit: %(value)s"), value=_ticket_time(offer.expected_credit_at)),
    ]
    if offer.reporting:
        lines.append(translate(N_("Crediting time: %(value)s"), value=_line(offer.reporting)))
    reason = offer.reversal_reason
    if reason and offer.state is OfferState.REVERSED:
        lines.append(translate(N_("Reason given: %(value)s"), value=_line(reason)))
    if offer.steps:
        lines.append(translate(N_("Steps:")))
    for number, step in enumerate(offer.steps, start=1):
        lines.append(
            translate(
                _CLAIM_STEP_TEXT,
                number=number,
                name=_line(step.name),
                status=_step_label(step, translate),
                reward=amount_text(step.reward) or "-",
            )
        )
        lines.append(
            "   "
            + translate(
                _CLAIM_STEP_TIMES_TEXT,
                completed=_ticket_time(step.completed_at),
                credited=_ticket_time(step.credited_at),
                reversed=_ticket_time(step.reversed_at),
            )
        )
    return "\n".join(lines)


# --- history tabs and error pages ----------------------------------------------------------

_TAB_LABELS: Mapping[str, str] = {
    "all": N_("All"),
    "overdue": N_("Overdue"),
    "in_progress": N_("In progress"),
    "pending": N_("Pending"),
    "credited": N_("Credited"),
    "reversed": N_("Reversed & expired"),
}


def tab_label(slug: str) -> str:
    """The history tab's name for a status filter word (``"reversed"`` includes expired)."""
    return gettext(_TAB_LABELS.get(slug, _TAB_LABELS["all"]))


def http_error_text(status: int) -> tuple[str, str]:
    """``(title, message)`` for a plain HTTP error on one of the kit's pages."""
    if status == 404:
        return gettext("Page not found"), gettext(
            "This page does not exist. Your offers are still on the offers page."
        )
    if status == 403:
        return gettext("Not allowed"), gettext("You do not have access to this page.")
    if status in (400, 405, 422):
        return gettext("That did not work"), gettext(
            "The link or request was not understood. Go back to your offers and try again."
        )
    return gettext("Something went wrong"), gettext(
        "We could not show this page. Please try again in a few minutes."
    )


def error_text(exc: RevUError, *, for_staff: bool = False) -> tuple[str, str]:
    """``(title, message)`` a visitor can act on; upstream details stay in the server log.

    ``for_staff`` words the answer for a support agent looking a member up, where it differs.
    """
    # Only messages written for visitors are shown as they are; upstream failures get fixed
    # wording, because their messages are for the developer and may name RevU internals.
    if isinstance(exc, InvalidRequestError | OfferNotFoundError):
        title = (
            gettext("Offer not found")
            if isinstance(exc, OfferNotFoundError)
            else gettext("That did not work")
        )
        return title, exc.message
    if isinstance(exc, NotSignedInError):
        return gettext("Please sign in"), gettext("Sign in to see your offers.")
    if isinstance(exc, BannedError) and for_staff:
        reason = (
            gettext("their IP address is banned")
            if exc.reason == "IP_BANNED"
            else gettext("the member is banned")
        )
        return gettext("This member is banned by RevU"), gettext(
            "RevU refuses offers for this member: %(reason)s (%(code)s). The member sees a "
            "'not available' page. To ask RevU to review the ban, quote the reference below.",
            reason=reason,
            code=exc.reason,
        )
    if isinstance(exc, IpBannedError):
        return gettext("Offers are not available"), gettext(
            "Offers are not available from the network you are connected to. Try another "
            "connection (for example mobile data instead of a VPN or public Wi-Fi); if you "
            "think this is a mistake, contact support and quote the reference below."
        )
    if isinstance(exc, BannedError):
        return gettext("Offers are not available"), gettext(
            "Offers are not available for your account. "
            "If you think this is a mistake, contact support and quote the reference below."
        )
    if isinstance(exc, RateLimitedError):
        return gettext("Too many requests"), gettext(
            "The offers service is busy. Please wait a moment and try again."
        )
    if isinstance(exc, UpstreamTimeoutError):
        return gettext("The offers service is slow"), gettext(
            "Your offers took too long to load. Please try again in a minute."
        )
    if isinstance(exc, UpstreamUnavailableError):
        return gettext("Offers are temporarily unavailable"), gettext(
            "We could not reach the offers service. Your progress is safe; "
            "please try again in a few minutes."
        )
    return gettext("We could not load your offers"), gettext(
        "This is a problem on our side, not yours, and it has been logged. "
        "Please try again later; if it keeps happening, contact support with the reference below."
    )


# --- templates ------------------------------------------------------------------------------


def http_url(value: str | None) -> str | None:
    """``value`` when :func:`~revu_widgets.schemas.is_safe_url` accepts it, else ``None``.

    The ``revu_http_url`` filter: the schemas' rule, applied again to whatever URL a template
    is given (a host may pass its own objects to the macros).
    """
    return value if is_safe_url(value) else None


DetailUrlFor = str | Callable[[Offer], str] | None


def detail_url(pattern: DetailUrlFor, offer: Offer) -> str | None:
    """The detail link for ``offer``: ``pattern`` with ``{offer_id}`` filled in, or called."""
    if pattern is None:
        return None
    if callable(pattern):
        return pattern(offer)
    # str.replace, not str.format: other braces in a host URL must not raise or leak attributes.
    return pattern.replace("{offer_id}", quote(str(offer.offer_id), safe=""))


#: The step times the timeline shows, in order, with their words.
_STEP_TIME_WORDS: tuple[tuple[str, str], ...] = (
    ("completed_at", N_("Completed")),
    ("credited_at", N_("Credited")),
    ("reversed_at", N_("Reversed")),
)


TimeRow = tuple[str, str, str | None, str]


class TimelineStep(NamedTuple):
    """One step of :func:`timeline`, worded for the ``event_timeline`` macro."""

    #: Position in the offer, from 0.
    position: int
    #: The status value CSS is keyed on (:func:`status_value`).
    state: str
    #: The status words (:func:`status_label`).
    label: str
    name: str
    #: The formatted reward, or ``None`` when RevU gave the step none.
    reward: str | None
    #: ``(field, words, ISO 8601 or None, formatted time)`` for completed, credited, reversed.
    times: tuple[TimeRow, TimeRow, TimeRow]
    #: "Reason given: ..." when RevU gave one.
    reason: str | None


def timeline(offer: Offer) -> list[TimelineStep]:
    """Every step of ``offer`` with all the words the ``event_timeline`` macro shows.

    One call per offer does what would otherwise be a dozen template calls per step; the
    locale, timezone, currency and time labels are looked up once per offer, not per step.
    """
    translate = _translator()
    amount_text = _amount_formatter()
    datetime_text = _datetime_formatter()
    completed, credited, reversed_ = ((field, translate(word)) for field, word in _STEP_TIME_WORDS)

    def row(words: tuple[str, str], when: datetime | None) -> TimeRow:
        if when is None:
            return (*words, None, "")
        return (*words, isoformat(when), datetime_text(when))

    return [
        TimelineStep(
            index,
            step.status.value,
            _step_label(step, translate),
            step.name,
            None if step.reward is None else amount_text(step.reward),
            (
                row(completed, step.completed_at),
                row(credited, step.credited_at),
                row(reversed_, step.reversed_at),
            ),
            translate(_REASON_TEXT, reason=step.reason) if step.reason else None,
        )
        for index, step in enumerate(offer.steps)
    ]


def reward_rows(offer: Offer) -> list[tuple[RewardKind, Decimal]]:
    """The rewards an offer card shows: the offer's reward under its status, then its partial
    credit.

    The first row is what the offer counts for in the member's totals (Earned once credited,
    Pending, Lost when reversed or expired, else Possible), so a tab's cards add up to its
    total. An offer not credited in full whose steps were credited one by one adds a
    "Credited so far" row (``partial``), which no total counts as earned. None when the
    member's reward is unknown (RevU sent only its USD payouts, or nothing): no amount is
    better than a wrong zero.
    """
    if not offer.reward_known:
        return []
    state = offer.state
    rows: list[tuple[RewardKind, Decimal]]
    if state is OfferState.CREDITED:
        return [("earned", offer.earned)]
    if state is OfferState.PENDING:
        rows = [("pending", offer.pending)]
    elif state in LOST_STATES:
        rows = [("lost", offer.lost)]
    else:
        rows = [("possible", offer.possible)]
    if offer.credited_steps_reward:
        rows.append(("partial", offer.credited_steps_reward))
    return rows


def reward_texts(offer: Offer) -> list[tuple[RewardKind, str]]:
    """:func:`reward_rows` with each amount already formatted, with one formatter per offer.

    For pages that list many offers' rewards: formatting through the ``reward`` macro looks
    up the locale, currency and translation again for every amount.
    """
    amount_text = _amount_formatter()
    return [(kind, amount_text(amount)) for kind, amount in reward_rows(offer)]


def summary_rows(summary: ProgressSummary) -> list[tuple[str, str, Decimal, str]]:
    """``(kind, label, amount, counts text)`` rows for the earnings summary."""
    lost_count = summary.reversed + summary.expired + summary.reversed_or_expired
    pending_text = ngettext("%(num)d offer pending", "%(num)d offers pending", summary.pending)
    if summary.overdue:
        pending_text += ", " + ngettext("%(num)d overdue", "%(num)d overdue", summary.overdue)
    return [
        (
            "earned",
            gettext("Earned"),
            summary.earned,
            ngettext("%(num)d offer credited", "%(num)d offers credited", summary.credited),
        ),
        ("pending", gettext("Pending"), summary.pending_amount, pending_text),
        (
            "lost",
            gettext("Reversed or expired"),
            summary.lost,
            ngettext(
                "%(num)d offer reversed or expired",
                "%(num)d offers reversed or expired",
                lost_count,
            ),
        ),
    ]


def skipped_ids(skipped: Iterable[Any]) -> str:
    """The ids of offers left out, comma-separated (those RevU sent without an id are omitted)."""
    return ", ".join(_clean_word(str(s.offer_id)) for s in skipped if s.offer_id)


_FILTERS: Mapping[str, Callable[..., Any]] = {
    "revu_amount": format_amount,
    "revu_number": format_number,
    "revu_datetime": format_datetime,
    "revu_date": format_date,
    "revu_relative": format_relative,
    "revu_iso": isoformat,
    "revu_http_url": http_url,
}

_GLOBALS: Mapping[str, Any] = {
    "revu_gettext": gettext,
    "revu_ngettext": ngettext,
    "revu_status_label": status_label,
    "revu_status_value": status_value,
    "revu_reward_label": reward_label,
    "revu_reward_rows": reward_rows,
    "revu_reward_texts": reward_texts,
    "revu_timeline": timeline,
    "revu_summary_rows": summary_rows,
    "revu_steps_text": steps_text,
    "revu_progress_values": progress_values,
    "revu_explain": explain,
    "revu_next_action": next_action,
    "revu_explain_for_staff": explain_for_staff,
    "revu_next_action_for_staff": next_action_for_staff,
    "revu_detail_url": detail_url,
    "revu_credited_at": credited_at,
    "revu_skipped_ids": skipped_ids,
    "revu_currency_name": currency_name,
    "revu_html_lang": html_lang,
}


def install(app: Flask) -> None:
    """Register the ``revu_*`` Jinja filters and globals the kit's macros and pages use."""
    app.jinja_env.filters.update(_FILTERS)
    app.jinja_env.globals.update(_GLOBALS)


__all__ = [
    "claim_details",
    "current_locale",
    "current_timezone",
    "detail_url",
    "error_text",
    "explain",
    "explain_for_staff",
    "format_amount",
    "format_date",
    "format_datetime",
    "format_number",
    "format_relative",
    "gettext",
    "http_error_text",
    "install",
    "isoformat",
    "next_action",
    "next_action_code",
    "next_action_for_staff",
    "ngettext",
    "offer_as_json",
    "skipped_as_json",
    "status_label",
    "status_value",
    "step_as_json",
    "summary_counts",
    "summary_totals",
    "tab_label",
    "totals_as_json",
]
