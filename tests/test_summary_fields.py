"""A long history's counts, totals and order come from part of each offer (``only=``); they must
be exactly what reading every offer in full gives."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from revu_widgets.client import RevUClient
from revu_widgets.fake import FAKE_API_KEY, FakeRevU, FakeServer
from revu_widgets.models import Offer, activity_sort_key

pytestmark = pytest.mark.slow


@pytest.fixture
def client(fake_revu_server: FakeServer) -> Iterator[RevUClient]:
    revu = RevUClient(FAKE_API_KEY, base_url=fake_revu_server.url, deadline=20.0)
    yield revu
    revu.close()


def derived(offer: Offer) -> tuple[Any, ...]:
    return (
        offer.offer_id,
        offer.name,
        offer.state,
        offer.earned,
        offer.pending,
        offer.lost,
        offer.remaining,
        offer.possible,
        offer.is_overdue,
        offer.expected_credit_at,
        activity_sort_key(offer),
    )


def content(offer: Offer) -> dict[str, Any]:
    """Everything read from RevU (the moment it was read against aside: two walks differ)."""
    data = dataclasses.asdict(offer)
    del data["as_of"]
    return data


@pytest.mark.parametrize("user", ["heavy-1", "demo-42", "alex-7"])
def test_summary_from_part_of_each_offer_equals_the_full_reading(
    client: RevUClient, fake_revu: FakeRevU, user: str
) -> None:
    full = client.get_all_progress(user)
    light = client.get_all_progress(user, complete=False)
    assert light.summary == full.summary
    assert [derived(o) for o in light.offers] == [derived(o) for o in full.offers]
    # Most offers were read in part, and reading them in full gives the full reading.
    assert any(not o.complete for o in light.offers)
    completed = client.complete_offers(light.offers)
    assert all(o.complete for o in completed)
    assert [content(o) for o in completed] == [content(o) for o in full.offers]


def test_an_offer_the_summary_fields_cannot_decide_gets_its_steps_facts(
    client: RevUClient, fake_revu: FakeRevU
) -> None:
    # Status 3 with nothing at offer level saying reversed or expired: the steps decide.
    fake_revu.set_offers(
        "steps-decide",
        [
            {
                "offer_id": 5,
                "name": "Closed",
                "reward_status": 3,
                "total_user_reward": 10,
                "updated_at": "2026-11-01T00:00:00Z",
                "events": [{"event_id": 1, "name": "Deposit", "status": "revoked"}],
            }
        ],
    )
    progress = client.get_all_progress("steps-decide", complete=False)
    [offer] = progress.offers
    assert offer.state.value == "reversed"
    assert progress.summary.reversed == 1
    assert progress.summary.reversed_or_expired == 0
    # The steps' words were not read yet: shown, the offer is read in full.
    assert not offer.complete
    assert offer.steps[0].name == ""
    [shown] = client.complete_offers(progress.offers)
    assert shown.complete
    assert shown.steps[0].name == "Deposit"
    assert shown.state.value == "reversed"
