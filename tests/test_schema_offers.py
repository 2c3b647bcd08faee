"""The schemas of ``schemas/offers.py`` and the three reads of a long history, without a server.

A long history is read with :data:`SUMMARY_FIELDS` only (counts, totals, order), the offers
whose summary cannot decide their state get their steps' facts (:func:`read_step_facts`), and
the offers on screen are read in full (:func:`complete_offers`), or, on a support page, with
what a support card shows (:func:`read_for_support`). At each step a member (or the staff) must
see what one full read shows: the same state, amounts, dates, order and overdue flag.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import Schema, ValidationError

from revu_widgets.models import (
    Offer,
    OfferState,
    ProgressSummary,
    RewardStatus,
    StepStatus,
    activity_sort_key,
)
from revu_widgets.schemas import (
    MAX_OFFERS_PER_PAGE,
    MAX_STEPS_PER_OFFER,
    SUMMARY_FIELDS,
    complete_offer,
    complete_offers,
    parse_offer,
    parse_progress_page,
    read_envelope,
    read_for_support,
    read_step_facts,
)
from revu_widgets.schemas.offers import Steps, summary_values

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# One offer per way a summary field changes what the member sees.
HISTORY: list[dict[str, Any]] = [
    # In progress, with every summary field given.
    {
        "offer_id": 1,
        "name": "Dragon Realms",
        "reward_status": 1,
        "user_completed": False,
        "total_user_reward": 4200,
        "reporting": "up to 3 days",
        "updated_at": "2026-11-20T09:00:00Z",
        "expires_at": "2027-01-01T00:00:00Z",
        "events": [{"event_id": 1, "name": "Install", "user_reward": 50, "status": "credited"}],
    },
    # Pending and overdue: completed 10 days ago, credited "within 3 days".
    {
        "offer_id": 2,
        "name": "Cash Quest",
        "reward_status": 4,
        "user_completed": True,
        "total_user_reward": "12.5",
        "reporting": "1-3 days",
        "updated_at": "2026-11-21T09:00:00Z",
        "completed_at": "2026-11-21T08:00:00Z",
        "events": [{"event_id": 1, "name": "Deposit", "status": "pending"}],
    },
    # Pending, not overdue: the credit window runs from completed_at, not updated_at.
    {
        "offer_id": 3,
        "reward_status": 4,
        "user_completed": True,
        "total_user_reward": 7,
        "reporting": "up to 30 days",
        "updated_at": "2026-11-30T09:00:00Z",
        "completed_at": "2026-11-29T00:00:00Z",
    },
    # Credited.
    {
        "offer_id": 4,
        "name": "Puzzle Garden",
        "reward_status": 2,
        "user_completed": True,
        "total_user_reward": 900,
        "updated_at": "2026-10-01T00:00:00Z",
        "completed_at": "2026-09-30T00:00:00Z",
    },
    # Status 3, user_completed: reversed without reading the steps.
    {
        "offer_id": 5,
        "name": "Reversed",
        "reward_status": 3,
        "user_completed": True,
        "total_user_reward": 30,
        "updated_at": "2026-11-02T00:00:00Z",
    },
    # Status 3, expires_at passed: expired without reading the steps.
    {
        "offer_id": 6,
        "name": "Expired",
        "reward_status": 3,
        "total_user_reward": 40,
        "updated_at": "2026-11-03T00:00:00Z",
        "expires_at": "2026-11-15T00:00:00Z",
    },
    # Status 3 and nothing at offer level: the steps decide (a revoked step).
    {
        "offer_id": 7,
        "name": "Steps decide",
        "reward_status": 3,
        "total_user_reward": 10,
        "updated_at": "2026-11-04T00:00:00Z",
        "events": [{"event_id": 1, "name": "Deposit", "status": "revoked", "reason": "Fraud"}],
    },
    # No total: the steps' rewards are the amount.
    {
        "offer_id": 8,
        "name": "Step rewards",
        "reward_status": 1,
        "updated_at": "2026-11-05T00:00:00Z",
        "events": [
            {"event_id": 1, "name": "One", "user_reward": 2, "status": "credited"},
            {"event_id": 2, "name": "Two", "user_reward": 3, "status": ""},
        ],
    },
    # No updated_at: the steps' times place it in the history.
    {
        "offer_id": 9,
        "name": "Step times",
        "reward_status": 4,
        "total_user_reward": 5,
        "reporting": "24 hours",
        "events": [{"event_id": 1, "status": "completed", "completed_at": "2026-11-28T00:00:00Z"}],
    },
]


def seen(offer: Offer) -> tuple[Any, ...]:
    """What a member sees of an offer in a list: its words, amounts, dates and place."""
    return (
        offer.offer_id,
        offer.name,
        offer.state,
        offer.earned,
        offer.pending,
        offer.lost,
        offer.remaining,
        offer.possible,
        offer.user_completed,
        offer.completed_at,
        offer.updated_at,
        offer.expires_at,
        offer.is_overdue,
        offer.expected_credit_at,
        activity_sort_key(offer),
    )


def full_read() -> tuple[Offer, ...]:
    payload = {"status": "success", "total": len(HISTORY), "offers": HISTORY}
    return parse_progress_page(payload, now=NOW).offers


def summary_read() -> tuple[Offer, ...]:
    payload = {"status": "success", "total": len(HISTORY), "offers": HISTORY}
    return parse_progress_page(payload, now=NOW, only=SUMMARY_FIELDS).offers


def test_the_history_covers_every_state_and_both_kinds_of_pending() -> None:
    full = full_read()
    assert [o.state for o in full] == [
        OfferState.IN_PROGRESS,
        OfferState.PENDING,
        OfferState.PENDING,
        OfferState.CREDITED,
        OfferState.REVERSED,
        OfferState.EXPIRED,
        OfferState.REVERSED,
        OfferState.IN_PROGRESS,
        OfferState.PENDING,
    ]
    assert [o.is_overdue for o in full] == [False, True, False] + [False] * 5 + [True]
    assert full[2].name == "Offer 3"


def test_offers_the_summary_can_decide_are_shown_as_a_full_read_shows_them() -> None:
    light = summary_read()
    assert all(not o.complete and o.steps == () for o in light)
    decided = [
        (lo, fo) for lo, fo in zip(light, full_read(), strict=True) if lo.summary_without_steps
    ]
    assert [lo.offer_id for lo, _ in decided] == [1, 2, 3, 4, 5, 6]
    assert [seen(lo) for lo, _ in decided] == [seen(fo) for _, fo in decided]


def test_step_facts_make_every_offer_look_as_in_a_full_read() -> None:
    light = summary_read()
    undecided = [o for o in light if not o.summary_without_steps]
    assert [o.offer_id for o in undecided] == [7, 8, 9]
    facts = {o.offer_id: o for o in read_step_facts(undecided)}
    after = [facts.get(o.offer_id, o) for o in light]
    full = full_read()
    assert [seen(o) for o in after] == [seen(o) for o in full]
    assert ProgressSummary.from_offers(after) == ProgressSummary.from_offers(full)
    # The steps' words are still unread, and the offers still incomplete.
    step = facts[7].steps[0]
    assert (step.status, step.name, step.reason) == (StepStatus.REVERSED, "", None)
    assert not any(o.complete for o in facts.values())


def test_completing_any_read_gives_the_full_read() -> None:
    full = full_read()
    light = summary_read()
    assert complete_offers(light) == full
    facts = read_step_facts(light)
    assert complete_offers(facts) == full
    assert complete_offer(light[6]) == full[6]
    assert all(o.complete and o.source is None for o in complete_offers(facts))


# What a support card shows of an offer: its place in the list and everything about its
# progress, not what only a member's own pages show (texts, category, image, link).
STAFF_VIEW: dict[str, Any] = {
    "offer_id": 10,
    "name": "Space Miner",
    "headline": "Mine 100 asteroids",
    "description": "Install and play.",
    "requirements": "New players only.",
    "terms": "One per household.",
    "category": "Games",
    "image_url": "https://img.example/10.png",
    "click_url": "https://click.example/10",
    "in_progress": False,
    "reward_status": 3,
    "user_completed": True,
    "total_user_reward": 500,
    "payout": 1.25,
    "reporting": "up to 7 days",
    "started_at": "2026-11-01T00:00:00Z",
    "updated_at": "2026-11-06T00:00:00Z",
    "completed_at": "2026-11-05T00:00:00Z",
    "credited_at": "2026-11-05T12:00:00Z",
    "reason": "Chargeback",
    "events": [
        {"event_id": "e1", "name": "Install", "payout": 0.25, "status": "credited",
         "completed_at": "2026-11-01T10:00:00Z", "credited_at": "2026-11-02T10:00:00Z"},
        {"event_id": "e2", "name": "Level 20", "payout": 1, "status": "reversed",
         "completed_at": "2026-11-04T10:00:00Z", "reversed_at": "2026-11-06T00:00:00Z",
         "reason": "Fraud check"},
    ],
}  # fmt: skip


def on_a_support_card(offer: Offer) -> tuple[Any, ...]:
    # Everything about each step but its id (which no card shows).
    steps = [dataclasses.replace(s, step_id=None) for s in offer.steps]
    next_step = offer.next_step and dataclasses.replace(offer.next_step, step_id=None)
    return (
        *seen(offer),
        offer.payout,
        offer.reporting,
        offer.started_at,
        offer.credited_at,
        offer.last_activity_at,
        offer.reversal_reason,
        next_step,
        steps,
    )


def test_a_support_card_shows_what_a_full_read_shows() -> None:
    history = [*HISTORY, STAFF_VIEW]
    payload = {"status": "success", "total": len(history), "offers": history}
    full = parse_progress_page(payload, now=NOW).offers
    light = parse_progress_page(payload, now=NOW, only=SUMMARY_FIELDS).offers
    for read in (light, read_step_facts(light)):
        cards = read_for_support(read)
        assert [on_a_support_card(o) for o in cards] == [on_a_support_card(o) for o in full]
        # The member's texts, image and link, and the steps' ids, were not read ...
        assert not any(o.complete for o in cards)
        assert (cards[-1].headline, cards[-1].image_url, cards[-1].click_url) == (None,) * 3
        assert [s.step_id for s in cards[-1].steps] == [None, None]
        # ... until a page that shows them reads the offer in full.
        assert complete_offers(cards) == full


def test_a_support_card_validates_what_it_reads() -> None:
    raw = {
        **STAFF_VIEW,
        "payout": -1,
        "started_at": "last week",
        "image_url": "javascript:alert(1)",
        "events": [{"name": "Ins\u202etall", "user_reward": "lots", "status": "credited"}],
    }
    payload = {"status": "success", "total": 1, "offers": [raw]}
    [light] = parse_progress_page(payload, now=NOW, only=SUMMARY_FIELDS).offers
    [card] = read_for_support([light])
    credited = datetime(2026, 11, 5, 12, tzinfo=UTC)
    assert (card.payout, card.started_at, card.credited_at) == (None, None, credited)
    [step] = card.steps
    assert (step.name, step.reward, step.status) == ("Install", None, StepStatus.CREDITED)
    # What was left out is listed; the image was not read for the card, so not judged yet.
    assert card.degraded == ("events.0.user_reward", "payout", "started_at")
    [shown] = complete_offers([card])
    assert shown.degraded == ("events.0.user_reward", "image_url", "payout", "started_at")


def test_summary_values_are_what_the_summary_fields_read() -> None:
    [pending] = [o for o in full_read() if o.offer_id == 2]
    assert summary_values(pending) == {
        "offer_id": 2,
        "name": "Cash Quest",
        "reward_status": RewardStatus.PENDING,
        "user_completed": True,
        "total_user_reward": Decimal("12.5"),
        "reporting": "1-3 days",
        "updated_at": datetime(2026, 11, 21, 9, tzinfo=UTC),
        "completed_at": datetime(2026, 11, 21, 8, tzinfo=UTC),
        "expires_at": None,
    }
    assert set(summary_values(pending)) == set(SUMMARY_FIELDS)
    # A name made up from the id ("Offer 3") is not a name read from RevU.
    [unnamed] = [o for o in full_read() if o.offer_id == 3]
    assert set(summary_values(unnamed)) == set(SUMMARY_FIELDS) - {"name"}


# -- the fields of offers.py ----------------------------------------------------------------------


def test_steps_field_reads_a_list_of_steps_and_nothing_else() -> None:
    schema = Schema.from_dict({"steps": Steps(data_key="events")})()
    assert schema.load({}) == {"steps": ()}
    assert schema.load({"events": None}) == {"steps": None}
    [step] = schema.load({"events": [{"name": "Install", "status": "paid"}]})["steps"]
    assert (step.name, step.status, step.status_label) == ("Install", StepStatus.CREDITED, "paid")
    for wrong in ({"name": "Install"}, "Install"):
        with pytest.raises(ValidationError) as caught:
            schema.load({"events": wrong})
        assert caught.value.messages == {"events": ["Invalid type."]}


def test_an_offer_keeps_exactly_the_largest_number_of_steps() -> None:
    steps = [{"event_id": i, "name": f"Step {i}"} for i in range(MAX_STEPS_PER_OFFER)]
    offer = parse_offer({"offer_id": 1, "events": steps}, now=NOW)
    assert offer.steps_total == MAX_STEPS_PER_OFFER
    assert offer.degraded == ()
    too_many = parse_offer({"offer_id": 1, "events": [*steps, {}]}, now=NOW)
    assert (too_many.steps, too_many.degraded) == ((), ("events",))


def test_an_answer_holds_exactly_the_largest_number_of_offers() -> None:
    offers = [{"offer_id": i} for i in range(MAX_OFFERS_PER_PAGE)]
    payload = {"status": "success", "total": MAX_OFFERS_PER_PAGE, "offers": offers}
    assert len(read_envelope(payload)["offers"]) == MAX_OFFERS_PER_PAGE


def test_the_envelope_read_whole() -> None:
    payload = {
        "status": " Success ",
        "total": "2",
        "offers": [{"offer_id": 1}, "not an offer"],
        "offset": 0,
        "limit": 2.0,
        "support_id": "req-1",
        "affiliate_id": 77,
        # null is the same as absent; names the kit does not know are not read.
        "wall_id": None,
        "extra": "ignored",
    }
    assert read_envelope(payload) == {
        "status": "success",
        "total": 2,
        "offers": [{"offer_id": 1}, "not an offer"],
        "offset": 0,
        "limit": 2,
        "support_id": "req-1",
        "publisher_id": "77",
    }
