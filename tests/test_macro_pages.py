"""The kit's pages (history, detail, error) rendered with the context the blueprint gives them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, render_template
from jinja2 import DictLoader, FileSystemLoader, PrefixLoader

from revu_widgets import presentation
from revu_widgets.listing import ListArgs, Pagination, Tab
from revu_widgets.models import (
    Offer,
    ProgressSummary,
    RewardStatus,
    SkippedOffer,
    Step,
    StepStatus,
    UserProgress,
)

from .kit_app import TEMPLATES, kit_app

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HOST_BASE = """<!doctype html><html><head><title>Host · {% block title %}{% endblock %}</title>
</head><body><header>Host site</header><main>{% block content %}{% endblock %}</main>
</body></html>"""


def in_progress() -> Offer:
    return Offer(
        offer_id=51001,
        name="Dragon Realms",
        status=RewardStatus.IN_PROGRESS,
        click_url="https://publishers.revenueuniverse.com/click/51001",
        requirements="New players only.\nInstall on a new phone.",
        terms="No emulators.",
        reporting="up to 3 days",
        started_at=T0,
        steps=(
            Step("Install", StepStatus.CREDITED, "credited", "1", Decimal(50), T0, T0),
            Step("Reach level 18", StepStatus.NOT_STARTED, "", "2", Decimal(1300)),
        ),
    )


def overdue() -> Offer:
    return Offer(
        offer_id=51003,
        name="StreamBox trial",
        status=RewardStatus.PENDING,
        user_completed=True,
        credit_window=timedelta(days=3),
        steps=(Step("Start trial", StepStatus.PENDING, "pending", "1", Decimal(2500), T0),),
        as_of=T0 + timedelta(days=10),
    )


@pytest.fixture
def app() -> Flask:
    return kit_app(
        PrefixLoader(
            {
                "revu_widgets": FileSystemLoader(TEMPLATES / "revu_widgets"),
                "host": DictLoader({"base.html": HOST_BASE}),
            }
        )
    )


def page(app: Flask, name: str, base: str = "revu_widgets/layout.html", **context: Any) -> str:
    common = {
        "csp_nonce": "n0nce",
        "currency": "coins",
        "revu_prefix_url": "/rewards/",
        "revu_base_template": base,
    }
    with app.test_request_context(headers={"Accept-Language": "en-US"}):
        return render_template(f"revu_widgets/{name}", **(common | context))


def detail_page(app: Flask, offer: Offer, **context: Any) -> str:
    """The detail page of ``offer`` for user u1, refreshing every 20 s, without claim details."""
    defaults = {
        "user_id": "u1",
        "support_id": None,
        "api_url": f"/rewards/api/offers/{offer.offer_id}",
        "refresh_seconds": 20,
        "claim_text": None,
    }
    return page(app, "detail.html", offer=offer, **(defaults | context))


def error_page(
    app: Flask,
    status_code: int,
    title: str,
    message: str,
    reference: str = "",
    retry_after: int | None = None,
) -> str:
    """The error page for ``status_code``, without reference or retry delay unless given."""
    return page(
        app,
        "error.html",
        status_code=status_code,
        error_title=title,
        error_message=message,
        reference=reference,
        retry_after=retry_after,
    )


def history_context(offers: list[Offer], **overrides: Any) -> dict[str, Any]:
    summary = ProgressSummary.from_offers(offers)
    context: dict[str, Any] = {
        "progress": UserProgress("u1", tuple(offers), summary),
        "summary": summary,
        "offers": offers,
        "tabs": [
            Tab("all", "All", len(offers), "/rewards/", True),
            Tab("pending", "Pending", summary.pending, "/rewards/?status=pending", False),
        ],
        "pagination": Pagination(1, 1, len(offers), None, None),
        "detail_url_pattern": "/rewards/offers/{offer_id}",
        "skipped": (),
        "status_slug": "all",
        "list_args": ListArgs(),
        "overdue_offers": [o for o in offers if o.is_overdue],
        "notice": None,
        "page_size": 25,
        "sort_orders": [("activity", "Last activity")],
        "overdue_url": "/rewards/?status=overdue#revu-offers",
        "clear_search_url": "/rewards/#revu-offers",
        "offerwall_url": None,
    }
    return context | overrides


def test_history_page_shows_summary_tabs_and_offers(app: Flask) -> None:
    html = page(app, "history.html", **history_context([in_progress(), overdue()]))
    assert "<title>My offers</title>" in html
    assert (
        '<a href="/rewards/" aria-current="page">All <span class="revu-tabs__count">2</span>'
        in html
    )
    assert 'href="/rewards/offers/51001"' in html
    assert 'href="/rewards/offers/51003"' in html
    assert "revu-summary" in html
    assert html.index("revu-summary") < html.index("revu-tabs")
    assert 'nonce="n0nce"' in html


def test_history_page_reports_skipped_offers_with_ids(app: Flask) -> None:
    skipped = (SkippedOffer(3, "123", ("reward_status",)),)
    html = page(app, "history.html", **history_context([in_progress()], skipped=skipped))
    assert "1 offer could not be shown (id 123)." in html
    assert "reward_status" not in html


def test_history_page_reports_skipped_offers_without_ids(app: Flask) -> None:
    skipped = (SkippedOffer(1, None, ("x",)), SkippedOffer(2, None, ("y",)))
    html = page(app, "history.html", **history_context([], skipped=skipped))
    assert "2 offers could not be shown." in html


def test_history_empty_tab_message_depends_on_tab(app: Flask) -> None:
    html = page(app, "history.html", **history_context([], status_slug="pending"))
    assert "Nothing is waiting for credit." in html


def test_history_pagination_links(app: Flask) -> None:
    pagination = Pagination(2, 3, 60, "/rewards/?page=1", "/rewards/?page=3")
    html = page(app, "history.html", **history_context([in_progress()], pagination=pagination))
    assert '<a href="/rewards/?page=1" rel="prev">' in html
    assert '<a href="/rewards/?page=3" rel="next">' in html
    assert "Page 2 of 3" in html


def test_history_sits_inside_a_host_base_template(app: Flask) -> None:
    html = page(app, "history.html", base="host/base.html", **history_context([in_progress()]))
    assert "<title>Host · My offers</title>" in html
    assert "<header>Host site</header>" in html
    assert "Dragon Realms" in html


def test_detail_page_has_live_hook_explanation_and_timeline(app: Flask) -> None:
    html = detail_page(app, in_progress())
    assert 'data-revu-live="/rewards/api/offers/51001"' in html
    assert 'data-revu-interval="20"' in html
    assert 'aria-live="polite"' in html
    assert "Next: Reach level 18." in html
    assert 'data-revu-step="1"' in html
    assert 'rel="noopener noreferrer"' in html
    assert "New players only.\nInstall on a new phone." in html
    assert "<textarea" not in html
    assert '<a href="/rewards/">' in html


def test_detail_page_without_refresh_has_no_live_hook(app: Flask) -> None:
    html = detail_page(app, in_progress(), refresh_seconds=0)
    assert "data-revu-live" not in html
    assert "data-revu-interval" not in html


def test_detail_page_shows_claim_details_for_overdue_offer(app: Flask) -> None:
    offer = overdue()
    with app.test_request_context():
        claim = presentation.claim_details(offer, user_id="u<1>", support_id="918273645")
    html = detail_page(
        app,
        offer,
        user_id="u<1>",
        support_id="918273645",
        refresh_seconds=30,
        claim_text=claim,
    )
    assert "<textarea" in html
    assert "readonly" in html
    assert "User ID: u&lt;1&gt;" in html
    assert "<code>918273645</code>" in html
    assert "now overdue" in html
    assert "Continue the offer" not in html


def test_error_page_is_friendly_with_reference_and_retry(app: Flask) -> None:
    html = error_page(
        app, 429, "Too many requests", "Please wait <a moment>.", reference="abc123", retry_after=30
    )
    assert "<title>Too many requests</title>" in html
    assert "Please wait &lt;a moment&gt;." in html
    assert "quote this reference" in html
    assert '<code class="revu-ref">abc123</code>' in html
    assert "try again in 30 seconds" in html
    assert "Traceback" not in html


def test_error_page_without_retry_or_reference(app: Flask) -> None:
    html = error_page(app, 404, "Page not found", "Gone.")
    assert "seconds" not in html
    assert "revu-ref" not in html
    assert "Try again" not in html
    assert "Back to my offers" in html
