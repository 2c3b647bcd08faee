"""The models' derived fields at their edges: boundaries, zero, defaults and sums of two.

Each test pins one rule of :mod:`revu_widgets.models` that a small change would break unnoticed
elsewhere (the overdue moment, a reward split that must add up, the tab counts, the order of
the history).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from revu_widgets.models import (
    Offer,
    OfferState,
    ProgressSummary,
    RewardStatus,
    Step,
    StepStatus,
    UserProgress,
    activity_sort_key,
    split_reward_by_payouts,
)

NOW = datetime(2026, 3, 18, 14, 30, tzinfo=UTC)
WINDOW = timedelta(days=30)


def offer(status: RewardStatus = RewardStatus.IN_PROGRESS, **fields: Any) -> Offer:
    fields.setdefault("offer_id", 1)
    fields.setdefault("name", "Offer")
    fields.setdefault("as_of", NOW)
    return Offer(status=status, **fields)


def step(status: StepStatus = StepStatus.NOT_STARTED, **fields: Any) -> Step:
    fields.setdefault("name", status.value)
    return Step(status=status, **fields)


# -- the next step, the last activity ---------------------------------------------------------


def test_next_step_skips_steps_that_can_no_longer_be_done() -> None:
    expired = step(StepStatus.EXPIRED)
    started_and_finished = step(StepStatus.IN_PROGRESS, completed_at=NOW - timedelta(days=1))
    open_step = step(StepStatus.NOT_STARTED, name="open")
    subject = offer(steps=(expired, started_and_finished, open_step))
    assert subject.next_step is open_step
    assert subject.steps_done == 1


def test_last_activity_is_the_offers_own_time_when_it_has_one() -> None:
    step_time = NOW - timedelta(days=1)
    subject = offer(
        updated_at=NOW - timedelta(days=5),
        steps=(step(StepStatus.COMPLETED, completed_at=step_time),),
    )
    assert subject.last_activity_at == NOW - timedelta(days=5)


def test_last_activity_falls_back_to_the_latest_step_time() -> None:
    subject = offer(
        steps=(
            step(StepStatus.COMPLETED, completed_at=NOW - timedelta(days=3)),
            step(StepStatus.CREDITED, credited_at=NOW - timedelta(days=2)),
            step(StepStatus.REVERSED, reversed_at=NOW - timedelta(days=4)),
        )
    )
    assert subject.last_activity_at == NOW - timedelta(days=2)
    assert offer().last_activity_at is None


# -- amounts ----------------------------------------------------------------------------------


def test_an_offer_without_any_reward_can_earn_zero_not_none() -> None:
    subject = offer(steps=(step(),))
    assert subject.reward_total is None
    assert not subject.reward_known
    assert (subject.possible, subject.remaining) == (Decimal(0), Decimal(0))
    assert isinstance(subject.possible, Decimal)


def test_a_zero_reward_is_known_and_counts_as_zero() -> None:
    subject = offer(RewardStatus.PENDING, steps=(step(StepStatus.PENDING, reward=Decimal(0)),))
    assert subject.reward_known
    assert subject.reward_total == Decimal(0)
    assert subject.pending == Decimal(0)


def test_summary_adds_up_two_offers_of_each_kind() -> None:
    offers = [
        offer(RewardStatus.PENDING, total_reward=Decimal(3)),
        offer(RewardStatus.PENDING, total_reward=Decimal(4)),
        offer(RewardStatus.CREDITED, total_reward=Decimal(5)),
        offer(RewardStatus.CREDITED, total_reward=Decimal(6)),
        offer(RewardStatus.REVERSED, total_reward=Decimal(7), user_completed=True),
        offer(RewardStatus.REVERSED, total_reward=Decimal(8), expires_at=NOW),
        offer(RewardStatus.IN_PROGRESS, total_reward=Decimal(9)),
        offer(RewardStatus.IN_PROGRESS, total_reward=Decimal(10)),
        offer(RewardStatus.UNKNOWN, total_reward=Decimal(11)),
    ]
    summary = ProgressSummary.from_offers(offers)
    assert (summary.pending_amount, summary.earned, summary.lost) == (7, 11, 15)
    assert summary.remaining == 9 + 10 + 11
    assert (summary.total, summary.pending, summary.credited) == (9, 2, 2)
    assert (summary.reversed, summary.expired, summary.unknown) == (1, 1, 1)
    assert summary.in_progress == 2


def test_tab_counts_per_status() -> None:
    offers = [
        offer(RewardStatus.PENDING),
        offer(RewardStatus.REVERSED),
        offer(RewardStatus.REVERSED, user_completed=True),
        offer(RewardStatus.UNKNOWN),
        offer(RewardStatus.UNKNOWN),
    ]
    summary = ProgressSummary.from_offers(offers)
    assert summary.count_for(None) == 5
    assert summary.count_for(RewardStatus.PENDING) == 1
    assert summary.count_for(RewardStatus.REVERSED) == 2
    assert summary.count_for(RewardStatus.UNKNOWN) == 2
    assert summary.count_for(RewardStatus.CREDITED) == 0
    assert summary.count_for(RewardStatus.IN_PROGRESS) == 0


def test_filtered_offers_are_those_of_the_status() -> None:
    pending, credited = offer(RewardStatus.PENDING), offer(RewardStatus.CREDITED, offer_id=2)
    summary = ProgressSummary.from_offers([pending, credited])
    progress = UserProgress(user_id="m", offers=(pending, credited), summary=summary)
    assert progress.filtered(None) == (pending, credited)
    assert progress.filtered(RewardStatus.PENDING) == (pending,)
    assert progress.filtered(RewardStatus.REVERSED) == ()


# -- reversed or expired, overdue ---------------------------------------------------------------


def test_code_3_expiring_exactly_now_is_expired() -> None:
    assert offer(RewardStatus.REVERSED, expires_at=NOW).state is OfferState.EXPIRED
    later = offer(RewardStatus.REVERSED, expires_at=NOW + timedelta(seconds=1))
    assert later.state is OfferState.REVERSED_OR_EXPIRED


def test_overdue_starts_just_after_the_expected_credit_moment() -> None:
    def pending(finished: datetime) -> Offer:
        return offer(RewardStatus.PENDING, credit_window=WINDOW, completed_at=finished)

    at_the_limit = pending(NOW - WINDOW)
    assert at_the_limit.expected_credit_at == NOW
    assert not at_the_limit.is_overdue
    assert pending(NOW - WINDOW - timedelta(seconds=1)).is_overdue


HOUR = timedelta(hours=1)

#: Offers whose derived fields depend on the moment, and some whose do not.
_MOMENT_OFFERS = {
    "code 3 expiring": offer(RewardStatus.REVERSED, expires_at=NOW + HOUR),
    "code 3 expiring, reversed step": offer(
        RewardStatus.REVERSED, expires_at=NOW + HOUR, steps=(step(StepStatus.REVERSED),)
    ),
    "code 3 expired": offer(RewardStatus.REVERSED, expires_at=NOW - HOUR),
    "code 3 completed": offer(RewardStatus.REVERSED, expires_at=NOW + HOUR, user_completed=True),
    "pending, due later": offer(
        RewardStatus.PENDING, credit_window=WINDOW, completed_at=NOW - WINDOW + HOUR
    ),
    "pending, overdue": offer(
        RewardStatus.PENDING, credit_window=WINDOW, completed_at=NOW - WINDOW - HOUR
    ),
    "pending, no window": offer(RewardStatus.PENDING, completed_at=NOW - WINDOW),
    "in progress, expiring": offer(expires_at=NOW + HOUR),
    "credited": offer(RewardStatus.CREDITED, total_reward=Decimal(5)),
}


@pytest.mark.parametrize("name", list(_MOMENT_OFFERS))
@pytest.mark.parametrize(
    "shift",
    [-HOUR, timedelta(0), timedelta(minutes=59), HOUR, HOUR + timedelta(seconds=1), 2 * HOUR],
)
def test_an_offer_read_at_another_moment_is_the_offer_derived_then(
    name: str, shift: timedelta
) -> None:
    earlier = _MOMENT_OFFERS[name]
    moment = NOW + shift
    moved = earlier.at(moment)
    assert moved == replace(earlier, as_of=moment)
    assert moved.as_of == moment
    assert earlier.as_of == NOW


def test_an_offer_knows_until_when_its_derived_fields_hold() -> None:
    assert _MOMENT_OFFERS["code 3 expiring"].stable_until == NOW + HOUR
    assert _MOMENT_OFFERS["pending, due later"].stable_until == NOW + HOUR
    assert _MOMENT_OFFERS["code 3 expired"].stable_until is None
    assert _MOMENT_OFFERS["pending, overdue"].stable_until is None
    assert _MOMENT_OFFERS["credited"].stable_until is None
    later = _MOMENT_OFFERS["code 3 expiring"].at(NOW + 2 * HOUR)
    assert later.state is OfferState.EXPIRED
    assert later.stable_until is None


def test_expected_credit_counts_from_the_offers_completion_first() -> None:
    completed, updated = NOW - timedelta(days=10), NOW - timedelta(days=2)
    subject = offer(
        RewardStatus.PENDING, credit_window=WINDOW, completed_at=completed, updated_at=updated
    )
    assert subject.expected_credit_at == completed + WINDOW
    alone = offer(RewardStatus.PENDING, credit_window=WINDOW, completed_at=completed)
    assert alone.expected_credit_at == completed + WINDOW


def test_expected_credit_from_steps_counts_only_pending_or_completed_steps() -> None:
    pending_done = NOW - timedelta(days=9)
    subject = offer(
        RewardStatus.PENDING,
        credit_window=WINDOW,
        steps=(
            step(StepStatus.PENDING, completed_at=pending_done),
            step(StepStatus.CREDITED, completed_at=NOW - timedelta(days=1)),
        ),
    )
    assert subject.expected_credit_at == pending_done + WINDOW


# -- the history's order ----------------------------------------------------------------------


def test_history_order_keys() -> None:
    expires, updated = NOW + timedelta(days=3), NOW - timedelta(days=1)
    in_progress = offer(expires_at=expires, updated_at=updated)
    assert activity_sort_key(in_progress) == (0, expires.timestamp(), -updated.timestamp())
    assert activity_sort_key(offer()) == (0, float("inf"), 0.0)
    finished = offer(RewardStatus.CREDITED, credited_at=updated)
    assert activity_sort_key(finished) == (1, 0.0, -updated.timestamp())
    newer = offer(RewardStatus.CREDITED, offer_id=2, credited_at=NOW)
    assert sorted([finished, newer, in_progress], key=activity_sort_key) == [
        in_progress,
        newer,
        finished,
    ]


# -- a step's share of the offer's reward -----------------------------------------------------


def shares(total: str | None, *steps: tuple[str | None, str | None]) -> list[str | None]:
    """The member's reward per step, given ``(reward, payout)`` per step."""
    given = [
        step(reward=None if r is None else Decimal(r), payout=None if p is None else Decimal(p))
        for r, p in steps
    ]
    split = split_reward_by_payouts(given, None if total is None else Decimal(total))
    for before, after in zip(given, split, strict=True):
        assert after.reward_is_share == (before.reward is None and after.reward is not None)
    return [None if s.reward is None else str(s.reward) for s in split]


@pytest.mark.parametrize(
    ("total", "steps", "expected"),
    [
        # Whole units: largest remainders get the units left over.
        ("10", [(None, "5"), (None, "1")], ["8", "2"]),
        ("10", [(None, "2"), (None, "1")], ["7", "3"]),
        ("10", [(None, "1"), (None, "1"), (None, "1")], ["4", "3", "3"]),
        ("3", [(None, "1"), (None, "1")], ["2", "1"]),
        # Cents when the part left is not whole.
        ("10.5", [(None, "1"), (None, "1")], ["5.25", "5.25"]),
        ("10.01", [(None, "1"), (None, "1")], ["5.01", "5.00"]),
        # Known rewards are taken off first.
        ("10", [("4", "9"), (None, "1")], ["4", "6"]),
        ("10.5", [("10", "1"), (None, "1")], ["10", "0.5"]),
        # Nothing left: a share of zero.
        ("5", [("5", "1"), (None, "1")], ["5", "0"]),
    ],
)
def test_reward_split_by_payouts_adds_up(
    total: str, steps: list[tuple[str | None, str | None]], expected: list[str]
) -> None:
    assert shares(total, *steps) == expected
    assert sum(Decimal(s) for s in expected) == Decimal(total)


@pytest.mark.parametrize(
    ("total", "steps"),
    [
        (None, [(None, "1")]),
        ("10", [(None, "0"), (None, "0")]),
        ("10", [(None, "1"), (None, None)]),
        ("10", [("11", "1"), (None, "1")]),
    ],
)
def test_reward_split_is_impossible_and_rewards_stay_unknown(
    total: str | None, steps: list[tuple[str | None, str | None]]
) -> None:
    assert shares(total, *steps) == [r for r, _ in steps]


def test_reward_split_leaves_known_rewards_alone() -> None:
    assert shares("10", ("4", "1"), ("6", "1")) == ["4", "6"]
