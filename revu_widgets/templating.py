"""The kit's Jinja setup: the ``revu_*`` filters and globals its macros and pages use.

:func:`install` puts them on an application's Jinja environment, so the macros work in any
host template, even one that imports them without context. Beside the words of
:mod:`revu_widgets.wording` and the formats of :mod:`revu_widgets.formatting`, this module
shapes what a macro shows in one call (an offer's timeline, its reward rows, the summary).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from flask import Flask

from .claim_words import card_clock, clock_short, clock_text
from .formatting import (
    N_,
    currency_name,
    format_amount,
    format_date,
    format_datetime,
    format_number,
    format_relative,
    formatter,
    gettext,
    html_lang,
    isoformat,
    ngettext,
)
from .models import LOST_STATES, Offer, OfferState, ProgressSummary
from .schemas import is_safe_url
from .wording import (
    clean_word,
    credited_at,
    explain,
    explain_for_staff,
    next_action,
    next_action_for_staff,
    progress_values,
    reward_label,
    status_label,
    status_value,
    steps_text,
)

RewardKind = Literal["earned", "pending", "possible", "lost", "partial"]

_REASON_TEXT = N_("Reason given: %(reason)s")


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


@dataclass(frozen=True, slots=True)
class TimelineStep:
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

    One call per offer does what would otherwise be a dozen template calls per step (a support
    page shows hundreds of steps); the time labels are translated once per offer.
    """
    fmt = formatter()
    completed, credited, reversed_ = ((f, fmt.gettext(word)) for f, word in _STEP_TIME_WORDS)

    def row(words: tuple[str, str], when: datetime | None) -> TimeRow:
        if when is None:
            return (*words, None, "")
        return (*words, isoformat(when), fmt.datetime(when))

    return [
        TimelineStep(
            position=index,
            state=step.status.value,
            label=status_label(step, fmt),
            name=step.name,
            reward=None if step.reward is None else fmt.amount(step.reward),
            times=(
                row(completed, step.completed_at),
                row(credited, step.credited_at),
                row(reversed_, step.reversed_at),
            ),
            reason=fmt.gettext(_REASON_TEXT, reason=step.reason) if step.reason else None,
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
    if offer.partial_credit:
        rows.append(("partial", offer.partial_credit))
    return rows


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
    return ", ".join(clean_word(str(s.offer_id)) for s in skipped if s.offer_id)


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
    # The claim clock as the claim macros show it (from RevU's data alone).
    "revu_claim_clock": card_clock,
    "revu_claim_short": clock_short,
    "revu_claim_text": clock_text,
}


def install(app: Flask) -> None:
    """Register the ``revu_*`` Jinja filters and globals the kit's macros and pages use."""
    app.jinja_env.filters.update(_FILTERS)
    app.jinja_env.globals.update(_GLOBALS)
