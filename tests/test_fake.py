"""The fake RevU, exercised over real HTTP on loopback with ``requests``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import requests

from revu_widgets.errors import InvalidRequestError, OfferNotFoundError
from revu_widgets.fake import (
    ENVELOPE_VARIANTS,
    FAKE_API_KEY,
    FAULT_KINDS,
    HEAVY_OFFER_COUNT,
    FakeRevU,
    FakeServer,
    serve_in_thread,
)
from revu_widgets.fake.data import generate_offers, window_for
from revu_widgets.fake.dialects import speak_offer

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def progress_url(server: FakeServer, user_id: str) -> str:
    return f"{server.url}/api/v1/users/{quote(user_id, safe='')}/getprogress"


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.headers["X-API-Key"] = FAKE_API_KEY
        yield http


@pytest.fixture
def fake(fake_revu_server: FakeServer) -> FakeRevU:
    assert isinstance(fake_revu_server.app, FakeRevU)
    return fake_revu_server.app


def get(
    http: requests.Session, server: FakeServer, user_id: str = "demo-42", **params: object
) -> requests.Response:
    return http.get(progress_url(server, user_id), params=params, timeout=10)


# -- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "params", "source"),
    [
        ({"X-API-Key": FAKE_API_KEY}, {}, "x-api-key"),
        ({"Authorization": f"ApiKey {FAKE_API_KEY}"}, {}, "authorization-apikey"),
        ({"Authorization": f"Bearer {FAKE_API_KEY}"}, {}, "authorization-bearer"),
        ({}, {"api_key": FAKE_API_KEY}, "query"),
    ],
)
def test_key_is_accepted_in_every_documented_place(
    fake_revu_server: FakeServer,
    fake: FakeRevU,
    headers: dict[str, str],
    params: dict[str, str],
    source: str,
) -> None:
    response = requests.get(
        progress_url(fake_revu_server, "demo-42"), headers=headers, params=params, timeout=10
    )
    assert response.status_code == 200
    assert response.json()["status"] == "success"
    (record,) = fake.requests
    assert record.key_source == source
    assert record.key_valid
    assert record.key_header is (source != "query")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "wrong-key-0000000000"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {FAKE_API_KEY}"},
        {"X-API-Key": ""},
    ],
)
def test_missing_or_wrong_key_is_401_invalid_api_key(
    fake_revu_server: FakeServer, headers: dict[str, str]
) -> None:
    response = requests.get(progress_url(fake_revu_server, "demo-42"), headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_API_KEY"
    assert response.json()["status"] == "error"


def test_a_custom_key_replaces_the_default(session: requests.Session) -> None:
    with serve_in_thread(FakeRevU("another-key-12345678")) as server:
        assert get(session, server).status_code == 401
        response = session.get(
            progress_url(server, "demo-42"),
            headers={"X-API-Key": "another-key-12345678"},
            timeout=10,
        )
        assert response.status_code == 200


def test_recorded_requests_never_hold_the_key_value(
    fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    requests.get(
        progress_url(fake_revu_server, "demo-42"),
        params={"api_key": FAKE_API_KEY, "limit": 5},
        timeout=10,
    )
    requests.get(
        progress_url(fake_revu_server, "demo-42"),
        headers={"Authorization": f"Bearer {FAKE_API_KEY}"},
        timeout=10,
    )
    printable = repr(fake.requests) + repr(fake) + json.dumps([r.as_json() for r in fake.requests])
    assert FAKE_API_KEY not in printable
    assert fake.requests[0].query == {"api_key": "<redacted>", "limit": "5"}
    assert fake.requests[1].headers["Authorization"] == "<redacted>"
    control = requests.get(
        f"{fake_revu_server.url}/_fake/requests", headers={"X-API-Key": FAKE_API_KEY}, timeout=10
    )
    assert FAKE_API_KEY not in control.text


# -- envelope, paging, filters --------------------------------------------------------------


def test_envelope_carries_ids_totals_and_a_fresh_support_id_per_request(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    first = get(session, fake_revu_server, limit=5, offset=2).json()
    second = get(session, fake_revu_server, limit=5, offset=2).json()
    assert first["status"] == "success"
    assert isinstance(first["publisher_id"], int)
    assert isinstance(first["wall_id"], int)
    assert (first["offset"], first["limit"]) == (2, 5)
    assert len(first["offers"]) == 5
    assert 12 <= first["total"] <= 20
    assert first["support_id"] != second["support_id"]
    assert first["offers"] == second["offers"]


def test_default_limit_is_100(session: requests.Session, fake_revu_server: FakeServer) -> None:
    body = get(session, fake_revu_server, "heavy-1").json()
    assert body["limit"] == 100
    assert len(body["offers"]) == 100
    assert body["total"] == HEAVY_OFFER_COUNT


def test_paging_walks_every_offer_of_a_heavy_user_exactly_once(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    seen: list[int] = []
    offset, total = 0, None
    while total is None or offset < total:
        body = get(session, fake_revu_server, "heavy-7", limit=500, offset=offset).json()
        total = body["total"]
        seen.extend(o["offer_id"] for o in body["offers"])
        offset += 500
    assert total == HEAVY_OFFER_COUNT
    assert len(seen) == len(set(seen)) == HEAVY_OFFER_COUNT
    past_the_end = get(session, fake_revu_server, "heavy-7", offset=5000).json()
    assert past_the_end["offers"] == []
    assert past_the_end["total"] == HEAVY_OFFER_COUNT


@pytest.mark.parametrize("code", [1, 2, 3, 4])
def test_reward_status_filter_returns_only_that_status(
    session: requests.Session, fake_revu_server: FakeServer, code: int
) -> None:
    everything = get(session, fake_revu_server, "heavy-2", limit=500).json()["total"]
    body = get(session, fake_revu_server, "heavy-2", reward_status=code, limit=500).json()
    assert 0 < body["total"] < everything
    assert {o["reward_status"] for o in body["offers"]} == {code}


def test_status_filters_partition_the_history(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    total = get(session, fake_revu_server).json()["total"]
    parts = [get(session, fake_revu_server, reward_status=c).json()["total"] for c in (1, 2, 3, 4)]
    assert sum(parts) == total


def test_offer_id_returns_only_that_offer(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    offers = get(session, fake_revu_server).json()["offers"]
    wanted = offers[3]
    body = get(session, fake_revu_server, offer_id=wanted["offer_id"]).json()
    assert body["total"] == 1
    assert body["offers"] == [wanted]
    assert get(session, fake_revu_server, offer_id=1).json() | {"support_id": 0} == {
        **body,
        "support_id": 0,
        "total": 0,
        "offers": [],
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", "501"),
        ("limit", "ten"),
        ("limit", "-1"),
        ("limit", "1e2"),
        ("limit", ""),
        ("offset", "-1"),
        ("offset", "1.5"),
        ("offer_id", "abc"),
        ("offer_id", "0"),
        ("reward_status", "0"),
        ("reward_status", "5"),
        ("ip", "999.1.1.1"),
        ("ip", "::1"),
        ("ip", "localhost"),
        ("country", "USA"),
        ("country", "1A"),
        ("sid3", "x" * 256),
    ],
)
def test_invalid_parameter_is_400_naming_it(
    session: requests.Session, fake_revu_server: FakeServer, name: str, value: str
) -> None:
    response = get(session, fake_revu_server, **{name: value})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_PARAMETER"
    assert body["parameter"] == name
    assert name in body["message"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 1},
        {"limit": 500},
        {"offset": 0},
        {"reward_status": 4},
        {"ip": "198.51.100.7"},
        {"country": "us"},
        {"sid3": "session-abc"},
        {"click_source": 3},
    ],
)
def test_valid_parameters_are_accepted(
    session: requests.Session, fake_revu_server: FakeServer, params: dict[str, object]
) -> None:
    assert get(session, fake_revu_server, **params).status_code == 200


def test_sid3_and_country_are_echoed_encoded_into_click_urls(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    plain = get(session, fake_revu_server).json()["offers"]
    tagged = get(session, fake_revu_server, sid3="s&x=<1>", country="de").json()["offers"]
    for before, after in zip(plain, tagged, strict=True):
        assert after["click_url"] == before["click_url"] + "&sid3=s%26x%3D%3C1%3E&country=DE"


def test_banned_user_is_403_user_banned(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    response = get(session, fake_revu_server, "banned-77")
    assert response.status_code == 403
    assert response.json()["code"] == "USER_BANNED"


def test_ip_in_the_banned_test_network_is_403_ip_banned(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    response = get(session, fake_revu_server, ip="203.0.113.9")
    assert response.status_code == 403
    assert response.json()["code"] == "IP_BANNED"


def test_new_user_has_no_offers(session: requests.Session, fake_revu_server: FakeServer) -> None:
    body = get(session, fake_revu_server, "new-5").json()
    assert (body["status"], body["total"], body["offers"]) == ("success", 0, [])


def test_unknown_path_is_404_and_other_methods_405(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    assert session.get(f"{fake_revu_server.url}/api/v1/users/x", timeout=10).status_code == 404
    response = session.post(progress_url(fake_revu_server, "demo-42"), timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


def test_latency_delays_every_answer(session: requests.Session) -> None:
    with serve_in_thread(FakeRevU(latency=0.3)) as server:
        started = time.monotonic()
        assert get(session, server).status_code == 200
        assert time.monotonic() - started >= 0.3


# -- the data -----------------------------------------------------------------------------


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@pytest.mark.parametrize("user_id", ["demo-42", "alice", "user-1", "12345", "z"])
def test_active_user_history_covers_every_state(user_id: str) -> None:
    offers = generate_offers(user_id, NOW)
    assert 12 <= len(offers) <= 20

    def steps(offer: dict[str, object]) -> list[str]:
        return [e["status"] for e in offer["events"]]  # type: ignore[attr-defined,index]

    in_progress = [o for o in offers if o["reward_status"] == 1]
    assert any(
        len(o["events"]) >= 3 and "" in steps(o) and set(steps(o)) - {""} for o in in_progress
    ), "a multi-step offer part-way through"
    pending = [o for o in offers if o["reward_status"] == 4]
    overdue = [
        o
        for o in pending
        if _parse(o["events"][-1]["completed_at"]) + window_for(o["reporting"]) < NOW  # type: ignore[operator]
    ]
    assert overdue, "a pending offer past its reporting window"
    assert len(overdue) < len(pending), "a pending offer still within its window"
    assert any(o["reward_status"] == 2 for o in offers)
    reversed_ = [o for o in offers if o["reward_status"] == 3 and "revoked" in steps(o)]
    assert reversed_
    assert all(any(e.get("reason") for e in o["events"]) for o in reversed_)
    expired = [o for o in offers if o["reward_status"] == 3 and "expired" in steps(o)]
    assert expired
    assert all(_parse(o["expires_at"]) < NOW for o in expired)
    assert max(len(o["events"]) for o in offers) <= 6


def test_generated_offers_look_like_revu_payloads() -> None:
    offers = generate_offers("demo-42", NOW)
    assert len({o["offer_id"] for o in offers}) == len(offers)
    assert len({o["name"] for o in offers}) == len(offers)
    for offer in offers:
        assert offer["image_url"].startswith("https://")
        assert offer["click_url"].startswith("https://")
        assert offer["total_user_reward"] == sum(e["user_reward"] for e in offer["events"])
        assert [e["event_id"] for e in offer["events"]] == list(range(1, len(offer["events"]) + 1))
        assert _parse(offer["updated_at"]) <= NOW
        for event in offer["events"]:
            for name in ("completed_at", "credited_at", "reversed_at"):
                if event.get(name):
                    assert _parse(event[name]) <= NOW
    updated = [o["updated_at"] for o in offers]
    assert updated == sorted(updated, reverse=True), "newest activity first"


def test_data_is_the_same_in_another_process() -> None:
    here = generate_offers("determinism-check", NOW)
    script = (
        "import json, sys; from datetime import datetime, UTC;"
        "from revu_widgets.fake.data import generate_offers;"
        "now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC);"
        "sys.stdout.write(json.dumps(generate_offers('determinism-check', now)))"
    )
    there = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        check=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert json.loads(there.stdout) == here


def test_data_follows_the_clock_it_is_given() -> None:
    later = generate_offers("demo-42", NOW + timedelta(days=3))
    earlier = generate_offers("demo-42", NOW)
    assert [o["offer_id"] for o in later] == [o["offer_id"] for o in earlier]
    shifted = _parse(later[0]["started_at"]) - _parse(earlier[0]["started_at"])
    assert shifted == timedelta(days=3)


def test_different_users_get_different_histories() -> None:
    assert generate_offers("alice", NOW) != generate_offers("bob", NOW)


def test_heavy_history_generates_every_offer_once() -> None:
    # How fast it generates is the machine's business (bench/), not a test's.
    offers = generate_offers("heavy-speed", NOW)
    assert len(offers) == HEAVY_OFFER_COUNT
    assert len({offer["offer_id"] for offer in offers}) == HEAVY_OFFER_COUNT


def test_default_clock_is_the_start_of_the_utc_day() -> None:
    assert FakeRevU().now == datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert FakeRevU(now=datetime(2026, 1, 2, 3, 4)).now == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


# -- hostile ids and data -----------------------------------------------------------------


@pytest.mark.parametrize(
    "user_id",
    ["../admin", "a/b", "a/../../b", "?limit=1", "#top", "%2F", "ünï", " spaced ", "a;b=c", "\\x"],
)
def test_hostile_user_id_arrives_whole_without_changing_the_path(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU, user_id: str
) -> None:
    response = get(session, fake_revu_server, user_id)
    assert response.status_code == 200
    (record,) = fake.requests
    assert record.user_id == user_id
    assert record.path == f"/api/v1/users/{quote(user_id, safe='')}/getprogress"
    assert record.query == {}


@pytest.mark.parametrize("segment", ["..", ".", "%2E%2E", "%2e"])
def test_dot_segment_ids_resolve_like_a_real_server_and_reach_no_user(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU, segment: str
) -> None:
    response = session.get(f"{fake_revu_server.url}/api/v1/users/{segment}/getprogress", timeout=10)
    assert response.status_code == 404
    (record,) = fake.requests
    assert record.user_id is None


def test_unencoded_slash_in_an_id_does_not_reach_any_user(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    response = session.get(f"{fake_revu_server.url}/api/v1/users/a/b/getprogress", timeout=10)
    assert response.status_code == 404
    assert fake.requests[0].user_id is None


def test_set_offers_serves_raw_data_unchanged_until_reset(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    hostile = [
        {"offer_id": 1, "name": "<script>alert(1)</script>", "click_url": "javascript:alert(1)"},
        {"offer_id": "NaN", "events": "oops"},
        None,
        "not an offer",
    ]
    fake.set_offers("demo-42", hostile)
    body = get(session, fake_revu_server).json()
    assert body["offers"] == hostile
    assert body["total"] == 4
    fake.reset()
    assert get(session, fake_revu_server).json()["offers"] == served_as(
        fake_revu_server, generate_offers("demo-42", fake.now)
    )


def served_as(server: FakeServer, offers: list[dict[str, object]]) -> list[dict[str, object]]:
    """Generated offers as the server sends them: with images drawn by the server itself, in
    the fake's dialect."""
    images = f"{server.url}/_fake/images/"
    return [
        speak_offer(
            {
                **o,
                "image_url": str(o["image_url"]).replace(
                    "https://cdn.revu.example/offers/", images
                ),
            },
            server.app.dialect,
        )
        for o in offers
    ]


def test_set_offers_refuses_what_json_cannot_carry() -> None:
    with pytest.raises(InvalidRequestError):
        FakeRevU().set_offers("x", [{"when": datetime.now(UTC)}])


# -- advance ------------------------------------------------------------------------------


def _multi_step_in_progress(fake: FakeRevU, user_id: str) -> dict[str, object]:
    return next(
        o
        for o in fake.offers_for(user_id)
        if o["reward_status"] == 1 and sum(e["status"] == "" for e in o["events"]) >= 2
    )


def test_advance_completes_the_next_step_then_credits_it() -> None:
    fake = FakeRevU(now=NOW)
    offer = _multi_step_in_progress(fake, "demo-42")
    before = [e["status"] for e in offer["events"]]  # type: ignore[attr-defined]
    first_open = before.index("")

    after = fake.advance("demo-42", offer["offer_id"])  # type: ignore[arg-type]
    statuses = [e["status"] for e in after["events"]]
    assert statuses[first_open] == "pending"
    assert "pending" not in statuses[:first_open], "what was pending got credited"
    assert after["events"][first_open]["completed_at"] == "2026-11-26T12:00:00Z"
    assert after["reward_status"] == 1

    again = fake.advance("demo-42", offer["offer_id"])  # type: ignore[arg-type]
    assert again["events"][first_open]["status"] == "credited"
    assert again["events"][first_open]["credited_at"] == "2026-11-26T12:00:00Z"


def test_advancing_to_the_end_makes_the_offer_pending_then_credited() -> None:
    fake = FakeRevU(now=NOW)
    offer_id = _multi_step_in_progress(fake, "demo-42")["offer_id"]
    codes = []
    for _ in range(10):
        try:
            codes.append(fake.advance("demo-42", offer_id)["reward_status"])  # type: ignore[arg-type]
        except InvalidRequestError:
            break
    assert codes[-2:] == [4, 2]
    assert set(codes[:-2]) <= {1}
    credited = next(o for o in fake.offers_for("demo-42") if o["offer_id"] == offer_id)
    assert {e["status"] for e in credited["events"]} == {"credited"}
    assert credited["user_completed"] is True
    assert credited["in_progress"] is False


def test_advance_is_visible_to_the_next_request(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    offer_id = _multi_step_in_progress(fake, "demo-42")["offer_id"]
    before = get(session, fake_revu_server, offer_id=offer_id).json()["offers"][0]
    response = session.post(
        f"{fake_revu_server.url}/_fake/users/demo-42/advance", json={"offer_id": offer_id}
    )
    assert response.status_code == 200
    after = get(session, fake_revu_server, offer_id=offer_id).json()["offers"][0]
    assert after == served_as(fake_revu_server, [response.json()["offer"]])[0]
    assert after != before


def test_advance_without_offer_id_moves_the_first_offer_in_progress() -> None:
    fake = FakeRevU(now=NOW)
    first = next(o for o in fake.offers_for("demo-42") if o["reward_status"] == 1)
    assert fake.advance("demo-42")["offer_id"] == first["offer_id"]


def test_advance_refuses_unknown_and_finished_offers(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    with pytest.raises(OfferNotFoundError):
        fake.advance("demo-42", 1)
    with pytest.raises(OfferNotFoundError):
        fake.advance("new-1")
    credited = next(o for o in fake.offers_for("demo-42") if o["reward_status"] == 2)
    with pytest.raises(InvalidRequestError):
        fake.advance("demo-42", credited["offer_id"])
    url = f"{fake_revu_server.url}/_fake/users/demo-42/advance"
    assert session.post(url, json={"offer_id": 1}).json()["code"] == "OFFER_NOT_FOUND"
    assert session.post(url, params={"offer_id": credited["offer_id"]}).status_code == 409


# -- control endpoints --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/_fake/reset"),
        ("GET", "/_fake/stats"),
        ("POST", "/_fake/faults"),
        ("POST", "/_fake/users/demo-42/advance"),
        ("PUT", "/_fake/users/demo-42/offers"),
    ],
)
def test_control_endpoints_need_the_key(
    fake_revu_server: FakeServer, method: str, path: str
) -> None:
    response = requests.request(method, f"{fake_revu_server.url}{path}", json={}, timeout=10)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/_fake/reset"),
        ("POST", "/_fake/users/demo-42/advance"),
        ("POST", "/_fake/faults"),
        ("GET", "/_fake/requests"),
    ],
)
def test_control_endpoints_refuse_the_key_in_the_query_string(
    fake_revu_server: FakeServer, fake: FakeRevU, method: str, path: str
) -> None:
    # What a hostile page can make a browser send: a form POST, the public test key in the URL.
    before = fake.offers_for("demo-42")
    fake.add_fault("status", status=503)
    response = requests.request(
        method,
        f"{fake_revu_server.url}{path}",
        params={"api_key": FAKE_API_KEY},
        data={"kind": "drop"},
        timeout=10,
    )
    assert response.status_code == 401
    assert "X-API-Key header" in response.json()["message"]
    assert fake.offers_for("demo-42") == before
    assert [f.kind for f in fake.faults] == ["status"]


def test_control_endpoints_drive_the_fake_from_another_process(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    base = f"{fake_revu_server.url}/_fake"
    created = session.post(f"{base}/faults", json={"kind": "status", "status": 503, "count": 2})
    assert created.status_code == 201
    assert [get(session, fake_revu_server).status_code for _ in range(3)] == [503, 503, 200]

    offers = [{"offer_id": 9, "name": "Only one"}]
    assert session.put(f"{base}/users/demo-42/offers", json=offers).status_code == 200
    assert get(session, fake_revu_server).json()["offers"] == offers

    stats = session.get(f"{base}/stats").json()
    assert stats["requests"] == 4
    assert stats["connections"] == 1

    assert session.post(f"{base}/faults", json={"kind": "latency", "count": None}).ok
    assert session.delete(f"{base}/faults").ok
    assert session.post(f"{base}/reset").ok
    assert session.get(f"{base}/stats").json()["requests"] == 0
    assert get(session, fake_revu_server).json()["offers"] != offers


def test_bad_fault_requests_are_refused(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    base = f"{fake_revu_server.url}/_fake/faults"
    assert session.post(base, json={"kind": "gremlins"}).status_code == 400
    assert session.post(base, json={"kind": "status", "colour": "red"}).status_code == 400
    assert session.post(base, data="not json").status_code == 400
    with pytest.raises(InvalidRequestError, match="unknown fault kind"):
        FakeRevU().add_fault("gremlins")
    with pytest.raises(InvalidRequestError, match="count"):
        FakeRevU().add_fault("drop", count=0)
    with pytest.raises(InvalidRequestError, match="variant"):
        FakeRevU().add_fault("envelope", variant="sideways")
    with pytest.raises(InvalidRequestError, match="status"):
        FakeRevU().add_fault("status", status=99)


# -- faults -------------------------------------------------------------------------------


def test_status_fault_sends_code_headers_and_a_json_error(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    fake.add_fault("status", status=429, headers={"Retry-After": "2"})
    response = get(session, fake_revu_server)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["code"] == "RATE_LIMITED"
    assert fake.requests[0].fault == "status"
    assert get(session, fake_revu_server).status_code == 200


def test_status_fault_can_send_any_body(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    fake.add_fault("status", status=500, body={"oops": True})
    fake.add_fault("status", status=503, body="down")
    assert get(session, fake_revu_server).json() == {"oops": True}
    assert get(session, fake_revu_server).text == "down"


def test_fault_count_and_scope(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    fault = fake.add_fault("status", status=502, count=2, user_id="victim")
    assert get(session, fake_revu_server, "bystander").status_code == 200
    codes = [get(session, fake_revu_server, "victim").status_code for _ in range(3)]
    assert codes == [502, 502, 200]
    assert fault.hits == 2
    fake.add_fault("status", status=500, count=None)
    assert [get(session, fake_revu_server).status_code for _ in range(3)] == [500] * 3
    fake.clear_faults()
    assert get(session, fake_revu_server).status_code == 200


def test_latency_fault_delays_one_answer(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    fake.add_fault("latency", seconds=0.3)
    started = time.monotonic()
    assert get(session, fake_revu_server).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_hang_outlasts_the_client_timeout_and_shutdown_is_still_quick(
    session: requests.Session,
) -> None:
    fake = FakeRevU()
    server = serve_in_thread(fake)
    fake.add_fault("hang")
    with pytest.raises(requests.ReadTimeout):
        session.get(progress_url(server, "demo-42"), timeout=(2, 0.3))
    fake.add_fault("hang")
    errors: list[BaseException] = []

    def wait_for_answer() -> None:
        try:
            requests.get(progress_url(server, "x"), headers=session.headers, timeout=30)
        except requests.RequestException as error:
            errors.append(error)

    waiting = threading.Thread(target=wait_for_answer)
    waiting.start()
    time.sleep(0.2)
    server.shutdown()
    # The hang lasts an hour: the waiting request ending at all means shutdown ended it.
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert isinstance(errors[0], requests.ConnectionError)


@pytest.mark.parametrize("status", [200, 502])
def test_non_json_fault_sends_an_html_page(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU, status: int
) -> None:
    fake.add_fault("non_json", status=status)
    response = get(session, fake_revu_server)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().startswith("<html>")
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_truncated_fault_with_honest_length_sends_half_a_json(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    whole = get(session, fake_revu_server).content
    fake.add_fault("truncated")
    response = get(session, fake_revu_server)
    assert response.status_code == 200
    # Only the support id differs between the two answers, and it has as many digits.
    assert len(response.content) == len(whole) // 2
    assert response.content.startswith(b'{"status": "success"')
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_truncated_fault_with_lying_length_cuts_the_connection(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    fake.add_fault("truncated", honest_length=False)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(session, fake_revu_server)
    assert get(session, fake_revu_server).status_code == 200


def test_drop_fault_closes_the_connection_without_an_answer(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    fake.add_fault("drop")
    with pytest.raises(requests.ConnectionError):
        get(session, fake_revu_server)
    assert fake.requests[0].status is None
    assert get(session, fake_revu_server).status_code == 200


def test_empty_fault_sends_200_with_no_body(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    fake.add_fault("empty")
    response = get(session, fake_revu_server)
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("variant", sorted(ENVELOPE_VARIANTS))
def test_envelope_fault_sends_json_in_the_wrong_shape(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU, variant: str
) -> None:
    fake.add_fault("envelope", variant=variant)
    body = get(session, fake_revu_server).json()
    well_formed = (
        isinstance(body, dict)
        and body.get("status") == "success"
        and isinstance(body.get("total"), int)
        and isinstance(body.get("offers"), list)
    )
    assert not well_formed


def test_huge_fault_streams_tens_of_megabytes_of_valid_json(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    fake.add_fault("huge")
    response = session.get(progress_url(fake_revu_server, "demo-42"), stream=True, timeout=30)
    length = int(response.headers["Content-Length"])
    assert length >= 20_000_000
    body = response.content
    assert len(body) == length
    parsed = json.loads(body)
    assert parsed["status"] == "success"
    assert parsed["total"] == len(parsed["offers"]) > 1000
    assert get(session, fake_revu_server).status_code == 200, "the connection stays usable"


def test_slow_drip_fault_trickles_the_body(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    fake.add_fault("slow_drip", bytes_per_second=400)
    started = time.monotonic()
    # stream=True: the headers come at once, the body after them, 100 bytes every quarter
    # second; the fourth hundred comes after three pauses (the whole body takes over 12 s).
    response = session.get(progress_url(fake_revu_server, "demo-42"), stream=True, timeout=30)
    assert int(response.headers["Content-Length"]) > 5000
    received = b""
    while len(received) < 400:
        received += response.raw.read(10)
    assert time.monotonic() - started >= 0.7
    assert received.startswith(b'{"status": "success"')
    response.close()


def test_bad_offer_fault_corrupts_one_offer_among_good_ones(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    good = get(session, fake_revu_server).json()
    fake.add_fault("bad_offer", index=2)
    bad = get(session, fake_revu_server).json()
    assert bad["total"] == good["total"]
    assert bad["offers"][2]["offer_id"] == good["offers"][2]["offer_id"]
    assert not isinstance(bad["offers"][2]["events"], list)
    assert bad["offers"][:2] == good["offers"][:2]
    assert bad["offers"][3:] == good["offers"][3:]


def test_every_fault_kind_is_covered_here() -> None:
    tested = {
        "status",
        "latency",
        "hang",
        "non_json",
        "truncated",
        "drop",
        "empty",
        "envelope",
        "huge",
        "slow_drip",
        "bad_offer",
    }
    assert tested == FAULT_KINDS


# -- the server ---------------------------------------------------------------------------


def test_a_session_reuses_one_connection_and_fresh_clients_open_new_ones(
    session: requests.Session, fake_revu_server: FakeServer, fake: FakeRevU
) -> None:
    for _ in range(10):
        assert get(session, fake_revu_server).status_code == 200
    assert fake.connections == 1
    for _ in range(3):
        requests.get(progress_url(fake_revu_server, "demo-42"), headers=session.headers, timeout=5)
    assert fake.connections == 4
    assert fake_revu_server.connections == 4


def test_responses_are_http_1_1_with_content_length_and_keep_alive(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    response = get(session, fake_revu_server)
    assert response.raw.version == 11
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.headers.get("Connection", "").lower() != "close"


def test_server_url_and_port_are_on_loopback(fake_revu_server: FakeServer) -> None:
    assert fake_revu_server.url == f"http://127.0.0.1:{fake_revu_server.port}"
    assert fake_revu_server.port > 0


def test_shutdown_closes_idle_keep_alive_connections(session: requests.Session) -> None:
    server = serve_in_thread(FakeRevU())
    assert get(session, server).status_code == 200
    server.shutdown()
    # The session would reuse its kept-alive connection if a handler still held it open:
    # shutdown closed it.
    with pytest.raises(requests.ConnectionError):
        get(session, server)


def test_fixtures_serve_the_same_fake_the_test_configures(
    fake_revu_server: FakeServer, fake_revu: FakeRevU
) -> None:
    assert fake_revu_server.app is fake_revu


@pytest.mark.slow
def test_python_m_serves_the_fake_and_logs_requests_without_the_key() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "revu_widgets.fake", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.rsplit(" ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:")
        assert FAKE_API_KEY in process.stdout.readline()
        response = requests.get(
            f"{url}/api/v1/users/demo-42/getprogress",
            params={"api_key": FAKE_API_KEY, "limit": 3},
            timeout=60,
        )
        assert len(response.json()["offers"]) == 3
        line = process.stdout.readline()
        while line and " GET " not in line:
            line = process.stdout.readline()
        assert line.strip() == "127.0.0.1 GET /api/v1/users/demo-42/getprogress 200"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            # Generous: a busy machine may take a while to schedule the child's shutdown.
            process.wait(timeout=60)
        finally:
            # Closed even when the wait fails, or the pipe leaks into a later test's warnings.
            if process.stdout is not None:
                process.stdout.close()
    assert process.returncode == 0


def test_generated_offer_images_are_served_by_the_fake_without_a_key(
    fake_revu_server: FakeServer,
) -> None:
    page = requests.get(
        f"{fake_revu_server.url}/api/v1/users/alex-1/getprogress",
        headers={"X-API-Key": FAKE_API_KEY},
        timeout=5,
    ).json()
    image_url = page["offers"][0]["image_url"]
    assert image_url.startswith(f"{fake_revu_server.url}/_fake/images/")
    image = requests.get(image_url, timeout=5)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/svg+xml"
    assert image.content.startswith(b"<svg")
    assert requests.get(f"{fake_revu_server.url}/_fake/images/x.png", timeout=5).status_code == 404
