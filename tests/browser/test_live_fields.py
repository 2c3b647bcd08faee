"""Every part of an open offer page that can change follows RevU without a reload, on a phone:
status, progress, explanation, next step, rewards (hidden rows revealed), expected credit date,
Continue, claim details; "Updated HH:MM · live" says the page is live, and changes stand out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    DEFAULT_TIMEOUT_MS,
    ContextFactory,
    LiveSite,
    PageProblems,
    sign_in,
    wait_for_js,
)

pytestmark = pytest.mark.browser

#: How long a change may take to show: generous, as a loaded machine answers slowly (how fast
#: it is on an idle one is for the benchmarks to say).
LIVE_WITHIN_S = DEFAULT_TIMEOUT_MS / 1000
ROOT = "article.revu-detail"


def api_offer(page: Page, site: LiveSite, offer_id: int) -> dict[str, Any]:
    response = page.request.get(site(f"/rewards/api/offers/{offer_id}"))
    assert response.ok
    offer: dict[str, Any] = response.json()["offer"]
    return offer


def in_progress_offer(page: Page, site: LiveSite) -> dict[str, Any]:
    offers = page.request.get(site("/rewards/api/progress")).json()["offers"]
    return next(o for o in offers if o["state"] == "in_progress" and o["click_url"])


def visible_text(page: Page, selector: str) -> str:
    return str(page.locator(selector).first.inner_text()).strip()


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_every_live_field_changes_without_reload(
    make_context: ContextFactory, site: LiveSite, motion: str
) -> None:
    context = make_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, reduced_motion=motion
    )
    page = context.new_page()
    problems = PageProblems().watch(page)
    sign_in(page, site, "alex-42")
    offer = in_progress_offer(page, site)
    offer_id = int(offer["offer_id"])
    page.goto(site(f"/rewards/offers/{offer_id}"))
    page.evaluate("window.sameDocument = 'still here'")

    # Before: in progress, so no expected date, no pending row, no claim box; Continue shown.
    expect(page.locator(f"{ROOT} [data-revu-show=expected_credit_at]")).to_be_hidden()
    expect(page.locator(f"{ROOT} [data-revu-show=can_continue]")).to_be_visible()
    expect(page.locator(f"{ROOT} .revu-claim")).to_be_hidden()
    # The page says it is live once it has heard from the server.
    status = page.locator("[data-revu-updated]")
    # The browser's own clock, with its zone named ("2:09 PM UTC", "14:09 GMT+1").
    zoned = r"^Updated \d{1,2}:\d{2}(\s[AP]M)?\s[A-Z]{2,5}([+-]\d{1,2}(:\d{2})?)? · live$"
    expect(status).to_have_text(re.compile(zoned))
    before = {
        "explanation": visible_text(page, f"{ROOT} [data-revu-field=explanation]"),
        "next": visible_text(page, f"{ROOT} [data-revu-field='next_action.text']"),
        "badge": visible_text(page, f"{ROOT} header [data-revu-field=state_label]"),
        "bar": page.locator(f"{ROOT} [role=progressbar]").first.get_attribute("aria-valuetext"),
    }

    # RevU moves the offer on until it is pending credit (every step done).
    for _ in range(10):
        moved = site.fake.advance("alex-42", offer_id=offer_id)
        if moved.get("reward_status") == 4:
            break
    now = api_offer(page, site, offer_id)
    assert now["state"] == "pending", now["state"]
    wait_for_js(
        page,
        f"document.querySelector('{ROOT}').dataset.revuState === 'pending'",
        timeout=LIVE_WITHIN_S,
    )
    wait_for_js(
        page,
        f"!document.querySelector('{ROOT} .revu-claim').hidden",
        timeout=LIVE_WITHIN_S,
    )
    # What changed is highlighted for a few seconds of real time: look at once, before the many
    # checks below (slow on a loaded machine) let it end. It moves (fades) only when motion is
    # welcome.
    changed = page.locator(f"{ROOT} .revu-changed")
    durations = changed.evaluate_all("els => els.map(e => getComputedStyle(e).transitionDuration)")
    assert durations, "nothing is highlighted"
    assert (durations[0] == "0s") is (motion == "reduce"), durations

    assert page.evaluate("window.sameDocument") == "still here"
    expect(page.locator(f"{ROOT} header [data-revu-field=state_label]")).to_have_text(
        now["state_label"]
    )
    assert visible_text(page, f"{ROOT} header [data-revu-field=state_label]") != before["badge"]
    expect(page.locator(f"{ROOT} [data-revu-field=explanation]")).to_have_text(now["explanation"])
    assert now["explanation"] != before["explanation"]
    expect(page.locator(f"{ROOT} [data-revu-field='next_action.text']")).to_have_text(
        now["next_action"]["text"]
    )
    assert now["next_action"]["text"] != before["next"]
    bar = page.locator(f"{ROOT} [role=progressbar]").first
    expect(bar).to_have_attribute("aria-valuetext", now["progress_text"])
    assert now["progress_text"] != before["bar"]
    for kind in ("earned", "pending", "possible"):
        row = page.locator(f"{ROOT} [data-revu-reward={kind}] .revu-reward__value")
        expect(row).to_have_text(now["rewards"][kind]["text"])
    if now["rewards"]["pending"]["amount"]:
        expect(page.locator(f"{ROOT} [data-revu-reward=pending]")).to_be_visible()
    if now["expected_credit_at"]:
        expected = page.locator(f"{ROOT} [data-revu-show=expected_credit_at]")
        expect(expected).to_be_visible()
        expect(expected.locator("time")).to_have_attribute("datetime", now["expected_credit_at"])
        expect(expected.locator("time")).to_have_text(now["expected_credit_text"])
    expect(page.locator(f"{ROOT} [data-revu-show=can_continue]")).to_be_hidden()
    expect(page.locator(f"{ROOT} .revu-claim")).to_be_visible()
    claim = page.locator(f"{ROOT} textarea[data-revu-copy]").input_value()
    assert "Pending credit" in claim
    for index, step in enumerate(now["steps"]):
        item = page.locator(f'{ROOT} [data-revu-step="{index}"]')
        expect(item).to_have_attribute("data-revu-state", step["status"])
        expect(item.locator("[data-revu-field=status_label]")).to_have_text(step["status_label"])

    assert problems.unexpected() == []
