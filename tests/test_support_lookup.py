"""The support lookup as an agent uses it: who the id is, straight to one offer, agent wording."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from revu_widgets import Member, RevUWidgets
from revu_widgets.errors import ConfigurationError
from revu_widgets.fake import FakeRevU

from .conftest import HostFactory, header_user, sign_in
from .dialects import every_dialect

MEMBERS = {"alex-1": Member(name="Alex Doe", email="alex@example.com"), "jo-2": Member(name="Jo")}


@pytest.fixture
def app(make_host: HostFactory) -> Flask:
    return make_host(signed_in=header_user)


def kit(app: Flask) -> RevUWidgets:
    revu: RevUWidgets = app.extensions["test_revu"]
    return revu


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_X_TEST_USER"] = "staff-kim"
    return client


def test_resolver_names_the_member_at_the_top_of_the_lookup(app: Flask, staff: FlaskClient) -> None:
    kit(app).member_resolver(MEMBERS.get)
    html = staff.get("/rewards/support/users/alex-1").get_data(as_text=True)
    member = re.search(r"<p class=\"revu-member\" data-revu-member>(.*?)</p>", html, re.S)
    assert member is not None
    assert "Alex Doe" in member.group(1)
    assert "&lt;alex@example.com&gt;" in member.group(1)
    # It comes before the offers.
    assert html.index("data-revu-member") < html.index("revu-summary")


def test_resolver_says_when_the_site_has_no_such_member(app: Flask, staff: FlaskClient) -> None:
    kit(app).member_resolver(MEMBERS.get)
    html = staff.get("/rewards/support/users/alex-l").get_data(as_text=True)
    assert 'data-revu-member="none"' in html
    assert "This site has no member with this id" in html


def test_without_a_resolver_nothing_is_claimed_about_the_member(staff: FlaskClient) -> None:
    html = staff.get("/rewards/support/users/alex-1").get_data(as_text=True)
    assert "data-revu-member" not in html


def test_a_resolver_returning_something_else_is_a_clear_configuration_error(
    app: Flask, staff: FlaskClient
) -> None:
    kit(app).member_resolver(lambda user_id: {"name": "Alex"})
    with pytest.raises(ConfigurationError, match=r"must return a revu_widgets\.Member"):
        staff.get("/rewards/support/users/alex-1")


@every_dialect
def test_lookup_by_user_and_offer_id_opens_that_offer_expanded(
    staff: FlaskClient, fake_revu: FakeRevU
) -> None:
    offers = fake_revu.offers_for("alex-1")
    wanted = int(offers[len(offers) // 2]["offer_id"])
    response = staff.get(f"/rewards/support/?user_id=alex-1&offer_id={wanted}")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.endswith(f"/rewards/support/users/alex-1?q={wanted}#revu-offer-{wanted}")
    html = staff.get(location.split("#")[0]).get_data(as_text=True)
    assert re.findall(r'<article class="revu-card[^"]*" id="revu-offer-(\d+)"', html) == [
        str(wanted)
    ]
    assert "<details open>" in html


def test_search_box_is_focused_and_takes_an_offer_id(staff: FlaskClient) -> None:
    html = staff.get("/rewards/support/").get_data(as_text=True)
    user_box = re.search(r'<input id="revu-support-user-id"[^>]*>', html)
    assert user_box is not None
    assert "autofocus" in user_box.group(0)
    assert 'name="offer_id"' in html


@every_dialect
def test_support_cards_speak_to_the_agent_not_the_member(staff: FlaskClient) -> None:
    html = staff.get("/rewards/support/users/alex-1").get_data(as_text=True)
    cards = html.split('<ol class="revu-list revu-support__offers"', 1)[1]
    assert "the member" in cards or "Tell the member" in cards
    for member_words in ("you completed", "Nothing to do yet: wait", "You have finished"):
        assert member_words not in cards


def test_banned_member_is_offered_a_way_back_to_the_site(host: Flask) -> None:
    client = sign_in(host.test_client(), "banned-9")
    response = client.get("/rewards/")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert '<a href="/">Back to the site</a>' in html
    assert "Back to my offers" not in html


def test_new_member_is_shown_where_to_find_offers(make_host: HostFactory) -> None:
    host = make_host(REVU_OFFERWALL_URL="/offerwall")
    client = sign_in(host.test_client(), "new-3")
    html = client.get("/rewards/").get_data(as_text=True)
    assert '<a class="revu-button" href="/offerwall">Find offers</a>' in html
    # No zero totals and empty tabs for someone who has not started anything.
    assert "revu-summary" not in html
    assert "revu-tabs" not in html
