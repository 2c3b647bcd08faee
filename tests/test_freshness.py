"""Freshness without upstream calls: the version stamp open pages poll, and ETag/304 on the
member JSON routes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from revu_widgets.fake import FakeRevU

from .concurrency import MEMBER, upstream_walks
from .conftest import HostFactory, header_user


@pytest.fixture
def app(make_host: HostFactory) -> Flask:
    return make_host(signed_in=header_user, REVU_CACHE_SECONDS=60)


def get(app: Flask, url: str, **headers: str) -> Any:
    return app.test_client().get(url, headers={"X-Test-User": MEMBER, **headers})


def refresh(app: Flask) -> None:
    with app.app_context():
        app.extensions["test_revu"].refresh(MEMBER)


def version(app: Flask) -> str:
    response = get(app, "/rewards/api/version")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    stamp: str = response.get_json()["version"]
    return stamp


def test_polling_the_version_never_calls_revu(app: Flask, fake_revu: FakeRevU) -> None:
    before = version(app)
    assert {version(app) for _ in range(5)} == {before}
    assert fake_revu.requests == []


def test_the_version_moves_on_refresh_and_when_a_walk_finds_new_data(
    app: Flask, fake_revu: FakeRevU
) -> None:
    get(app, "/rewards/api/progress")
    seen = version(app)
    refresh(app)
    after_postback = version(app)
    assert after_postback != seen

    pending = next(o for o in fake_revu.offers_for(MEMBER) if o["reward_status"] == 4)
    fake_revu.advance(MEMBER, offer_id=pending["offer_id"])
    get(app, "/rewards/api/progress")  # a walk (the snapshot was dropped) finds the change
    assert version(app) != after_postback


def test_the_version_route_needs_a_signed_in_member(make_host: HostFactory) -> None:
    response = make_host(signed_in=lambda: None).test_client().get("/rewards/api/version")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "not_signed_in"


@pytest.mark.parametrize("route", ["/rewards/api/progress", "/rewards/api/offers/{offer_id}"])
def test_member_json_routes_answer_if_none_match_with_304(
    app: Flask, fake_revu: FakeRevU, route: str
) -> None:
    pending = next(o for o in fake_revu.offers_for(MEMBER) if o["reward_status"] == 4)
    url = route.format(offer_id=pending["offer_id"])
    first = get(app, url)
    etag = first.headers["ETag"]
    again = get(app, url, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert get(app, url, **{"If-None-Match": '"something-else"'}).status_code == 200

    fake_revu.advance(MEMBER, offer_id=pending["offer_id"])
    refresh(app)
    changed = get(app, url, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert upstream_walks(fake_revu) == 2


def test_the_offer_page_tells_its_script_where_to_check(app: Flask, fake_revu: FakeRevU) -> None:
    offer_id = fake_revu.offers_for(MEMBER)[0]["offer_id"]
    html = get(app, f"/rewards/offers/{offer_id}").get_data(as_text=True)
    assert 'data-revu-version="/rewards/api/version"' in html
    assert 'data-revu-check="1.5"' in html
    stamp = re.search(r'data-revu-version-stamp="([^"]*)"', html)
    assert stamp is not None


def test_without_version_checks_the_page_keeps_the_interval_poll(
    make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    app = make_host(signed_in=header_user, REVU_LIVE_CHECK_SECONDS=0)
    offer_id = fake_revu.offers_for(MEMBER)[0]["offer_id"]
    html = get(app, f"/rewards/offers/{offer_id}").get_data(as_text=True)
    assert "data-revu-version=" not in html
    assert f'data-revu-live="/rewards/api/offers/{offer_id}"' in html
