"""The support lookup pages: who may open them, what staff see, and the audit trail they leave."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from revu_widgets import RevUWidgets
from revu_widgets.fake import FAKE_API_KEY

from .conftest import HostFactory, header_user
from .dialects import every_dialect
from .known_offers import days_ago, known_offers


def offers_with_times() -> list[dict[str, Any]]:
    """The known offers with the start, completion, credit and reversal times staff read."""
    in_progress, pending, reversed_ = known_offers()
    in_progress.update(reporting="up to 3 days", started_at=days_ago(6))
    install, level_10, _ = in_progress["events"]
    install.update(completed_at=days_ago(6), credited_at="2026-01-05T09:31:00Z")
    level_10.update(completed_at=days_ago(3), credited_at=days_ago(3))
    pending["started_at"] = days_ago(41)
    reversed_["events"][0].update(completed_at=days_ago(55), reversed_at=days_ago(50))
    return [in_progress, pending, reversed_]


@pytest.fixture
def app(make_host: HostFactory) -> Flask:
    """A host app whose signed-in user comes from a header; ids starting "staff-" are staff."""
    return make_host(signed_in=header_user, REVU_SUPPORT_TOKEN="support-token-for-tests-0123456789")


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_X_TEST_USER"] = "staff-kim"
    return client


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "revu_widgets.audit"]


def offer_articles(html: str) -> list[str]:
    return re.findall(r'id="revu-offer-(\d+)"', html)


# --- who may look --------------------------------------------------------------------------


def test_support_pages_do_not_exist_without_an_access_loader(fake_revu_server: Any) -> None:
    app = Flask(__name__)
    app.config.update(REVU_API_KEY=FAKE_API_KEY, REVU_BASE_URL=fake_revu_server.url)
    revu = RevUWidgets(app)
    revu.user_id_loader(lambda: "staff-kim")
    client = app.test_client()

    assert client.get("/rewards/support/").status_code == 404
    assert client.get("/rewards/support/users/alex-42").status_code == 404


@pytest.mark.parametrize("user", [None, "alex-42"], ids=["anonymous", "ordinary-user"])
def test_non_staff_are_refused_without_an_upstream_call(
    app: Flask, fake_revu: Any, user: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    headers = {"X-Test-User": user} if user else {}
    before = len(fake_revu.requests)

    with caplog.at_level(logging.INFO, logger="revu_widgets.audit"):
        search = client.get("/rewards/support/", headers=headers)
        lookup = client.get("/rewards/support/users/alex-42", headers=headers)

    assert search.status_code == 403
    assert lookup.status_code == 403
    assert len(fake_revu.requests) == before
    [record] = audit_lines(caplog)
    assert record.revu_audit["result"] == "forbidden"
    assert record.revu_audit["actor"] == user
    assert record.revu_audit["user_id"] == "alex-42"


def test_staff_see_the_search_form(staff: FlaskClient) -> None:
    response = staff.get("/rewards/support/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="user_id"' in html
    assert 'method="get"' in html


def test_search_redirects_with_the_id_as_one_path_segment(staff: FlaskClient) -> None:
    response = staff.get("/rewards/support/", query_string={"user_id": " a/b c?d#e "})

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/rewards/support/users/a%2Fb%20c%3Fd%23e")


# --- what staff see ------------------------------------------------------------------------


@every_dialect
def test_lookup_shows_every_offer_with_totals_and_reference(
    staff: FlaskClient, fake_revu: Any
) -> None:
    fake_revu.set_offers("alex-42", offers_with_times())

    response = staff.get("/rewards/support/users/alex-42")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert sorted(offer_articles(html)) == ["51001", "51003", "51004"]
    summary = html[html.index("revu-summary") : html.index("Every offer")]
    assert "2,500 coins" in summary
    assert "5,000 coins" in summary
    reference = re.search(r"data-revu-support-id>([^<]+)<", html)
    assert reference is not None
    assert reference.group(1).strip()


@every_dialect
def test_overdue_pending_credit_is_highlighted(staff: FlaskClient, fake_revu: Any) -> None:
    fake_revu.set_offers("alex-42", offers_with_times())

    html = staff.get("/rewards/support/users/alex-42").get_data(as_text=True)

    assert "1 pending credit is overdue" in html
    assert 'href="/rewards/support/users/alex-42#revu-offer-51003"' in html
    overdue = re.findall(r'id="revu-offer-(\d+)"[^>]*data-revu-overdue', html)
    assert overdue == ["51003"]


@every_dialect
def test_each_offer_has_step_times_and_a_claim_summary(staff: FlaskClient, fake_revu: Any) -> None:
    fake_revu.set_offers("alex-42", offers_with_times())

    html = staff.get("/rewards/support/users/alex-42").get_data(as_text=True)

    claims = re.findall(r'<textarea id="revu-claim-(\d+)"[^>]*>([^<]*)</textarea>', html)
    assert sorted(offer_id for offer_id, _ in claims) == ["51001", "51003", "51004"]
    by_id = dict(claims)
    assert "User ID: alex-42" in by_id["51004"]
    assert "Reason given: Deposit charged back" in by_id["51004"]
    assert "credited 2026-01-05 09:31 UTC" in by_id["51001"]
    assert 'datetime="2026-01-05T09:31:00Z"' in html


def test_a_member_without_offers_gets_a_plain_message(staff: FlaskClient) -> None:
    response = staff.get("/rewards/support/users/new-sam")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "not engaged with any offer yet" in html
    assert offer_articles(html) == []


def test_a_heavy_member_is_listed_in_full_across_pages(staff: FlaskClient) -> None:
    seen: list[str] = []
    url: str | None = "/rewards/support/users/heavy-jo"
    while url:
        html = staff.get(url).get_data(as_text=True)
        on_page = offer_articles(html)
        assert len(on_page) <= 100
        seen.extend(on_page)
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = found.group(1).replace("&amp;", "&") if found else None

    assert len(seen) == 1200
    assert len(set(seen)) == 1200


@every_dialect
def test_status_tabs_filter_the_list_but_not_the_totals(staff: FlaskClient, fake_revu: Any) -> None:
    fake_revu.set_offers("alex-42", offers_with_times())

    html = staff.get("/rewards/support/users/alex-42?status=reversed").get_data(as_text=True)

    assert offer_articles(html) == ["51004"]
    assert "2,500 coins" in html
    assert re.search(r'aria-current="page">Reversed &amp; expired <span[^>]*>1<', html)


@pytest.mark.parametrize("query", ["page=0", "page=x", "page=2"])
def test_bad_filters_are_a_friendly_400(staff: FlaskClient, fake_revu: Any, query: str) -> None:
    fake_revu.set_offers("alex-42", offers_with_times())

    response = staff.get(f"/rewards/support/users/alex-42?{query}")

    assert response.status_code == 400
    assert "text/html" in response.content_type


@pytest.mark.parametrize("page", ["\u00b2", "\u2460", "\u0663"])
def test_page_numbers_that_are_not_ascii_digits_are_a_400_without_a_lookup(
    staff: FlaskClient, fake_revu: Any, page: str
) -> None:
    response = staff.get("/rewards/support/users/alex-42", query_string={"page": page})

    assert response.status_code == 400
    assert "The page number must be a whole number from 1." in response.get_data(as_text=True)
    assert fake_revu.requests == []


@pytest.mark.parametrize(
    "segment", ["%20", "%20%20%20", "x%2F..%2Fvictim", "..%2Fvictim", "x%2F.", "a%5C..%5Cb"]
)
def test_blank_ids_and_dot_segments_are_a_400_without_a_lookup(
    staff: FlaskClient, fake_revu: Any, segment: str
) -> None:
    response = staff.get(f"/rewards/support/users/{segment}")

    assert response.status_code == 400
    assert "text/html" in response.content_type
    assert fake_revu.requests == []


@pytest.mark.parametrize("user_id", ["team/alex", "/alex", "a//b", "x?y#z", "50%off"])
def test_ids_with_url_characters_reach_upstream_unchanged(
    staff: FlaskClient, fake_revu: Any, user_id: str
) -> None:
    from urllib.parse import quote

    fake_revu.set_offers(user_id, offers_with_times()[:1])

    response = staff.get(f"/rewards/support/users/{quote(user_id, safe='')}")

    assert response.status_code == 200
    assert offer_articles(response.get_data(as_text=True)) == ["51001"]
    assert fake_revu.requests[-1].user_id == user_id


def test_hostile_offer_text_is_escaped(staff: FlaskClient, fake_revu: Any) -> None:
    offers = offers_with_times()
    offers[0]["name"] = '<script>alert("x")</script>'
    fake_revu.set_offers("alex-42", offers)

    html = staff.get("/rewards/support/users/alex-42").get_data(as_text=True)

    assert '<script>alert("x")' not in html
    assert "&lt;script&gt;" in html


# --- plumbing shared with the kit's other pages --------------------------------------------


def test_support_pages_send_the_kit_security_headers(staff: FlaskClient) -> None:
    for path in ("/rewards/support/", "/rewards/support/users/alex-42"):
        response = staff.get(path)
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_support_pages_extend_the_host_base_template(fake_revu_server: Any, tmp_path: Any) -> None:
    (tmp_path / "host.html").write_text(
        "<html><body><nav>HOST NAV</nav>{% block content %}{% endblock %}</body></html>"
    )
    app = Flask(__name__, template_folder=str(tmp_path))
    app.config.update(
        REVU_API_KEY=FAKE_API_KEY,
        REVU_BASE_URL=fake_revu_server.url,
        REVU_BASE_TEMPLATE="host.html",
    )
    revu = RevUWidgets(app)
    revu.support_access_loader(lambda: True)

    html = app.test_client().get("/rewards/support/users/alex-42").get_data(as_text=True)

    assert "HOST NAV" in html
    assert "revu-offer-" in html


def test_upstream_refusal_uses_the_kit_error_page_and_is_audited(
    staff: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="revu_widgets.audit"):
        response = staff.get("/rewards/support/users/banned-pat")

    assert response.status_code == 403
    assert "text/html" in response.content_type
    assert response.headers["X-Request-Id"]
    [record] = audit_lines(caplog)
    assert record.revu_audit["result"] == "user_banned"
    assert record.revu_audit["offers"] is None


def test_lookup_is_audited_with_who_whom_when_and_count(
    staff: FlaskClient, fake_revu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake_revu.set_offers("alex-42", offers_with_times())

    with caplog.at_level(logging.INFO, logger="revu_widgets.audit"):
        staff.get("/rewards/support/users/alex-42")

    [record] = audit_lines(caplog)
    fields = record.revu_audit
    assert fields["channel"] == "page"
    assert fields["actor"] == "staff-kim"
    assert fields["user_id"] == "alex-42"
    assert fields["result"] == "ok"
    assert fields["offers"] == 3
    assert abs(datetime.fromisoformat(fields["at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert "actor='staff-kim' user_id='alex-42'" in record.getMessage()


def test_a_hostile_id_cannot_forge_an_audit_line(
    staff: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="revu_widgets.audit"):
        staff.get("/rewards/support/users/x%0Asupport lookup result=ok")

    [record] = audit_lines(caplog)
    assert "\n" not in record.getMessage()


def test_the_api_key_never_reaches_pages_or_logs(
    staff: FlaskClient, fake_revu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake_revu.set_offers("alex-42", offers_with_times())

    with caplog.at_level(logging.DEBUG):
        pages = [
            staff.get("/rewards/support/"),
            staff.get("/rewards/support/users/alex-42"),
            staff.get("/rewards/support/users/banned-pat"),
        ]

    for page in pages:
        assert FAKE_API_KEY not in page.get_data(as_text=True)
        assert FAKE_API_KEY not in str(page.headers)
    assert FAKE_API_KEY not in caplog.text


def test_looking_up_a_banned_member_tells_staff_it_is_a_ban(staff: FlaskClient) -> None:
    response = staff.get("/rewards/support/users/banned-pat")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "This member is banned by RevU" in html
    assert "USER_BANNED" in html
    assert "not available for your account" not in html


def test_a_banned_member_still_sees_the_member_wording(app: Flask) -> None:
    client = app.test_client()
    client.environ_base["HTTP_X_TEST_USER"] = "banned-pat"
    html = client.get("/rewards/").get_data(as_text=True)
    assert "not available for your account" in html
    assert "banned by RevU" not in html
