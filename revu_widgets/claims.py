"""Missing-reward claims: when a member may report a problem with an offer, and what they send.

Plain types and functions, no Flask: the claim clock (:func:`claim_clock`), the triage verdict
it carries (:class:`ClaimReason`), the checks on attached images (:func:`sniff_image`) and the
evidence bundle a claim handler receives (:class:`Claim`). The kit's "Report a problem" pages
(:mod:`revu_widgets.report`) word and serve them.

The clock follows what RevU's data says about an offer:

- **pending credit**: waiting is normal until the expected credit date (the offer's reporting
  window after the last step was finished); a claim opens then. Without an expected date, it
  opens :attr:`ClaimPolicy.pending_wait` after the offer was finished.
- **in progress, expired or unknown**: a step the member says they finished but RevU has not
  recorded; a claim opens :attr:`ClaimPolicy.step_wait` after the last recorded activity,
  because advertisers report steps late.
- **reversed**: the reason is shown; a claim opens at once, as a dispute.
- **credited**: nothing to claim from RevU. When the site's own ledger (the host's
  ``ledger_loader``) shows less than RevU credited, the problem is the site's own, and a claim
  opens at once and stays open (what the site owes has no RevU window).

Every other claim closes :attr:`ClaimPolicy.window` after it opened.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .models import Offer, OfferState

ZERO = Decimal(0)


class ClaimPhase(enum.Enum):
    """Where an offer stands on its claim clock."""

    #: A claim will be possible from ``opens_at``; waiting until then is normal.
    WAIT = "wait"
    #: A claim can be filed now, until ``closes_at``.
    OPEN = "open"
    #: The claim window has passed.
    CLOSED = "closed"
    #: Nothing to claim (credited, and the site's ledger agrees or is not known).
    NONE = "none"


class ClaimReason(enum.Enum):
    """The triage verdict: what the data says the problem is, and so who can fix it."""

    #: RevU says pending and its crediting time has not run out: no claim yet, the clock.
    PENDING_WITHIN_WINDOW = "pending_within_window"
    #: RevU says pending past the expected credit date: a claim to pass on to RevU.
    PENDING_OVERDUE = "pending_overdue"
    #: A step the member says they finished is not recorded by RevU.
    STEP_NOT_RECORDED = "step_not_recorded"
    #: RevU reversed the reward; a claim only if the member disputes the reason.
    REVERSED = "reversed"
    #: RevU credited more than the site's own ledger shows: the site's problem, not RevU's.
    SITE_MISSING_CREDIT = "site_missing_credit"
    #: Credited, nothing missing.
    CREDITED = "credited"

    @property
    def handled_by(self) -> str | None:
        """Who fixes it: ``"site"`` (its own ledger), ``"revu"`` (via the site), or ``None``."""
        if self is ClaimReason.SITE_MISSING_CREDIT:
            return "site"
        if self is ClaimReason.CREDITED:
            return None
        return "revu"


@dataclass(frozen=True, slots=True)
class ClaimPolicy:
    """How long waiting is normal, and how long a claim stays open (``REVU_CLAIM_*``)."""

    #: After the last recorded activity, before a missing step can be claimed.
    step_wait: timedelta = timedelta(hours=24)
    #: After a pending offer was finished, when RevU gives no expected credit date.
    pending_wait: timedelta = timedelta(days=30)
    #: How long a claim stays open once it opened.
    window: timedelta = timedelta(days=60)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ClaimPolicy:
        """The policy from the ``REVU_CLAIM_*`` keys (step wait, pending wait, window).

        Raises ``ValueError`` for a value that is not a non-negative number.
        """
        return cls(
            step_wait=timedelta(hours=_non_negative(config, "REVU_CLAIM_STEP_WAIT_HOURS")),
            pending_wait=timedelta(days=_non_negative(config, "REVU_CLAIM_PENDING_WAIT_DAYS")),
            window=timedelta(days=_non_negative(config, "REVU_CLAIM_WINDOW_DAYS")),
        )


def _non_negative(config: Mapping[str, Any], key: str) -> float:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"{key} must be a number of at least 0, not {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class ClaimClock:
    """When a claim about one offer becomes possible and until when, and why."""

    phase: ClaimPhase
    reason: ClaimReason
    #: When a claim becomes (or became) possible; ``None`` when there is nothing to claim.
    opens_at: datetime | None
    #: When the claim window ends; ``None`` when there is nothing to claim, or for the site's own
    #: problem, which has no window.
    closes_at: datetime | None
    #: The moment the phase was worked out for.
    as_of: datetime
    #: What the site's ledger shows for the offer, when the host gave a ledger.
    site_credited: Decimal | None = None
    #: RevU's credited amount the site's ledger lacks (only for ``SITE_MISSING_CREDIT``).
    shortfall: Decimal | None = None

    @property
    def is_open(self) -> bool:
        """A claim can be filed now."""
        return self.phase is ClaimPhase.OPEN

    @property
    def is_dispute(self) -> bool:
        """Filing means disputing RevU's reversal (the form asks the member to say so)."""
        return self.reason is ClaimReason.REVERSED

    @property
    def handled_by(self) -> str | None:
        """Who fixes it: ``"site"``, ``"revu"`` (through the site) or ``None``."""
        return self.reason.handled_by

    def as_dict(self) -> dict[str, Any]:
        """The clock as JSON-ready data (times as ISO 8601 in UTC)."""
        return {
            "phase": self.phase.value,
            "reason": self.reason.value,
            "handled_by": self.handled_by,
            "opens_at": _iso(self.opens_at),
            "closes_at": _iso(self.closes_at),
            "is_dispute": self.is_dispute,
            "site_credited": _number(self.site_credited),
            "shortfall": _number(self.shortfall),
        }


def claim_clock(
    offer: Offer,
    policy: ClaimPolicy | None = None,
    *,
    now: datetime | None = None,
    site_credited: Decimal | int | float | None = None,
) -> ClaimClock:
    """Where ``offer`` stands on its claim clock at ``now`` (default: when it was read).

    ``site_credited`` is what the site's own ledger credited the member for this offer; ``None``
    means the site has no ledger to ask (RevU's word is taken).
    """
    policy = policy or ClaimPolicy()
    moment = now or offer.as_of
    ledger = None if site_credited is None else Decimal(str(site_credited))
    state = offer.state
    shortfall = None
    opens: datetime | None
    if ledger is not None and offer.credited_amount > ledger:
        reason = ClaimReason.SITE_MISSING_CREDIT
        shortfall = offer.credited_amount - ledger
        opens = _credited_at(offer) or moment
    elif state is OfferState.CREDITED:
        return ClaimClock(ClaimPhase.NONE, ClaimReason.CREDITED, None, None, moment, ledger)
    elif state is OfferState.PENDING:
        opens = offer.expected_credit_at
        if opens is None:
            finished = offer.completed_at or offer.last_activity_at
            opens = finished + policy.pending_wait if finished else moment
        reason = (
            ClaimReason.PENDING_OVERDUE if moment >= opens else ClaimReason.PENDING_WITHIN_WINDOW
        )
    elif state is OfferState.REVERSED:
        reason = ClaimReason.REVERSED
        opens = _reversed_at(offer) or offer.last_activity_at or moment
    else:
        reason = ClaimReason.STEP_NOT_RECORDED
        last = offer.last_activity_at
        opens = last + policy.step_wait if last else moment
    # RevU only looks into claims for a while; what the site itself owes has no such limit.
    closes = None if reason is ClaimReason.SITE_MISSING_CREDIT else opens + policy.window
    if moment < opens:
        phase = ClaimPhase.WAIT
    elif closes is None or moment < closes:
        phase = ClaimPhase.OPEN
    else:
        phase = ClaimPhase.CLOSED
    return ClaimClock(phase, reason, opens, closes, moment, ledger, shortfall)


def _credited_at(offer: Offer) -> datetime | None:
    times = [s.credited_at for s in offer.steps if s.credited_at is not None]
    if offer.credited_at is not None:
        times.append(offer.credited_at)
    return max(times) if times else None


def _reversed_at(offer: Offer) -> datetime | None:
    times = [s.reversed_at for s in offer.steps if s.reversed_at is not None]
    return max(times) if times else None


# --- attachments ----------------------------------------------------------------------------

#: The image types a claim may carry, by their first bytes (what the file is, not its name).
IMAGE_TYPES: tuple[str, ...] = ("image/png", "image/jpeg", "image/gif", "image/webp")


def sniff_image(data: bytes) -> str | None:
    """The image type ``data`` really is (PNG, JPEG, GIF or WebP), else ``None``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True, slots=True)
class Attachment:
    """An image the member attached, checked on its content."""

    #: The name the member's device gave it, cleaned (no path, no control characters).
    filename: str
    #: The type read from the content (one of :data:`IMAGE_TYPES`), never the browser's word.
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """Bytes."""
        return len(self.data)

    def as_dict(self) -> dict[str, Any]:
        """Name, type and size (the bytes stay out of JSON and logs)."""
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


# --- the evidence bundle --------------------------------------------------------------------


class Problem(enum.Enum):
    """What the member says happened (the form's first question)."""

    NOT_CREDITED = "not_credited"
    STEP_NOT_RECORDED = "step_not_recorded"
    MISSING_FROM_BALANCE = "missing_from_balance"
    DISPUTE_REVERSAL = "dispute_reversal"
    OTHER = "other"


#: The problem a form suggests first for each verdict.
SUGGESTED_PROBLEM: Mapping[ClaimReason, Problem] = {
    ClaimReason.PENDING_WITHIN_WINDOW: Problem.NOT_CREDITED,
    ClaimReason.PENDING_OVERDUE: Problem.NOT_CREDITED,
    ClaimReason.STEP_NOT_RECORDED: Problem.STEP_NOT_RECORDED,
    ClaimReason.REVERSED: Problem.DISPUTE_REVERSAL,
    ClaimReason.SITE_MISSING_CREDIT: Problem.MISSING_FROM_BALANCE,
    ClaimReason.CREDITED: Problem.OTHER,
}


@dataclass(frozen=True, slots=True)
class Claim:
    """Everything a claim handler receives: the evidence, built by the kit, not typed.

    ``ticket_text`` is the same evidence as a plain-text ticket body; :meth:`as_dict` as
    structured data (attachments by name, type and size; their bytes are in ``attachments``).
    """

    #: The kit's id for this claim (also in the audit line), e.g. ``"clm-3f9a1c2b7d40"``.
    claim_id: str
    user_id: str
    offer: Offer
    #: RevU's support reference from the answer the claim was built on.
    support_id: str | None
    clock: ClaimClock
    problem: Problem
    #: The day the member says it happened, when they said.
    occurred_on: datetime | None
    #: The member's own words (cleaned, bounded).
    message: str
    attachments: tuple[Attachment, ...]
    filed_at: datetime
    subject: str
    ticket_text: str

    def as_dict(self) -> dict[str, Any]:
        """The evidence as JSON-ready data, every step with its status and times."""
        offer = self.offer
        return {
            "claim_id": self.claim_id,
            "filed_at": _iso(self.filed_at),
            "user_id": self.user_id,
            "support_id": self.support_id,
            "problem": self.problem.value,
            "occurred_on": self.occurred_on.date().isoformat() if self.occurred_on else None,
            "message": self.message,
            "verdict": self.clock.reason.value,
            "handled_by": self.clock.handled_by,
            "clock": self.clock.as_dict(),
            "offer": {
                "offer_id": offer.offer_id,
                "name": offer.name,
                "state": offer.state.value,
                "reporting": offer.reporting,
                "started_at": _iso(offer.started_at),
                "completed_at": _iso(offer.completed_at),
                "last_activity_at": _iso(offer.last_activity_at),
                "expected_credit_at": _iso(offer.expected_credit_at),
                "is_overdue": offer.is_overdue,
                "reversal_reason": offer.reversal_reason,
                "earned": _number(offer.earned),
                "pending": _number(offer.pending),
                "possible": _number(offer.possible),
                "steps": [
                    {
                        "name": step.name,
                        "status": step.status.value,
                        "raw_status": step.status_label or None,
                        "reward": _number(step.reward),
                        "completed_at": _iso(step.completed_at),
                        "credited_at": _iso(step.credited_at),
                        "reversed_at": _iso(step.reversed_at),
                        "reason": step.reason,
                    }
                    for step in offer.steps
                ],
            },
            "attachments": [a.as_dict() for a in self.attachments],
            "subject": self.subject,
            "ticket_text": self.ticket_text,
        }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


__all__ = [
    "IMAGE_TYPES",
    "SUGGESTED_PROBLEM",
    "Attachment",
    "Claim",
    "ClaimClock",
    "ClaimPhase",
    "ClaimPolicy",
    "ClaimReason",
    "Problem",
    "claim_clock",
    "sniff_image",
]
