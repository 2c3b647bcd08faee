"""With JavaScript off, every page still shows everything: script only adds live refresh."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .conftest import ContextFactory, LiveSite, frozen_clock, offers_by_state, sign_in

pytestmark = pytest.mark.browser

# The fake hands out a new RevU support reference per answer; two loads never share one.
_REFERENCE = re.compile(r"\d{9,}")


def main_text(page: Page) -> str:
    """What a reader sees in the page's main area, with the script's own additions left out.

    Hidden rows are left out too: the copy is detached, so ``innerText`` would read them, and
    the live refresh keeps their text current (a hidden zero "Lost" row reads "0 coins" once the
    page with script has polled, "—" as the server rendered it).
    """
    text = page.locator("main").evaluate(
        """main => {
          const copy = main.cloneNode(true);
          copy.querySelectorAll('.revu-copy, [data-revu-announce], [data-revu-updated], [hidden]')
            .forEach(e => e.remove());
          return copy.innerText;
        }"""
    )
    return _REFERENCE.sub("<ref>", str(text))


def two_browsers(make_context: ContextFactory, site: LiveSite, user_id: str) -> tuple[Page, Page]:
    pages = []
    for enabled in (True, False):
        context: BrowserContext = make_context(java_script_enabled=enabled)
        page = context.new_page()
        sign_in(page, site, user_id)
        pages.append(page)
    return pages[0], pages[1]


def assert_same_content(with_js: Page, without_js: Page, url: str, site: LiveSite) -> None:
    # A frozen clock, so "Looked up at" and "2 hours ago" cannot move between the two loads.
    # The pages are read before it stops: the page with script polls, and an answer from the
    # real clock (dates relative to today) would rewrite it between the loads and the reading.
    with frozen_clock(site):
        for page in (with_js, without_js):
            response = page.goto(url)
            assert response is not None
            assert response.status == 200, url
        assert main_text(without_js) == main_text(with_js), url


def test_member_pages_show_the_same_content_without_javascript(
    make_context: ContextFactory, site: LiveSite
) -> None:
    with_js, without_js = two_browsers(make_context, site, "alex-42")
    states = offers_by_state(with_js, site)
    paths = ["/dashboard", "/rewards/"]
    paths += [f"/rewards/?status={tab}" for tab in ("in_progress", "pending", "credited")]
    paths += ["/rewards/?status=reversed"]
    paths += [f"/rewards/offers/{ids[0]}" for ids in states.values()]
    for path in paths:
        assert_same_content(with_js, without_js, site(path), site)


def test_offer_page_without_javascript_has_steps_progress_and_claim_details(
    make_context: ContextFactory, site: LiveSite
) -> None:
    context = make_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, site, "alex-42")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My offers").click()
    page.get_by_role("link", name=re.compile(r"^Pending \d")).click()
    cards = page.locator("article.revu-card")
    expect(cards.first).to_be_visible()
    cards.first.get_by_role("heading").get_by_role("link").click()

    expect(page.get_by_role("heading", name="Steps")).to_be_visible()
    steps = page.locator("[data-revu-step]")
    assert steps.count() >= 1
    for index in range(steps.count()):
        expect(steps.nth(index).locator("[data-revu-field=status_label]")).not_to_be_empty()
    expect(page.locator(".revu-detail [role=progressbar]")).to_have_attribute(
        "aria-valuetext", re.compile(r"\d+ of \d+ steps?")
    )
    expect(page.locator("[data-revu-field=explanation]")).to_contain_text("Pending credit")
    claim = page.locator("textarea[readonly]")
    expect(claim).to_be_visible()
    assert claim.input_value().startswith("Offer claim details")
    # Without script there is nothing to press: the text is there to select and copy.
    expect(page.locator(".revu-copy")).to_have_count(0)


def test_staff_support_desk_works_without_javascript(
    make_context: ContextFactory, site: LiveSite
) -> None:
    with_js, without_js = two_browsers(make_context, site, "staff-kim")
    without_js.get_by_role("link", name="Support desk").click()
    without_js.get_by_label("User id").fill("alex-42")
    without_js.get_by_role("button", name="Look up").click()
    expect(without_js.get_by_role("heading", level=1)).to_contain_text("alex-42")
    assert without_js.locator("article.revu-card, [data-revu-offer]").count() > 0
    assert_same_content(with_js, without_js, without_js.url, site)
