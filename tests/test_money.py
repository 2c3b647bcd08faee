"""Whose money is it: RevU's ``payout`` is the publisher's USD revenue, never a member's reward.

Every test here goes over real HTTP to the fake RevU. The answers carry only what RevU documents
for money: the offer's ``total_user_reward`` (the member's, in the publisher's currency) and a
``payout`` on the offer and on each event (the publisher's revenue in US dollars).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .conftest import HostFactory, header_user

TOKEN = "support-token-for-tests-0123456789"
USER = "payout-only-1"
NOW = datetime.now(UTC)

# Distinctive USD figures: none of them may appear anywhere a member (or the support chatbot,
# or the CLI) reads.
USD_FIGURES = ("0.37", "0.63", "1.11", "2.22", "3.33", "9.87", "6.54")
# Random or derived tokens are not figures: a page's version stamp ("<generation>.<hex digest>",
# whose digest may begin with "63", so "0.63…") and CSP nonces (base64, which may hold "USD").
TOKENS = re.compile(r"\b\d+\.[0-9a-f]{16,}\b|nonce=\"[^\"]*\"")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def payout_only_offers() -> list[dict[str, Any]]:
    """Offers whose events carry only ``payout``; one offer has no member reward at all."""
    return [
        {
            "offer_id": 61001,
            "name": "Dragon Realms",
            "reward_status": 1,
            "total_user_reward": 1000,
            "payout": 1.00,
            "click_url": "https://publishers.example.com/click/61001",
            "updated_at": iso(NOW - timedelta(days=1)),
            "events": [
                {"event_id": 1, "name": "Install", "payout": 0.37, "status": "credited"},
                {"event_id": 2, "name": "Level 10", "payout": 0.63, "status": ""},
            ],
        },
        {
            "offer_id": 61002,
            "name": "Survey",
            "reward_status": 2,
            "total_user_reward": 300,
            "payout": 9.87,
            "updated_at": iso(NOW - timedelta(days=2)),
            "events": [{"event_id": 1, "name": "Answer", "payout": 1.11}],
        },
        {
            "offer_id": 61003,
            "name": "Streaming trial",
            "reward_status": 4,
            "payout": 6.54,
            "reporting": "up to 30 days",
            "updated_at": iso(NOW - timedelta(days=3)),
            "events": [
                {"event_id": 1, "name": "Start", "payout": 2.22, "status": "pending"},
                {"event_id": 2, "name": "Keep", "payout": 3.33, "status": ""},
            ],
        },
    ]


@pytest.fixture
def app(make_host: HostFactory, fake_revu: Any) -> Flask:
    fake_revu.set_offers(USER, payout_only_offers())
    return make_host(signed_in=header_user, is_staff=lambda: False, REVU_SUPPORT_TOKEN=TOKEN)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def member_get(client: FlaskClient, path: str) -> str:
    response = client.get(path, headers={"X-Test-User": USER})
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def assert_no_usd(text: str, where: str) -> None:
    text = TOKENS.sub("", text)
    for figure in USD_FIGURES:
        assert not re.search(rf"(?<![\d.]){re.escape(figure)}(?!\d)", text), (figure, where)
    assert "USD" not in text, where
    assert "$" not in text.replace("$ref", ""), where


def test_no_member_facing_page_or_json_shows_a_usd_figure(client: FlaskClient) -> None:
    paths = ["/rewards/", "/rewards/api/progress"]
    paths += [f"/rewards/?status={s}" for s in ("in_progress", "pending", "credited", "reversed")]
    for offer in payout_only_offers():
        paths += [
            f"/rewards/offers/{offer['offer_id']}",
            f"/rewards/api/offers/{offer['offer_id']}",
        ]
    for path in paths:
        assert_no_usd(member_get(client, path), path)
    support = client.get(
        f"/rewards/support/api/users/{USER}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert support.status_code == 200
    assert_no_usd(support.get_data(as_text=True), "support chatbot API")


def test_the_cli_shows_no_usd_figure(app: Flask) -> None:
    runner = app.test_cli_runner()
    for args in (["revu", "progress", USER], ["revu", "progress", USER, "--json"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert_no_usd(result.output, " ".join(args))


def test_payout_only_steps_get_their_share_of_the_members_reward(client: FlaskClient) -> None:
    offer = json.loads(member_get(client, "/rewards/api/offers/61001"))["offer"]
    # 1,000 coins split 0.37 : 0.63.
    assert [s["reward"]["amount"] for s in offer["steps"]] == [370, 630]
    assert offer["rewards"]["possible"]["amount"] == 1000


def test_steps_without_a_member_reward_show_no_amount_never_zero(client: FlaskClient) -> None:
    offer = json.loads(member_get(client, "/rewards/api/offers/61003"))["offer"]
    assert [s["reward"] for s in offer["steps"]] == [{"amount": None, "text": ""}] * 2
    assert offer["rewards"]["possible"] == {"amount": None, "text": ""}
    html = member_get(client, "/rewards/offers/61003")
    assert "0 coins" not in html


def test_totals_count_only_the_members_currency(client: FlaskClient) -> None:
    body = json.loads(member_get(client, "/rewards/api/progress"))
    summary = body["totals"]
    # The credited survey's 300 coins are earned; the offer in progress has 1,000 to go; the
    # pending trial has no member reward, so it adds nothing (and no USD).
    assert summary["earned"]["amount"] == 300
    assert summary["remaining"]["amount"] == 1000
    assert summary["pending"]["amount"] == 0


# -- staff views: the publisher's revenue, labelled ----------------------------------------------


@pytest.fixture
def staff_client(make_host: HostFactory, fake_revu: Any) -> FlaskClient:
    fake_revu.set_offers(USER, payout_only_offers())
    app = make_host(signed_in=header_user, is_staff=lambda: True, REVU_SUPPORT_TOKEN=TOKEN)
    return app.test_client()


REVENUE_ROW = re.compile(r"<div data-revu-revenue><dt>([^<]*)</dt><dd>([^<]*)</dd></div>")


def revenue_rows(html: str) -> dict[int, tuple[str, str]]:
    """``{offer id: (label, text)}`` of the revenue row on each offer card of a support page."""
    cards = re.split(r'<article [^>]*data-revu-offer="(\d+)"', html)[1:]
    rows = {}
    for offer_id, card in zip(cards[::2], cards[1::2], strict=True):
        found = REVENUE_ROW.search(card.split("</article>")[0])
        if found:
            rows[int(offer_id)] = (unescape(found[1]), unescape(found[2]))
    return rows


def test_the_staff_page_shows_the_publishers_revenue_labelled_in_usd(
    staff_client: FlaskClient,
) -> None:
    response = staff_client.get(
        f"/rewards/support/users/{USER}", headers={"X-Test-User": "staff-1"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = revenue_rows(html)
    assert set(rows) == {61001, 61002, 61003}
    for label, _text in rows.values():
        assert label == "Publisher revenue (RevU payout, USD; never the member's reward)"
    assert rows[61001][1] == "$1.00 · Install $0.37 · Level 10 $0.63"
    assert rows[61003][1] == "$6.54 · Start $2.22 · Keep $3.33"
    # The member's amounts on the same page stay in the member's currency: the only dollar
    # signs are in the revenue rows.
    assert html.count("$") == sum(text.count("$") for _label, text in rows.values())


def test_the_staff_page_says_nothing_of_revenue_when_revu_sent_none(
    staff_client: FlaskClient, fake_revu: Any
) -> None:
    fake_revu.set_offers(
        USER, [{"offer_id": 7, "name": "Plain", "reward_status": 1, "total_user_reward": 5}]
    )
    response = staff_client.get(
        f"/rewards/support/users/{USER}", headers={"X-Test-User": "staff-1"}
    )
    assert response.status_code == 200
    assert "data-revu-revenue" not in response.get_data(as_text=True)


def test_the_support_api_adds_the_publishers_revenue_only_when_asked(
    staff_client: FlaskClient,
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    plain = staff_client.get(f"/rewards/support/api/users/{USER}", headers=auth).get_json()
    assert all("publisher_revenue" not in offer for offer in plain["offers"])

    asked = staff_client.get(
        f"/rewards/support/api/users/{USER}?include=publisher_revenue", headers=auth
    ).get_json()
    by_id = {offer["offer_id"]: offer for offer in asked["offers"]}
    assert by_id[61001]["publisher_revenue"] == {
        "currency": "USD",
        "offer": 1,
        "steps": [
            {"step_id": "1", "name": "Install", "amount": 0.37},
            {"step_id": "2", "name": "Level 10", "amount": 0.63},
        ],
    }
    # Revenue is reported beside the member's amounts, never added to them.
    assert by_id[61001]["rewards"] == plain["offers"][0]["rewards"]
    assert asked["totals"] == plain["totals"]


def test_the_support_api_refuses_an_unknown_include(staff_client: FlaskClient) -> None:
    response = staff_client.get(
        f"/rewards/support/api/users/{USER}?include=publisher_revenu",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert "publisher_revenue" in response.get_data(as_text=True)
