"""The kit's templates in a real browser: live refresh, Copy button, accessibility, small screens.

A small Flask app on loopback renders the kit's own templates under a strict CSP (nonce'd
script and stylesheet only), with upstream answers the tests set step by step; the session's
Chromium (see ``conftest.py``) drives them through Playwright.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask, Response, g, jsonify, render_template

from revu_widgets import presentation
from revu_widgets.listing import ListArgs
from revu_widgets.models import (
    Offer,
    ProgressSummary,
    RewardStatus,
    Step,
    StepStatus,
    UserProgress,
)

from ..kit_app import kit_app
from ..servers import serve_wsgi
from .conftest import refresh_settled, wait_for_js

pytestmark = pytest.mark.browser

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def offer_with(second: StepStatus, third: StepStatus = StepStatus.NOT_STARTED) -> Offer:
    done = second is not StepStatus.NOT_STARTED
    return Offer(
        offer_id=51001,
        name="Dragon Realms",
        status=RewardStatus.IN_PROGRESS,
        click_url="https://publishers.revenueuniverse.com/click/51001",
        started_at=T0,
        expires_at=T0 + timedelta(days=30),
        reporting="up to 3 days",
        credit_window=timedelta(days=3),
        requirements="New players only.",
        steps=(
            Step("Install and open", StepStatus.CREDITED, "credited", "1", Decimal(50), T0, T0),
            Step(
                "Reach level 18",
                second,
                second.value,
                "2",
                Decimal(1300),
                T0 + timedelta(days=2) if done else None,
                T0 + timedelta(days=3) if second is StepStatus.CREDITED else None,
            ),
            Step("Reach level 25", third, third.value, "3", Decimal(2850)),
        ),
    )


@dataclass
class Upstream:
    """What the JSON route answers next, and how often it was asked."""

    offer: Offer = field(default_factory=lambda: offer_with(StepStatus.PENDING))
    status: int = 200
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def build_app(upstream: Upstream) -> Flask:
    app = kit_app()

    def common() -> dict[str, Any]:
        g.nonce = secrets.token_urlsafe(12)
        return {
            "csp_nonce": g.nonce,
            "currency": "coins",
            "revu_prefix_url": "/rewards/",
            "revu_base_template": "revu_widgets/layout.html",
        }

    @app.after_request
    def csp(response: Response) -> Response:
        nonce = g.get("nonce", "none")
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "img-src https:; connect-src 'self'; base-uri 'none'; form-action 'self'"
        )
        return response

    @app.get("/rewards/")
    def history() -> str:
        offers = [
            upstream.offer,
            replace(upstream.offer, offer_id=2, name="Survey", status=RewardStatus.CREDITED),
            replace(upstream.offer, offer_id=3, name="Trial", status=RewardStatus.PENDING),
            replace(upstream.offer, offer_id=4, name="Casino", status=RewardStatus.REVERSED),
            replace(upstream.offer, offer_id=5, name="Puzzle", status=RewardStatus.UNKNOWN),
        ]
        summary = ProgressSummary.from_offers(offers)
        tab = type("Tab", (), {"slug": "all", "label": "All", "count": 5, "url": "/rewards/"})
        tab.current = True  # type: ignore[attr-defined]
        pager = type("Pager", (), {"page": 1, "pages": 1, "total": 5})
        pager.prev_url = pager.next_url = None  # type: ignore[attr-defined]
        return render_template(
            "revu_widgets/history.html",
            progress=UserProgress("u1", tuple(offers), summary),
            summary=summary,
            offers=offers,
            tabs=[tab],
            pagination=pager,
            detail_url_pattern="/rewards/offers/{offer_id}",
            skipped=(),
            status_slug="all",
            list_args=ListArgs(),
            overdue_offers=[o for o in offers if o.is_overdue],
            notice=None,
            page_size=25,
            sort_orders=[("activity", "Last activity")],
            overdue_url="/rewards/?status=overdue#revu-offers",
            clear_search_url="/rewards/#revu-offers",
            offerwall_url=None,
            **common(),
        )

    @app.get("/rewards/offers/<int:offer_id>")
    def detail(offer_id: int) -> str:
        offer = replace(upstream.offer, status=RewardStatus.PENDING, user_completed=True)
        return render_template(
            "revu_widgets/detail.html",
            offer=upstream.offer if offer_id == 51001 else offer,
            user_id="u1",
            support_id="918273645",
            api_url=f"/rewards/api/offers/{offer_id}",
            refresh_seconds=2,
            claim_text=presentation.claim_details(offer, user_id="u1", support_id="9182"),
            **common(),
        )

    @app.get("/rewards/api/offers/<int:offer_id>")
    def api(offer_id: int) -> tuple[Response, int]:
        with upstream.lock:
            upstream.requests += 1
        if upstream.status != 200:
            return jsonify({"error": {"code": "x"}}), upstream.status
        return jsonify({"offer": presentation.offer_as_json(upstream.offer)}), 200

    return app


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def base_url(upstream: Upstream) -> Iterator[str]:
    with serve_wsgi(build_app(upstream)) as url:
        yield url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A tab on a clock the test moves by hand, collecting console errors in ``page.errors``."""
    context = browser.new_context()
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    start = datetime(2026, 11, 26, tzinfo=UTC)
    page.clock.install(time=start)
    # Paused: time moves only by ``tick`` and ``run_for``, never with the (loaded) machine's.
    page.clock.pause_at(start + timedelta(seconds=1))
    yield page
    context.close()


def tick(page: Any, upstream: Upstream, ms: int) -> int:
    """Advance the page's clock, let the check it sent (if any) finish, return the request count.

    A timer that fires sends its request at once, inside ``run_for``; the page schedules the
    next one only after the answer, so one advance sends at most one request, and the next
    advance starts from when that answer was handled.
    """
    page.clock.run_for(ms)
    refresh_settled(page)
    return upstream.requests


def test_live_refresh_updates_step_without_reload_and_announces(
    page: Any, base_url: str, upstream: Upstream
) -> None:
    page.goto(f"{base_url}/rewards/offers/51001")
    page.evaluate("window.notReloaded = true")
    # The nonce'd stylesheet loaded under the strict CSP.
    radius = page.locator(".revu-badge").first.evaluate(
        "e => getComputedStyle(e).borderTopLeftRadius"
    )
    assert radius == "999px"
    step = page.locator('[data-revu-step="1"]')
    assert step.get_attribute("data-revu-state") == "pending"
    partial = page.locator('[data-revu-reward="partial"]')
    assert partial.is_visible()
    assert partial.text_content() == "Credited so far 50 coins"

    upstream.offer = offer_with(StepStatus.CREDITED, StepStatus.IN_PROGRESS)
    with page.expect_response(lambda r: "/api/offers/" in r.url):
        page.clock.run_for(2100)
    wait_for_js(
        page, "document.querySelector('[data-revu-step=\"1\"]').dataset.revuState === 'credited'"
    )
    page.clock.run_for(100)

    assert page.evaluate("window.notReloaded") is True
    assert step.locator("[data-revu-field=status_label]").text_content() == "Credited"
    credited = step.locator('[data-revu-time="credited_at"]')
    assert credited.is_visible()
    assert credited.locator("time").get_attribute("datetime") == "2026-11-23T09:00:00Z"
    bar = page.locator("[role=progressbar]")
    assert bar.get_attribute("aria-valuenow") == "2"
    assert bar.get_attribute("aria-valuetext") == "2 of 3 steps"
    assert page.locator(".revu-progress__text").text_content() == "2 of 3 steps"
    # The offer is still in progress (reward_status 1): its reward is not earned yet, while
    # the credited step shows its own amount on the timeline.
    assert page.locator('[data-revu-field="rewards.earned.text"]').text_content() == "0 coins"
    assert step.locator('[data-revu-field="reward.text"]').text_content() == "1,300 coins"
    # ... and what the credited steps gave so far is named as a partial credit.
    assert partial.text_content() == "Credited so far 1,350 coins"
    announced = page.locator("[data-revu-announce]").text_content()
    assert "Step “Reach level 18” is now: Credited" in announced
    assert page.errors == []


def test_live_refresh_writes_hostile_text_as_text(
    page: Any, base_url: str, upstream: Upstream
) -> None:
    page.goto(f"{base_url}/rewards/offers/51001")
    upstream.offer = offer_with(StepStatus.CREDITED)
    upstream.offer = replace(
        upstream.offer,
        steps=(
            *upstream.offer.steps[:2],
            Step('<img src=x onerror="window.pwned=1">', StepStatus.UNKNOWN, "<b>odd</b>"),
        ),
    )
    assert tick(page, upstream, 2100) == 1
    page.clock.run_for(100)  # the announcement is written a moment after the update
    assert page.locator("[data-revu-announce]").text_content() != ""
    status = page.locator('[data-revu-step="2"] [data-revu-field=status_label]')
    assert status.text_content() == "Unknown (<b>odd</b>)"
    assert page.locator('[data-revu-step="2"] b').count() == 0
    assert page.evaluate("window.pwned") is None


def test_live_refresh_backs_off_on_errors(page: Any, base_url: str, upstream: Upstream) -> None:
    upstream.status = 503
    page.goto(f"{base_url}/rewards/offers/51001")
    assert tick(page, upstream, 2100) == 1
    assert tick(page, upstream, 3000) == 1  # next try only after 4 s
    assert tick(page, upstream, 1200) == 2
    assert tick(page, upstream, 7000) == 2  # then after 8 s
    assert tick(page, upstream, 1200) == 3
    upstream.status = 200
    assert tick(page, upstream, 16100) == 4
    assert tick(page, upstream, 2100) == 5  # success resets the interval


def test_live_refresh_stops_on_404(page: Any, base_url: str, upstream: Upstream) -> None:
    upstream.status = 404
    page.goto(f"{base_url}/rewards/offers/51001")
    assert tick(page, upstream, 2100) == 1
    assert tick(page, upstream, 60000) == 1


def test_live_refresh_pauses_while_hidden(page: Any, base_url: str, upstream: Upstream) -> None:
    page.goto(f"{base_url}/rewards/offers/51001")
    hide = (
        "hidden => { Object.defineProperty(document, 'hidden', "
        "{value: hidden, configurable: true}); "
        "document.dispatchEvent(new Event('visibilitychange')); }"
    )
    page.evaluate(hide, True)
    assert tick(page, upstream, 20000) == 0
    page.evaluate(hide, False)
    assert tick(page, upstream, 100) == 1


def test_copy_button_copies_claim_details(browser: Any, base_url: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(f"{base_url}/rewards/offers/7")
        button = page.get_by_role("button", name="Copy")
        button.click()
        wait_for_js(page, "document.querySelector('.revu-copy').textContent === 'Copied'")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "Offer: 51001 — Dragon Realms" in copied
        assert "RevU support reference: 9182" in copied
    finally:
        context.close()


def test_pages_work_without_javascript(browser: Any, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{base_url}/rewards/offers/7")
        assert page.locator("textarea[readonly]").input_value().startswith("Offer claim details")
        assert page.locator(".revu-copy").count() == 0
        assert page.get_by_role("heading", name="Steps").is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["/rewards/", "/rewards/offers/51001", "/rewards/offers/7"])
def test_pages_pass_axe_in_light_and_dark(
    browser: Any, base_url: str, scheme: str, path: str
) -> None:
    context = browser.new_context(color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(base_url + path)
        results = Axe().run(page)
        assert results.violations_count == 0, results.generate_snapshot()
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/rewards/", "/rewards/offers/51001", "/rewards/offers/7"])
def test_pages_fit_a_320_px_screen(browser: Any, base_url: str, path: str) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        page.goto(base_url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        context.close()


def test_focus_is_visible_on_links(browser: Any, base_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(base_url + "/rewards/")
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
    finally:
        context.close()
