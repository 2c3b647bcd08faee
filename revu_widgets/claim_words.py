"""The claim clock in words: when a member may report a problem, and what to do next.

The clock itself is worked out in :mod:`revu_widgets.claims` from RevU's data and the
``REVU_CLAIM_*`` settings; this module words it for the member's pages and cards, the support
tools and the JSON APIs (translated for the request, like every text of the kit).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import current_app

from . import formatting, wording
from .claims import (
    SUGGESTED_PROBLEM,
    ClaimClock,
    ClaimPhase,
    ClaimPolicy,
    ClaimReason,
    Problem,
    claim_clock,
)
from .formatting import N_
from .models import Offer


def claim_policy() -> ClaimPolicy:
    """The current app's claim clock settings (``REVU_CLAIM_*``)."""
    return ClaimPolicy.from_config(current_app.config)


def card_clock(offer: Offer) -> ClaimClock:
    """The clock as a card shows it, from RevU's data alone (no ledger call per card)."""
    return claim_clock(offer, claim_policy())


_PROBLEM_LABELS: Mapping[Problem, str] = {
    Problem.NOT_CREDITED: N_("I finished the offer but was not credited"),
    Problem.STEP_NOT_RECORDED: N_("I finished a step but it is not counted"),
    Problem.MISSING_FROM_BALANCE: N_("The reward is not in my balance"),
    Problem.DISPUTE_REVERSAL: N_("The reversal is a mistake"),
    Problem.OTHER: N_("Something else"),
}

_VERDICT_TEXTS: Mapping[ClaimReason, str] = {
    ClaimReason.PENDING_WITHIN_WINDOW: N_("Pending within RevU's crediting time"),
    ClaimReason.PENDING_OVERDUE: N_("Pending past the expected credit date: ask RevU"),
    ClaimReason.STEP_NOT_RECORDED: N_("A step the member finished is not recorded: ask RevU"),
    ClaimReason.REVERSED: N_("Reversed by RevU; the member disputes it"),
    ClaimReason.SITE_MISSING_CREDIT: N_(
        "RevU credited it but the site's ledger lacks it: the site's own problem"
    ),
    ClaimReason.CREDITED: N_("Credited; the site's ledger agrees"),
}


def problem_label(problem: Problem) -> str:
    """The words for what the member says happened."""
    return formatting.gettext(_PROBLEM_LABELS[problem])


def verdict_text(reason: ClaimReason) -> str:
    """The triage verdict in words, for support staff and ticket bodies."""
    return formatting.gettext(_VERDICT_TEXTS[reason])


def problems_for(clock: ClaimClock) -> list[Problem]:
    """The choices the form offers for this clock, the suggested one first."""
    first = SUGGESTED_PROBLEM[clock.reason]
    return [first, *(p for p in Problem if p is not first and p is not Problem.DISPUTE_REVERSAL)]


def clock_text(clock: ClaimClock, offer: Offer) -> str:
    """What the clock means for the member, in full: when, until when, and why waiting is normal."""
    gettext = formatting.gettext
    when = formatting.format_datetime(clock.opens_at)
    until = formatting.format_date(clock.closes_at)
    reason = clock.reason
    if clock.phase is ClaimPhase.NONE:
        if clock.site_credited is not None:
            return gettext("Credited, and in your balance: there is nothing to report.")
        return gettext("Credited: there is nothing to report.")
    if clock.phase is ClaimPhase.CLOSED:
        return gettext(
            "Reports for this offer closed on %(date)s. RevU only looks into claims for a "
            "limited time after they become possible.",
            date=until,
        )
    if reason is ClaimReason.SITE_MISSING_CREDIT:
        return gettext(
            "RevU credited %(amount)s for this offer, but our records show %(ours)s. That is our "
            "mistake, not yours: report it and we will add what is missing.",
            amount=formatting.format_amount(offer.earned),
            ours=formatting.format_amount(clock.site_credited),
        )
    if clock.phase is ClaimPhase.WAIT:
        if reason is ClaimReason.PENDING_WITHIN_WINDOW:
            if offer.reporting:
                why = gettext(
                    "Waiting is normal: the advertiser takes %(reporting)s to confirm an offer "
                    "before it is credited.",
                    reporting=" ".join(offer.reporting.split()),
                )
            else:
                why = gettext(
                    "Waiting is normal: the advertiser confirms every offer before it is credited."
                )
            return (
                why
                + " "
                + gettext("If it is not credited by %(when)s, you can report it then.", when=when)
            )
        return gettext(
            "Advertisers can take a day to report a step, so a step you just finished may not "
            "show yet: that is normal. If a finished step is still missing on %(when)s, you can "
            "report it then.",
            when=when,
        )
    if reason is ClaimReason.REVERSED:
        given = offer.reversal_reason
        text = (
            gettext(
                "RevU reversed this reward. Reason given: %(reason)s.",
                reason=wording.one_line(given),
            )
            if given
            else gettext("RevU reversed this reward without giving a reason.")
        )
        return (
            text
            + " "
            + gettext(
                "If you think this is a mistake, you can dispute it until %(date)s.", date=until
            )
        )
    if reason is ClaimReason.PENDING_OVERDUE:
        return gettext(
            "Credit was expected by %(expected)s and has not arrived. You can report it until "
            "%(date)s.",
            expected=formatting.format_date(clock.opens_at),
            date=until,
        )
    return gettext(
        "If you finished a step that is not counted, you can report it until %(date)s.",
        date=until,
    )


def clock_short(clock: ClaimClock) -> str:
    """The clock in a few words, for a card's one line.

    The day a report becomes possible; less than a day away, how long until then ("in 5
    hours": "from Dec 1, 2026" read on Dec 1 would leave the member guessing, and a time with
    its zone does not fit the line).
    """
    gettext = formatting.gettext
    if clock.phase is ClaimPhase.WAIT:
        opens = clock.opens_at
        if opens is not None and opens - clock.as_of < timedelta(days=1):
            # TRANSLATORS: %(when)s is how long from now, e.g. "in 5 hours".
            return gettext(
                "Report possible %(when)s",
                when=formatting.format_relative(opens, now=clock.as_of),
            )
        return gettext("Report possible from %(when)s", when=formatting.format_date(opens))
    if clock.phase is ClaimPhase.OPEN and clock.closes_at is None:
        return gettext("You can report a problem")
    if clock.phase is ClaimPhase.OPEN:
        return gettext(
            "You can report a problem until %(date)s",
            date=formatting.format_date(clock.closes_at),
        )
    if clock.phase is ClaimPhase.CLOSED:
        return gettext("Reports closed on %(date)s", date=formatting.format_date(clock.closes_at))
    return ""


def suggested_action(clock: ClaimClock) -> dict[str, str]:
    """The next step for a support person or chatbot: a stable code and plain words."""
    gettext = formatting.gettext
    if clock.reason is ClaimReason.SITE_MISSING_CREDIT:
        return {
            "code": "credit_from_site",
            "text": gettext(
                "Credit the member from the site's own ledger: RevU already paid this offer."
            ),
        }
    if clock.phase is ClaimPhase.WAIT:
        return {
            "code": "wait",
            "text": gettext(
                "Tell the member waiting is normal; a claim opens on %(when)s.",
                when=formatting.format_datetime(clock.opens_at),
            ),
        }
    if clock.phase is ClaimPhase.OPEN:
        if clock.reason is ClaimReason.REVERSED:
            return {
                "code": "explain_reversal",
                "text": gettext(
                    "Explain the reversal reason; file a claim with RevU only if the member "
                    "disputes it."
                ),
            }
        return {
            "code": "file_claim",
            "text": gettext("File a claim with RevU with the evidence bundle (Report a problem)."),
        }
    if clock.phase is ClaimPhase.CLOSED:
        return {
            "code": "window_closed",
            "text": gettext("The claim window has closed; RevU will not look into it now."),
        }
    return {"code": "none", "text": gettext("Nothing to do: credited.")}


def clock_as_json(clock: ClaimClock, offer: Offer) -> dict[str, Any]:
    """The clock for the kit's JSON routes and the support API: data, words and next action."""
    data = clock.as_dict()
    data["verdict_text"] = verdict_text(clock.reason)
    data["text"] = clock_text(clock, offer)
    data["short_text"] = clock_short(clock)
    data["suggested_action"] = suggested_action(clock)
    return data


# --- the form token -------------------------------------------------------------------------


__all__ = [
    "card_clock",
    "claim_policy",
    "clock_as_json",
    "clock_short",
    "clock_text",
    "problem_label",
    "problems_for",
    "suggested_action",
    "verdict_text",
]
