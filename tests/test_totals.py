"""Totals a member can check: on the demo's members, the cards of each tab add up to the total
the history's summary shows, partial credits are named on their cards and counted in no total,
and the summary says what each total includes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .demo_site import demo_on_fake, reset_fake, sign_in

#: The summary's total for each kind, and the tab whose cards add up to it.
TABS = {"earned": "credited", "pending": "pending", "lost": "reversed"}

_SUMMARY = re.compile(
    r'<div class="revu-summary__item revu-reward--(\w+)">\s*<dt>[^<]*</dt>\s*'
    r'<dd class="revu-summary__amount">([^<]+)</dd>'
)
_CARD = re.compile(r'<article class="revu revu-card.*?</article>', re.DOTALL)
_REWARD = re.compile(
    r'<span class="revu revu-reward revu-reward--(\w+)"><span class="revu-reward__label">'
    r'([^<]*)</span> <span class="revu-reward__value">([^<]+)</span>'
)
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
_OFFER_ID = re.compile(r'data-revu-offer="(\d+)"')


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    with demo_on_fake({"TESTING": True, "SECRET_KEY": "totals-test"}) as demo:
        reset_fake(demo)
        yield demo


def member(app: Flask, user_id: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user_id)
    return client


def number(text: str) -> Decimal:
    """An amount as the English pages write it ("16,220 bamboo", "4,620")."""
    return Decimal(text.split()[0].replace(",", ""))


def page_text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def summary_totals(html: str) -> dict[str, Decimal]:
    totals = {kind: number(amount) for kind, amount in _SUMMARY.findall(html)}
    assert set(totals) == set(TABS), totals
    return totals


def cards_of_tab(client: FlaskClient, tab: str) -> list[list[tuple[str, str, Decimal]]]:
    """Every card of a tab, over all its pages: each card's (kind, label, amount) rewards."""
    cards = []
    url: str | None = f"/rewards/?status={tab}"
    while url:
        html = page_text(client, url)
        for card in _CARD.findall(html):
            rows = [(kind, label, number(value)) for kind, label, value in _REWARD.findall(card)]
            cards.append(rows)
        found = _NEXT.search(html)
        url = unescape(found.group(1)) if found else None
    return cards


@pytest.mark.parametrize("user_id", ["alex-42", "heavy-jo"])
def test_each_tabs_cards_add_up_to_its_summary_total(app: Flask, user_id: str) -> None:
    client = member(app, user_id)
    totals = summary_totals(page_text(client, "/rewards/"))
    counts = client.get("/rewards/api/progress").get_json()["counts"]
    for kind, tab in TABS.items():
        cards = cards_of_tab(client, tab)
        expected_count = counts[tab] + (
            counts["expired"] + counts["reversed_or_expired"] if tab == "reversed" else 0
        )
        assert len(cards) == expected_count, tab
        # Every card of the tab leads with the amount its offer counts for in this total.
        assert {rows[0][0] for rows in cards} == {kind}, tab
        assert sum(rows[0][2] for rows in cards) == totals[kind], (user_id, kind)


@pytest.mark.parametrize(
    "user_id",
    # 1,200 offers read twice, as pages and as JSON: the full run only.
    ["alex-42", pytest.param("heavy-jo", marks=pytest.mark.slow)],
)
def test_partial_credits_are_named_on_their_cards_and_in_no_total(app: Flask, user_id: str) -> None:
    client = member(app, user_id)
    totals = summary_totals(page_text(client, "/rewards/"))
    # What RevU credited step by step on offers not credited in full, from the JSON API.
    expected: dict[int, Decimal] = {}
    url: str | None = "/rewards/api/progress"
    while url:
        data = client.get(url).get_json()
        for offer in data["offers"]:
            credited = sum(
                (
                    Decimal(str(step["reward"]["amount"]))
                    for step in offer["steps"]
                    if step["status"] == "credited" and step["reward"]["amount"]
                ),
                Decimal(0),
            )
            if credited and offer["state"] != "credited":
                expected[offer["offer_id"]] = credited
        url = data["next_url"]
    assert expected, f"{user_id} has partial credits in the demo data"

    shown: dict[int, Decimal] = {}
    earned_on_cards = Decimal(0)
    url = "/rewards/"
    while url:
        html = page_text(client, url)
        for card in _CARD.findall(html):
            found_id = _OFFER_ID.search(card)
            assert found_id is not None
            for kind, label, value in _REWARD.findall(card):
                if kind == "partial":
                    assert label == "Credited so far"
                    shown[int(found_id.group(1))] = number(value)
                elif kind == "earned":
                    earned_on_cards += number(value)
        found = _NEXT.search(html)
        url = unescape(found.group(1)) if found else None
    assert shown == expected
    # Earned is the credited offers' whole rewards: the partial credits are not in it.
    assert earned_on_cards == totals["earned"]


def test_the_summary_says_what_each_total_includes(app: Flask) -> None:
    html = page_text(member(app, "alex-42"), "/rewards/")
    about = re.search(r'<details class="revu-summary__about">(.*?)</details>', html, re.DOTALL)
    assert about is not None
    words = unescape(re.sub(r"<[^>]+>", " ", about.group(1)))
    assert "What the totals include" in words
    assert "Earned: the rewards of offers credited in full." in words
    assert "partial credits included" in words
    assert "“Credited so far” on a card is a partial credit" in words
    assert "Offers in progress are in no total" in words


def test_a_new_member_sees_no_totals_to_explain(app: Flask) -> None:
    html = page_text(member(app, "new-sam"), "/rewards/")
    assert "revu-summary__about" not in html
