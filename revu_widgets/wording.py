"""How offers read to a person: status words, explanations, next actions, error texts.

Everything the kit says about an offer is worded here, once: the member's pages, the JSON APIs,
the support tools and the claim summary all read it from here, translated for the request
(:mod:`revu_widgets.formatting`). Nothing here returns markup: upstream text stays plain, and
Jinja escapes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

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
from .formatting import (
    N_,
    Formatter,
    format_amount,
    format_date,
    format_number,
    formatter,
    gettext,
    ngettext,
)
from .models import Offer, OfferState, Step, StepStatus

#: Longest raw upstream status word shown in an "Unknown (...)" label.
_RAW_WORD_LIMIT = 40

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

_UNKNOWN_STEP_TEXT = N_("Unknown (%(word)s)")
# Claim summary lines, worded with the request's translator looked up once per summary.
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


# --- labels ---------------------------------------------------------------------------------

StatusLike = Offer | OfferState | Step | StepStatus


def clean_word(raw: str) -> str:
    """An upstream word made safe to show: one line, at most a label's length."""
    # Upstream words are hostile: no control characters, no layout-breaking length.
    word = " ".join(raw.split())
    return word[:_RAW_WORD_LIMIT] + ("…" if len(word) > _RAW_WORD_LIMIT else "")


def status_label(value: StatusLike, fmt: Formatter | None = None) -> str:
    """The words for an offer's state or a step's status (an unknown step word shown as such).

    ``fmt`` is the request's :class:`~revu_widgets.formatting.Formatter` when the caller holds
    it (a loop over hundreds of steps then looks the request's translation up once).
    """
    translate = (fmt or formatter()).gettext
    if isinstance(value, Offer):
        value = value.state
    if isinstance(value, OfferState):
        return translate(_OFFER_STATE_LABELS[value])
    if isinstance(value, Step):
        if value.status is StepStatus.UNKNOWN and value.status_label.strip():
            return translate(_UNKNOWN_STEP_TEXT, word=clean_word(value.status_label))
        value = value.status
    return translate(_STEP_STATUS_LABELS[value])


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


# --- support ticket text --------------------------------------------------------------------


def one_line(value: str | None) -> str:
    """``value`` on one line: an upstream value may not forge extra lines in a ticket or a log."""
    return " ".join((value or "").split())


def _ticket_time(value: datetime | None) -> str:
    # Support staff read tickets from anywhere: one unambiguous format, always UTC (a naive
    # time from host code is read as UTC).
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def claim_details(offer: Offer, *, user_id: str, support_id: str | None) -> str:
    """The plain-text block a user pastes into a support ticket about this offer."""
    # One translator and amount formatter per block: the support page words 100 of them.
    fmt = formatter()
    translate = fmt.gettext
    status = status_label(offer, fmt)
    if offer.is_overdue:
        status = translate(N_("%(status)s (overdue)"), status=status)
    lines = [
        translate(N_("Offer claim details")),
        translate(N_("User ID: %(value)s"), value=one_line(user_id)),
        translate(N_("Offer: %(id)s — %(name)s"), id=offer.offer_id, name=one_line(offer.name)),
        translate(N_("Status: %(value)s"), value=status),
        translate(N_("RevU support reference: %(value)s"), value=one_line(support_id or "-")),
        translate(N_("Started: %(value)s"), value=_ticket_time(offer.started_at)),
        translate(N_("Completed: %(value)s"), value=_ticket_time(offer.completed_at)),
        translate(N_("Expected credit: %(value)s"), value=_ticket_time(offer.expected_credit_at)),
    ]
    if offer.reporting:
        lines.append(translate(N_("Crediting time: %(value)s"), value=one_line(offer.reporting)))
    reason = offer.reversal_reason
    if reason and offer.state is OfferState.REVERSED:
        lines.append(translate(N_("Reason given: %(value)s"), value=one_line(reason)))
    if offer.steps:
        lines.append(translate(N_("Steps:")))
    for number, step in enumerate(offer.steps, start=1):
        lines.append(
            translate(
                _CLAIM_STEP_TEXT,
                number=number,
                name=one_line(step.name),
                status=status_label(step, fmt),
                reward=fmt.amount(step.reward) or "-",
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
