""" "Report a problem" over real HTTP to the fake RevU: the clock, the form, triage and delivery."""

from __future__ import annotations

import html
import io
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from revu_widgets.claim_words import clock_short
from revu_widgets.claims import Claim, ClaimClock, ClaimPhase, ClaimReason, Problem
from revu_widgets.errors import ConfigurationError
from revu_widgets.fake import FakeRevU
from revu_widgets.report import form_token

from .conftest import HostFactory, sign_in
from .known_offers import (
    NOW,
    credited_offer,
    days_ago,
    iso,
    known_offers,
    overdue_pending_offer,
)
from .redis_server import RedisServer

MEMBER = "alex-7"
OVERDUE = 51003
REVERSED = 51004
CREDITED = 51002
IN_PROGRESS = 51001
WAITING = 51005
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0" + bytes(200)


def waiting_offer() -> dict[str, Any]:
    """Offer 51005, pending for 3 days of its "up to 30 days": waiting is normal."""
    offer = overdue_pending_offer()
    offer.update(offer_id=WAITING, name="TuneWave free trial", updated_at=days_ago(3))
    offer["events"][0]["completed_at"] = days_ago(3)
    return offer


def member_offers() -> list[dict[str, Any]]:
    return [*known_offers(), credited_offer(), waiting_offer()]


Handler = Callable[[Claim], str | None]


@pytest.fixture
def claims() -> list[Claim]:
    return []


@pytest.fixture
def make_app(
    make_host: HostFactory, fake_revu: FakeRevU, claims: list[Claim]
) -> Callable[..., Flask]:
    fake_revu.set_offers(MEMBER, member_offers())

    def factory(
        *,
        handler: Handler | bool | None = True,
        ledger: Callable[[str, int], Any] | None = None,
        **config: Any,
    ) -> Flask:
        app = make_host(**config)
        revu = app.extensions["test_revu"]
        if handler is True:

            def file_claim(claim: Claim) -> str:
                claims.append(claim)
                return f"HD-{len(claims)}"

            revu.claim_handler(file_claim)
        elif callable(handler):
            revu.claim_handler(handler)
        if ledger is not None:
            revu.ledger_loader(ledger)
        return app

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return sign_in(app.test_client(), MEMBER)


def report_url(offer_id: int) -> str:
    return f"/rewards/offers/{offer_id}/report"


def token_of(client: FlaskClient, offer_id: int) -> str:
    page = client.get(report_url(offer_id))
    assert page.status_code == 200, page.status_code
    found = re.search(r'name="revu_token" value="([^"]+)"', page.text)
    assert found, "the form has no token"
    return found.group(1)


def send(
    client: FlaskClient,
    offer_id: int,
    *,
    token: str | None = "",
    problem: str = "not_credited",
    files: list[tuple[bytes, str]] | None = None,
    **fields: str,
) -> TestResponse:
    data: dict[str, Any] = {"problem": problem, **fields}
    if token == "":
        token = token_of(client, offer_id)
    if token is not None:
        data["revu_token"] = token
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(report_url(offer_id), data=data, content_type="multipart/form-data")


def claim_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "revu_widgets.audit" and r.getMessage().startswith("claim ")
    ]


# --- the clock on every page -------------------------------------------------------------------


def test_offer_json_carries_the_clock_for_each_state(client: FlaskClient) -> None:
    offers = {o["offer_id"]: o for o in client.get("/rewards/api/progress").json["offers"]}

    phases = {oid: (o["claim"]["phase"], o["claim"]["reason"]) for oid, o in offers.items()}
    assert phases == {
        IN_PROGRESS: ("open", "step_not_recorded"),
        OVERDUE: ("open", "pending_overdue"),
        REVERSED: ("open", "reversed"),
        CREDITED: ("none", "credited"),
        WAITING: ("wait", "pending_within_window"),
    }
    waiting = offers[WAITING]["claim"]
    assert waiting["opens_at"] == iso(NOW + timedelta(days=27))
    assert waiting["report_url"] is None
    assert "Waiting is normal" in waiting["text"]
    assert "up to 30 days" in waiting["text"]
    assert offers[OVERDUE]["claim"]["report_url"] == report_url(OVERDUE)
    one = client.get(f"/rewards/api/offers/{WAITING}").json["offer"]["claim"]
    assert one["phase"] == "wait"
    assert one["suggested_action"]["code"] == "wait"


def test_offer_page_shows_the_clock_and_a_report_button_only_while_open(
    client: FlaskClient,
) -> None:
    overdue = client.get(f"/rewards/offers/{OVERDUE}").text
    assert f'href="{report_url(OVERDUE)}"' in overdue
    assert 'data-revu-claim="open"' in overdue
    # High on the page: before the steps and the claim details a phone user scrolls past.
    assert overdue.index("Report a problem") < overdue.index("revu-steps-title")

    waiting = client.get(f"/rewards/offers/{WAITING}").text
    # Rendered hidden, for the live refresh to show once the window opens.
    hidden_button = '<p data-revu-show="claim.report_url" hidden><a class="revu-button" href="{}"'
    assert hidden_button.format(report_url(WAITING)) in waiting
    assert 'data-revu-claim="wait"' in waiting
    assert "you can report it then" in waiting


def test_history_cards_link_to_the_report_only_when_a_claim_is_open(
    client: FlaskClient,
) -> None:
    page = client.get("/rewards/").text

    for offer_id in (OVERDUE, REVERSED, IN_PROGRESS):
        assert f'href="{report_url(offer_id)}"' in page
    for offer_id in (WAITING, CREDITED):
        assert report_url(offer_id) not in page
    assert "Report possible from" in page


def card_of(page: str, offer_id: int) -> str:
    """One history card's HTML."""
    found = re.search(rf'<article [^>]*data-revu-offer="{offer_id}".*?</article>', page, re.DOTALL)
    assert found is not None, offer_id
    return found.group(0)


def test_history_cards_carry_the_claim_as_one_line(client: FlaskClient) -> None:
    page = client.get("/rewards/").text
    offers = {o["offer_id"]: o for o in client.get("/rewards/api/progress").json["offers"]}

    overdue = card_of(page, OVERDUE)
    # One paragraph, no box: the link and until when, and nothing else.
    (line,) = re.findall(r'<p class="revu revu-claim-line"[^>]*>.*?</p>', overdue, re.DOTALL)
    assert "revu-claim-clock" not in overdue
    assert f'<a class="revu-claim-line__report" href="{report_url(OVERDUE)}">' in line
    closes = offers[OVERDUE]["claim"]["closes_at"]
    assert closes is not None
    words = re.sub(r"<[^>]+>", "", line)
    assert re.fullmatch(r"Report a problem \(.+\) until [A-Z][a-z]{2} \d{1,2}, \d{4}", words)

    # Weeks away: the day is enough on a card (the offer page gives the time and zone).
    waiting = card_of(page, WAITING)
    assert 'class="revu revu-claim-line revu-muted" data-revu-claim="wait"' in waiting
    assert re.search(r">Report possible from [A-Z][a-z]{2} \d{1,2}, \d{4}</p>", waiting)
    # Nothing to report on a credited offer: no claim line at all.
    assert "revu-claim-line" not in card_of(page, CREDITED)


def test_a_report_opening_within_a_day_says_how_long_until_then(app: Flask) -> None:
    def waiting_for(hours: int) -> ClaimClock:
        return ClaimClock(
            phase=ClaimPhase.WAIT,
            reason=ClaimReason.PENDING_WITHIN_WINDOW,
            opens_at=NOW + timedelta(hours=hours),
            closes_at=NOW + timedelta(days=60),
            as_of=NOW,
        )

    with app.test_request_context(headers={"Accept-Language": "en"}):
        soon = clock_short(waiting_for(5))
        later = clock_short(waiting_for(48))
    assert soon == "Report possible in 5 hours"
    assert re.fullmatch(r"Report possible from [A-Z][a-z]{2} \d{1,2}, \d{4}", later)


def test_next_action_points_to_report_a_problem_while_a_report_can_be_sent(
    client: FlaskClient, make_app: Callable[..., Flask]
) -> None:
    for offer_id in (OVERDUE, REVERSED):
        page = client.get(f"/rewards/offers/{offer_id}").text
        found = re.search(r'data-revu-field="next_action.text">([^<]+)<', page)
        assert found is not None
        action = html.unescape(found.group(1))
        assert "“Report a problem” on this offer's page" in action
        assert action.startswith("Use" if offer_id == OVERDUE else "If you think this is a mistake")
        # The live refresh's JSON says the same, so a refresh does not undo it.
        offer = client.get(f"/rewards/api/offers/{offer_id}").json["offer"]
        assert offer["next_action"]["text"] == action

    # Once reports are closed, the words fall back to support in general.
    closed = sign_in(make_app(REVU_CLAIM_WINDOW_DAYS=0).test_client(), MEMBER)
    offer = closed.get(f"/rewards/api/offers/{OVERDUE}").json["offer"]
    assert offer["claim"]["phase"] == "closed"
    assert offer["next_action"]["text"] == "Contact support with the claim details."


def test_report_page_before_the_window_says_when_and_has_no_form(client: FlaskClient) -> None:
    page = client.get(report_url(WAITING))

    assert page.status_code == 200
    assert "<form" not in page.text
    assert "Waiting is normal" in page.text
    assert "revu_token" not in page.text


# --- refusals ----------------------------------------------------------------------------------


def test_form_is_refused_outside_the_window(
    client: FlaskClient, claims: list[Claim], caplog: pytest.LogCaptureFixture
) -> None:
    # The page has no form before the window: a token as the form would carry it.
    with client.application.test_request_context():
        token = form_token(MEMBER, WAITING)
    caplog.set_level(logging.INFO, "revu_widgets.audit")

    response = send(client, WAITING, token=token)

    assert response.status_code == 409
    assert "cannot be sent now" in response.text
    assert claims == []
    assert "result=refused_wait" in claim_lines(caplog)[-1].getMessage()


def test_form_is_refused_without_or_with_a_forged_token(
    client: FlaskClient, claims: list[Claim], fake_revu: FakeRevU
) -> None:
    calls = len(fake_revu.requests)
    assert send(client, OVERDUE, token=None).status_code == 400
    assert send(client, OVERDUE, token="x.y.z").status_code == 400
    # A token for another offer is not one for this offer.
    other = token_of(client, REVERSED)
    calls = len(fake_revu.requests)
    response = send(client, OVERDUE, token=other)
    assert response.status_code == 400
    assert "Open the form again" in response.text
    assert claims == []
    # A refused token never reaches RevU.
    assert len(fake_revu.requests) == calls


def test_a_token_is_bound_to_the_member(app: Flask, claims: list[Claim]) -> None:
    alex = sign_in(app.test_client(), MEMBER)
    token = token_of(alex, OVERDUE)
    other = sign_in(app.test_client(), "alex-8")

    assert send(other, OVERDUE, token=token).status_code == 400
    assert claims == []


def test_another_members_offer_cannot_be_reported(
    app: Flask, fake_revu: FakeRevU, claims: list[Claim]
) -> None:
    fake_revu.set_offers("alex-8", [credited_offer()])
    other = sign_in(app.test_client(), "alex-8")

    with app.test_request_context():
        token = form_token("alex-8", OVERDUE)

    assert other.get(report_url(OVERDUE)).status_code == 404
    assert send(other, OVERDUE, token=token).status_code == 404
    assert claims == []


def test_signed_out_visitors_cannot_report(app: Flask) -> None:
    assert app.test_client().get(report_url(OVERDUE)).status_code == 401
    assert app.test_client().post(report_url(OVERDUE)).status_code == 401


def test_oversize_images_are_refused(make_app: Callable[..., Flask], claims: list[Claim]) -> None:
    client = sign_in(make_app(REVU_CLAIM_MAX_FILE_BYTES=1000).test_client(), MEMBER)

    response = send(client, OVERDUE, files=[(PNG + bytes(1000), "big.png")])

    assert response.status_code == 413
    assert "big.png is too large" in response.text
    assert claims == []


def test_a_request_larger_than_every_image_together_is_refused(
    make_app: Callable[..., Flask], claims: list[Claim]
) -> None:
    client = sign_in(
        make_app(REVU_CLAIM_MAX_FILE_BYTES=1000, REVU_CLAIM_MAX_FILES=1).test_client(), MEMBER
    )

    response = send(client, OVERDUE, files=[(PNG + bytes(200_000), "huge.png")])

    assert response.status_code == 413
    assert claims == []


@pytest.mark.parametrize("config", [{"REVU_CLAIM_MAX_FILES": 0}, {"handler": None}])
def test_images_are_refused_where_the_form_offers_none(
    make_app: Callable[..., Flask], claims: list[Claim], config: dict[str, Any]
) -> None:
    client = sign_in(make_app(**config).test_client(), MEMBER)
    assert 'type="file"' not in client.get(report_url(OVERDUE)).text

    response = send(client, OVERDUE, files=[(PNG, "a.png")])

    assert response.status_code == 422
    assert "Attachments cannot be sent" in response.text
    assert claims == []


def test_too_many_images_are_refused(make_app: Callable[..., Flask], claims: list[Claim]) -> None:
    client = sign_in(make_app(REVU_CLAIM_MAX_FILES=2).test_client(), MEMBER)

    response = send(client, OVERDUE, files=[(PNG, "a.png"), (PNG, "b.png"), (PNG, "c.png")])

    assert response.status_code == 413
    assert "at most 2 images" in response.text
    assert claims == []


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"%PDF-1.7 not an image", "receipt.png"),
        (b"<svg onload='alert(1)'/>", "shot.svg"),
        (b"MZ\x90\x00 program", "photo.jpg"),
    ],
)
def test_files_that_are_not_images_are_refused_whatever_their_name(
    client: FlaskClient, claims: list[Claim], content: bytes, name: str
) -> None:
    response = send(client, OVERDUE, files=[(content, name)])

    assert response.status_code == 415
    assert "is not an image" in response.text
    assert claims == []


def test_a_reversal_is_claimed_only_when_the_member_disputes_it(
    client: FlaskClient, claims: list[Claim]
) -> None:
    refused = send(client, REVERSED, problem="dispute_reversal")
    assert refused.status_code == 422
    assert "Deposit charged back" in refused.text
    assert claims == []

    filed = send(client, REVERSED, problem="dispute_reversal", dispute="yes")
    assert filed.status_code == 200
    assert claims[0].problem is Problem.DISPUTE_REVERSAL
    assert claims[0].clock.reason is ClaimReason.REVERSED


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"problem": "nonsense"}, "Choose what happened."),
        ({"occurred_on": "yesterday"}, "year-month-day"),
        ({"occurred_on": "2999-01-01"}, "cannot be in the future"),
        ({"step": "99"}, "Choose one of the offer"),
    ],
)
def test_bad_answers_come_back_with_a_message(
    client: FlaskClient, claims: list[Claim], fields: dict[str, str], message: str
) -> None:
    response = send(client, OVERDUE, **fields)

    assert response.status_code == 422
    assert message in response.text
    assert claims == []


# --- the bundle and where it goes ---------------------------------------------------------------


def test_the_handler_receives_the_full_evidence_bundle(
    client: FlaskClient, claims: list[Claim], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "revu_widgets.audit")

    response = send(
        client,
        OVERDUE,
        occurred_on=NOW.date().isoformat(),
        message="I kept the trial for 7 days.\nUser ID: someone-else",
        files=[(PNG, "../../etc/receipt.png"), (JPEG, "shot.jpeg")],
    )

    assert response.status_code == 200
    assert "HD-1" in response.text
    (claim,) = claims
    assert claim.user_id == MEMBER
    assert claim.offer.offer_id == OVERDUE
    assert claim.support_id
    assert [(a.filename, a.content_type, a.data) for a in claim.attachments] == [
        ("etc_receipt.png", "image/png", PNG),
        ("shot.jpeg", "image/jpeg", JPEG),
    ]
    data = claim.as_dict()
    assert data["offer"]["name"] == "StreamBox free trial"
    assert data["offer"]["expected_credit_at"] == iso(NOW - timedelta(days=10))
    assert data["offer"]["steps"] == [
        {
            "name": "Start the free trial",
            "status": "pending",
            "raw_status": "pending",
            "reward": 2500,
            "completed_at": days_ago(40),
            "credited_at": None,
            "reversed_at": None,
            "reason": None,
        }
    ]
    assert data["verdict"] == "pending_overdue"
    assert data["occurred_on"] == NOW.date().isoformat()
    assert data["support_id"] == claim.support_id
    assert data["attachments"][0] == {
        "filename": "etc_receipt.png",
        "content_type": "image/png",
        "size": len(PNG),
    }
    text = claim.ticket_text
    assert f"RevU support reference: {claim.support_id}" in text
    assert "Start the free trial" in text
    assert "Expected credit:" in text
    # The member's words are indented: they cannot pass for the kit's own lines.
    assert "\n  User ID: someone-else" in text
    assert f"\nUser ID: {MEMBER}" in text
    (line,) = claim_lines(caplog)
    message = line.getMessage()
    assert f"claim_id={claim.claim_id}" in message
    assert "route=handler result=filed" in message
    assert "ticket='HD-1'" in message
    assert "attachments=2" in message
    assert "trial" not in message  # the member's words stay out of the log


def test_a_failing_handler_still_gives_the_member_the_details(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(claim: Claim) -> str:
        raise RuntimeError("help desk down")

    client = sign_in(make_app(handler=broken).test_client(), MEMBER)
    caplog.set_level(logging.INFO)

    response = send(client, OVERDUE)

    assert response.status_code == 502
    assert "could not be sent" in response.text
    assert "Offer claim details" in response.text
    assert "Traceback" not in response.text
    assert "result=handler_failed" in claim_lines(caplog)[-1].getMessage()


def test_without_a_handler_a_mailto_support_url_gets_a_prefilled_link(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(handler=None, REVU_SUPPORT_URL="mailto:help@example.com")
    client = sign_in(app.test_client(), MEMBER)
    caplog.set_level(logging.INFO, "revu_widgets.audit")

    response = send(client, OVERDUE, message="Still waiting")

    assert response.status_code == 200
    link = re.search(r'href="(mailto:[^"]+)"', response.text)
    assert link
    parts = urlsplit(link.group(1).replace("&amp;", "&"))
    assert parts.path == "help@example.com"
    query = parse_qs(parts.query)
    assert query["subject"] == ["Missing reward: StreamBox free trial (offer 51003)"]
    assert "Still waiting" in query["body"][0]
    assert "RevU support reference" in query["body"][0]
    assert "Write to support" in response.text
    assert "route=url result=shown" in claim_lines(caplog)[-1].getMessage()


def test_an_https_support_url_has_its_placeholders_filled(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(
        handler=None, REVU_SUPPORT_URL="https://help.example.com/new?title={subject}&text={body}"
    )
    client = sign_in(app.test_client(), MEMBER)

    response = send(client, OVERDUE)

    link = re.search(r'href="(https://help\.example\.com/[^"]+)"', response.text)
    assert link
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert unquote(query["title"][0]).startswith("Missing reward")
    assert "Offer claim details" in query["text"][0]
    # Images cannot travel in a link: the form does not offer them.
    assert 'type="file"' not in client.get(report_url(OVERDUE)).text


def test_with_neither_the_page_shows_the_bundle_to_copy(make_app: Callable[..., Flask]) -> None:
    client = sign_in(make_app(handler=None).test_client(), MEMBER)

    response = send(client, OVERDUE, message="Hello")

    assert response.status_code == 200
    assert "Copy these details" in response.text
    assert "data-revu-copy" in response.text
    assert "Offer claim details" in response.text
    assert 'href="mailto:' not in response.text


@pytest.mark.parametrize(
    "url", ["http://help.example.com/", "javascript:alert(1)", "help.example.com", "ftp://x/"]
)
def test_a_support_url_that_is_neither_https_nor_mailto_is_refused_at_start(
    make_host: HostFactory, url: str
) -> None:
    with pytest.raises(ConfigurationError, match="REVU_SUPPORT_URL"):
        make_host(REVU_SUPPORT_URL=url)


# --- triage with the site's ledger ----------------------------------------------------------------


def test_credited_by_revu_but_not_by_the_site_is_the_sites_own_problem(
    make_app: Callable[..., Flask], claims: list[Claim]
) -> None:
    asked: list[tuple[str, int]] = []

    def ledger(user_id: str, offer_id: int) -> int | None:
        asked.append((user_id, offer_id))
        return None

    client = sign_in(make_app(ledger=ledger).test_client(), MEMBER)

    page = client.get(report_url(CREDITED)).text
    assert "That is our mistake, not yours" in page
    assert "<form" in page
    assert f'href="{report_url(CREDITED)}"' in client.get(f"/rewards/offers/{CREDITED}").text
    response = send(client, CREDITED, problem="missing_from_balance")

    assert response.status_code == 200
    assert "This one is on our side" in response.text
    assert "300 coins" in response.text
    assert claims[0].clock.reason is ClaimReason.SITE_MISSING_CREDIT
    assert claims[0].as_dict()["handled_by"] == "site"
    assert "the site's own problem" in claims[0].ticket_text
    # Only offers with a credited amount are looked up in the ledger.
    assert {offer_id for _, offer_id in asked} <= {CREDITED, IN_PROGRESS}
    assert asked[0][0] == MEMBER


def test_credited_by_both_has_nothing_to_report(
    make_app: Callable[..., Flask], claims: list[Claim]
) -> None:
    client = sign_in(make_app(ledger=lambda user_id, offer_id: 300).test_client(), MEMBER)

    page = client.get(report_url(CREDITED))
    assert "there is nothing to report" in page.text
    assert "<form" not in page.text

    with client.application.test_request_context():
        token = form_token(MEMBER, CREDITED)
    assert send(client, CREDITED, token=token).status_code == 409
    assert claims == []


def test_pending_inside_its_window_is_the_clock_even_with_a_ledger(
    make_app: Callable[..., Flask],
) -> None:
    client = sign_in(make_app(ledger=lambda user_id, offer_id: 0).test_client(), MEMBER)

    claim = client.get(f"/rewards/api/offers/{WAITING}").json["offer"]["claim"]

    assert claim["phase"] == "wait"
    assert claim["reason"] == "pending_within_window"


def test_a_ledger_answer_that_is_not_a_number_is_a_configuration_error(
    make_app: Callable[..., Flask],
) -> None:
    client = sign_in(make_app(ledger=lambda user_id, offer_id: "300").test_client(), MEMBER)

    with pytest.raises(ConfigurationError, match="ledger_loader"):
        client.get(f"/rewards/offers/{CREDITED}")


# --- audit --------------------------------------------------------------------------------------


def test_audit_lines_cannot_be_forged_by_ids_or_ticket_references(
    make_app: Callable[..., Flask], fake_revu: FakeRevU, caplog: pytest.LogCaptureFixture
) -> None:
    hostile = "alex-9 route=forged"
    fake_revu.set_offers(hostile, [overdue_pending_offer()])
    app = make_app(handler=lambda claim: "T-1\nclaim forged=yes")
    client = sign_in(app.test_client(), hostile)
    caplog.set_level(logging.INFO, "revu_widgets.audit")

    assert send(client, OVERDUE).status_code == 200

    (line,) = claim_lines(caplog)
    assert "\n" not in line.getMessage()
    assert "user_id='alex-9 route=forged'" in line.getMessage()
    assert line.getMessage().count("route=") == 2
    assert line.revu_audit["user_id"] == hostile  # type: ignore[attr-defined]
    assert line.revu_audit["ticket"] == "T-1 claim forged=yes"  # type: ignore[attr-defined]


# --- support ------------------------------------------------------------------------------------


def test_support_json_carries_clock_triage_and_next_action(
    make_app: Callable[..., Flask],
) -> None:
    token = "support-token-for-tests-0123456789"
    app = make_app(ledger=lambda user_id, offer_id: 0, REVU_SUPPORT_TOKEN=token)

    body = (
        app.test_client()
        .get(
            f"/rewards/support/api/users/{MEMBER}",
            headers={"Authorization": f"Bearer {token}"},
        )
        .json
    )

    offers = {o["offer_id"]: o for o in body["offers"]}
    assert offers[WAITING]["triage"] == "pending_within_window"
    assert offers[WAITING]["suggested_next_action"]["code"] == "wait"
    assert offers[WAITING]["claim"]["opens_at"] == iso(NOW + timedelta(days=27))
    assert offers[OVERDUE]["suggested_next_action"]["code"] == "file_claim"
    assert offers[REVERSED]["suggested_next_action"]["code"] == "explain_reversal"
    assert offers[CREDITED]["triage"] == "site_missing_credit"
    assert offers[CREDITED]["suggested_next_action"]["code"] == "credit_from_site"


def test_support_page_marks_offers_with_an_open_claim_window(
    make_app: Callable[..., Flask],
) -> None:
    staff = sign_in(make_app().test_client(), "staff-1")

    page = staff.get(f"/rewards/support/users/{MEMBER}").text

    marked = {
        int(m)
        for m in re.findall(
            r'data-revu-offer="(\d+)"[^>]*>(?:(?!</article>).)*?data-revu-claim-open', page, re.S
        )
    }
    assert marked == {IN_PROGRESS, OVERDUE, REVERSED}
    assert "Waiting is normal" in page


def test_in_progress_offer_steps_are_offered_with_the_first_missing_one_chosen(
    client: FlaskClient, claims: list[Claim]
) -> None:
    page = client.get(report_url(IN_PROGRESS)).text
    assert re.search(r'<option value="2" selected>Level 25</option>', page)

    response = send(client, IN_PROGRESS, problem="step_not_recorded", step="2")

    assert response.status_code == 200
    assert claims[0].problem is Problem.STEP_NOT_RECORDED
    assert "Step: Level 25" in claims[0].ticket_text


# --- rate limit ---------------------------------------------------------------------------------


def test_reports_over_the_members_limit_are_refused_with_retry_after(
    make_app: Callable[..., Flask], claims: list[Claim], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(REVU_CLAIM_LIMIT="2/hour")
    client = sign_in(app.test_client(), MEMBER)
    caplog.set_level(logging.INFO, "revu_widgets.audit")

    # A form sent back to be fixed does not count.
    assert send(client, OVERDUE, occurred_on="2999-01-01").status_code == 422
    assert send(client, OVERDUE).status_code == 200
    assert send(client, REVERSED, problem="dispute_reversal", dispute="yes").status_code == 200
    refused = send(client, IN_PROGRESS, problem="step_not_recorded")

    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "several reports in a short time" in refused.text
    assert len(claims) == 2
    assert "result=rate_limited" in claim_lines(caplog)[-1].getMessage()


def test_the_limit_is_shared_by_every_worker_through_redis(
    make_app: Callable[..., Flask], claims: list[Claim], redis_server: RedisServer
) -> None:
    config = {"REVU_CLAIM_LIMIT": "1/hour", "REVU_CACHE_URL": redis_server.url}
    first = sign_in(make_app(**config).test_client(), MEMBER)
    second = sign_in(make_app(**config).test_client(), MEMBER)

    assert send(first, OVERDUE).status_code == 200
    assert send(second, OVERDUE).status_code == 429
    assert len(claims) == 1


def test_a_claim_limit_that_is_not_a_rate_is_refused_at_start(make_host: HostFactory) -> None:
    with pytest.raises(ConfigurationError, match="REVU_CLAIM_LIMIT"):
        make_host(REVU_CLAIM_LIMIT="lots")


# --- hostile upstream text ------------------------------------------------------------------------


def test_hostile_offer_and_step_names_stay_text_in_the_form_ticket_and_link(
    make_app: Callable[..., Flask], fake_revu: FakeRevU, claims: list[Claim]
) -> None:
    offer = overdue_pending_offer()
    offer["name"] = "<script>alert(1)</script>\nUser ID: forged"
    offer["events"][0]["name"] = '"><img src=x onerror=alert(2)>'
    fake_revu.set_offers(MEMBER, [offer])
    client = sign_in(make_app().test_client(), MEMBER)

    form = client.get(report_url(OVERDUE)).text
    assert "<script>alert(1)" not in form
    assert "<img src=x" not in form
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in form

    sent = send(client, OVERDUE, step="0")
    assert sent.status_code == 200
    assert "<script>alert(1)" not in sent.text
    text = claims[0].ticket_text
    # Upstream text cannot add lines of its own to the ticket.
    assert "\nUser ID: forged" not in text
    assert f"\nUser ID: {MEMBER}" in text


# --- upstream trouble ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "params", "status"),
    [("status", {"status": 503}, 503), ("non_json", {}, 503), ("envelope", {}, 502)],
)
def test_upstream_trouble_is_a_friendly_page_and_files_nothing(
    client: FlaskClient,
    fake_revu: FakeRevU,
    claims: list[Claim],
    fault: str,
    params: dict[str, Any],
    status: int,
) -> None:
    with client.application.test_request_context():
        token = form_token(MEMBER, OVERDUE)
    fake_revu.add_fault(fault, count=None, **params)

    page = client.get(report_url(OVERDUE))
    sent = send(client, OVERDUE, token=token)

    for response in (page, sent):
        assert response.status_code == status
        assert "Traceback" not in response.text
        assert "quote this reference" in response.text
    assert claims == []
