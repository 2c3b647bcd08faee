"""A long history's pages are asked for all at once once its length is known, and stay right.

The client remembers the ``total`` of recent walks; the next walk of the same history sends
every page in one round trip. These tests run over loopback against the fake RevU.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from revu_widgets import RevUClient
from revu_widgets.errors import RevUError
from revu_widgets.fake import FAKE_API_KEY, FakeRevU
from revu_widgets.fake.server import FakeServer


@pytest.fixture
def client(fake_revu_server: FakeServer) -> Iterator[RevUClient]:
    """A client of the fake with no retries."""
    revu = RevUClient(FAKE_API_KEY, fake_revu_server.url, max_retries=0, deadline=30)
    yield revu
    revu.close()


def _offers(count: int) -> list[dict[str, Any]]:
    return [{"offer_id": 1000 + i, "name": f"Offer {i}", "reward_status": 1} for i in range(count)]


def test_second_walk_of_a_long_history_takes_one_round_trip(
    client: RevUClient, fake_revu: FakeRevU
) -> None:
    fake_revu.set_offers("long-1", _offers(1200))
    client.get_all_progress("long-1")
    before = len(fake_revu.requests)
    # Every answer now waits an hour: all three pages can only arrive at the fake together if
    # none waited for another's answer (one round trip, not three).
    fake_revu.latency = 3600
    errors: list[BaseException] = []

    def walk() -> None:
        try:
            client.get_all_progress("long-1")
        except RevUError as error:
            errors.append(error)

    walker = threading.Thread(target=walk)
    walker.start()
    give_up = time.monotonic() + 30
    while len(fake_revu.requests) - before < 3:
        assert time.monotonic() < give_up, "the pages were not all asked for at once"
        time.sleep(0.01)
    offsets = sorted(int(r.query["offset"]) for r in fake_revu.requests[before:])
    assert offsets == [0, 500, 1000]
    fake_revu.latency = 0
    fake_revu.release()
    walker.join(30)
    assert not walker.is_alive()
    assert len(errors) == 1, "the walk cut short by the fake ends in the kit's error"

    before = len(fake_revu.requests)
    progress = client.get_all_progress("long-1")
    assert len(progress.offers) == 1200
    assert len(fake_revu.requests) - before == 3


def test_history_that_grew_since_the_last_walk_is_read_to_the_end(
    client: RevUClient, fake_revu: FakeRevU
) -> None:
    fake_revu.set_offers("growing-1", _offers(600))
    client.get_all_progress("growing-1")
    fake_revu.set_offers("growing-1", _offers(1300))
    before = len(fake_revu.requests)

    progress = client.get_all_progress("growing-1")

    assert len(progress.offers) == 1300
    assert not progress.truncated
    offsets = sorted(int(r.query["offset"]) for r in fake_revu.requests[before:])
    assert offsets == [0, 500, 1000]


def test_history_that_shrank_since_the_last_walk_keeps_only_current_offers(
    client: RevUClient, fake_revu: FakeRevU
) -> None:
    fake_revu.set_offers("shrinking-1", _offers(1200))
    client.get_all_progress("shrinking-1")
    fake_revu.set_offers("shrinking-1", _offers(300))

    progress = client.get_all_progress("shrinking-1")

    assert [o.offer_id for o in progress.offers] == [1000 + i for i in range(300)]
    assert progress.summary.total == 300
    assert not progress.skipped


def test_walks_of_different_filters_do_not_share_a_length(
    client: RevUClient, fake_revu: FakeRevU
) -> None:
    fake_revu.set_offers("filtered-1", _offers(1200))
    client.get_all_progress("filtered-1")
    before = len(fake_revu.requests)

    client.get_all_progress("filtered-1", reward_status=2)

    assert [r.query["offset"] for r in fake_revu.requests[before:]] == ["0"]
