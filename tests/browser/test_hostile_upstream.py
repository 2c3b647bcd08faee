"""Hostile text and URLs from upstream are shown as text and never run, on every page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from .conftest import ContextFactory, LiveSite, PageProblems, sign_in

pytestmark = pytest.mark.browser

MEMBER = "alex-42"


def payload(where: str) -> str:
    """Markup that runs script if it is ever parsed as HTML, tagged with where it was put."""
    return (
        f"<img src=x onerror=\"window.pwned='{where}'\">"
        f"<script>window.pwned='{where}'</script>"
        f'"><svg onload="alert(\'{where}\')">'
        f"{{{{7*7}}}}"
    )


BAD_URLS = (
    "javascript:alert(document.domain)",
    " JaVaScRiPt:window.pwned='url'",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "java\tscript:alert(1)",
)


def hostile_offer(offer_id: int, status: int, bad_url: str) -> dict[str, Any]:
    """An offer with a payload in every text field and a script URL in every URL field."""
    events = [
        {
            "event_id": n,
            "name": payload(f"step{n}"),
            "user_reward": 100 * n,
            "status": word,
            "completed_at": "2026-11-20T10:00:00Z" if word != "not_started" else None,
            "reason": payload(f"step-reason{n}"),
        }
        for n, word in enumerate(("credited", "pending", f"<b>{payload('word')}</b>"), start=1)
    ]
    return {
        "offer_id": offer_id,
        "name": payload(f"name{offer_id}"),
        "headline": payload("headline"),
        "description": payload("description"),
        "requirements": payload("requirements"),
        "terms": payload("terms"),
        "category": payload("category"),
        "reporting": payload("reporting"),
        "reason": payload("reason"),
        "image_url": bad_url,
        "click_url": bad_url,
        "reward_status": status,
        "in_progress": status == 1,
        "user_completed": status != 1,
        "total_user_reward": 600,
        "started_at": "2026-11-19T10:00:00Z",
        "updated_at": "2026-11-20T10:00:00Z",
        "events": events,
    }


HOSTILE_OFFERS = [
    hostile_offer(90000 + i, status, url)
    for i, (status, url) in enumerate(zip((1, 4, 2, 3, 1), BAD_URLS, strict=True))
]


def assert_nothing_ran(page: Page, dialogs: list[str]) -> None:
    assert dialogs == []
    assert page.evaluate("window.pwned") is None
    script_links = page.locator(
        "a[href^='javascript:' i], a[href*='script:' i], a[href^='data:' i], "
        "img[src^='javascript:' i], img[src^='data:' i]"
    )
    expect(script_links).to_have_count(0)
    assert page.locator("main script:not([src]), main [onload], main [onerror]").count() == 0


def test_hostile_offers_show_as_text_and_run_nothing(
    make_context: ContextFactory, site: LiveSite
) -> None:
    site.fake.set_offers(MEMBER, HOSTILE_OFFERS)
    page = make_context().new_page()
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    problems = PageProblems().watch(page)
    sign_in(page, site, MEMBER)
    assert_nothing_ran(page, dialogs)  # the dashboard

    page.goto(site("/rewards/"))
    expect(page.locator("article.revu-card")).to_have_count(len(HOSTILE_OFFERS))
    # The payload is on screen, as the characters upstream sent.
    expect(page.locator("article.revu-card").first).to_contain_text("<script>window.pwned=")
    assert_nothing_ran(page, dialogs)

    for offer in HOSTILE_OFFERS:
        page.goto(site(f"/rewards/offers/{offer['offer_id']}"))
        expect(page.get_by_role("heading", level=1)).to_have_text(offer["name"])
        expect(page.locator("[data-revu-step]").first).to_contain_text(
            "<img src=x onerror=", use_inner_text=True
        )
        assert_nothing_ran(page, dialogs)

    # Live refresh writes the data again through the script, with a new step word: still text.
    site.fake.advance(MEMBER, offer_id=HOSTILE_OFFERS[0]["offer_id"])
    page.goto(site(f"/rewards/offers/{HOSTILE_OFFERS[0]['offer_id']}"))
    site.fake.set_offers(MEMBER, HOSTILE_OFFERS)
    announcer = page.locator("[data-revu-announce]")
    expect(announcer).to_contain_text("<img src=x onerror=")
    assert_nothing_ran(page, dialogs)

    assert problems.problems == []


def test_hostile_offers_in_the_support_desk_run_nothing(
    make_context: ContextFactory, site: LiveSite
) -> None:
    site.fake.set_offers(MEMBER, HOSTILE_OFFERS)
    page = make_context().new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, site, "staff-kim")
    page.goto(site(f"/rewards/support/users/{MEMBER}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(MEMBER)
    expect(page.locator("main")).to_contain_text("window.pwned=")
    assert_nothing_ran(page, dialogs)


def test_hostile_user_id_in_the_support_search_stays_text(
    make_context: ContextFactory, site: LiveSite
) -> None:
    page = make_context().new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, site, "staff-kim")
    page.get_by_role("link", name="Support desk").click()
    page.get_by_label("User id").fill(payload("user-id"))
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("main")).to_contain_text("<script>window.pwned='user-id'</script>")
    assert_nothing_ran(page, dialogs)
