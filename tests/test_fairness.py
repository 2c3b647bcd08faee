"""Bounds and fairness: a member with a very long history cannot hold other members back.

The client sends at most ``max_concurrent_requests`` upstream requests at once, and free
places go to the waiting walks in turn. With one place, the order RevU sees requests in is the
order the client let them go, so the test reads fairness from the fake's request log, not
from a clock.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask

from revu_widgets import RevUClient
from revu_widgets.fake import FAKE_API_KEY, FakeRevU, serve_in_thread
from revu_widgets.fake.server import FakeServer

from .conftest import HostFactory, header_user

HEAVY, LIGHT = "heavy-7", "alex-1"


def user_order(fake: FakeRevU) -> list[str]:
    return [str(r.user_id) for r in fake.requests]


def test_a_heavy_walk_does_not_starve_a_light_one(
    fake_revu: FakeRevU, fake_revu_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = RevUClient(
        FAKE_API_KEY, fake_revu_server.url, max_retries=0, deadline=60, max_concurrent_requests=1
    )
    fake_revu.latency = 0.01
    # How many requests RevU had seen when each light request asked for its place: what reaches
    # RevU after that, before the light request, is what the light walk waited behind. (Counted
    # from the asking, not from the light walk's previous request: on a busy machine reading a
    # page takes longer than a heavy request, and a walk that is not waiting has no turn.)
    asked_at: list[int] = []
    acquire = client._slots.acquire

    def noting_acquire(owner: str, deadline_at: float) -> bool:
        if LIGHT in owner:
            if asked_at:  # reading the light walk's first page was slow: heavy pages go on
                time.sleep(0.1)
            asked_at.append(len(fake_revu.requests))
        return acquire(owner, deadline_at)

    monkeypatch.setattr(client._slots, "acquire", noting_acquire)
    heavy = threading.Thread(
        target=client.get_all_progress, args=(HEAVY,), kwargs={"page_size": 10, "max_pages": 80}
    )
    heavy.start()
    give_up = time.monotonic() + 30
    while user_order(fake_revu).count(HEAVY) < 3:  # its pages are queued by now
        assert time.monotonic() < give_up
        time.sleep(0.005)
    light = client.get_all_progress(LIGHT, page_size=10)
    heavy.join(60)

    order = user_order(fake_revu)
    light_pages = -(-len(fake_revu.offers_for(LIGHT)) // 10)
    assert (
        order.count(LIGHT) == light_pages == len(light.offers) // 10 + (len(light.offers) % 10 > 0)
    )
    assert order.count(HEAVY) == 80
    sent_at = [i for i, user in enumerate(order) if user == LIGHT]
    assert len(asked_at) == len(sent_at) == light_pages
    # Each light request waits behind at most two heavy ones: the one holding the place when it
    # asked (it may reach RevU just after) and the one whose turn came first. A first-come queue
    # would put every heavy page queued before it (~75) in between.
    for asked, sent in zip(asked_at, sent_at, strict=True):
        assert order[asked:sent].count(HEAVY) <= 2, (asked, sent, order[asked : sent + 1])


class CountingFake(FakeRevU):
    """The fake RevU, noting the most requests it was answering at once."""

    def __init__(self) -> None:
        super().__init__()
        self._count_lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self._count_lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            return super().__call__(environ, start_response)
        finally:
            with self._count_lock:
                self.in_flight -= 1


def test_the_bound_holds_under_many_walks() -> None:
    fake = CountingFake()
    fake.latency = 0.02
    with serve_in_thread(fake) as server:
        client = RevUClient(
            FAKE_API_KEY, server.url, max_retries=0, deadline=60, max_concurrent_requests=2
        )
        members = [f"heavy-{i}" for i in range(3)] + [f"alex-{i}" for i in range(3)]
        threads = [
            threading.Thread(target=client.get_all_progress, args=(m,), kwargs={"page_size": 100})
            for m in members
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(fake.requests) >= 3 * 12 + 3  # the heavy walks' pages all ran
    assert fake.peak == 2


def test_the_page_cap_is_documented_and_reported(make_host: HostFactory) -> None:
    app: Flask = make_host(signed_in=header_user, REVU_MAX_PAGES=1, REVU_PAGE_SIZE=25)
    body = app.test_client().get("/rewards/api/progress", headers={"X-Test-User": HEAVY}).get_json()
    assert body["truncated"] is True
    assert body["total"] == 500  # one page of 500 offers, of the 1,200


def test_an_offer_beyond_the_page_cap_still_opens(
    make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    # The walk reads the first 500 offers; the offer page asks RevU for a later one by its id.
    app: Flask = make_host(signed_in=header_user, REVU_MAX_PAGES=1)
    client = app.test_client()
    headers = {"X-Test-User": HEAVY}
    listed = client.get("/rewards/api/progress", headers=headers).get_json()
    assert listed["truncated"] is True
    shown = {offer["offer_id"] for offer in listed["offers"]}
    beyond = fake_revu.offers_for(HEAVY)[-1]["offer_id"]
    assert beyond not in shown
    answer = client.get(f"/rewards/api/offers/{beyond}", headers=headers)
    assert answer.status_code == 200
    assert answer.get_json()["offer"]["offer_id"] == beyond
    missing = client.get("/rewards/api/offers/999999999", headers=headers)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "offer_not_found"


def test_a_waiter_that_gives_up_does_not_lose_the_place() -> None:
    from revu_widgets.client import _FairSlots

    slots = _FairSlots(1)
    assert slots.acquire("heavy", time.monotonic() + 5)
    assert not slots.acquire("light", time.monotonic() + 0.05)  # gave up waiting
    slots.release()
    assert slots.acquire("light", time.monotonic() + 5)  # the place came back, not leaked
    slots.release()
