"""Pages read again with the same bytes reuse their validation, and still read as new.

The client keeps the validated pages of recent answers by a digest of their bytes (RevU's
per-request support reference left out), and their offers by what each raw offer says, so a
page that changed validates only its changed offers; these tests run over loopback against the
fake RevU, and on :class:`PageMemory` itself for what depends on the moment of reading and on
which offers are read again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import astuple
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from revu_widgets import RevUClient
from revu_widgets.fake import FAKE_API_KEY
from revu_widgets.fake.server import FakeServer
from revu_widgets.models import Offer, OfferState, ProgressPage, UserProgress
from revu_widgets.schemas import SUMMARY_FIELDS, complete_offers, parse_progress_page
from revu_widgets.upstream_http import PageMemory

MEMBER = "alex-42"


@pytest.fixture
def client(fake_revu_server: FakeServer) -> Iterator[RevUClient]:
    revu = RevUClient(FAKE_API_KEY, fake_revu_server.url, max_retries=0, deadline=10)
    yield revu
    revu.close()


def fresh_read(url: str) -> tuple[UserProgress, tuple[Offer, ...]]:
    """The member's history and its first five offers in full, read by a client with no memory."""
    fresh_client = RevUClient(FAKE_API_KEY, url, max_retries=0)
    try:
        fresh = fresh_client.get_all_progress(MEMBER, complete=False)
        return fresh, fresh_client.complete_offers(fresh.offers[:5])
    finally:
        fresh_client.close()


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
    _, fresh_shown = fresh_read(fake_revu_server.url)

    assert all(o.complete for o in shown_again)
    assert [o.as_of for o in shown_again] == [o.as_of for o in again.offers[:5]]
    assert [_content(o) for o in shown_again] == [_content(o) for o in fresh_shown]
    assert [_content(o) for o in shown_again] == [_content(o) for o in shown]


def _raw_offer(offer_id: int, **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "offer_id": offer_id,
        "name": f"Offer {offer_id}",
        "reward_status": 1,
        "total_user_reward": 100,
        "updated_at": "2026-11-10T08:00:00Z",
        "events": [{"event_id": 1, "name": "Install", "status": "completed"}],
    }
    raw.update(fields)
    return raw


class _Parser:
    """Validates raw offers as the client does, and notes which it was given."""

    def __init__(self, only: tuple[str, ...] | None, now: datetime) -> None:
        self.only = only
        self.now = now
        self.given: list[list[Any]] = []

    def __call__(self, raw_offers: list[Any]) -> ProgressPage:
        self.given.append(raw_offers)
        payload = {"status": "success", "total": len(raw_offers), "offers": raw_offers}
        return parse_progress_page(payload, now=self.now, only=self.only)


@pytest.mark.parametrize("only", [None, SUMMARY_FIELDS])
def test_a_changed_page_validates_only_the_offers_that_changed(
    only: tuple[str, ...] | None,
) -> None:
    memory = PageMemory(100)
    first_at = datetime(2026, 11, 11, tzinfo=UTC)
    raws = [_raw_offer(n) for n in range(1, 6)]
    memory.read(("first", only), raws, _Parser(only, first_at), now=first_at)

    later = first_at + timedelta(hours=1)
    changed = [*raws]
    changed[2] = _raw_offer(3, reward_status=4, updated_at="2026-11-11T00:30:00Z")
    parser = _Parser(only, later)
    page = memory.read(("second", only), changed, parser, now=later)

    assert parser.given == [[changed[2]]]
    fresh = _Parser(only, later)(changed)
    assert [_content(o) for o in page.offers] == [_content(o) for o in fresh.offers]
    assert [o.as_of for o in page.offers] == [later] * 5
    assert page.offers[2].state is OfferState.PENDING
    assert page.digest == "second"


@pytest.mark.parametrize(
    ("field", "first", "then"),
    [
        ("reward_status", 1, True),
        ("total_user_reward", 100, 100.0),
        ("total_user_reward", 100, "100"),
        ("name", "Offer 1", "Offer 1 "),
    ],
)
def test_an_offer_equal_only_by_python_equality_is_read_again(
    field: str, first: Any, then: Any
) -> None:
    # true == 1 == 1.0 in Python, but RevU sent something else: the schemas must judge it.
    memory = PageMemory(100)
    now = datetime(2026, 11, 11, tzinfo=UTC)
    memory.read(("a", None), [_raw_offer(1, **{field: first})], _Parser(None, now), now=now)
    again = [_raw_offer(1, **{field: then})]
    parser = _Parser(None, now)
    memory.read(("b", None), again, parser, now=now)
    assert parser.given == [again]


def test_skipped_and_degraded_offers_of_a_changed_page_keep_their_place_and_notes() -> None:
    memory = PageMemory(100)
    now = datetime(2026, 11, 11, tzinfo=UTC)
    bad_image = _raw_offer(2, image_url="javascript:alert(1)")
    no_id = {"name": "No id"}
    raws = [_raw_offer(1), bad_image, no_id, _raw_offer(4)]
    first = memory.read(("a", None), raws, _Parser(None, now), now=now)
    assert [s.index for s in first.skipped] == [2]
    assert first.dropped_urls == ((2, "image_url"),)

    changed = [*raws]
    changed[3] = _raw_offer(4, reward_status=4)
    parser = _Parser(None, now)
    page = memory.read(("b", None), changed, parser, now=now)

    # The clean, unchanged offer is reused; the degraded and the skipped one are read again,
    # so the page still says what was dropped and where the skipped offer was.
    assert parser.given == [[bad_image, no_id, changed[3]]]
    assert [o.offer_id for o in page.offers] == [1, 2, 4]
    assert [(s.index, s.field_paths) for s in page.skipped] == [
        (2, tuple(p for p in first.skipped[0].field_paths))
    ]
    assert page.dropped_urls == ((2, "image_url"),)
    assert page.offers[1].degraded == first.offers[1].degraded


def test_what_was_read_again_of_an_unchanged_offer_outlives_its_first_page() -> None:
    memory = PageMemory(100)
    now = datetime(2026, 11, 11, tzinfo=UTC)
    raws = [_raw_offer(n) for n in range(1, 4)]
    first = memory.read(("a", SUMMARY_FIELDS), raws, _Parser(SUMMARY_FIELDS, now), now=now)
    reads: list[int] = []

    def read_in_full(offers: Sequence[Offer]) -> tuple[Offer, ...]:
        reads.extend(o.offer_id for o in offers)
        return complete_offers(offers)

    memory.reread("full", first.offers, read_in_full)
    changed = [*raws[:2], _raw_offer(3, reward_status=4)]
    later = now + timedelta(minutes=5)
    second = memory.read(("b", SUMMARY_FIELDS), changed, _Parser(SUMMARY_FIELDS, later), now=later)
    # The first page is forgotten for good; its unchanged offers live on in the second.
    memory.keep(("a", SUMMARY_FIELDS), ProgressPage(offers=(), total=0, offset=0, limit=0))
    reads.clear()
    shown = memory.reread("full", second.offers, read_in_full)
    assert reads == [3]
    assert [o.as_of for o in shown] == [later] * 3
    assert all(o.complete for o in shown)
    assert [_content(o) for o in shown] == [_content(o) for o in complete_offers(second.offers)]


def test_a_history_read_after_a_postback_agrees_with_a_fresh_read(
    client: RevUClient, fake_revu_server: FakeServer
) -> None:
    first = client.get_all_progress(MEMBER, complete=False)
    client.complete_offers(first.offers[:5])
    fake_revu_server.app.advance(MEMBER)
    again = client.get_all_progress(MEMBER, complete=False)
    shown = client.complete_offers(again.offers[:5])
    fresh, fresh_shown = fresh_read(fake_revu_server.url)

    assert again.pages_digest != first.pages_digest
    assert [_content(o) for o in again.offers] == [_content(o) for o in fresh.offers]
    assert again.summary == fresh.summary
    assert [_content(o) for o in shown] == [_content(o) for o in fresh_shown]
