"""The fake RevU keeps each answer it has encoded until the member changes: a question asked
again gets the same offers with a support reference of its own, and any change of the member
(an advance, new offers, a reset) shows in the very next answer. Real HTTP over loopback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import pytest
import requests

from revu_widgets.fake import DIALECTS, FAKE_API_KEY, FakeRevU, FakeServer
from revu_widgets.fake.answers import EncodedAnswer, KeptAnswers, encode_answer

HEAVY = "heavy-1"
MEMBER = "demo-42"
_SUPPORT_ID = re.compile(rb'"support_id": [0-9]+')


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.headers["X-API-Key"] = FAKE_API_KEY
        yield http


def get(
    http: requests.Session, server: FakeServer, user_id: str = MEMBER, **params: object
) -> requests.Response:
    url = f"{server.url}/api/v1/users/{quote(user_id, safe='')}/getprogress"
    response = http.get(url, params=params, timeout=30)
    assert response.status_code == 200
    return response


def steps(offer: dict[str, Any]) -> list[tuple[object, ...]]:
    """What an advance changes in an offer's steps (in any dialect)."""
    return [
        (e["event_id"], e["status"], e.get("completed_at"), e.get("credited_at"))
        for e in offer["events"]
    ]


def control(http: requests.Session, server: FakeServer, method: str, path: str, **kw: Any) -> Any:
    response = http.request(method, f"{server.url}/_fake/{path}", timeout=30, **kw)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("fake_revu_dialect", DIALECTS)
def test_a_question_asked_again_gets_the_same_bytes_and_its_own_support_id(
    fake_revu_server: FakeServer, fake_revu_dialect: str
) -> None:
    """Six concurrent reads of each of the three 500-offer pages: every body is the first's,
    byte for byte, but for a support reference no other request got."""

    def read(offset: int) -> bytes:
        with requests.Session() as http:
            http.headers["X-API-Key"] = FAKE_API_KEY
            return get(http, fake_revu_server, HEAVY, limit=500, offset=offset).content

    with ThreadPoolExecutor(max_workers=6) as pool:
        bodies = list(pool.map(read, [0, 500, 1000] * 6))
    support_ids = [json.loads(body)["support_id"] for body in bodies]
    assert len(set(support_ids)) == len(bodies)
    by_offset = zip([0, 500, 1000] * 6, bodies, strict=True)
    alike = {(offset, _SUPPORT_ID.sub(b"", body)) for offset, body in by_offset}
    assert len(alike) == 3
    first = json.loads(bodies[0])
    assert (first["offset"], first["limit"], first["total"], len(first["offers"])) == (
        0,
        500,
        1200,
        500,
    )
    assert [r.status for r in fake_revu_server.app.requests] == [200] * len(bodies)


def test_an_advance_shows_in_the_next_answer_to_the_same_question(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    before = get(session, fake_revu_server).json()["offers"]
    assert get(session, fake_revu_server).json()["offers"] == before  # asked again: kept

    moved = control(session, fake_revu_server, "POST", f"users/{MEMBER}/advance")["offer"]
    after = get(session, fake_revu_server).json()["offers"]

    changed = [i for i, (old, new) in enumerate(zip(before, after, strict=True)) if old != new]
    assert len(changed) == 1
    assert after[changed[0]]["offer_id"] == moved["offer_id"]
    assert steps(after[changed[0]]) == steps(moved)
    assert after[changed[0]]["updated_at"] == moved["updated_at"]
    # A second advance of the same member is seen too (a new version, not just "changed once").
    again = control(session, fake_revu_server, "POST", f"users/{MEMBER}/advance")["offer"]
    latest = {o["offer_id"]: o for o in get(session, fake_revu_server).json()["offers"]}
    assert steps(latest[again["offer_id"]]) == steps(again)


def test_an_advance_reaches_every_page_and_filter_already_answered(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    questions = [{"limit": 500, "offset": 0}, {"limit": 500, "offset": 500}, {"reward_status": 1}]
    before = [get(session, fake_revu_server, HEAVY, **q).json()["offers"] for q in questions]
    moved = control(session, fake_revu_server, "POST", f"users/{HEAVY}/advance")["offer"]
    after = [get(session, fake_revu_server, HEAVY, **q).json()["offers"] for q in questions]

    page = next(i for i in (0, 1) if any(o["offer_id"] == moved["offer_id"] for o in before[i]))
    assert after[1 - page] == before[1 - page]
    assert after[page] != before[page]
    assert steps({o["offer_id"]: o for o in after[page]}[moved["offer_id"]]) == steps(moved)
    in_progress = [o["offer_id"] for o in after[2]]
    assert (moved["offer_id"] in in_progress) == (moved["reward_status"] == 1)


def test_new_offers_and_a_reset_replace_what_was_kept(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    generated = get(session, fake_revu_server).json()["offers"]
    mine = [{"offer_id": 7, "name": "Set by the test", "reward_status": 2}]
    control(session, fake_revu_server, "PUT", f"users/{MEMBER}/offers", json=mine)
    assert get(session, fake_revu_server).json()["offers"] == mine
    mine[0]["name"] = "Set again"
    control(session, fake_revu_server, "PUT", f"users/{MEMBER}/offers", json=mine)
    assert get(session, fake_revu_server).json()["offers"] == mine
    control(session, fake_revu_server, "POST", "reset")
    assert get(session, fake_revu_server).json()["offers"] == generated


def test_set_offers_from_python_shows_in_the_next_answer(
    session: requests.Session, fake_revu_server: FakeServer, fake_revu: FakeRevU
) -> None:
    get(session, fake_revu_server)
    fake_revu.set_offers(MEMBER, [{"offer_id": 1, "name": "first"}])
    assert get(session, fake_revu_server).json()["offers"][0]["name"] == "first"
    fake_revu.set_offers(MEMBER, [{"offer_id": 1, "name": "second"}])
    assert get(session, fake_revu_server).json()["offers"][0]["name"] == "second"


def test_what_the_request_echoes_is_never_taken_from_another_request(
    session: requests.Session, fake_revu_server: FakeServer
) -> None:
    """Images point at the host the request named; sid3 and country go into click URLs."""
    plain = get(session, fake_revu_server).json()["offers"]
    tagged = get(session, fake_revu_server, sid3="a", country="de").json()["offers"]
    other = get(session, fake_revu_server, sid3="b").json()["offers"]
    assert all(o["click_url"].endswith("&sid3=a&country=DE") for o in tagged)
    assert all(o["click_url"].endswith("&sid3=b") for o in other)
    assert all("sid3=" not in o["click_url"] for o in plain)

    url = f"{fake_revu_server.url}/api/v1/users/{MEMBER}/getprogress"
    elsewhere = session.get(url, headers={"Host": "revu.example:8080"}, timeout=10).json()
    assert {o["image_url"].split("/_fake/")[0] for o in elsewhere["offers"]} == {
        "http://revu.example:8080"
    }
    assert get(session, fake_revu_server).json()["offers"] == plain


def test_a_fault_distorts_one_answer_and_the_next_is_the_kept_one_again(
    session: requests.Session, fake_revu_server: FakeServer, fake_revu: FakeRevU
) -> None:
    good = get(session, fake_revu_server).json()
    fake_revu.add_fault("bad_offer", index=1)
    bad = get(session, fake_revu_server).json()
    assert not isinstance(bad["offers"][1]["events"], list)
    assert bad["support_id"] != good["support_id"]
    fake_revu.add_fault("envelope", variant="offers_object")
    assert not isinstance(get(session, fake_revu_server).json()["offers"], list)
    again = get(session, fake_revu_server).json()
    assert again["offers"] == good["offers"]
    assert len({good["support_id"], bad["support_id"], again["support_id"]}) == 3


# -- the store ----------------------------------------------------------------------------


def test_an_encoded_answer_is_json_dumps_with_the_support_id_written_in() -> None:
    envelope = {
        "status": "success",
        "support_id": 5,
        "offers": [{"name": '"support_id": 0', "support_id": 0}],
    }
    answer = encode_answer(envelope)
    for support_id in (0, 7, 918273645):
        assert (
            answer.body(support_id) == json.dumps({**envelope, "support_id": support_id}).encode()
        )


def test_kept_answers_are_per_revision_and_bounded_in_bytes() -> None:
    def answer(size: int) -> EncodedAnswer:
        return EncodedAnswer(b"h" * size, b"")

    kept = KeptAnswers(budget=100)
    kept.put("a", 1, answer(40))
    assert kept.get("a", 1) == answer(40)
    assert kept.get("a", 2) is None, "an answer of another version of the member"
    kept.put("b", 1, answer(40))
    assert kept.get("a", 1) is not None  # "a" served last: "b" is the older now
    kept.put("c", 1, answer(40))
    assert (kept.get("a", 1), kept.get("b", 1), kept.get("c", 1)) == (answer(40), None, answer(40))
    kept.put("c", 2, answer(60))  # a newer version replaces the older, not beside it
    assert len(kept) == 2
    assert (kept.get("c", 1), kept.get("c", 2)) == (None, answer(60))
    kept.put("big", 1, answer(101))
    assert kept.get("big", 1) is None
    assert kept.get("c", 2) is not None
