"""The claim clock and the image check: plain functions over the kit's models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from revu_widgets.claims import (
    ClaimPhase,
    ClaimPolicy,
    ClaimReason,
    claim_clock,
    sniff_image,
)
from revu_widgets.extension import DEFAULT_CONFIG
from revu_widgets.models import Offer, RewardStatus, Step, StepStatus

NOW = datetime(2026, 3, 18, 14, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def offer(status: RewardStatus, *steps: Step, **fields: object) -> Offer:
    return Offer(
        offer_id=7,
        name="Test offer",
        status=status,
        steps=steps,
        as_of=NOW,
        **fields,  # type: ignore[arg-type]
    )


def pending(finished: datetime, window: timedelta | None = timedelta(days=30)) -> Offer:
    step = Step("Start the trial", StepStatus.PENDING, reward=Decimal(2500), completed_at=finished)
    return offer(
        RewardStatus.PENDING,
        step,
        user_completed=True,
        credit_window=window,
        reporting="up to 30 days" if window else None,
    )


def test_pending_inside_its_crediting_time_waits_until_the_expected_date() -> None:
    item = pending(NOW - 10 * DAY)

    clock = claim_clock(item)

    assert clock.phase is ClaimPhase.WAIT
    assert clock.reason is ClaimReason.PENDING_WITHIN_WINDOW
    assert clock.opens_at == NOW + 20 * DAY == item.expected_credit_at
    assert clock.closes_at == clock.opens_at + timedelta(days=60)
    assert not clock.is_open


def test_pending_past_its_expected_date_is_open_as_overdue() -> None:
    clock = claim_clock(pending(NOW - 40 * DAY))

    assert clock.phase is ClaimPhase.OPEN
    assert clock.reason is ClaimReason.PENDING_OVERDUE
    assert clock.opens_at == NOW - 10 * DAY
    assert clock.closes_at == NOW + 50 * DAY
    assert clock.handled_by == "revu"


def test_pending_long_past_the_window_is_closed() -> None:
    clock = claim_clock(pending(NOW - 91 * DAY))

    assert clock.phase is ClaimPhase.CLOSED
    assert clock.closes_at == NOW - DAY


def test_pending_without_a_crediting_time_opens_after_the_pending_wait() -> None:
    clock = claim_clock(pending(NOW - 5 * DAY, window=None))

    assert clock.phase is ClaimPhase.WAIT
    assert clock.opens_at == NOW + 25 * DAY


def test_a_step_can_be_claimed_a_day_after_the_last_recorded_activity() -> None:
    done = Step("Install", StepStatus.CREDITED, credited_at=NOW - timedelta(hours=2))
    later = Step("Reach level 9", StepStatus.NOT_STARTED)

    recent = claim_clock(offer(RewardStatus.IN_PROGRESS, done, later))
    assert recent.phase is ClaimPhase.WAIT
    assert recent.reason is ClaimReason.STEP_NOT_RECORDED
    assert recent.opens_at == NOW + timedelta(hours=22)

    done = Step("Install", StepStatus.CREDITED, credited_at=NOW - timedelta(hours=30))
    older = claim_clock(offer(RewardStatus.IN_PROGRESS, done, later))
    assert older.phase is ClaimPhase.OPEN
    assert older.closes_at == NOW - timedelta(hours=6) + timedelta(days=60)


def test_reversed_is_open_at_once_as_a_dispute() -> None:
    revoked = Step(
        "Deposit",
        StepStatus.REVERSED,
        reward=Decimal(5000),
        completed_at=NOW - 5 * DAY,
        reversed_at=NOW - 3 * DAY,
        reason="Deposit charged back",
    )

    clock = claim_clock(offer(RewardStatus.REVERSED, revoked, user_completed=True))

    assert clock.phase is ClaimPhase.OPEN
    assert clock.reason is ClaimReason.REVERSED
    assert clock.is_dispute
    assert clock.opens_at == NOW - 3 * DAY


def credited(amount: int = 300) -> Offer:
    step = Step("Survey", StepStatus.CREDITED, reward=Decimal(amount), credited_at=NOW - 2 * DAY)
    return offer(RewardStatus.CREDITED, step, user_completed=True)


def test_credited_has_nothing_to_claim_without_a_ledger_or_when_it_agrees() -> None:
    assert claim_clock(credited()).phase is ClaimPhase.NONE
    agreed = claim_clock(credited(), site_credited=300)
    assert agreed.phase is ClaimPhase.NONE
    assert agreed.reason is ClaimReason.CREDITED
    assert agreed.site_credited == Decimal(300)


def test_credited_by_revu_but_missing_from_the_site_ledger_is_the_sites_problem() -> None:
    clock = claim_clock(credited(), site_credited=Decimal(100))

    assert clock.phase is ClaimPhase.OPEN
    assert clock.reason is ClaimReason.SITE_MISSING_CREDIT
    assert clock.handled_by == "site"
    assert clock.shortfall == Decimal(200)
    assert clock.opens_at == NOW - 2 * DAY
    assert clock.as_dict()["shortfall"] == 200
    # What the site owes has no RevU window: a year later it is still open.
    later = claim_clock(credited(), site_credited=Decimal(100), now=NOW + timedelta(days=365))
    assert later.phase is ClaimPhase.OPEN
    assert later.closes_at is None


def test_the_policy_comes_from_config_and_changes_the_clock() -> None:
    config = {**DEFAULT_CONFIG, "REVU_CLAIM_WINDOW_DAYS": 5, "REVU_CLAIM_STEP_WAIT_HOURS": 1}
    policy = ClaimPolicy.from_config(config)
    assert policy == ClaimPolicy(
        step_wait=timedelta(hours=1), pending_wait=timedelta(days=30), window=timedelta(days=5)
    )

    assert claim_clock(pending(NOW - 40 * DAY), policy).phase is ClaimPhase.CLOSED
    done = Step("Install", StepStatus.CREDITED, credited_at=NOW - timedelta(hours=2))
    assert claim_clock(offer(RewardStatus.IN_PROGRESS, done), policy).is_open


@pytest.mark.parametrize("value", [-1, "24", None, True, float("nan")])
def test_the_policy_refuses_values_that_are_not_non_negative_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="REVU_CLAIM_WINDOW_DAYS"):
        ClaimPolicy.from_config({**DEFAULT_CONFIG, "REVU_CLAIM_WINDOW_DAYS": value})


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(20), "image/png"),
        (b"\xff\xd8\xff\xe0" + bytes(20), "image/jpeg"),
        (b"GIF89a" + bytes(20), "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"MZ\x90\x00", None),
        (b"", None),
        (b"RIFF\x10\x00\x00\x00WAVE", None),
    ],
)
def test_images_are_recognised_by_their_content(data: bytes, kind: str | None) -> None:
    assert sniff_image(data) == kind
