"""RevUClient over real HTTP, against the in-package fake RevU on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from revu_widgets.client import RevUClient
from revu_widgets.errors import (
    AuthenticationError,
    BadPayloadError,
    BannedError,
    RateLimitedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from revu_widgets.fake import FAKE_API_KEY, HEAVY_OFFER_COUNT, FakeRevU, FakeServer
from revu_widgets.models import OfferState, RewardStatus

pytestmark = pytest.mark.slow

USER = "demo-42"


@pytest.fixture
def client(fake_revu_server: FakeServer) -> Iterator[RevUClient]:
    # Generous limits: a 500-offer page on a machine busy with parallel test workers can take
    # seconds, and a retried page would change what these tests count. Tests of a hanging or
    # trickling RevU make their own client with short limits.
    revu = RevUClient(
        FAKE_API_KEY, base_url=fake_revu_server.url, timeout=(10.0, 10.0), deadline=30.0
    )
    yield revu
    revu.close()


def test_active_history_comes_back_validated_with_every_state(
    client: RevUClient, fake_revu: FakeRevU
) -> None:
    progress = client.get_all_progress(USER)
    assert len(progress.offers) == len(fake_revu.offers_for(USER))
    assert not progress.skipped
    states = {offer.state for offer in progress.offers}
    assert {OfferState.IN_PROGRESS, OfferState.PENDING, OfferState.CREDITED} <= states
    assert progress.support_id is not None
    [request] = fake_revu.requests
    assert request.key_source == "x-api-key"
    assert request.key_valid
    assert "api_key" not in request.query


def test_new_user_has_no_offers(client: RevUClient) -> None:
    progress = client.get_all_progress("new-1")
    assert progress.offers == ()
    assert progress.summary.total == 0


def test_heavy_history_is_paged_concurrently_and_complete(
    client: RevUClient, fake_revu: FakeRevU
) -> None:
    progress = client.get_all_progress("heavy-7")
    assert len(progress.offers) == HEAVY_OFFER_COUNT
    assert len({o.offer_id for o in progress.offers}) == HEAVY_OFFER_COUNT
    assert not progress.truncated
    offsets = sorted(int(r.query["offset"]) for r in fake_revu.requests)
    assert offsets == [0, 500, 1000]
    assert all(r.query["limit"] == "500" for r in fake_revu.requests)


def test_page_fetching_connections_are_reused_between_walks(
    client: RevUClient, fake_revu_server: FakeServer
) -> None:
    client.get_all_progress("heavy-7")
    after_first = fake_revu_server.connections
    client.get_all_progress("heavy-7")
    assert fake_revu_server.connections == after_first


def test_heavy_history_walk_stops_at_the_page_cap(client: RevUClient) -> None:
    progress = client.get_all_progress("heavy-7", page_size=100, max_pages=4)
    assert len(progress.offers) == 400
    assert progress.truncated


def test_status_filter_is_applied_upstream(client: RevUClient, fake_revu: FakeRevU) -> None:
    page = client.get_progress(USER, reward_status=RewardStatus.PENDING)
    assert page.offers
    assert all(o.status is RewardStatus.PENDING for o in page.offers)
    assert fake_revu.requests[-1].query["reward_status"] == "4"


def test_one_offer_by_id(client: RevUClient, fake_revu: FakeRevU) -> None:
    wanted = int(fake_revu.offers_for(USER)[1]["offer_id"])
    offer = client.get_offer(USER, wanted)
    assert offer is not None
    assert offer.offer_id == wanted
    assert fake_revu.requests[-1].query["offer_id"] == str(wanted)
    assert client.get_offer(USER, 1) is None


@pytest.mark.parametrize("user_id", ["a/b", "..admin", "x?y=1#z", "dots..", "sp ace", "%2F"])
def test_hostile_user_ids_reach_the_server_as_one_segment(
    client: RevUClient, fake_revu: FakeRevU, user_id: str
) -> None:
    client.get_progress(user_id)
    [request] = fake_revu.requests
    assert request.user_id == user_id
    assert request.path.count("/") == 5


def test_set_offers_with_hostile_data_is_contained(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.set_offers(
        "odd-1",
        [
            {"offer_id": 1, "name": "Good", "click_url": "javascript:alert(1)"},
            {"offer_id": 2, "name": "Bad", "events": {"not": "a list"}},
            "not an offer",
        ],
    )
    page = client.get_progress("odd-1")
    assert [o.offer_id for o in page.offers] == [1, 2]
    assert page.dropped_urls == ((1, "click_url"),)
    assert page.offers[1].degraded == ("events",)
    assert [(s.index, s.offer_id) for s in page.skipped] == [(2, None)]


def test_injected_503_is_retried_then_succeeds(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("status", status=503)
    page = client.get_progress(USER)
    assert page.offers
    assert [r.status for r in fake_revu.requests] == [503, 200]


def test_lasting_503_fails_after_bounded_retries(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("status", count=None, status=503)
    with pytest.raises(UpstreamUnavailableError, match="503"):
        client.get_progress(USER)
    assert len(fake_revu.requests) == 1 + client.max_retries


def test_hanging_upstream_times_out_within_the_deadline(
    fake_revu_server: FakeServer, fake_revu: FakeRevU
) -> None:
    fake_revu.add_fault("hang", count=None)
    revu = RevUClient(
        FAKE_API_KEY, base_url=fake_revu_server.url, timeout=(1.0, 0.3), max_retries=1
    )
    # The hang lasts an hour: an answer at all is the read timeout, once per try.
    with pytest.raises(UpstreamTimeoutError):
        revu.get_progress(USER)
    assert len(fake_revu.requests) == 2
    revu.close()


def test_slow_drip_body_is_cut_at_the_deadline(
    fake_revu_server: FakeServer, fake_revu: FakeRevU
) -> None:
    fake_revu.add_fault("slow_drip", count=None, bytes_per_second=200.0)
    revu = RevUClient(FAKE_API_KEY, base_url=fake_revu_server.url, timeout=5.0, deadline=1.0)
    # Bytes keep coming (no read timeout fires) and the whole body would take minutes: only
    # the deadline can end this with an error.
    with pytest.raises(UpstreamTimeoutError):
        revu.get_progress(USER)
    revu.close()


def test_short_retry_after_is_waited_out(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("status", status=429, headers={"Retry-After": "1"})
    started = time.monotonic()
    assert client.get_progress(USER).offers
    assert time.monotonic() - started >= 1.0
    assert len(fake_revu.requests) == 2


def test_long_retry_after_fails_fast(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("status", status=429, headers={"Retry-After": "30"})
    with pytest.raises(RateLimitedError) as caught:
        client.get_progress(USER)
    assert caught.value.retry_after == 30
    assert len(fake_revu.requests) == 1


def test_proxy_error_page_is_retried(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("non_json")
    assert client.get_progress(USER).offers


def test_non_json_success_is_a_bad_payload(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("non_json", status=200)
    with pytest.raises(BadPayloadError, match="not JSON"):
        client.get_progress(USER)


def test_truncated_json_is_a_bad_payload(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("truncated")
    with pytest.raises(BadPayloadError, match="not JSON"):
        client.get_progress(USER)


def test_body_cut_short_of_its_length_is_retried(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("truncated", honest_length=False)
    assert client.get_progress(USER).offers
    assert len(fake_revu.requests) == 2


def test_body_always_cut_short_is_a_bad_payload(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("truncated", count=None, honest_length=False)
    with pytest.raises(BadPayloadError, match="cut off"):
        client.get_progress(USER)


def test_dropped_connection_is_retried(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("drop")
    assert client.get_progress(USER).offers
    assert len(fake_revu.requests) == 2


def test_always_dropped_connection_is_unavailable(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("drop", count=None)
    with pytest.raises(UpstreamUnavailableError):
        client.get_progress(USER)


def test_empty_body_is_a_bad_payload(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("empty")
    with pytest.raises(BadPayloadError, match="empty"):
        client.get_progress(USER)


def test_huge_body_is_refused(client: RevUClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("huge", megabytes=40.0)
    with pytest.raises(BadPayloadError, match="larger"):
        client.get_progress(USER)


@pytest.mark.parametrize(
    ("variant", "paths"),
    [
        ("no_offers", ("offers",)),
        ("offers_object", ("offers",)),
        ("list", ("payload",)),
        ("total_text", ("total",)),
        ("not_success", ("status",)),
        ("string", ("payload",)),
    ],
)
def test_wrong_envelope_is_a_bad_payload_with_paths(
    client: RevUClient, fake_revu: FakeRevU, variant: str, paths: tuple[str, ...]
) -> None:
    fake_revu.add_fault("envelope", variant=variant)
    with pytest.raises(BadPayloadError) as caught:
        client.get_progress(USER)
    assert caught.value.field_paths == paths


def test_one_corrupt_offer_is_kept_without_its_bad_fields(
    client: RevUClient, fake_revu: FakeRevU
) -> None:
    clean = client.get_progress(USER)
    fake_revu.add_fault("bad_offer", index=1)
    page = client.get_progress(USER)
    assert not page.skipped
    assert [o.offer_id for o in page.offers] == [o.offer_id for o in clean.offers]
    assert page.offers[1].degraded == ("events", "started_at", "total_user_reward")


def test_banned_user(client: RevUClient) -> None:
    with pytest.raises(BannedError) as caught:
        client.get_progress("banned-3")
    assert caught.value.reason == "USER_BANNED"


def test_banned_ip(client: RevUClient) -> None:
    with pytest.raises(BannedError) as caught:
        client.get_progress(USER, ip="203.0.113.9")
    assert caught.value.reason == "IP_BANNED"


def test_wrong_key(fake_revu_server: FakeServer) -> None:
    revu = RevUClient("WRONGKEYWRONGKEY1234", base_url=fake_revu_server.url)
    with pytest.raises(AuthenticationError, match="REVU_API_KEY") as caught:
        revu.get_progress(USER)
    assert "WRONGKEYWRONGKEY1234" not in str(caught.value)
    revu.close()


def test_refused_connection_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    revu = RevUClient(FAKE_API_KEY, base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(UpstreamUnavailableError, match="could not be reached"):
        revu.get_progress(USER)
    revu.close()


def test_connections_are_kept_alive(
    client: RevUClient, fake_revu: FakeRevU, fake_revu_server: FakeServer
) -> None:
    for _ in range(5):
        client.get_progress(USER)
    assert fake_revu_server.connections == 1


def test_threads_share_one_client_safely(client: RevUClient, fake_revu: FakeRevU) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(lambda n: client.get_progress(f"user-{n}"), range(32)))
    assert all(page.total == len(page.offers) or page.offers for page in pages)
    assert len(fake_revu.requests) == 32
