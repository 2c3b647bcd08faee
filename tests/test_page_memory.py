"""Pages read again with the same bytes reuse their validation, and still read as new.

The client keeps the validated pages of recent answers by a digest of their bytes (RevU's
per-request support reference left out); these tests run over loopback against the fake RevU,
and on :class:`PageMemory` itself for what depends on the moment of reading.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import astuple
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from revu_widgets import RevUClient
from revu_widgets.fake import FAKE_API_KEY
from revu_widgets.fake.server import FakeServer
from revu_widgets.models import Offer, OfferState, ProgressPage
from revu_widgets.schemas import SUMMARY_FIELDS, parse_progress_page
from revu_widgets.upstream_http import PageMemory

MEMBER = "alex-42"


@pytest.fixture
def client(fake_revu_server: FakeServer) -> Iterator[RevUClient]:
    revu = RevUClient(FAKE_API_KEY, fake_revu_server.url, max_retries=0, deadline=10)
    yield revu
    revu.close()


def _content(offer: Offer) -> tuple[Any, ...]:
    # Everything an offer says except the moment it was read at.
    return tuple(value for value in astuple(offer) if value != offer.as_of)


@pytest.mark.parametrize("complete", [True, False])
def test_an_unchanged_history_read_again_is_what_a_fresh_read_gives(
    client: RevUClient, fake_revu_server: FakeServer, complete: bool
) -> None:
    first = client.get_all_progress(MEMBER, complete=complete)
    again = client.get_all_progress(MEMBER, complete=complete)
    fresh_client = RevUClient(FAKE_API_KEY, fake_revu_server.url, max_retries=0)
    try:
        fresh = fresh_client.get_all_progress(MEMBER, complete=complete)
    finally:
        fresh_client.close()

    assert again.pages_digest == first.pages_digest == fresh.pages_digest
    assert again.support_id not in (first.support_id, None)
    assert again.offers[0].as_of > first.offers[0].as_of
    assert [_content(o) for o in again.offers] == [_content(o) for o in fresh.offers]
    assert again.summary == fresh.summary


def test_a_changed_answer_is_read_anew(client: RevUClient, fake_revu_server: FakeServer) -> None:
    first = client.get_all_progress(MEMBER)
    fake_revu_server.app.advance(MEMBER)
    again = client.get_all_progress(MEMBER)
    assert again.pages_digest != first.pages_digest
    before = {o.offer_id: o for o in first.offers}
    after = {o.offer_id: o for o in again.offers}
    changed = [i for i in after if _content(after[i]) != _content(before[i])]
    assert len(changed) == 1


def _pending_page(now: datetime) -> ProgressPage:
    raw = {
        "offer_id": 7,
        "name": "Trial",
        "reward_status": 4,
        "total_user_reward": 100,
        "reporting": "up to 2 days",
        "updated_at": "2026-11-10T08:00:00Z",
        "completed_at": "2026-11-10T08:00:00Z",
    }
    payload = {"status": "success", "total": 1, "offers": [raw]}
    return parse_progress_page(payload, now=now, only=SUMMARY_FIELDS)


def test_a_remembered_page_is_judged_at_the_moment_it_is_read_again() -> None:
    memory = PageMemory(10)
    read_at = datetime(2026, 11, 11, tzinfo=UTC)
    page = _pending_page(read_at)
    assert not page.offers[0].is_overdue
    memory.keep(("digest", SUMMARY_FIELDS), page)

    later = read_at + timedelta(days=3)
    again = memory.recall(("digest", SUMMARY_FIELDS), now=later, support_id="ref-2")
    assert again is not None
    assert again.support_id == "ref-2"
    assert again.offers[0].as_of == later
    assert again.offers[0].state is OfferState.PENDING
    assert again.offers[0].is_overdue
    assert memory.recall(("digest", None), now=later, support_id=None) is None


def test_the_memory_forgets_the_least_recently_used_pages_beyond_its_room() -> None:
    memory = PageMemory(2)
    now = datetime(2026, 11, 11, tzinfo=UTC)
    for name in ("a", "b"):
        memory.keep((name, None), _pending_page(now))
    assert memory.recall(("a", None), now=now, support_id=None) is not None
    memory.keep(("c", None), _pending_page(now))
    assert memory.recall(("b", None), now=now, support_id=None) is None
    assert memory.recall(("a", None), now=now, support_id=None) is not None
    assert memory.recall(("c", None), now=now, support_id=None) is not None


def test_offers_read_again_for_the_screen_are_reused_and_still_agree(
    client: RevUClient, fake_revu_server: FakeServer
) -> None:
    first = client.get_all_progress(MEMBER, complete=False)
    shown = client.complete_offers(first.offers[:5])
    again = client.get_all_progress(MEMBER, complete=False)
    shown_again = client.complete_offers(again.offers[:5])
    fresh_client = RevUClient(FAKE_API_KEY, fake_revu_server.url, max_retries=0)
    try:
        fresh = fresh_client.get_all_progress(MEMBER, complete=False)
        fresh_shown = fresh_client.complete_offers(fresh.offers[:5])
    finally:
        fresh_client.close()

    assert all(o.complete for o in shown_again)
    assert [o.as_of for o in shown_again] == [o.as_of for o in again.offers[:5]]
    assert [_content(o) for o in shown_again] == [_content(o) for o in fresh_shown]
    assert [_content(o) for o in shown_again] == [_content(o) for o in shown]
