"""``flask revu doctor``: what the configured RevU sends, against what the kit reads, over real
HTTP to the fake."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskCliRunner

from revu_widgets.fake import FAKE_API_KEY, FakeRevU

from .conftest import HostFactory
from .revu_corpus import GET_OFFERS


@pytest.fixture
def runner(make_host: HostFactory) -> FlaskCliRunner:
    return make_host().test_cli_runner()


def doctor(runner: FlaskCliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(args=["revu", "doctor", *args])
    assert FAKE_API_KEY not in result.output
    return result.exit_code, result.output


def test_a_fully_read_member_exits_0_with_every_field_and_its_source(
    runner: FlaskCliRunner,
) -> None:
    code, output = doctor(runner, "alex-1")
    assert code == 0, output
    assert "HTTP 200 in" in output
    assert "total_user_reward    total_user_reward (" in output
    assert "events carry only payout" in output
    assert "Verdict: every offer was read." in output


@pytest.mark.parametrize("fake_revu_dialect", ["get-offers", "legacy"])
def test_aliases_are_named_as_the_source_of_each_field(
    runner: FlaskCliRunner, fake_revu_dialect: str
) -> None:
    code, output = doctor(runner, "alex-1", "--json")
    assert code == 0, output
    report = json.loads(output)
    fields = report["fields"]
    if fake_revu_dialect == "get-offers":
        assert set(fields["offer.offer_id"]) == {"cid"}
        assert set(fields["offer.image_url"]) == {"creatives[].url"}
        assert set(fields["offer.click_url"]) == {"click_url_base"}
        assert report["unread_fields"] == {}
    else:
        assert set(fields["offer.total_user_reward"]) == {"currency_award"}
        assert report["envelope"]["publisher_id"] == "affiliate_id"


def test_unread_fields_skipped_offers_and_money_doubts_exit_1(
    runner: FlaskCliRunner, fake_revu: FakeRevU
) -> None:
    unaddable = {
        "offer_id": 9,
        "name": "Steps that do not add up",
        "reward_status": 1,
        "total_user_reward": 100,
        "events": [{"event_id": 1, "name": "a", "user_reward": 30}],
    }
    fake_revu.set_offers(
        "odd-1", [*GET_OFFERS["offers"], {"offer_id": "x-1", "name": "No id"}, unaddable]
    )
    code, output = doctor(runner, "odd-1", "--json")
    assert code == 1, output
    report = json.loads(output)
    assert report["unread_fields"] == {"offer.platform": 1}
    assert report["skipped"] == [{"index": 1, "offer_id": "x-1", "fields": ["offers.1.offer_id"]}]
    assert report["money"]["offers_whose_steps_do_not_add_up"] == [9]
    assert report["missing_required"] == {"reward_status": 1, "total_user_reward": 1}


def test_all_walks_every_page(runner: FlaskCliRunner) -> None:
    code, output = doctor(runner, "heavy-3", "--all", "--json")
    assert code == 0, output
    report = json.loads(output)
    assert [p["offset"] for p in report["pages"]] == [0, 500, 1000]
    assert report["offers"] == report["total"]


@pytest.mark.parametrize(
    ("user", "config", "words"),
    [
        ("alex-1", {"REVU_API_KEY": "W" * 20}, "REVU_API_KEY"),
        ("banned-1", {}, "banned"),
    ],
)
def test_upstream_failures_exit_2_with_one_line(
    make_host: HostFactory, user: str, config: dict[str, Any], words: str
) -> None:
    runner = make_host(**config).test_cli_runner()
    result = runner.invoke(args=["revu", "doctor", user])
    assert result.exit_code == 2
    assert words in result.output
    assert "W" * 20 not in result.output
    assert FAKE_API_KEY not in result.output
