"""A member browses their offer history: tabs, counts and pages, all by clicking."""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveSite, PageProblems, sign_in

pytestmark = pytest.mark.browser

CARDS = ".revu-history article.revu-card"
PAGE_SIZE = 20  # the demo's REVU_PAGE_SIZE


def tab_counts(page: Page) -> dict[str, int]:
    """Each tab's label (without its count) and the count it shows."""
    counts = {}
    for link in page.locator("nav.revu-tabs a").all():
        count = link.locator(".revu-tabs__count").inner_text()
        label = link.inner_text().removesuffix(count).strip()
        counts[label] = int(count.replace(",", ""))
    return counts


def shown_offer_ids(page: Page) -> list[str]:
    ids = page.locator(CARDS).evaluate_all("cards => cards.map(c => c.dataset.revuOffer)")
    return [str(offer_id) for offer_id in ids]


def test_each_tab_shows_as_many_cards_as_its_count(page: Page, site: LiveSite) -> None:
    problems = PageProblems().watch(page)
    sign_in(page, site, "alex-42")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My offers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My offers")

    counts = tab_counts(page)
    assert list(counts) == [
        "All",
        "Overdue",
        "In progress",
        "Pending",
        "Credited",
        "Reversed & expired",
    ]
    # Overdue credits are some of the pending ones: the states alone add up to All.
    assert counts["All"] == sum(n for label, n in counts.items() if label not in ("All", "Overdue"))
    assert 0 < counts["Overdue"] <= counts["Pending"]
    seen: set[str] = set()
    for label, count in counts.items():
        tabs = page.get_by_role("navigation", name="Filter offers by status")
        tabs.get_by_role("link", name=re.compile(rf"^{re.escape(label)} \d")).click()
        current = tabs.locator("a[aria-current=page]")
        expect(current).to_contain_text(label)
        assert count <= PAGE_SIZE, "the active member fits on one page"
        expect(page.locator(CARDS)).to_have_count(count)
        ids = shown_offer_ids(page)
        if label == "Overdue":
            assert set(
                page.locator(CARDS).evaluate_all("cs => cs.map(c => c.dataset.revuState)")
            ) == {"pending"}
        elif label != "All":
            assert not seen & set(ids), f"{label} repeats offers of another tab"
            seen.update(ids)
    assert len(seen) == counts["All"]
    assert problems.problems == []


def test_tab_shows_only_offers_in_that_state(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "alex-42")
    page.goto(site("/rewards/"))
    expected = {
        "In progress": {"in_progress"},
        "Pending": {"pending"},
        "Credited": {"credited"},
        "Reversed & expired": {"reversed", "expired"},
    }
    for label, states in expected.items():
        page.get_by_role("link", name=re.compile(rf"^{re.escape(label)} \d")).click()
        expect(page.locator("nav.revu-tabs a[aria-current=page]")).to_contain_text(label)
        shown = set(page.locator(CARDS).evaluate_all("cs => cs.map(c => c.dataset.revuState)"))
        assert shown, label
        assert shown <= states, (label, shown)


def test_heavy_member_pages_through_a_tab_by_clicking_next(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "heavy-jo")
    page.goto(site("/rewards/"))
    counts = tab_counts(page)
    assert counts["All"] == 1200
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager).to_contain_text(f"Page 1 of {math.ceil(1200 / PAGE_SIZE)}")
    expect(page.locator(CARDS)).to_have_count(PAGE_SIZE)

    # The smallest tab is walked to its end: every offer once, no page short but the last.
    label = min((n, label) for label, n in counts.items() if n > PAGE_SIZE)[1]
    page.get_by_role("link", name=re.compile(rf"^{re.escape(label)} \d")).click()
    pages = math.ceil(counts[label] / PAGE_SIZE)
    ids: list[str] = []
    for number in range(1, pages + 1):
        expect(pager).to_contain_text(f"Page {number} of {pages}")
        shown = shown_offer_ids(page)
        assert len(shown) == (PAGE_SIZE if number < pages else counts[label] - len(ids))
        ids.extend(shown)
        if number < pages:
            pager.get_by_role("link", name="Next").click()
    assert len(ids) == counts[label] == len(set(ids))
    expect(pager.get_by_role("link", name="Next")).to_have_count(0)

    pager.get_by_role("link", name="Previous").click()
    expect(pager).to_contain_text(f"Page {pages - 1} of {pages}")
    assert shown_offer_ids(page) == ids[(pages - 2) * PAGE_SIZE : (pages - 1) * PAGE_SIZE]
