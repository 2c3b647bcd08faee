"""The PointPanda demo site: it starts on the embedded fake, and every page works for every member.

Real parts only: ``create_app`` with ``REVU_USE_FAKE`` starts the kit's fake RevU on loopback,
and the kit talks to it over HTTP. Pages are driven with Flask's test client, forms included.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from demo_app import create_app, revu
from demo_app.accounts import DEMO_USERS
from revu_widgets.fake import FAKE_API_KEY

from .demo_site import demo_on_fake, form_token, reset_fake, sign_in

SUPPORT_TOKEN = "test-support-token-0123456789-abcdef"
MEMBERS_WITH_OFFERS = ["alex-42", "new-sam", "heavy-jo", "staff-kim"]
NON_STAFF = ["alex-42", "new-sam", "heavy-jo", "banned-pat"]


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    """One demo app on the embedded fake for the module: starting a fake server per test is slow."""
    with demo_on_fake(
        {"TESTING": True, "SECRET_KEY": "test-secret", "REVU_SUPPORT_TOKEN": SUPPORT_TOKEN}
    ) as demo:
        yield demo


@pytest.fixture(autouse=True)
def fresh_fake(app: Flask) -> None:
    """Each test starts from the fake's generated data, without earlier tests' advances."""
    reset_fake(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def offer_snapshot(client: FlaskClient, offer_id: int) -> tuple[Any, ...]:
    offer = client.get(f"/rewards/api/offers/{offer_id}").get_json()["offer"]
    return offer["state"], offer["steps_done"], offer["rewards"]


def first_offer_id(client: FlaskClient, state: str) -> int:
    offers = client.get("/rewards/api/progress").get_json()["offers"]
    return next(o["offer_id"] for o in offers if o["state"] == state)


# -- the app starts, and says which upstream it uses ------------------------------------------


def test_without_an_api_key_the_demo_runs_on_the_embedded_fake(
    app: Flask, client: FlaskClient
) -> None:
    assert app.config["REVU_USE_FAKE"] is True
    page = client.get("/").get_data(as_text=True)
    assert "built-in fake RevU" in page
    assert app.config["REVU_BASE_URL"].startswith("http://127.0.0.1:")
    # The fake's address (and its control endpoints) is nothing a visitor needs to see.
    port = app.config["REVU_BASE_URL"].rsplit(":", 1)[1]
    assert app.config["REVU_BASE_URL"] not in page
    assert f":{port}" not in page


def test_an_api_key_in_the_environment_switches_to_real_revu_and_the_banner_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A loopback port nothing listens on: the real client, refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("REVU_API_KEY", "K" * 20)
    monkeypatch.setenv("REVU_BASE_URL", closed_url)
    real = create_app({"TESTING": True, "REVU_MAX_RETRIES": 0})
    client = real.test_client()

    home = client.get("/").get_data(as_text=True)
    assert "real RevU" in home
    assert "built-in fake RevU:" not in home
    assert closed_url in home
    assert "K" * 20 not in home

    sign_in(client, "alex-42")
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 503
    assert "could not load your offers" in dashboard.get_data(as_text=True)
    assert "Simulate progress" not in dashboard.get_data(as_text=True)
    token = form_token(client, "/")
    assert client.post("/simulate-progress", data={"csrf_token": token}).status_code == 404


@pytest.fixture
def real_revu(monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The demo pointed at a "real" RevU: a key in the environment, nothing listening."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("REVU_API_KEY", "K" * 20)
    monkeypatch.setenv("REVU_BASE_URL", closed_url)
    monkeypatch.setenv("REVU_SUPPORT_TOKEN", SUPPORT_TOKEN)
    return create_app({"TESTING": True, "REVU_MAX_RETRIES": 0})


def test_on_the_real_revu_nobody_can_sign_in_as_staff(real_revu: Flask) -> None:
    client = real_revu.test_client()
    picker = client.get("/sign-in").get_data(as_text=True)
    assert "staff-kim" not in picker
    assert "alex-42" in picker
    response = client.post(
        "/sign-in", data={"csrf_token": form_token(client), "user_id": "staff-kim"}
    )
    assert response.status_code == 403
    assert client.get("/rewards/support/").status_code == 403
    assert "Support desk" not in client.get("/").get_data(as_text=True)


def test_on_the_real_revu_the_support_token_is_never_shown(real_revu: Flask) -> None:
    client = real_revu.test_client()
    # Even a session that claims to be staff (a cookie signed with a leaked secret key).
    with client.session_transaction() as session:
        session["demo_user_id"] = "staff-kim"
    home = client.get("/")
    assert SUPPORT_TOKEN not in home.get_data(as_text=True)
    assert client.get("/rewards/support/").status_code == 403


@pytest.mark.parametrize("path", ["/", "/sign-in", "/dashboard"])
def test_the_sites_pages_are_never_stored(client: FlaskClient, path: str) -> None:
    sign_in(client, "staff-kim")
    assert client.get(path).headers["Cache-Control"] == "private, no-store"


def test_a_non_ascii_digit_offer_id_in_simulate_progress_is_a_400(client: FlaskClient) -> None:
    sign_in(client, "alex-42")
    token = form_token(client, "/")
    for raw in ("\u00b2", "\u2460"):
        response = client.post("/simulate-progress", data={"csrf_token": token, "offer_id": raw})
        assert response.status_code == 400


# -- pages for every member -------------------------------------------------------------------


def test_signed_out_visitors_get_the_host_pages_and_a_sign_in_prompt(client: FlaskClient) -> None:
    for path in ("/", "/sign-in"):
        assert client.get(path).status_code == 200
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    assert "Sign in to see your bamboo" in dashboard.get_data(as_text=True)


def test_the_kits_pages_send_signed_out_visitors_to_sign_in_and_back(client: FlaskClient) -> None:
    response = client.get("/rewards/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    back = sign_in(client, "alex-42", next="/rewards/")
    assert back.headers["Location"] == "/rewards/"


@pytest.mark.parametrize("user_id", MEMBERS_WITH_OFFERS)
def test_every_demo_page_answers_for_each_member(client: FlaskClient, user_id: str) -> None:
    sign_in(client, user_id)
    for path in (
        "/",
        "/sign-in",
        "/dashboard",
        "/rewards/",
        "/rewards/?status=pending",
        "/rewards/api/progress",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    offers = client.get("/rewards/api/progress").get_json()["offers"]
    if offers:
        offer_id = offers[0]["offer_id"]
        assert client.get(f"/rewards/offers/{offer_id}").status_code == 200
        assert client.get(f"/rewards/api/offers/{offer_id}").status_code == 200


def test_the_dashboard_shows_the_summary_and_in_progress_offers(client: FlaskClient) -> None:
    sign_in(client, "alex-42")
    response = client.get("/dashboard")
    assert response.headers["Cache-Control"] == "private, no-store"
    page = response.get_data(as_text=True)
    assert "Hi Alex" in page
    assert "revu-summary" in page
    in_progress = [
        o
        for o in client.get("/rewards/api/progress").get_json()["offers"]
        if o["state"] == "in_progress"
    ]
    assert in_progress
    for offer in in_progress[:6]:
        assert f'href="/rewards/offers/{offer["offer_id"]}"' in page
    assert "bamboo" in page


def test_the_dashboard_names_overdue_credits_with_the_kits_own_notice(
    client: FlaskClient,
) -> None:
    sign_in(client, "alex-42")
    overdue = [o for o in client.get("/rewards/api/progress").get_json()["offers"] if o["overdue"]]
    assert overdue
    page = client.get("/dashboard").get_data(as_text=True)
    notice = page.split('<section class="revu revu-notice revu-overdue">', 1)[1].split(
        "</section>"
    )[0]
    for offer in overdue:
        assert f'<a href="/rewards/offers/{offer["offer_id"]}">' in notice
        assert offer["expected_credit_text"] in notice


def test_a_new_member_dashboard_says_nothing_is_started_yet(client: FlaskClient) -> None:
    sign_in(client, "new-sam")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "You have not started an offer yet" in page
    assert "revu-card" not in page


def test_the_heavy_member_history_counts_all_1200_offers(client: FlaskClient) -> None:
    sign_in(client, "heavy-jo")
    assert client.get("/rewards/api/progress").get_json()["total"] == 1200
    assert "1,200" in client.get("/rewards/").get_data(as_text=True)


def test_a_banned_member_gets_a_friendly_403_wherever_progress_is_fetched(
    client: FlaskClient,
) -> None:
    sign_in(client, "banned-pat")
    assert client.get("/").status_code == 200
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 403
    assert "Offers are not available on this account" in dashboard.get_data(as_text=True)
    history = client.get("/rewards/")
    assert history.status_code == 403
    assert "Traceback" not in history.get_data(as_text=True)
    assert "PointPanda" in history.get_data(as_text=True)
    api = client.get("/rewards/api/progress")
    assert api.status_code == 403
    assert api.is_json


def test_the_upstream_failing_gives_a_friendly_dashboard_not_a_traceback(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(client, "alex-42")
    with app.app_context():
        assert revu.fake is not None
        revu.fake.add_fault("status", count=None, status=500)
    response = client.get("/dashboard")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "could not load your offers" in page
    assert "Traceback" not in page


# -- staff ------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", NON_STAFF)
def test_the_support_desk_is_refused_to_ordinary_members(client: FlaskClient, user_id: str) -> None:
    sign_in(client, user_id)
    assert client.get("/rewards/support/").status_code == 403
    assert client.get("/rewards/support/users/alex-42").status_code == 403
    assert "Support desk" not in client.get("/").get_data(as_text=True)


def test_the_support_desk_is_open_to_staff(client: FlaskClient) -> None:
    sign_in(client, "staff-kim")
    assert "Support desk" in client.get("/").get_data(as_text=True)
    assert client.get("/rewards/support/").status_code == 200
    lookup = client.get("/rewards/support/users/alex-42")
    assert lookup.status_code == 200
    assert "alex-42" in lookup.get_data(as_text=True)


def test_the_support_api_answers_the_bearer_token_shown_to_staff(client: FlaskClient) -> None:
    url = "/rewards/support/api/users/alex-42"
    assert client.get(url).status_code == 401
    sign_in(client, "staff-kim")
    assert SUPPORT_TOKEN in client.get("/").get_data(as_text=True)
    response = client.get(url, headers={"Authorization": f"Bearer {SUPPORT_TOKEN}"})
    assert response.status_code == 200
    assert response.is_json


def test_the_support_token_is_shown_to_staff_only(client: FlaskClient) -> None:
    sign_in(client, "alex-42")
    assert SUPPORT_TOKEN not in client.get("/").get_data(as_text=True)


# -- sign-in and sign-out ---------------------------------------------------------------------


def test_signing_in_then_out(client: FlaskClient) -> None:
    response = sign_in(client, "alex-42")
    assert response.headers["Location"] == "/dashboard"
    assert "Signed in as <strong>Alex</strong>" in client.get("/").get_data(as_text=True)

    out = client.post("/sign-out", data={"csrf_token": form_token(client, "/")})
    assert out.status_code == 302
    assert "Sign in to see your bamboo" in client.get("/dashboard").get_data(as_text=True)
    assert client.get("/rewards/").status_code == 302


def test_sign_in_without_the_form_token_is_refused(client: FlaskClient) -> None:
    client.get("/sign-in")
    response = client.post("/sign-in", data={"user_id": "alex-42"})
    assert response.status_code == 400
    assert "Sign in to see your bamboo" in client.get("/dashboard").get_data(as_text=True)


def test_sign_out_without_the_form_token_is_refused(client: FlaskClient) -> None:
    sign_in(client, "alex-42")
    assert client.post("/sign-out", data={"csrf_token": "forged"}).status_code == 400
    assert "Hi Alex" in client.get("/dashboard").get_data(as_text=True)


def test_sign_in_refuses_someone_who_is_not_a_demo_member(client: FlaskClient) -> None:
    response = client.post(
        "/sign-in", data={"csrf_token": form_token(client), "user_id": "mallory-1"}
    )
    assert response.status_code == 400


def test_sign_in_never_redirects_off_the_site(client: FlaskClient) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = sign_in(client, "alex-42", next=target)
        assert response.headers["Location"] == "/dashboard", target


def test_signing_in_starts_a_new_form_token(client: FlaskClient) -> None:
    before = form_token(client)
    sign_in(client, "alex-42")
    assert form_token(client, "/") != before


def test_the_sign_in_page_offers_every_demo_member(client: FlaskClient) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    for user in DEMO_USERS:
        assert f'name="user_id" value="{user.user_id}"' in page


# -- simulate progress ------------------------------------------------------------------------


def test_simulate_progress_moves_the_offer_on_in_the_fake(client: FlaskClient) -> None:
    sign_in(client, "alex-42")
    offer_id = first_offer_id(client, "in_progress")
    before = offer_snapshot(client, offer_id)
    response = client.post(
        "/simulate-progress",
        data={
            "csrf_token": form_token(client, f"/rewards/offers/{offer_id}"),
            "offer_id": str(offer_id),
            "next": f"/rewards/offers/{offer_id}",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/rewards/offers/{offer_id}"
    assert offer_snapshot(client, offer_id) != before
    assert "moved one step on" in client.get(f"/rewards/offers/{offer_id}").get_data(as_text=True)


def test_the_offer_page_button_targets_the_offer_on_screen(client: FlaskClient) -> None:
    sign_in(client, "alex-42")
    offer_id = first_offer_id(client, "in_progress")
    page = client.get(f"/rewards/offers/{offer_id}").get_data(as_text=True)
    assert f'name="offer_id" value="{offer_id}"' in page


def test_simulate_progress_from_the_nav_moves_one_of_the_members_offers(
    client: FlaskClient,
) -> None:
    sign_in(client, "alex-42")
    before = client.get("/rewards/api/progress").get_json()["offers"]
    response = client.post(
        "/simulate-progress",
        data={"csrf_token": form_token(client, "/dashboard")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert "moved one step on" in response.get_json()["message"]
    assert client.get("/rewards/api/progress").get_json()["offers"] != before


def test_simulate_progress_on_a_finished_offer_explains_instead_of_failing(
    client: FlaskClient,
) -> None:
    sign_in(client, "alex-42")
    offer_id = first_offer_id(client, "credited")
    before = offer_snapshot(client, offer_id)
    response = client.post(
        "/simulate-progress",
        data={"csrf_token": form_token(client, "/"), "offer_id": str(offer_id)},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert "already finished" in response.get_json()["message"]
    assert offer_snapshot(client, offer_id) == before


def test_simulate_progress_needs_the_form_token_and_a_member(client: FlaskClient) -> None:
    token = form_token(client, "/")
    assert client.post("/simulate-progress", data={"csrf_token": token}).status_code == 401
    sign_in(client, "alex-42")
    assert client.post("/simulate-progress", data={}).status_code == 400


# -- the kit inside the host ------------------------------------------------------------------


def test_the_kits_pages_sit_inside_the_demo_layout_under_the_kits_csp(
    client: FlaskClient,
) -> None:
    sign_in(client, "alex-42")
    response = client.get("/rewards/")
    page = response.get_data(as_text=True)
    assert 'class="skip-link"' in page
    assert "built-in fake RevU" in page
    assert "PointPanda" in page
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce, policy
    assert f'demo.js" defer nonce="{nonce.group(1)}"' in page


def test_host_pages_send_the_hosts_own_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_fakes_api_key_never_reaches_a_page(client: FlaskClient) -> None:
    sign_in(client, "staff-kim")
    for path in ("/", "/dashboard", "/rewards/", "/rewards/api/progress", "/rewards/support/"):
        assert FAKE_API_KEY not in client.get(path).get_data(as_text=True), path
