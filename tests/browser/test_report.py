"""'Report a problem' in Chromium: history to filed report on a phone, axe, screenshots."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from demo_app.claims_desk import ClaimsDesk

from .conftest import ContextFactory, LiveSite, frozen_clock, sign_in
from .test_accessibility import check_both_schemes
from .test_screenshots import SHOTS, VIEWPORTS, settle, shoot

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.fixture(autouse=True)
def generous_report_limit(site: LiveSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests file many reports as one member on the shared live site."""
    monkeypatch.setitem(site.app.config, "REVU_CLAIM_LIMIT", "1000/minute")
    # A fresh claims desk: ticket numbers start at PP-1001 in every test (and screenshot).
    monkeypatch.setitem(site.app.extensions, "demo_claims", ClaimsDesk())


def offer_with(page: Page, site: LiveSite, reason: str) -> dict[str, Any]:
    """The signed-in member's first offer whose claim verdict is ``reason``."""
    offers = page.request.get(site("/rewards/api/progress")).json()["offers"]
    return next(o for o in offers if o["claim"]["reason"] == reason)


def count_taps(page: Page) -> list[int]:
    """Count the visitor's taps and clicks on the page (survives navigations)."""
    taps: list[int] = []
    page.expose_function("revuTap", lambda: taps.append(1))
    page.add_init_script("document.addEventListener('click', () => window.revuTap(), true);")
    return taps


def test_a_member_on_a_phone_files_a_claim_from_the_history_in_three_taps(
    make_context: ContextFactory, site: LiveSite
) -> None:
    context = make_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, site, "alex-42")
    overdue = offer_with(page, site, "pending_overdue")
    page.goto(site("/rewards/?status=pending"))
    taps = count_taps(page)
    page.reload()

    card = page.locator(f'article.revu-card[data-revu-offer="{overdue["offer_id"]}"]')
    card.get_by_role("link", name=re.compile("Report a problem")).tap()
    expect(page.get_by_role("heading", level=1, name="Report a problem")).to_be_visible()
    # The likely answer is already chosen: the member only sends it.
    expect(page.get_by_role("radio", name=re.compile("not credited"))).to_be_checked()
    page.get_by_role("button", name="Send report").tap()

    expect(page.get_by_role("heading", level=1, name="Report sent")).to_be_visible()
    reference = page.locator("[data-revu-ticket]").inner_text()
    assert re.fullmatch(r"PP-\d+", reference)
    # Counted by the page itself, so a tap the test did not mean to make shows up too.
    assert 2 <= len(taps) <= 3, len(taps)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_report_button_is_on_the_first_screen_of_a_phone(
    make_context: ContextFactory, site: LiveSite
) -> None:
    context = make_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, site, "alex-42")
    overdue = offer_with(page, site, "pending_overdue")

    page.goto(site(f"/rewards/offers/{overdue['offer_id']}"))

    button = page.locator(".revu-detail").get_by_role("link", name="Report a problem")
    box = button.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= PHONE["height"], box


def test_the_offer_pages_clock_follows_live_refresh(
    make_context: ContextFactory, site: LiveSite
) -> None:
    page = make_context(viewport=PHONE).new_page()
    sign_in(page, site, "alex-42")
    overdue = offer_with(page, site, "pending_overdue")
    page.goto(site(f"/rewards/offers/{overdue['offer_id']}"))
    clock = page.locator(".revu-detail [data-revu-field='claim.text']")
    before = clock.inner_text()
    assert "has not arrived" in before

    site.fake.advance("alex-42", overdue["offer_id"])  # RevU credits it

    expect(clock).not_to_have_text(before)
    now = page.request.get(site(f"/rewards/api/offers/{overdue['offer_id']}")).json()
    assert clock.inner_text() == now["offer"]["claim"]["text"]
    button = page.locator(".revu-detail [data-revu-show='claim.report_url']")
    assert button.is_hidden() == (now["offer"]["claim"]["report_url"] is None)


def new_pages(page: Page, site: LiveSite) -> list[tuple[str, str]]:
    """The claim pages a member sees: the form, the clock before the window, a sent report."""
    overdue = offer_with(page, site, "pending_overdue")
    waiting = offer_with(page, site, "pending_within_window")
    reversed_ = offer_with(page, site, "reversed")
    return [
        ("report form", f"/rewards/offers/{overdue['offer_id']}/report"),
        ("report form, dispute", f"/rewards/offers/{reversed_['offer_id']}/report"),
        ("report, before the window", f"/rewards/offers/{waiting['offer_id']}/report"),
    ]


def test_the_claim_pages_have_no_serious_axe_violation_in_light_or_dark(
    make_context: ContextFactory, site: LiveSite
) -> None:
    context = make_context(viewport=PHONE, bypass_csp=True, reduced_motion="reduce")
    page = context.new_page()
    sign_in(page, site, "alex-42")
    report: dict[str, list[str]] = {}
    for label, path in new_pages(page, site):
        assert page.goto(site(path)).status == 200  # type: ignore[union-attr]
        check_both_schemes(page, label, report)
    page.goto(site(new_pages(page, site)[0][1]))
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", level=1, name="Report sent")).to_be_visible()
    check_both_schemes(page, "report sent", report)
    page.goto(site("/rewards/?status=pending"))
    check_both_schemes(page, "history with claim clocks", report)

    sign_in(page, site, "staff-kim")
    page.goto(site("/staff/claims"))
    expect(page.get_by_role("heading", level=1, name="Claims desk")).to_be_visible()
    check_both_schemes(page, "claims desk (staff)", report)
    assert report == {}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("form", ["desktop", "mobile"])
def test_screenshots_of_the_report_pages(
    make_context: ContextFactory, site: LiveSite, form: str, scheme: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = make_context(
        viewport=VIEWPORTS[form], color_scheme=scheme, is_mobile=form == "mobile"
    )
    page = context.new_page()
    with frozen_clock(site):
        sign_in(page, site, "alex-42")
        overdue = offer_with(page, site, "pending_overdue")

        page.goto(site(f"/rewards/offers/{overdue['offer_id']}/report"))
        expect(page.get_by_role("button", name="Send report")).to_be_visible()
        settle(page)
        shoot(page, f"report-{form}-{scheme}")

        page.get_by_label("In your own words (optional)").fill(
            "I kept the trial for the whole week and it still says pending."
        )
        page.get_by_role("button", name="Send report").click()
        expect(page.get_by_role("heading", level=1, name="Report sent")).to_be_visible()
        settle(page)
        # The claim id is random: the picture shows a fixed one.
        page.evaluate(
            """() => { const t = document.querySelector('#revu-report-bundle');
                       t.value = t.value.replace(/clm-[0-9a-f]+/, 'clm-3f9a1c2b7d40'); }"""
        )
        shoot(page, f"report-sent-{form}-{scheme}")
