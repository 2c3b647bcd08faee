"""A member on a 375 px phone: what is due first, whole cards to tap, focus after a tab change,
and the list's search, order and page picker with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import ContextFactory, LiveSite, sign_in
from .test_accessibility import check_both_schemes

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
CARDS = ".revu-history article.revu-card"


def phone(make_context: ContextFactory, **options: object) -> Page:
    context = make_context(viewport=PHONE, is_mobile=True, has_touch=True, **options)
    return context.new_page()


def in_viewport(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def overdue_offer(page: Page, site: LiveSite) -> dict[str, object]:
    offers = page.request.get(site("/rewards/api/progress")).json()["offers"]
    overdue = [o for o in offers if o["overdue"]]
    assert overdue, "the demo member has an overdue credit"
    return dict(overdue[0])


def test_overdue_offer_and_its_expected_date_are_on_the_first_screen(
    make_context: ContextFactory, site: LiveSite
) -> None:
    page = phone(make_context)
    sign_in(page, site, "alex-42")
    offer = overdue_offer(page, site)
    page.goto(site("/rewards/"))

    notice = page.locator(".revu-history .revu-overdue")
    link = notice.get_by_role("link", name=str(offer["name"]))
    expect(link).to_be_visible()
    expected = notice.locator(f'time[datetime="{offer["expected_credit_at"]}"]')
    expect(expected).to_be_visible()
    assert in_viewport(page, ".revu-history .revu-overdue a")
    assert in_viewport(
        page, f'.revu-history .revu-overdue time[datetime="{offer["expected_credit_at"]}"]'
    )
    expect(notice).to_contain_text(str(offer["expected_credit_text"]))

    # In "All", the overdue offer is the first card, marked Overdue with its expected date.
    first = page.locator(CARDS).first
    expect(first).to_have_attribute("data-revu-offer", str(offer["offer_id"]))
    expect(first.locator(".revu-badge--overdue")).to_have_text("Overdue")
    expect(first.locator(".revu-when")).to_contain_text(str(offer["expected_credit_text"]))


def test_one_tap_anywhere_on_a_card_opens_its_offer_page(
    make_context: ContextFactory, site: LiveSite
) -> None:
    page = phone(make_context)
    sign_in(page, site, "alex-42")
    page.goto(site("/rewards/"))
    card = page.locator(CARDS).nth(1)
    offer_id = card.get_attribute("data-revu-offer")
    name = card.locator(".revu-card__title").inner_text()
    box = card.bounding_box()
    assert box is not None
    assert box["height"] >= 44

    # A tap on the card's rewards line, away from the name and from Continue: the name's link
    # covers the whole card, so the tap lands on it.
    card.scroll_into_view_if_needed()
    line = card.locator(".revu-card__rewards").bounding_box()
    assert line is not None
    page.touchscreen.tap(line["x"] + 10, line["y"] + line["height"] / 2)
    page.wait_for_url(re.compile(rf"/rewards/offers/{offer_id}\b"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_continue_is_its_own_link_above_the_card_link(
    make_context: ContextFactory, site: LiveSite
) -> None:
    page = phone(make_context)
    sign_in(page, site, "alex-42")
    page.goto(site("/rewards/?status=in_progress"))
    button = page.locator(CARDS).first.get_by_role("link", name=re.compile("^Continue"))
    expect(button).to_have_attribute("target", "_blank")
    assert page.locator("a a").count() == 0
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    assert box["height"] >= 44
    # What a finger lands on at the button's centre is the button, not the card's link.
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('a').className",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert hit == "revu-button"


def test_focus_lands_on_the_list_after_a_tab_change(
    make_context: ContextFactory, site: LiveSite
) -> None:
    page = phone(make_context)
    sign_in(page, site, "alex-42")
    page.goto(site("/rewards/"))
    page.get_by_role("link", name=re.compile(r"^Pending \d")).click()
    expect(page.locator("nav.revu-tabs a[aria-current=page]")).to_contain_text("Pending")
    heading = page.locator("#revu-offers")
    expect(heading).to_be_focused()
    expect(heading).to_contain_text("Pending")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused in ("revu-card__link", "revu-tools"), focused
    assert page.evaluate("!!document.activeElement.closest('.revu-list, .revu-tools')")


def test_back_link_keeps_the_tab_and_returns_to_the_card(
    make_context: ContextFactory, site: LiveSite
) -> None:
    page = phone(make_context)
    sign_in(page, site, "alex-42")
    page.goto(site("/rewards/?status=credited"))
    card = page.locator(CARDS).last
    offer_id = card.get_attribute("data-revu-offer")
    card.locator(".revu-card__link").click()
    page.get_by_role("link", name="All my offers").click()
    page.wait_for_url(re.compile(rf"status=credited#revu-offer-{offer_id}$"))
    expect(page.locator("nav.revu-tabs a[aria-current=page]")).to_contain_text("Credited")


@pytest.mark.parametrize("javascript", [True, False])
def test_heavy_member_searches_sorts_and_jumps_to_a_page(
    make_context: ContextFactory, site: LiveSite, javascript: bool
) -> None:
    page = phone(make_context, java_script_enabled=javascript)
    sign_in(page, site, "heavy-jo")
    # An offer far down the history, found by its id.
    target = page.request.get(site("/rewards/api/progress?page=30")).json()["offers"][3]
    page.goto(site("/rewards/"))

    pager = page.get_by_role("navigation", name="Pages")
    pager.get_by_label("Go to page").fill("7")
    pager.get_by_role("button", name="Go").click()
    expect(pager).to_contain_text("Page 7 of 60")
    expect(pager.locator("a[aria-current=page]")).to_have_text(re.compile(r"7$"))

    tools = page.get_by_role("search", name="Search and sort offers")
    tools.get_by_label("Offer name or id").fill(str(target["offer_id"]))
    tools.get_by_role("button", name="Show").click()
    expect(page.locator(CARDS)).to_have_count(1)
    expect(page.locator(CARDS).first).to_have_attribute("data-revu-offer", str(target["offer_id"]))

    tools.get_by_label("Offer name or id").fill("")
    tools.get_by_label("Order").select_option(label="Amount")
    tools.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"sort=amount"))
    expect(page.locator(CARDS)).to_have_count(20)
    # Each card leads with its offer's whole reward (earned, pending, lost or possible).
    amounts = [
        int(text.replace(",", ""))
        for text in page.locator(
            f"{CARDS} .revu-card__rewards .revu-reward:first-child .revu-reward__value"
        ).all_inner_texts()
    ]
    assert len(amounts) == 20
    assert amounts == sorted(amounts, reverse=True)
    assert amounts[0] > amounts[-1]


def card_pitch(page: Page) -> float:
    """The mean distance from one card's top to the next one's on this page, in CSS px."""
    tops: list[float] = page.eval_on_selector_all(
        CARDS, "cards => cards.map(c => c.getBoundingClientRect().top + scrollY)"
    )
    assert len(tops) > 2
    return (tops[-1] - tops[0]) / (len(tops) - 1)


@pytest.mark.parametrize("member", ["alex-42", "heavy-jo"])
def test_a_phone_screen_holds_about_four_cards(
    make_context: ContextFactory, site: LiveSite, member: str
) -> None:
    # Before the card redesign a 812 px screen held about two cards; a claim clock box on every
    # card once brought that back to under three and a half.
    page = phone(make_context)
    sign_in(page, site, member)
    page.goto(site("/rewards/"))
    expect(page.locator(CARDS).first).to_be_visible()
    assert PHONE["height"] / card_pitch(page) >= 3.8


def test_a_cards_claim_is_one_line_with_its_own_report_link(
    make_context: ContextFactory, site: LiveSite
) -> None:
    page = phone(make_context)
    sign_in(page, site, "alex-42")
    offer = overdue_offer(page, site)
    page.goto(site("/rewards/"))

    lines = page.locator(f"{CARDS} .revu-claim-line")
    assert lines.count() >= 3
    for index in range(lines.count()):
        line = lines.nth(index)
        height = line.evaluate("e => e.getBoundingClientRect().height")
        line_height = line.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
        assert height < 1.5 * line_height, line.inner_text()

    card = page.locator(f'{CARDS}[data-revu-offer="{offer["offer_id"]}"]')
    link = card.locator(".revu-claim-line__report")
    expect(link).to_contain_text("Report a problem")
    expect(card.locator(".revu-claim-line")).to_contain_text("until ")
    link.scroll_into_view_if_needed()
    box = link.bounding_box()
    assert box is not None
    assert box["height"] >= 24
    # What a finger lands on at the link's centre is the link, not the card's own link.
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('a').className",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert hit == "revu-claim-line__report"
    link.tap()
    expect(page.get_by_role("heading", level=1, name="Report a problem")).to_be_visible()


def test_what_the_totals_include_opens_and_passes_axe_in_both_schemes(
    make_context: ContextFactory, site: LiveSite
) -> None:
    # axe is injected as a script; the kit's nonce-based policy would rightly refuse it.
    page = phone(make_context, bypass_csp=True, reduced_motion="reduce")
    sign_in(page, site, "alex-42")
    page.goto(site("/rewards/"))
    about = page.locator(".revu-summary__about")
    expect(about.locator("li").first).to_be_hidden()
    summary = about.locator("summary")
    expect(summary).to_have_text("What the totals include")
    box = summary.bounding_box()
    assert box is not None
    assert box["height"] >= 44
    summary.tap()
    expect(about.locator("li").first).to_be_visible()
    expect(about).to_contain_text("“Credited so far” on a card is a partial credit")
    report: dict[str, list[str]] = {}
    check_both_schemes(page, "history, totals explained", report)
    assert report == {}
