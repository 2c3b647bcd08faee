"""The kit reads every dialect the fake speaks (RevU's documented names by default, Get Offers'
and older APIs' names on request): the pages, the JSON, the support API and the CLI show the same
member the same way in each."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask

from revu_widgets.fake import DIALECTS, FakeRevU

from .conftest import HostFactory, header_user

TOKEN = "support-token-for-tests-0123456789"
USER = "alex-1"

pytestmark = pytest.mark.parametrize("fake_revu_dialect", DIALECTS)


@pytest.fixture
def app(make_host: HostFactory) -> Flask:
    return make_host(signed_in=header_user, is_staff=lambda: True, REVU_SUPPORT_TOKEN=TOKEN)


def get(app: Flask, path: str, **headers: str) -> Any:
    response = app.test_client().get(path, headers={"X-Test-User": USER, **headers})
    assert response.status_code == 200, (path, response.status_code)
    return response


def all_offers(app: Flask) -> list[dict[str, Any]]:
    offers: list[dict[str, Any]] = []
    url: str | None = "/rewards/api/progress"
    while url:
        body = get(app, url).get_json()
        assert body["skipped"] == []
        offers += body["offers"]
        url = body["next_url"]
    return offers


def test_json_reads_every_offer_with_name_links_and_rewards(
    app: Flask, fake_revu: FakeRevU, fake_revu_dialect: str
) -> None:
    assert fake_revu.dialect == fake_revu_dialect
    generated = {o["offer_id"]: o for o in fake_revu.offers_for(USER)}
    offers = all_offers(app)
    assert {o["offer_id"] for o in offers} == set(generated)
    for offer in offers:
        raw = generated[offer["offer_id"]]
        assert offer["name"] == raw["name"]
        assert offer["image_url"] is not None
        assert offer["click_url"] is not None
        assert offer["rewards"]["possible"]["amount"] == raw["total_user_reward"]
        assert all(step["reward"]["amount"] is not None for step in offer["steps"])


def test_pages_show_every_offer_without_a_notice(app: Flask, fake_revu: FakeRevU) -> None:
    html = get(app, "/rewards/?status=in_progress").get_data(as_text=True)
    assert "could not be shown" not in html
    first = next(o for o in fake_revu.offers_for(USER) if o["reward_status"] == 1)
    detail = get(app, f"/rewards/offers/{first['offer_id']}").get_data(as_text=True)
    assert first["name"] in detail
    assert "Continue the offer" in detail


def test_support_api_and_cli_agree_on_the_totals(app: Flask) -> None:
    body = get(
        app, f"/rewards/support/api/users/{USER}", Authorization=f"Bearer {TOKEN}"
    ).get_json()
    assert body["skipped"] == []
    result = app.test_cli_runner().invoke(args=["revu", "progress", USER, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"] == body["totals"]
    table = app.test_cli_runner().invoke(args=["revu", "progress", USER])
    assert re.search(r"Earned [\d,]+, pending", table.output)
