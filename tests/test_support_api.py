"""The support chatbot API: bearer-token access, the compact JSON, and its OpenAPI description."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from revu_widgets.fake import FAKE_API_KEY
from revu_widgets.support import bearer_token, token_matches

from .conftest import HostFactory, header_user
from .dialects import every_dialect
from .known_offers import NOW, credited_offer, days_ago, known_offers

TOKEN = "support-token-for-tests-0123456789"


def member_offers() -> list[dict[str, Any]]:
    """The known offers and a credited survey: earned 950, one offer in each of four statuses."""
    return [*known_offers(), credited_offer()]


@pytest.fixture
def app(make_host: HostFactory) -> Flask:
    # Nobody may use the support pages: the API must not care.
    return make_host(signed_in=header_user, is_staff=lambda: False, REVU_SUPPORT_TOKEN=TOKEN)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "revu_widgets.audit"]


# --- access --------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, ""])
def test_api_does_not_exist_when_the_token_is_unset(
    make_host: HostFactory, token: str | None
) -> None:
    app = make_host(signed_in=header_user, is_staff=lambda: False, REVU_SUPPORT_TOKEN=token)

    response = app.test_client().get("/rewards/support/api/users/alex-42", headers=bearer())

    assert response.status_code == 404
    assert response.is_json


def test_api_without_a_token_asks_for_one(client: FlaskClient, fake_revu: Any) -> None:
    before = len(fake_revu.requests)

    response = client.get("/rewards/support/api/users/alex-42")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="revu-widgets support"'
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert len(fake_revu.requests) == before


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        "Bearer wrong",
        f"Basic {TOKEN}",
        f"Token {TOKEN}",
        FAKE_API_KEY,
        f"Bearer {FAKE_API_KEY}",
    ],
)
def test_api_refuses_a_wrong_token(client: FlaskClient, authorization: str) -> None:
    response = client.get(
        "/rewards/support/api/users/alex-42", headers={"Authorization": authorization}
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="revu-widgets support"')
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("segment", ["%20", "%09", "x%2F..%2Fvictim", "%2E%2E", "x%2F%2E"])
def test_api_refuses_blank_ids_and_dot_segments_without_asking_revu(
    client: FlaskClient, fake_revu: Any, segment: str
) -> None:
    response = client.get(f"/rewards/support/api/users/{segment}", headers=bearer())

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert fake_revu.requests == []


def test_api_answers_the_right_token_whatever_the_loaders_say(client: FlaskClient) -> None:
    anonymous = client.get("/rewards/support/api/users/alex-42", headers=bearer())
    signed_in = client.get(
        "/rewards/support/api/users/alex-42", headers={**bearer(), "X-Test-User": "alex-42"}
    )

    assert anonymous.status_code == 200
    assert signed_in.status_code == 200
    assert client.get("/rewards/support/users/alex-42").status_code == 403


def test_token_comparison_accepts_only_the_exact_token() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(TOKEN.upper(), TOKEN)
    assert not token_matches(TOKEN + " ", TOKEN)
    assert not token_matches("", TOKEN)
    assert not token_matches(None, TOKEN)
    assert token_matches("jeton-ünïcode", "jeton-ünïcode")


def test_bearer_header_is_parsed_case_insensitively() -> None:
    assert bearer_token("bearer abc") == "abc"
    assert bearer_token("Bearer   abc  ") == "abc"
    assert bearer_token("Bearer") is None
    assert bearer_token("Basic abc") is None
    assert bearer_token(None) is None


# --- the JSON ------------------------------------------------------------------------------


@every_dialect
def test_api_counts_and_totals_match_the_members_offers(
    client: FlaskClient, fake_revu: Any
) -> None:
    fake_revu.set_offers("alex-42", member_offers())

    body = client.get("/rewards/support/api/users/alex-42", headers=bearer()).get_json()

    assert body["user_id"] == "alex-42"
    assert body["counts"] == {
        "total": 4,
        "in_progress": 1,
        "pending": 1,
        "credited": 1,
        "reversed": 1,
        "expired": 0,
        "reversed_or_expired": 0,
        "unknown": 0,
        "overdue": 1,
    }
    # Each offer's reward counts where its reward_status puts it.
    assert body["totals"] == {"earned": 300, "pending": 2500, "lost": 5000, "remaining": 4200}
    assert body["currency"] == "coins"
    assert body["support_id"]
    assert body["truncated"] is False


@every_dialect
def test_api_describes_each_offer_in_plain_words(client: FlaskClient, fake_revu: Any) -> None:
    fake_revu.set_offers("alex-42", member_offers())

    body = client.get("/rewards/support/api/users/alex-42", headers=bearer()).get_json()
    offers = {offer["offer_id"]: offer for offer in body["offers"]}

    in_progress = offers[51001]
    assert (in_progress["status"], in_progress["state"]) == ("in_progress", "in_progress")
    assert in_progress["state_label"] == "In progress"
    assert (in_progress["steps_done"], in_progress["steps_total"]) == (2, 3)
    assert "Level 25" in in_progress["next_action"]["text"]
    assert in_progress["next_action"]["code"] == "continue"
    assert in_progress["rewards"] == {"possible": 4200, "earned": 0, "pending": 0, "lost": 0}

    overdue = offers[51003]
    assert overdue["state_label"] == "Pending credit"
    assert overdue["overdue"] is True
    expected = datetime.fromisoformat(overdue["expected_credit_at"])
    assert expected == NOW - timedelta(days=10)
    assert overdue["next_action"]["code"] == "contact_support"
    assert overdue["last_activity_at"] == days_ago(40)

    reversed_offer = offers[51004]
    assert reversed_offer["status"] == "reversed"
    assert reversed_offer["reversal_reason"] == "Deposit charged back"
    assert offers[51002]["reversal_reason"] is None
    assert offers[51002]["overdue"] is False


@every_dialect
def test_api_lists_every_offer_of_a_heavy_member(client: FlaskClient) -> None:
    body = client.get("/rewards/support/api/users/heavy-jo", headers=bearer()).get_json()

    assert body["counts"]["total"] == 1200
    assert len(body["offers"]) == 1200
    assert len({offer["offer_id"] for offer in body["offers"]}) == 1200


@every_dialect
def test_status_filter_narrows_offers_but_not_counts(client: FlaskClient, fake_revu: Any) -> None:
    fake_revu.set_offers("alex-42", member_offers())

    body = client.get(
        "/rewards/support/api/users/alex-42?status=pending", headers=bearer()
    ).get_json()

    assert [offer["offer_id"] for offer in body["offers"]] == [51003]
    assert body["status_filter"] == "pending"
    assert body["counts"]["total"] == 4


def test_unknown_status_filter_is_a_400(client: FlaskClient) -> None:
    response = client.get("/rewards/support/api/users/alex-42?status=lost", headers=bearer())

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"


def test_upstream_errors_come_back_as_json(client: FlaskClient) -> None:
    response = client.get("/rewards/support/api/users/banned-pat", headers=bearer())

    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "user_banned"


def test_id_with_a_slash_is_one_upstream_segment(client: FlaskClient, fake_revu: Any) -> None:
    fake_revu.set_offers("team/alex", known_offers()[:1])

    body = client.get("/rewards/support/api/users/team%2Falex", headers=bearer()).get_json()

    assert body["user_id"] == "team/alex"
    assert [offer["offer_id"] for offer in body["offers"]] == [51001]
    assert fake_revu.requests[-1].user_id == "team/alex"


# --- audit and secrets ---------------------------------------------------------------------


def test_api_lookups_and_refusals_are_audited(
    client: FlaskClient, fake_revu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake_revu.set_offers("alex-42", member_offers())

    with caplog.at_level(logging.INFO, logger="revu_widgets.audit"):
        client.get("/rewards/support/api/users/alex-42", headers=bearer("nope"))
        client.get("/rewards/support/api/users/alex-42", headers=bearer())

    refused, allowed = (record.revu_audit for record in audit_records(caplog))
    assert (refused["channel"], refused["result"], refused["offers"]) == (
        "api",
        "unauthorized",
        None,
    )
    assert (allowed["channel"], allowed["result"], allowed["offers"]) == ("api", "ok", 4)
    assert allowed["actor"] == "support-token"
    assert TOKEN not in caplog.text


def test_neither_key_nor_token_appear_in_json_or_logs(
    client: FlaskClient, fake_revu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake_revu.set_offers("alex-42", member_offers())

    with caplog.at_level(logging.DEBUG):
        answers = [
            client.get("/rewards/support/api/users/alex-42", headers=bearer()),
            client.get("/rewards/support/api/users/banned-pat", headers=bearer()),
            client.get("/rewards/support/api/users/alex-42", headers=bearer("wrong")),
        ]

    for answer in answers:
        text = answer.get_data(as_text=True) + str(answer.headers)
        assert FAKE_API_KEY not in text
        assert TOKEN not in text
    assert FAKE_API_KEY not in caplog.text
    assert TOKEN not in caplog.text
