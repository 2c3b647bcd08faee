"""The kit's pages and JSON routes, over real HTTP to the fake RevU on loopback."""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from revu_widgets.blueprint import static_version
from revu_widgets.errors import ConfigurationError
from revu_widgets.fake import FAKE_API_KEY, FakeRevU

from .conftest import HostFactory, sign_in
from .dialects import every_dialect


def offers_on_page(html: str) -> list[int]:
    return [
        int(m) for m in re.findall(r'class="revu-card__link" href="/rewards/offers/(\d+)[?"]', html)
    ]


def tab_counts(client: FlaskClient) -> dict[str, int]:
    counts: dict[str, int] = client.get("/rewards/api/progress").get_json()["counts"]
    return counts


@every_dialect
def test_history_shows_every_offer_with_tab_counts(
    member: FlaskClient, fake_revu: FakeRevU
) -> None:
    response = member.get("/rewards/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    expected = {int(o["offer_id"]) for o in fake_revu.offers_for("alex-1")}
    assert set(offers_on_page(html)) == expected
    counts = tab_counts(member)
    assert counts["total"] == len(expected)
    by_code = [int(o["reward_status"]) for o in fake_revu.offers_for("alex-1")]
    # The JSON counts states (an expired offer is not "reversed"); the tabs filter by RevU's
    # status, so the "reversed" tab holds every status-3 state.
    lost = counts["reversed"] + counts["expired"] + counts["reversed_or_expired"]
    tabs = {
        "in_progress": counts["in_progress"],
        "credited": counts["credited"],
        "reversed": lost,
        "pending": counts["pending"],
    }
    assert list(tabs.values()) == [by_code.count(code) for code in (1, 2, 3, 4)]
    for slug, count in tabs.items():
        assert re.search(rf'status={slug}#revu-offers"[^>]*>.*?{count}', html, re.S)


@every_dialect
@pytest.mark.parametrize(("slug", "code"), [("in_progress", 1), ("credited", 2), ("reversed", 3)])
def test_status_tab_lists_only_that_status(
    member: FlaskClient, fake_revu: FakeRevU, slug: str, code: int
) -> None:
    html = member.get(f"/rewards/?status={slug}").get_data(as_text=True)
    expected = {
        int(o["offer_id"]) for o in fake_revu.offers_for("alex-1") if o["reward_status"] == code
    }
    assert set(offers_on_page(html)) == expected
    assert 'aria-current="page"' in html


def test_unknown_status_filter_shows_all_offers_with_a_notice(
    member: FlaskClient, fake_revu: FakeRevU
) -> None:
    response = member.get("/rewards/?status=everything&sort=cheapest")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "That filter does not exist, so all your offers are shown." in html
    assert "That order does not exist" in html
    assert len(offers_on_page(html)) == len(fake_revu.offers_for("alex-1"))
    # Internal words stay internal: the notice names no status slugs.
    notice = html.split('class="revu-notice" role="status">', 1)[1].split("</p>", 1)[0]
    assert "in_progress" not in notice
    assert "everything" not in notice


def test_unknown_status_filter_is_still_a_400_in_json(member: FlaskClient) -> None:
    response = member.get("/rewards/api/progress?status=everything")
    assert response.status_code == 400
    assert "Unknown status filter" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("page", ["0", "-1", "two", "99999999"])
def test_bad_page_numbers_are_a_clear_400(member: FlaskClient, page: str) -> None:
    response = member.get(f"/rewards/?page={page}")
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_heavy_user_history_is_paginated(host: Flask) -> None:
    client = sign_in(host.test_client(), "heavy-7")
    first = client.get("/rewards/").get_data(as_text=True)
    assert len(offers_on_page(first)) == 25
    assert "page=2" in first
    last = client.get("/rewards/?page=48").get_data(as_text=True)
    assert len(offers_on_page(last)) == 1200 - 47 * 25
    assert client.get("/rewards/?page=49").status_code == 400
    assert tab_counts(client)["total"] == 1200


def test_new_user_sees_a_friendly_empty_state(host: Flask) -> None:
    client = sign_in(host.test_client(), "new-3")
    response = client.get("/rewards/")
    assert response.status_code == 200
    assert offers_on_page(response.get_data(as_text=True)) == []
    assert "revu-empty" in response.get_data(as_text=True)


def test_history_makes_one_upstream_call_for_a_typical_user(
    member: FlaskClient, fake_revu: FakeRevU
) -> None:
    member.get("/rewards/")
    assert len(fake_revu.requests) == 1


def test_user_id_in_query_string_is_ignored(host: Flask, fake_revu: FakeRevU) -> None:
    client = sign_in(host.test_client(), "new-3")
    for url in (
        "/rewards/?user_id=heavy-1",
        "/rewards/api/progress?user_id=heavy-1&uid=heavy-1",
        "/rewards/offers/51187?user_id=alex-1",
    ):
        client.get(url)
    assert {r.user_id for r in fake_revu.requests} == {"new-3"}


def test_signed_out_visitor_gets_401_page_and_json(host: Flask, fake_revu: FakeRevU) -> None:
    client = host.test_client()
    page = client.get("/rewards/")
    assert page.status_code == 401
    assert "Sign in" in page.get_data(as_text=True)
    api = client.get("/rewards/api/progress")
    assert api.status_code == 401
    assert api.get_json()["error"]["code"] == "not_signed_in"
    assert fake_revu.requests == []


def test_signed_out_visitor_is_sent_to_the_login_url_when_configured(
    make_host: HostFactory,
) -> None:
    client = make_host(REVU_LOGIN_URL="/login").test_client()
    response = client.get("/rewards/?status=pending")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Frewards%2F%3Fstatus%3Dpending"


@every_dialect
def test_offer_page_shows_every_step_and_explains_pending(
    member: FlaskClient, fake_revu: FakeRevU
) -> None:
    raw = next(o for o in fake_revu.offers_for("alex-1") if o["offer_id"] == 51187)
    response = member.get("/rewards/offers/51187")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for event in raw["events"]:
        assert event["name"] in html
    assert "Pending" in html
    assert "51187" in html  # the claim details block names the offer
    assert "alex-1" in html
    assert 'data-revu-live="/rewards/api/offers/51187"' in html


def test_offer_page_and_its_live_refresh_read_the_members_snapshot(
    make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    member = sign_in(make_host(REVU_CACHE_SECONDS=60).test_client(), "alex-1")
    assert member.get("/rewards/offers/51035").status_code == 200
    assert member.get("/rewards/api/offers/51035").status_code == 200
    assert member.get("/rewards/").status_code == 200
    (call,) = fake_revu.requests  # one walk of the whole history served all three
    assert "offer_id" not in call.query


def test_unknown_offer_is_a_404_page(member: FlaskClient) -> None:
    response = member.get("/rewards/offers/999999")
    assert response.status_code == 404
    assert "could not find this offer" in response.get_data(as_text=True)
    assert member.get("/rewards/api/offers/999999").status_code == 404
    assert member.get("/rewards/offers/not-a-number").status_code == 404


@every_dialect
def test_api_progress_is_normalised_json(member: FlaskClient, fake_revu: FakeRevU) -> None:
    body = member.get("/rewards/api/progress?status=credited").get_json()
    assert body["status_filter"] == "credited"
    assert body["offers"]
    for offer in body["offers"]:
        assert offer["state"] == "credited"
        assert set(offer) >= {"offer_id", "name", "steps", "rewards", "steps_done", "steps_total"}
        assert offer["rewards"]["earned"]["amount"] > 0
    assert body["support_id"]


@every_dialect
def test_api_offer_carries_the_offer_and_support_reference(member: FlaskClient) -> None:
    body = member.get("/rewards/api/offers/51246").get_json()
    assert body["offer"]["offer_id"] == 51246
    assert body["offer"]["state"] == "in_progress"
    assert body["support_id"]


@every_dialect
def test_advanced_progress_shows_on_the_next_request(
    member: FlaskClient, fake_revu: FakeRevU
) -> None:
    before = member.get("/rewards/api/offers/51145").get_json()["offer"]["steps_done"]
    fake_revu.advance("alex-1", 51145)
    after = member.get("/rewards/api/offers/51145").get_json()["offer"]["steps_done"]
    assert after == before + 1


@pytest.mark.parametrize(
    "path",
    [
        "/rewards/",
        "/rewards/offers/51187",
        "/rewards/offers/1",
        "/rewards/api/progress",
        "/rewards/?page=x",
    ],
)
def test_kit_responses_carry_the_security_headers(member: FlaskClient, path: str) -> None:
    response = member.get(path)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'nonce-" in response.headers["Content-Security-Policy"]


def test_script_nonce_matches_the_policy_and_changes_per_request(member: FlaskClient) -> None:
    nonces = []
    for _ in range(2):
        response = member.get("/rewards/offers/51187")
        policy_nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
        assert policy_nonce
        assert f'nonce="{policy_nonce.group(1)}"' in response.get_data(as_text=True)
        nonces.append(policy_nonce.group(1))
    assert nonces[0] != nonces[1]


def test_host_pages_are_left_alone(host: Flask, member: FlaskClient) -> None:
    host.add_url_rule("/about", "about", lambda: "about us")
    response = member.get("/about")
    assert "Content-Security-Policy" not in response.headers
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    ("fault", "params", "status", "words"),
    [
        ("status", {"status": 503}, 503, "could not reach"),
        ("status", {"status": 401}, 502, "problem on our side"),
        ("status", {"status": 429, "headers": {"Retry-After": "120"}}, 429, "try again"),
        ("non_json", {"status": 200}, 502, "problem on our side"),
        ("non_json", {"status": 502}, 503, "could not reach"),
        ("hang", {}, 504, "too long"),
        ("drop", {}, 503, "could not reach"),
    ],
)
def test_upstream_faults_become_friendly_pages_with_a_reference(
    make_host: HostFactory,
    fake_revu: FakeRevU,
    fault: str,
    params: dict[str, Any],
    status: int,
    words: str,
) -> None:
    # Short limits, so the hang ends at the deadline soon.
    host = make_host(REVU_TIMEOUT=(2.0, 2.0), REVU_DEADLINE=3.0)
    member = sign_in(host.test_client(), "alex-1")
    fake_revu.add_fault(fault, count=None, **params)
    response = member.get("/rewards/")
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert words in html.lower()
    assert response.headers["X-Request-Id"] in html
    assert FAKE_API_KEY not in html
    assert "Traceback" not in html
    api = member.get("/rewards/api/progress")
    assert api.status_code == status
    assert api.get_json()["error"]["reference"]


def test_rate_limited_page_says_when_to_retry(member: FlaskClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("status", count=None, status=429, headers={"Retry-After": "120"})
    response = member.get("/rewards/")
    assert response.headers["Retry-After"] == "120"
    assert member.get("/rewards/api/progress").get_json()["error"]["retry_after"] == 120


def test_banned_user_gets_a_clear_403(host: Flask) -> None:
    client = sign_in(host.test_client(), "banned-9")
    response = client.get("/rewards/")
    assert response.status_code == 403
    assert "not available for your account" in response.get_data(as_text=True)
    assert client.get("/rewards/api/progress").get_json()["error"]["code"] == "user_banned"


def test_offer_without_usable_id_is_skipped_with_a_notice(
    member: FlaskClient, fake_revu: FakeRevU
) -> None:
    good = fake_revu.offers_for("alex-1")
    broken = dict(good[2], offer_id="77777-x")
    fake_revu.set_offers("alex-1", [*good[:2], broken, *good[3:]])
    response = member.get("/rewards/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert set(offers_on_page(html)) == {int(o["offer_id"]) for o in good} - {good[2]["offer_id"]}
    assert "77777-x" in html
    skipped = member.get("/rewards/api/progress").get_json()["skipped"]
    assert skipped == [{"offer_id": "77777-x", "fields": ["offers.2.offer_id"]}]


def test_offer_with_unreadable_fields_is_shown_and_nothing_is_said_lost(
    member: FlaskClient, fake_revu: FakeRevU
) -> None:
    good = fake_revu.offers_for("alex-1")
    odd = dict(good[2], total_user_reward="lots", image_url="javascript:alert(1)")
    del odd["name"]
    fake_revu.set_offers("alex-1", [*good[:2], odd, *good[3:]])
    html = member.get("/rewards/").get_data(as_text=True)
    assert set(offers_on_page(html)) == {int(o["offer_id"]) for o in good}
    assert f"Offer {good[2]['offer_id']}" in html
    assert "could not be shown" not in html
    assert "javascript:" not in html
    assert member.get("/rewards/api/progress").get_json()["skipped"] == []


def test_blueprint_registered_by_hand_under_another_prefix(make_host: HostFactory) -> None:
    app = make_host(register_blueprint=False)
    revu = app.extensions["test_revu"]
    app.register_blueprint(revu.blueprint, url_prefix="/my-offers")
    client = sign_in(app.test_client(), "alex-1")
    html = client.get("/my-offers/").get_data(as_text=True)
    assert 'href="/my-offers/offers/' in html
    with client.get("/my-offers/revu-static/revu.css") as css:
        assert css.status_code == 200
    assert client.get("/rewards/").status_code == 404


def test_kit_pages_extend_the_hosts_layout(make_host: HostFactory, tmp_path: Any) -> None:
    (tmp_path / "site.html").write_text(
        "<html><title>{% block title %}{% endblock %}</title>"
        "<nav>HOST NAV</nav><main>{% block content %}{% endblock %}</main></html>"
    )
    app = make_host(REVU_BASE_TEMPLATE="site.html")
    app.template_folder = str(tmp_path)
    client = sign_in(app.test_client(), "alex-1")
    for path in ("/rewards/", "/rewards/offers/51187", "/rewards/offers/1"):
        html = client.get(path).get_data(as_text=True)
        assert "HOST NAV" in html
        assert "revu-static/revu.css" in html


# -- bad input is refused in the kit's voice, before any upstream call ------------------------


@pytest.mark.parametrize("page", ["\u00b2", "\u2460", "\u0663", "1\u00b2", " 1", "1e3", "+1"])
def test_page_numbers_that_are_not_ascii_digits_are_a_400_without_an_upstream_call(
    member: FlaskClient, fake_revu: FakeRevU, page: str
) -> None:
    response = member.get("/rewards/", query_string={"page": page})
    assert response.status_code == 400
    assert "The page number must be a whole number from 1." in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert fake_revu.requests == []


@pytest.mark.parametrize("retry_after", ["\u00b2", "\u00b9\u00b2", "soon"])
def test_a_retry_after_that_is_not_ascii_digits_is_still_a_friendly_429(
    member: FlaskClient, fake_revu: FakeRevU, retry_after: str
) -> None:
    fake_revu.add_fault("status", count=None, status=429, headers={"Retry-After": retry_after})
    page = member.get("/rewards/")
    assert page.status_code == 429
    assert "Retry-After" not in page.headers
    api = member.get("/rewards/api/progress")
    assert api.status_code == 429
    assert api.get_json()["error"]["code"] == "rate_limited"
    assert "retry_after" not in api.get_json()["error"]


def test_a_loader_returning_false_means_nobody_is_signed_in(
    make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    # The flask-login idiom ``current_user.is_authenticated and current_user.id``.
    client = make_host(signed_in=lambda: False).test_client()
    page = client.get("/rewards/")
    assert page.status_code == 401
    api = client.get("/rewards/api/progress")
    assert api.status_code == 401
    assert api.get_json()["error"]["code"] == "not_signed_in"
    assert fake_revu.requests == []


def test_a_loader_returning_true_is_a_configuration_error(
    make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    client = make_host(signed_in=lambda: True).test_client()
    with pytest.raises(ConfigurationError, match="returned True"):
        client.get("/rewards/api/progress")
    assert fake_revu.requests == []


@pytest.mark.parametrize("offer_id", ["0", "00", str(2**63), str(2**64), "9" * 40])
def test_offer_ids_revu_cannot_have_are_a_404_without_an_upstream_call(
    member: FlaskClient, fake_revu: FakeRevU, offer_id: str
) -> None:
    page = member.get(f"/rewards/offers/{offer_id}")
    assert page.status_code == 404
    assert member.get(f"/rewards/offers/{offer_id}/report").status_code == 404
    api = member.get(f"/rewards/api/offers/{offer_id}")
    assert api.status_code == 404
    assert api.get_json()["error"]["code"] == "not_found"
    assert api.headers["Cache-Control"] == "private, no-store"
    assert fake_revu.requests == []


def test_the_largest_offer_id_is_still_asked_for(member: FlaskClient, fake_revu: FakeRevU) -> None:
    response = member.get(f"/rewards/api/offers/{2**63 - 1}")
    assert response.get_json()["error"]["code"] == "offer_not_found"
    # Looked up (in the member's history), unlike the ids past it.
    assert fake_revu.requests


@pytest.mark.parametrize(
    ("login_url", "location"),
    [
        ("/login?src=rewards", "/login?src=rewards&next=%2Frewards%2F%3Fstatus%3Dpending"),
        ("/login?next=%2Fold&src=x", "/login?src=x&next=%2Frewards%2F%3Fstatus%3Dpending"),
        (
            "https://id.example.com/sso?a=1&b=#top",
            "https://id.example.com/sso?a=1&b=&next=%2Frewards%2F%3Fstatus%3Dpending#top",
        ),
    ],
)
def test_a_login_url_with_its_own_query_keeps_it_and_adds_next(
    make_host: HostFactory, login_url: str, location: str
) -> None:
    client = make_host(REVU_LOGIN_URL=login_url).test_client()
    response = client.get("/rewards/?status=pending")
    assert response.status_code == 302
    assert response.headers["Location"] == location


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/rewards/api/nope", 404, "not_found"),
        ("GET", "/rewards/api/offers/abc", 404, "not_found"),
        ("GET", "/rewards/api/offers/", 404, "not_found"),
        ("POST", "/rewards/api/progress", 405, "method_not_allowed"),
        ("DELETE", "/rewards/api/offers/51187", 405, "method_not_allowed"),
        ("GET", "/rewards/support/api/nope", 404, "not_found"),
        ("PUT", "/rewards/support/api/users/alex-1", 405, "method_not_allowed"),
    ],
)
def test_routing_errors_under_the_kit_api_answer_json_with_the_kits_headers(
    member: FlaskClient, fake_revu: FakeRevU, method: str, path: str, status: int, code: str
) -> None:
    response = member.open(path, method=method)
    assert response.status_code == status
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["reference"] == response.headers["X-Request-Id"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if status == 405:
        assert "GET" in response.headers["Allow"]
    assert fake_revu.requests == []


def test_routing_errors_elsewhere_are_left_to_the_host(host: Flask, member: FlaskClient) -> None:
    for path in ("/nope", "/rewards/nope", "/api/nope"):
        response = member.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_routing_errors_follow_the_blueprint_to_another_prefix(make_host: HostFactory) -> None:
    app = make_host(register_blueprint=False)
    app.register_blueprint(app.extensions["test_revu"].blueprint, url_prefix="/my-offers")
    client = sign_in(app.test_client(), "alex-1")
    assert client.get("/my-offers/api/nope").is_json
    assert not client.get("/rewards/api/nope").is_json


def test_the_answered_log_line_cannot_be_forged_through_the_path(
    host: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    staff = sign_in(host.test_client(), "staff-1")
    caplog.set_level(logging.INFO, logger="revu_widgets")
    staff.get("/rewards/support/users/x%0Arevu-widgets%20answered%20200%1B[2J")
    staff.get("/rewards/support/users/%E2%80%AEx%0D%0Afake")
    lines = [r.getMessage() for r in caplog.records if "answered" in r.getMessage()]
    assert lines
    for line in lines:
        assert line.isprintable(), line


def test_an_upstream_offer_id_with_a_newline_is_logged_on_one_line(
    member: FlaskClient, fake_revu: FakeRevU, caplog: pytest.LogCaptureFixture
) -> None:
    good = fake_revu.offers_for("alex-1")
    broken = dict(good[0], offer_id="7\nrevu-widgets answered 200\x1b[2J", reward_status="x")
    fake_revu.set_offers("alex-1", [broken, *good[1:]])
    caplog.set_level(logging.WARNING, logger="revu_widgets")
    member.get("/rewards/")
    [line] = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert line.isprintable()
    assert "\\n" in line


# -- static files and the pages' policy -------------------------------------------------------


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/rewards/revu-static/[^"]+)"', html)


def test_static_urls_carry_a_content_hash_and_are_cached_for_a_year(member: FlaskClient) -> None:
    html = member.get("/rewards/").get_data(as_text=True)
    urls = asset_urls(html)
    assert {u.split("?")[0] for u in urls} == {
        "/rewards/revu-static/revu.css",
        "/rewards/revu-static/revu.js",
    }
    for url in urls:
        path, _, query = url.partition("?")
        version = query.removeprefix("v=")
        with member.get(path) as plain:
            assert version == hashlib.sha256(plain.get_data()).hexdigest()[:12]
        with member.get(url.replace("&amp;", "&")) as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("query", ["", "?v=0123456789ab", "?v="])
def test_static_files_asked_for_without_their_current_hash_are_revalidated(
    member: FlaskClient, query: str
) -> None:
    with member.get(f"/rewards/revu-static/revu.css{query}") as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"


def test_a_changed_static_file_gets_a_new_url(member: FlaskClient, tmp_path: Any) -> None:
    (tmp_path / "a.css").write_text("a {}")
    first = static_version(str(tmp_path), "a.css")
    (tmp_path / "a.css").write_text("a { color: red }")
    assert static_version(str(tmp_path), "a.css") not in (first, None)
    assert static_version(str(tmp_path), "missing.css") is None
    assert static_version(str(tmp_path), "../a.css") is None
    assert static_version(str(tmp_path), ".") is None


def test_pages_stay_no_store_while_their_assets_are_cacheable(member: FlaskClient) -> None:
    for path in ("/rewards/", "/rewards/offers/51187", "/rewards/api/progress"):
        assert member.get(path).headers["Cache-Control"] == "private, no-store"


def test_the_default_policy_runs_only_scripts_with_the_nonce_and_https_images(
    member: FlaskClient,
) -> None:
    policy = member.get("/rewards/").headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    [nonce] = directives["script-src"]
    assert re.fullmatch(r"'nonce-[A-Za-z0-9_-]{16,}'", nonce)
    assert directives["img-src"] == ["'self'", "https:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
