"""Plain, typed, immutable objects the templates and host code read.

The schemas (:mod:`revu_widgets.schemas`) are the only code that knows RevU's field names; they
build these models. Everything the UI needs is derived once, when an offer is built: steps done,
progress, earned / pending / lost reward, the next step, the expected credit date and whether it
is overdue. Templates never see raw upstream dicts.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

ZERO = Decimal(0)


class RewardStatus(enum.Enum):
    """An offer's reward status as RevU reports it (``reward_status`` 1..4).

    It is authoritative: it decides an offer's tab, state word and totals. RevU's code 3
    covers both reversed and expired offers; :attr:`Offer.state` tells them apart when the
    data says which.
    """

    IN_PROGRESS = "in_progress"
    CREDITED = "credited"
    REVERSED = "reversed"
    PENDING = "pending"
    UNKNOWN = "unknown"

    @property
    def code(self) -> int | None:
        """RevU's integer code for this status (the ``reward_status`` query value)."""
        return _REWARD_STATUS_CODES.get(self)

    @classmethod
    def from_code(cls, code: int) -> RewardStatus:
        """The status for RevU's integer code; :attr:`UNKNOWN` for any other number."""
        for status, value in _REWARD_STATUS_CODES.items():
            if value == code:
                return status
        return cls.UNKNOWN


_REWARD_STATUS_CODES = {
    RewardStatus.IN_PROGRESS: 1,
    RewardStatus.CREDITED: 2,
    RewardStatus.REVERSED: 3,
    RewardStatus.PENDING: 4,
}


class StepStatus(enum.Enum):
    """The state of one step (RevU "event") of an offer."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PENDING = "pending"
    CREDITED = "credited"
    REVERSED = "reversed"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class OfferState(enum.Enum):
    """What the user should understand about an offer: one word, one colour, one explanation."""

    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    CREDITED = "credited"
    REVERSED = "reversed"
    EXPIRED = "expired"
    #: RevU's status 3 when nothing in the data says which of the two happened.
    REVERSED_OR_EXPIRED = "reversed_or_expired"
    UNKNOWN = "unknown"


#: The states RevU's ``reward_status`` 3 covers.
LOST_STATES = frozenset({OfferState.REVERSED, OfferState.EXPIRED, OfferState.REVERSED_OR_EXPIRED})

_DONE_STEP_STATUSES = frozenset(
    {StepStatus.COMPLETED, StepStatus.PENDING, StepStatus.CREDITED, StepStatus.REVERSED}
)
_OPEN_STEP_STATUSES = frozenset(
    {StepStatus.NOT_STARTED, StepStatus.IN_PROGRESS, StepStatus.UNKNOWN}
)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an offer, in the order RevU lists them."""

    name: str
    status: StepStatus
    #: The word RevU used, kept so an unknown status can be shown as such.
    status_label: str = ""
    step_id: str | None = None
    #: The member's reward for this step, in the publisher's virtual currency; ``None`` when
    #: unknown (show no amount, never zero).
    reward: Decimal | None = None
    completed_at: datetime | None = None
    credited_at: datetime | None = None
    reversed_at: datetime | None = None
    #: Why a step was reversed, when RevU says.
    reason: str | None = None
    #: The publisher's revenue for this step in US dollars (RevU's ``payout``). Never a
    #: member's amount: only staff views show it, labelled as the publisher's revenue.
    payout: Decimal | None = None
    #: ``reward`` is the member's share of the offer's reward, split by the steps' payouts.
    reward_is_share: bool = False

    @property
    def is_done(self) -> bool:
        """The user finished this step (whatever happened to its reward afterwards)."""
        return self.status in _DONE_STEP_STATUSES or (
            self.completed_at is not None and self.status is not StepStatus.EXPIRED
        )


@dataclass(frozen=True, slots=True)
class Offer:
    """One offer the user has engaged with, validated, with what the UI needs derived once."""

    offer_id: int
    name: str
    status: RewardStatus
    steps: tuple[Step, ...] = ()
    headline: str | None = None
    description: str | None = None
    requirements: str | None = None
    terms: str | None = None
    category: str | None = None
    #: http(s) only; anything else was dropped by the schema.
    image_url: str | None = None
    #: http(s) only; where the user continues the offer.
    click_url: str | None = None
    in_progress: bool = False
    user_completed: bool = False
    #: Everything the member can earn from this offer, in the publisher's virtual currency.
    total_reward: Decimal | None = None
    #: The publisher's revenue for this offer in US dollars (RevU's ``payout``); never shown to
    #: a member nor counted in a member's totals.
    payout: Decimal | None = None
    #: RevU's words for how long crediting may take, e.g. ``"up to 30 days"``.
    reporting: str | None = None
    #: ``reporting`` read as a duration, when it could be read.
    credit_window: timedelta | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    credited_at: datetime | None = None
    expires_at: datetime | None = None
    #: Reason given for a reversal at the offer level, when RevU says.
    reason: str | None = None
    #: The moment the derived fields below were computed against (for ``is_overdue``).
    as_of: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: False when RevU sent no name and ``name`` is a label made from the id.
    name_given: bool = True
    #: False when only part of the offer was read (a long history's counts and totals): such
    #: an offer must be read in full before it is shown.
    complete: bool = True
    #: Fields RevU sent that could not be read and were left out (dotted paths, no values).
    degraded: tuple[str, ...] = ()
    #: For an offer read in part (``complete`` False): the raw upstream object, to read it in
    #: full when it is shown.
    source: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    # Derived once in __post_init__.
    state: OfferState = field(init=False)
    steps_done: int = field(init=False)
    steps_total: int = field(init=False)
    earned: Decimal = field(init=False)
    pending: Decimal = field(init=False)
    lost: Decimal = field(init=False)
    remaining: Decimal = field(init=False)
    possible: Decimal = field(init=False)
    next_step: Step | None = field(init=False)
    last_activity_at: datetime | None = field(init=False)
    expected_credit_at: datetime | None = field(init=False)
    is_overdue: bool = field(init=False)
    #: The first moment after ``as_of`` at which a derived field may read differently (an
    #: expiry or an expected credit date passing); ``None`` when none ever will.
    stable_until: datetime | None = field(init=False)

    def __post_init__(self) -> None:
        derive = object.__setattr__
        steps = self.steps
        derive(self, "steps_total", len(steps))
        derive(self, "steps_done", sum(1 for s in steps if s.is_done))
        derive(self, "state", self._derive_state())

        total = self.reward_total
        earned = pending = lost = remaining = ZERO
        if total is not None:
            # RevU's reward_status decides where the member's reward counts; the steps only
            # tell the story on the timeline.
            if self.state is OfferState.CREDITED:
                earned = total
            elif self.state is OfferState.PENDING:
                pending = total
            elif self.state in LOST_STATES:
                lost = total
            else:
                remaining = total
        possible = total if total is not None else ZERO
        derive(self, "earned", earned)
        derive(self, "pending", pending)
        derive(self, "lost", lost)
        derive(self, "remaining", remaining)
        derive(self, "possible", possible)
        derive(
            self,
            "next_step",
            next((s for s in steps if s.status in _OPEN_STEP_STATUSES and not s.is_done), None),
        )
        derive(
            self,
            "last_activity_at",
            _latest(self._offer_timestamps()) or _latest(self._step_timestamps()),
        )
        expected = self._derive_expected_credit()
        derive(self, "expected_credit_at", expected)
        overdue = (
            expected is not None and self.state is OfferState.PENDING and self.as_of > expected
        )
        derive(self, "is_overdue", overdue)
        derive(self, "stable_until", self._derive_stable_until(expected, overdue))

    def _derive_state(self) -> OfferState:
        if self.status is not RewardStatus.REVERSED:
            return OfferState(self.status.value)
        # RevU's code 3 is "reversed or expired": only the data can say which. The offer's own
        # fields are read first, so the state is the same whether or not the steps were read.
        if self.user_completed:
            return OfferState.REVERSED
        if self.expires_at is not None and self.expires_at <= self.as_of:
            return OfferState.EXPIRED
        step_statuses = {s.status for s in self.steps}
        if StepStatus.REVERSED in step_statuses:
            return OfferState.REVERSED
        if StepStatus.EXPIRED in step_statuses:
            return OfferState.EXPIRED
        return OfferState.REVERSED_OR_EXPIRED

    def _derive_stable_until(self, expected: datetime | None, overdue: bool) -> datetime | None:
        # Only two derived fields read the moment: a code 3 offer's state (it expires at
        # expires_at) and a pending offer's overdue flag (set just after expected_credit_at).
        changes = []
        if (
            self.status is RewardStatus.REVERSED
            and not self.user_completed
            and self.expires_at is not None
            and self.expires_at > self.as_of
        ):
            changes.append(self.expires_at)
        if expected is not None and self.state is OfferState.PENDING and not overdue:
            changes.append(expected)
        return min(changes, default=None)

    def at(self, moment: datetime) -> Offer:
        """This offer as read at ``moment`` (its derived fields as they read then).

        Between ``as_of`` and :attr:`stable_until` the derived fields cannot change, so they
        are carried over instead of derived again: a remembered history read again costs a
        copy per offer.
        """
        if moment == self.as_of:
            return self
        unchanged = self.as_of < moment and (
            self.stable_until is None or moment < self.stable_until
        )
        if not unchanged:
            return dataclasses.replace(self, as_of=moment)
        # A copy of the fields as they are; replace() would run __post_init__ again.
        moved = object.__new__(Offer)
        for name in _OFFER_SLOTS:
            object.__setattr__(moved, name, getattr(self, name))
        object.__setattr__(moved, "as_of", moment)
        return moved

    def _offer_timestamps(self) -> Iterable[datetime | None]:
        yield self.started_at
        yield self.updated_at
        yield self.completed_at
        yield self.credited_at

    def _step_timestamps(self) -> Iterable[datetime | None]:
        for s in self.steps:
            yield s.completed_at
            yield s.credited_at
            yield s.reversed_at

    def _derive_expected_credit(self) -> datetime | None:
        if self.state is not OfferState.PENDING or self.credit_window is None:
            return None
        pending_done = [
            s.completed_at
            for s in self.steps
            if s.status in (StepStatus.PENDING, StepStatus.COMPLETED) and s.completed_at
        ]
        finished = self.completed_at or self.updated_at or _latest(pending_done)
        if finished is None:
            return None
        return finished + self.credit_window

    @property
    def reward_total(self) -> Decimal | None:
        """The member's whole reward for this offer: ``total_reward``, else the steps' sum.

        ``None`` when neither is known: show no amount, never zero.
        """
        if self.total_reward is not None:
            return self.total_reward
        known = [s.reward for s in self.steps if s.reward is not None]
        return sum(known, ZERO) if known else None

    @property
    def credited_steps_reward(self) -> Decimal:
        """What the steps marked credited gave the member (their known rewards), for the
        timeline's story; the offer's totals follow its ``reward_status``."""
        return sum(
            (s.reward for s in self.steps if s.status is StepStatus.CREDITED and s.reward),
            ZERO,
        )

    @property
    def credited_amount(self) -> Decimal:
        """What RevU has credited the member for this offer so far: the whole reward once the
        offer is credited, else what its credited steps gave (RevU credits step by step, so a
        site's postback ledger holds those)."""
        return max(self.earned, self.credited_steps_reward)

    @property
    def partial_credit(self) -> Decimal:
        """What the credited steps gave on an offer not credited in full ("Credited so far"):
        in the member's balance, but in no total as earned. Zero once the offer is credited,
        whose whole reward is then earned."""
        if self.state is OfferState.CREDITED:
            return ZERO
        return self.credited_steps_reward

    @property
    def reward_known(self) -> bool:
        """Whether the member's reward for this offer is known (else show no amount)."""
        return self.reward_total is not None

    @property
    def summary_without_steps(self) -> bool:
        """Whether this offer's state, totals, order and overdue flag would be the same if its
        steps were read too (what an offer read with only its summary fields may stand for)."""
        return (
            self.total_reward is not None
            and self.state is not OfferState.REVERSED_OR_EXPIRED
            and self.updated_at is not None
        )

    @property
    def progress(self) -> float:
        """Share of steps done, 0.0 to 1.0 (1.0 for a finished offer without steps)."""
        if self.steps_total:
            return self.steps_done / self.steps_total
        return 1.0 if self.user_completed or self.state is OfferState.CREDITED else 0.0

    @property
    def can_continue(self) -> bool:
        """The user can still act on this offer (show a Continue button)."""
        return self.state is OfferState.IN_PROGRESS and self.click_url is not None

    @property
    def needs_claim_details(self) -> bool:
        """Pending, overdue or reversed: the user may want to open a support ticket."""
        return (
            self.state in (OfferState.PENDING, OfferState.REVERSED, OfferState.REVERSED_OR_EXPIRED)
            or self.is_overdue
        )

    @property
    def reversal_reason(self) -> str | None:
        """The first reason RevU gave for a reversal, offer- or step-level."""
        if self.reason:
            return self.reason
        return next((s.reason for s in self.steps if s.reason), None)


#: Every field of an offer, derived ones included (what :meth:`Offer.at` carries over).
_OFFER_SLOTS = tuple(f.name for f in dataclasses.fields(Offer))


def split_reward_by_payouts(steps: Sequence[Step], total: Decimal | None) -> tuple[Step, ...]:
    """Steps whose member reward is unknown get their share of ``total`` by their payouts.

    RevU's events may carry only ``payout`` (the publisher's USD revenue). The member's reward
    for such a step is the part of the offer's ``total_user_reward`` not already given to
    other steps, in proportion to the payouts: whole units when that part is whole, cents
    otherwise, and the shares add up exactly. When that is impossible (no total, a step
    without a payout, payouts adding up to zero, steps already exceeding the total) the
    rewards stay unknown.
    """
    unknown = [i for i, s in enumerate(steps) if s.reward is None]
    if not unknown or total is None:
        return tuple(steps)
    payouts = [steps[i].payout for i in unknown]
    if any(p is None for p in payouts):
        return tuple(steps)
    weights = [p for p in payouts if p is not None]
    weight = sum(weights, ZERO)
    left = total - sum((s.reward for s in steps if s.reward is not None), ZERO)
    if weight <= 0 or left < 0:
        return tuple(steps)
    unit = Decimal(1) if left == left.to_integral_value() else Decimal("0.01")
    exact = [left * w / weight for w in weights]
    shares = [(e / unit).to_integral_value(ROUND_FLOOR) * unit for e in exact]
    # Largest remainders first get the units rounding left over, so the shares add up.
    spare = int((left - sum(shares, ZERO)) / unit)
    order = sorted(range(len(exact)), key=lambda k: exact[k] - shares[k], reverse=True)
    for k in order[:spare]:
        shares[k] += unit
    result = list(steps)
    for i, share in zip(unknown, shares, strict=True):
        result[i] = dataclasses.replace(steps[i], reward=share, reward_is_share=True)
    return tuple(result)


@dataclass(frozen=True, slots=True)
class Member:
    """Who a user id is on the host's site, as ``@revu.member_resolver`` says (for staff)."""

    name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class SkippedOffer:
    """An offer that failed validation and was left out, with where it failed (never values)."""

    index: int
    offer_id: str | None
    field_paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProgressPage:
    """One page of RevU's Get Progress answer, validated."""

    offers: tuple[Offer, ...]
    total: int
    offset: int
    limit: int
    #: RevU's per-request reference to quote to RevU support.
    support_id: str | None = None
    publisher_id: str | None = None
    wall_id: str | None = None
    skipped: tuple[SkippedOffer, ...] = ()
    #: Links and images dropped because they were not http(s): ``(offer_id, field name)``.
    dropped_urls: tuple[tuple[int, str], ...] = ()
    #: A digest of the answer's body as received (``UserProgress.pages_digest`` joins them).
    digest: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class ProgressSummary:
    """Counts and reward totals over a user's offers (the earnings summary and the tab counts).

    Amounts are the member's, in the publisher's currency (RevU's ``payout``, the publisher's
    USD revenue, is never added in). Each offer's ``reward_status`` decides where its reward
    counts (see :attr:`Offer.earned` and friends).
    """

    total: int
    in_progress: int
    pending: int
    credited: int
    reversed: int
    expired: int
    unknown: int
    earned: Decimal
    pending_amount: Decimal
    lost: Decimal
    remaining: Decimal
    overdue: int
    #: RevU's status 3 offers whose data does not say whether they were reversed or expired.
    reversed_or_expired: int = 0

    @classmethod
    def from_offers(cls, offers: Iterable[Offer]) -> ProgressSummary:
        """Add up a user's offers."""
        counts = dict.fromkeys(OfferState, 0)
        earned = pending = lost = remaining = ZERO
        overdue = 0
        for offer in offers:
            counts[offer.state] += 1
            earned += offer.earned
            pending += offer.pending
            lost += offer.lost
            remaining += offer.remaining
            overdue += offer.is_overdue
        return cls(
            total=sum(counts.values()),
            in_progress=counts[OfferState.IN_PROGRESS],
            pending=counts[OfferState.PENDING],
            credited=counts[OfferState.CREDITED],
            reversed=counts[OfferState.REVERSED],
            expired=counts[OfferState.EXPIRED],
            unknown=counts[OfferState.UNKNOWN],
            earned=earned,
            pending_amount=pending,
            lost=lost,
            remaining=remaining,
            overdue=overdue,
            reversed_or_expired=counts[OfferState.REVERSED_OR_EXPIRED],
        )

    def count_for(self, status: RewardStatus | None) -> int:
        """The tab count for a status filter (``None`` = all; reversed includes expired)."""
        if status is None:
            return self.total
        if status is RewardStatus.REVERSED:
            return self.reversed + self.expired + self.reversed_or_expired
        count: int = getattr(self, status.value)
        return count


@dataclass(frozen=True, slots=True)
class UserProgress:
    """Every offer of one user, across all upstream pages (what history and support read)."""

    user_id: str
    offers: tuple[Offer, ...]
    summary: ProgressSummary
    support_id: str | None = None
    skipped: tuple[SkippedOffer, ...] = ()
    #: True when the page cap stopped the walk before ``total`` was reached.
    truncated: bool = False
    #: The digests of the upstream answers' bodies this was read from, in page order: equal
    #: for equal answers, whenever and wherever they were read (what version stamps hash).
    pages_digest: str = field(default="", compare=False)

    def filtered(self, status: RewardStatus | None) -> tuple[Offer, ...]:
        """The offers under a tab (``None`` = all; reversed includes expired)."""
        if status is None:
            return self.offers
        return tuple(o for o in self.offers if o.status is status)


def _latest(values: Iterable[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def activity_sort_key(offer: Offer) -> tuple[int, float, float]:
    """History order: in-progress first by urgency (closest expiry), then newest activity.

    Activity is RevU's ``updated_at`` when it gave one, else the latest time the offer has.
    """
    latest = offer.updated_at or offer.last_activity_at
    last = latest.timestamp() if latest else 0.0
    if offer.state is OfferState.IN_PROGRESS:
        expiry = offer.expires_at.timestamp() if offer.expires_at else float("inf")
        return (0, expiry, -last)
    return (1, 0.0, -last)


__all__ = [
    "LOST_STATES",
    "Member",
    "Offer",
    "OfferState",
    "ProgressPage",
    "ProgressSummary",
    "RewardStatus",
    "SkippedOffer",
    "Step",
    "StepStatus",
    "UserProgress",
    "activity_sort_key",
    "split_reward_by_payouts",
]
