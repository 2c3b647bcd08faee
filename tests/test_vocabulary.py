"""RevU's vocabulary: every name RevU documents across its APIs is read, and a publisher can add
names with ``REVU_FIELD_ALIASES``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from revu_widgets.errors import ConfigurationError
from revu_widgets.schemas import DOCUMENTED_VOCABULARY, parse_offer, parse_progress_page

from .conftest import HostFactory, header_user

USER = "vocabulary-1"


def get_offers_style_offer() -> dict[str, Any]:
    """An offer named the way Get Offers and older offer APIs name things."""
    return {
        "cid": 71001,
        "offer_name": "Puzzle Garden",
        "click_url_base": "https://publishers.example.com/click/71001?uid=v1",
        "creatives": [
            {"type": "icon"},
            {"type": "image", "url": "https://cdn.example.com/71001.png"},
        ],
        "currency_award": 900,
        "extra_terms": "New players only.",
        "reward_status": 1,
        "updated_at": "2026-11-20T09:00:00Z",
        "events": [{"id": 1, "name": "Install", "status": ""}],
    }


def older_api_offer() -> dict[str, Any]:
    return {
        "id": 71002,
        "name": "Cash Quest",
        "offer_url": "https://publishers.example.com/go/71002",
        "currency_award": "50",
        "reward_status": 1,
        "updated_at": "2026-11-21T09:00:00Z",
    }


def test_get_offers_names_are_read() -> None:
    offer = parse_offer(get_offers_style_offer())
    assert offer.offer_id == 71001
    assert offer.name == "Puzzle Garden"
    assert offer.click_url == "https://publishers.example.com/click/71001?uid=v1"
    assert offer.image_url == "https://cdn.example.com/71001.png"
    assert offer.total_reward == Decimal(900)
    assert offer.terms == "New players only."
    assert offer.degraded == ()


def test_older_api_names_are_read() -> None:
    offer = parse_offer(older_api_offer())
    assert (offer.offer_id, offer.click_url, offer.total_reward) == (
        71002,
        "https://publishers.example.com/go/71002",
        Decimal(50),
    )


def test_the_kits_own_name_wins_over_an_alias() -> None:
    raw = {
        **older_api_offer(),
        "click_url": "https://a.example/1",
        "offer_url": "https://b.example",
    }
    assert parse_offer(raw).click_url == "https://a.example/1"


def test_affiliate_id_is_read_as_the_publisher_id() -> None:
    page = parse_progress_page({"status": "success", "total": 0, "offers": [], "affiliate_id": 77})
    assert page.publisher_id == "77"


def test_an_unsafe_creative_url_is_dropped_and_reported() -> None:
    raw = {**get_offers_style_offer(), "creatives": [{"url": "javascript:alert(1)"}]}
    page = parse_progress_page({"status": "success", "total": 1, "offers": [raw]})
    assert page.offers[0].image_url is None
    assert page.dropped_urls == ((71001, "image_url"),)


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (kind, field)
        for kind in ("offer", "event")
        for field in DOCUMENTED_VOCABULARY.fields_of(kind)
    ],
)
def test_every_kit_field_has_its_own_name_first(kind: Any, field: str) -> None:
    assert DOCUMENTED_VOCABULARY.names[kind][field][0] == field


# --- over HTTP: the pages show what the aliases carried ------------------------------------


@pytest.fixture
def client(make_host: HostFactory, fake_revu: Any) -> FlaskClient:
    fake_revu.set_offers(USER, [get_offers_style_offer(), older_api_offer()])
    return make_host(signed_in=header_user).test_client()


def test_history_and_offer_page_show_what_aliases_carried(client: FlaskClient) -> None:
    html = client.get("/rewards/", headers={"X-Test-User": USER}).get_data(as_text=True)
    assert "Puzzle Garden" in html
    assert "https://cdn.example.com/71001.png" in html
    assert "could not be shown" not in html
    detail = client.get("/rewards/offers/71001", headers={"X-Test-User": USER})
    page = detail.get_data(as_text=True)
    assert detail.status_code == 200
    assert "https://publishers.example.com/click/71001?uid=v1" in page
    assert "New players only." in page
    data = json.loads(
        client.get("/rewards/api/offers/71002", headers={"X-Test-User": USER}).get_data()
    )
    assert data["offer"]["click_url"] == "https://publishers.example.com/go/71002"


# --- REVU_FIELD_ALIASES --------------------------------------------------------------------


def test_configured_aliases_are_read(make_host: HostFactory, fake_revu: Any) -> None:
    raw = {**older_api_offer(), "title": "Named by config"}
    del raw["name"]
    fake_revu.set_offers(USER, [raw])
    app: Flask = make_host(signed_in=header_user, REVU_FIELD_ALIASES={"offer.name": ["title"]})
    html = app.test_client().get("/rewards/", headers={"X-Test-User": USER}).get_data(as_text=True)
    assert "Named by config" in html


@pytest.mark.parametrize(
    ("aliases", "words"),
    [
        ({"offer.title": ["x"]}, "unknown key 'offer.title'"),
        ({"name": ["x"]}, "unknown key 'name'"),
        (["offer.name"], "must be a dict"),
        ({"offer.name": 5}, "must name one upstream field"),
        ({"offer.name": []}, "must name one upstream field"),
        ({"offer.name": ["has space"]}, "must name one upstream field"),
        ({"event.user_reward": ["payout"]}, "publisher's revenue in US dollars"),
    ],
)
def test_wrong_aliases_fail_at_init_app_listing_the_valid_names(
    make_host: HostFactory, aliases: object, words: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_host(REVU_FIELD_ALIASES=aliases)
    message = str(caught.value)
    assert message.startswith("REVU_FIELD_ALIASES ")
    assert words in message
    if "key" in words or "dict" in words:
        assert "offer.name" in message
        assert "event.user_reward" in message
