"""Screenshots for the README: history, offer and support pages, desktop and phone, light and dark.

They are taken on a frozen clock with the fake's data for that moment, so a page that did not
change gives the same PNG again and the committed files only change when the pages do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..files import replace_file
from .conftest import ContextFactory, LiveSite, frozen_clock, sign_in, wait_for_js

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "mobile": {"width": 375, "height": 812},
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def richest_offer_in_progress(page: Page, site: LiveSite) -> int:
    """The in-progress offer with the most steps: it shows the most of the offer page."""
    offers: list[dict[str, Any]] = page.request.get(site("/rewards/api/progress")).json()["offers"]
    in_progress = [o for o in offers if o["state"] == "in_progress"]
    best = max(in_progress, key=lambda o: (len(o["steps"]), o["steps_done"], -o["offer_id"]))
    return int(best["offer_id"])


def settle(page: Page) -> None:
    """Wait for the images on screen, and show the fake's address without its per-run port."""
    page.wait_for_load_state("load")
    # Offer images load lazily, after the load event: wait for those the screenshot shows.
    wait_for_js(
        page,
        """Array.from(document.images)
             .filter(i => i.getBoundingClientRect().top < innerHeight)
             .every(i => i.complete && i.naturalWidth > 0)""",
    )
    page.evaluate(
        """() => document.querySelectorAll('.upstream-url').forEach(
             e => { e.textContent = e.textContent.replace(/:\\d+/, ':8765'); })"""
    )


def shoot(page: Page, name: str) -> None:
    path = SHOTS / f"{name}.png"
    replace_file(path, page.screenshot(animations="disabled", caret="hide"))
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) < 400_000, f"{path.name} is {len(data)} bytes: keep README images small"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("form", ["desktop", "mobile"])
def test_screenshots_of_history_offer_and_support_pages(
    make_context: ContextFactory, site: LiveSite, form: str, scheme: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = make_context(
        viewport=VIEWPORTS[form], color_scheme=scheme, is_mobile=form == "mobile"
    )
    page = context.new_page()
    with frozen_clock(site):
        sign_in(page, site, "alex-42")
        offer_id = richest_offer_in_progress(page, site)

        page.goto(site("/rewards/"))
        expect(page.locator("article.revu-card").first).to_be_visible()
        settle(page)
        shoot(page, f"history-{form}-{scheme}")

        page.goto(site(f"/rewards/offers/{offer_id}"))
        expect(page.get_by_role("heading", name="Steps")).to_be_visible()
        settle(page)
        shoot(page, f"detail-{form}-{scheme}")

        sign_in(page, site, "staff-kim")
        page.goto(site("/rewards/support/users/alex-42"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("alex-42")
        settle(page)
        shoot(page, f"support-{form}-{scheme}")
