"""A member watches an open offer page: it follows RevU by itself, and rests while hidden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import DEFAULT_TIMEOUT_MS, LiveSite, PageProblems, refresh_settled, sign_in

pytestmark = pytest.mark.browser

#: The page polls every 2 s (the kit's floor); a loaded machine may take many polls' worth to
#: answer, and how fast is for the benchmarks to say: the test waits as long as any other.
LIVE_WITHIN_MS = DEFAULT_TIMEOUT_MS
ANNOUNCER = "[data-revu-announce]"


def progress_json(page: Page, site: LiveSite) -> list[dict[str, Any]]:
    response = page.request.get(site("/rewards/api/progress"))
    assert response.ok
    offers: list[dict[str, Any]] = response.json()["offers"]
    return offers


def multi_step_in_progress(page: Page, site: LiveSite) -> dict[str, Any]:
    """An offer in progress with a step still open, so advancing it changes a step."""
    for offer in progress_json(page, site):
        steps = offer["steps"]
        still_open = any(step["status"] in ("not_started", "in_progress") for step in steps)
        if offer["state"] == "in_progress" and len(steps) >= 2 and still_open:
            return offer
    raise AssertionError("the fake's active member has no multi-step offer in progress")


def open_offer_from_history(page: Page, site: LiveSite, name: str) -> None:
    page.goto(site("/rewards/"))
    page.locator("nav.revu-tabs").get_by_role("link", name="In progress").click()
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_simulated_progress_shows_up_without_reload_and_is_announced(
    page: Page, site: LiveSite
) -> None:
    problems = PageProblems().watch(page)
    sign_in(page, site, "alex-42")
    offer = multi_step_in_progress(page, site)
    open_offer_from_history(page, site, offer["name"])
    page.evaluate("window.sameDocument = 'still here'")
    index = next(i for i, s in enumerate(offer["steps"]) if s["status"] != "credited")
    step = page.locator(f'[data-revu-step="{index}"]')
    before = step.get_attribute("data-revu-state")
    progress = page.locator(".revu-detail [role=progressbar]")
    done_before = int(progress.get_attribute("aria-valuenow") or "-1")
    expect(page.locator(ANNOUNCER)).to_be_empty()

    page.get_by_role("button", name="Simulate progress").click()
    expect(page.locator("[data-demo-status]")).to_contain_text("moved one step on")

    expect(step).not_to_have_attribute("data-revu-state", before or "", timeout=LIVE_WITHIN_MS)
    after = site.fake.offers_for("alex-42")
    upstream = next(o for o in after if o["offer_id"] == offer["offer_id"])
    assert step.get_attribute("data-revu-state") == upstream["events"][index]["status"]
    expect(page.locator(ANNOUNCER)).to_contain_text(
        f"Step “{offer['steps'][index]['name']}” is now:", timeout=LIVE_WITHIN_MS
    )
    expect(progress).to_have_attribute("aria-valuenow", str(done_before + 1))
    assert page.evaluate("window.sameDocument") == "still here"
    assert problems.problems == []


def test_offer_credited_upstream_changes_badge_and_announces_it(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "alex-42")
    pending = next(
        o for o in progress_json(page, site) if o["state"] == "pending" and not o["overdue"]
    )
    page.goto(site(f"/rewards/offers/{pending['offer_id']}"))
    page.evaluate("window.sameDocument = 'still here'")
    badge = page.locator(".revu-detail__head [data-revu-field=state_label]")
    expect(badge).to_contain_text("Pending credit")

    # RevU credits the offer while the member is looking at it.
    assert site.fake.advance("alex-42", offer_id=pending["offer_id"])["reward_status"] == 2

    expect(badge).to_contain_text("Credited", timeout=LIVE_WITHIN_MS)
    expect(page.locator(ANNOUNCER)).to_contain_text(
        "This offer is now: Credited", timeout=LIVE_WITHIN_MS
    )
    expect(page.locator(".revu-detail")).to_have_attribute("data-revu-state", "credited")
    assert page.evaluate("window.sameDocument") == "still here"


HIDE = """hidden => {
  Object.defineProperty(document, 'hidden', {value: hidden, configurable: true});
  Object.defineProperty(document, 'visibilityState',
    {value: hidden ? 'hidden' : 'visible', configurable: true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_polling_stops_while_the_tab_is_hidden_and_resumes_when_shown(
    page: Page, site: LiveSite
) -> None:
    sign_in(page, site, "alex-42")
    offer = multi_step_in_progress(page, site)
    # Every request of the live refresh: the cheap version checks and the offer fetches.
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/rewards/api/" in r.url else None)
    # The page's own clock, paused, so minutes of polling pass in a moment and only when moved.
    start = datetime(2026, 11, 26, tzinfo=UTC)
    page.clock.install(time=start)
    page.clock.pause_at(start + timedelta(seconds=1))
    page.goto(site(f"/rewards/offers/{offer['offer_id']}"))
    offer_url = site(f"/rewards/api/offers/{offer['offer_id']}")

    def run(ms: int) -> int:
        # In steps of the check interval, each check answered before time moves on (as a real
        # clock would wait): one long advance would fire one check and outrun its answer.
        while ms > 0:
            page.clock.run_for(min(500, ms))
            refresh_settled(page)
            ms -= 500
        return sent.count(offer_url)

    # The demo checks the version every 0.5 s and fetches the offer every 2 s: at 2 s, 4 s, ...
    assert run(2_500) == 1
    assert run(2_000) == 2

    page.evaluate(HIDE, True)
    hidden_from = len(sent)
    page.clock.run_for(120_000)
    # A timer that fired would have sent its request at once, marking the page busy.
    assert page.locator("[data-revu-live]").get_attribute("aria-busy") == "false"

    page.evaluate(HIDE, False)
    assert run(100) == 3, "shown again, the page catches up at once"
    assert sent[hidden_from:] == [offer_url], "nothing was sent while hidden"
