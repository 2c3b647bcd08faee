"""The Jinja widget kit: every macro, rendered the way a host template uses it."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask, render_template_string

from revu_widgets import presentation
from revu_widgets.models import (
    Offer,
    OfferState,
    ProgressSummary,
    RewardStatus,
    Step,
    StepStatus,
)

from .kit_app import STATIC, kit_app

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
IMPORT = (
    '{% from "revu_widgets/macros.html" import offer_card, offer_list, status_badge, '
    "progress_bar, event_timeline, reward, progress_summary, revu_assets %}"
)
HOSTILE = '<script>alert("x")</script>'


def make_offer(state: OfferState, **overrides: Any) -> Offer:
    """A small offer in ``state``, built straight from the models."""
    step_status = {
        OfferState.IN_PROGRESS: StepStatus.NOT_STARTED,
        OfferState.PENDING: StepStatus.PENDING,
        OfferState.CREDITED: StepStatus.CREDITED,
        OfferState.REVERSED: StepStatus.REVERSED,
        OfferState.EXPIRED: StepStatus.EXPIRED,
        OfferState.REVERSED_OR_EXPIRED: StepStatus.NOT_STARTED,
        OfferState.UNKNOWN: StepStatus.UNKNOWN,
    }[state]
    closed = state in (OfferState.EXPIRED, OfferState.REVERSED_OR_EXPIRED)
    status = RewardStatus.REVERSED if closed else RewardStatus(state.value)
    fields: dict[str, Any] = {
        "offer_id": 7,
        "name": "Dragon Realms",
        "status": status,
        "user_completed": state is not OfferState.IN_PROGRESS and not closed,
        "click_url": "https://publishers.revenueuniverse.com/click/7",
        "image_url": "https://cdn.example/7.png",
        "started_at": T0,
        "updated_at": T0 + timedelta(days=1),
        "steps": (
            Step("Install", StepStatus.CREDITED, "credited", "1", Decimal(100), T0, T0),
            Step(
                "Reach level 18",
                step_status,
                "on hold" if step_status is StepStatus.UNKNOWN else step_status.value,
                "2",
                Decimal(4100),
                T0 + timedelta(days=1) if step_status is not StepStatus.NOT_STARTED else None,
                None,
                T0 + timedelta(days=2) if step_status is StepStatus.REVERSED else None,
                "Fraud check failed" if step_status is StepStatus.REVERSED else None,
            ),
        ),
    }
    fields.update(overrides)
    offer = Offer(**fields)
    assert offer.state is state
    return offer


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""


class Collector(HTMLParser):
    """Every element with its attributes and the text directly inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in {"img", "link", "meta", "input", "br", "hr"}:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.text += data


def parse(html: str) -> list[Element]:
    collector = Collector()
    collector.feed(html)
    return collector.elements


def find(html: str, tag: str | None = None, **attrs: str) -> list[Element]:
    """Elements matching ``tag`` whose attributes equal ``attrs`` (``_`` in names is ``-``)."""
    wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
    return [
        e
        for e in parse(html)
        if (tag is None or e.tag == tag) and all(e.attrs.get(k) == v for k, v in wanted.items())
    ]


@pytest.fixture
def app() -> Flask:
    return kit_app()


def render(app: Flask, source: str, language: str = "en-US", **context: Any) -> str:
    with app.test_request_context(headers={"Accept-Language": language}):
        return render_template_string(IMPORT + source, **context)


# --- status_badge ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", list(OfferState))
def test_status_badge_shows_label_and_state_for_every_state(app: Flask, state: OfferState) -> None:
    with app.test_request_context():
        label = presentation.status_label(state)
    for value in (state, make_offer(state)):
        html = render(app, "{{ status_badge(value) }}", value=value)
        (badge,) = find(html, "span", data_revu_state=state.value)
        assert badge.text == label
        assert "revu" in (badge.attrs["class"] or "").split()


def test_status_badge_unknown_step_shows_raw_word(app: Flask) -> None:
    step = Step("Reach level 18", StepStatus.UNKNOWN, "on hold")
    html = render(app, "{{ status_badge(step) }}", step=step)
    assert find(html, "span", data_revu_state="unknown")[0].text == "Unknown (on hold)"


def test_status_badge_escapes_hostile_raw_word(app: Flask) -> None:
    step = Step("x", StepStatus.UNKNOWN, HOSTILE)
    html = render(app, "{{ status_badge(step) }}", step=step)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


# --- progress_bar ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", list(OfferState))
def test_progress_bar_has_progressbar_values(app: Flask, state: OfferState) -> None:
    offer = make_offer(state)
    html = render(app, "{{ progress_bar(offer) }}", offer=offer)
    (bar,) = find(html, role="progressbar")
    assert bar.attrs["aria-valuemin"] == "0"
    assert bar.attrs["aria-valuemax"] == "2"
    assert bar.attrs["aria-valuenow"] == str(offer.steps_done)
    assert bar.attrs["aria-valuetext"] == f"{offer.steps_done} of 2 steps"
    assert bar.attrs["aria-label"]
    assert (
        find(html, "span", class_="revu-progress__text")[0].text == f"{offer.steps_done} of 2 steps"
    )


def test_progress_bar_for_offer_without_steps(app: Flask) -> None:
    offer = make_offer(OfferState.CREDITED, steps=(), total_reward=Decimal(10))
    html = render(app, "{{ progress_bar(offer) }}", offer=offer)
    (bar,) = find(html, role="progressbar")
    assert (bar.attrs["aria-valuenow"], bar.attrs["aria-valuemax"]) == ("1", "1")
    assert "Completed" in html


# --- reward ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "label"),
    [("earned", "Earned"), ("pending", "Pending"), ("possible", "Possible"), ("lost", "Lost")],
)
def test_reward_shows_kind_and_amount(app: Flask, kind: str, label: str) -> None:
    html = render(app, "{{ reward(amount, kind) }}", amount=Decimal(4200), kind=kind)
    assert find(html, "span", class_=f"revu revu-reward revu-reward--{kind}")
    assert find(html, "span", class_="revu-reward__label")[0].text == label
    assert find(html, "span", class_="revu-reward__value")[0].text == "4,200 coins"


def test_reward_uses_currency_word_from_config(app: Flask) -> None:
    app.config["REVU_CURRENCY_NAME"] = "gems"
    html = render(app, "{{ reward(5) }}")
    assert "5 gems" in html


def test_reward_formats_for_german_and_english(app: Flask) -> None:
    german = render(app, "{{ reward(4200) }}", language="de-DE,de;q=0.9")
    english = render(app, "{{ reward(4200) }}", language="en-US")
    assert "4.200 coins" in german
    assert "4,200 coins" in english


def test_reward_unknown_kind_falls_back_to_possible(app: Flask) -> None:
    html = render(app, '{{ reward(1, "bogus\\" onclick=\\"x") }}')
    assert "onclick" not in html
    assert "revu-reward--possible" in html


# --- event_timeline -------------------------------------------------------------------------


@pytest.mark.parametrize("state", list(OfferState))
def test_event_timeline_lists_steps_in_order_with_status(app: Flask, state: OfferState) -> None:
    offer = make_offer(state)
    with app.test_request_context():
        second_label = presentation.status_label(offer.steps[1])
    html = render(app, "{{ event_timeline(offer) }}", offer=offer)
    items = find(html, "li")
    assert [i.attrs["data-revu-step"] for i in items] == ["0", "1"]
    assert items[1].attrs["data-revu-state"] == offer.steps[1].status.value
    assert "Install" in items[0].text
    assert second_label in items[1].text
    assert "4,100 coins" in items[1].text


def test_event_timeline_uses_time_elements(app: Flask) -> None:
    offer = make_offer(OfferState.REVERSED)
    html = render(app, "{{ event_timeline(offer) }}", offer=offer)
    datetimes = [t.attrs.get("datetime") for t in find(html, "time") if t.attrs.get("datetime")]
    assert datetimes == [
        "2026-11-20T09:00:00Z",
        "2026-11-20T09:00:00Z",
        "2026-11-21T09:00:00Z",
        "2026-11-22T09:00:00Z",
    ]
    assert "Reason given: Fraud check failed" in html


def test_event_timeline_hides_missing_times_for_later_refresh(app: Flask) -> None:
    offer = make_offer(OfferState.IN_PROGRESS)
    html = render(app, "{{ event_timeline(offer) }}", offer=offer)
    rows = find(html, "div", data_revu_time="credited_at")
    assert "hidden" not in rows[0].attrs
    assert "hidden" in rows[1].attrs


def test_event_timeline_unknown_status_shows_raw_word(app: Flask) -> None:
    html = render(app, "{{ event_timeline(offer) }}", offer=make_offer(OfferState.UNKNOWN))
    assert "Unknown (on hold)" in html


def test_event_timeline_for_offer_without_steps(app: Flask) -> None:
    offer = make_offer(OfferState.CREDITED, steps=())
    html = render(app, "{{ event_timeline(offer) }}", offer=offer)
    assert "<ol" not in html
    assert "single step" in html


# --- offer_card -----------------------------------------------------------------------------


@pytest.mark.parametrize("state", list(OfferState))
def test_offer_card_composes_badge_progress_and_rewards(app: Flask, state: OfferState) -> None:
    offer = make_offer(state)
    html = render(app, "{{ offer_card(offer, detail_url='/o/7') }}", offer=offer)
    (card,) = find(html, "article")
    assert card.attrs["data-revu-state"] == state.value
    assert find(html, "h3", class_="revu-card__title")[0].text == "Dragon Realms"
    assert find(html, "a", href="/o/7")
    assert find(html, "span", class_="revu revu-badge")
    assert find(html, role="progressbar")
    # The card leads with what the offer counts for in the totals, under its status's word.
    first = {
        OfferState.CREDITED: "Earned",
        OfferState.PENDING: "Pending",
        OfferState.REVERSED: "Lost",
        OfferState.EXPIRED: "Lost",
        OfferState.REVERSED_OR_EXPIRED: "Lost",
    }.get(state, "Possible")
    (line,) = find(html, "p", class_="revu-card__rewards")
    assert line.text.startswith(f"{first} 4,200")
    # A partial credit is named as such, never as earned.
    partial = state is not OfferState.CREDITED and bool(offer.credited_steps_reward)
    assert ("Credited so far" in html) is partial
    assert ("Earned" in html) is (state is OfferState.CREDITED)
    continue_links = [a for a in find(html, "a") if a.attrs.get("target") == "_blank"]
    assert bool(continue_links) is (state is OfferState.IN_PROGRESS)


def test_offer_card_continue_link_is_safe(app: Flask) -> None:
    html = render(app, "{{ offer_card(offer) }}", offer=make_offer(OfferState.IN_PROGRESS))
    (link,) = [a for a in find(html, "a") if a.attrs.get("target") == "_blank"]
    assert link.attrs["href"] == "https://publishers.revenueuniverse.com/click/7"
    assert link.attrs["rel"] == "noopener noreferrer"
    assert "Continue" in link.text


def test_offer_card_image_is_lazy_without_referrer(app: Flask) -> None:
    html = render(app, "{{ offer_card(offer) }}", offer=make_offer(OfferState.CREDITED))
    (img,) = find(html, "img")
    assert img.attrs["src"] == "https://cdn.example/7.png"
    assert img.attrs["loading"] == "lazy"
    assert img.attrs["referrerpolicy"] == "no-referrer"
    assert "alt" in img.attrs


def test_offer_card_without_urls_renders_no_link_or_image(app: Flask) -> None:
    offer = make_offer(OfferState.IN_PROGRESS, click_url=None, image_url=None)
    html = render(app, "{{ offer_card(offer) }}", offer=offer)
    assert "<img" not in html
    assert "<a " not in html
    assert "None" not in html


def test_offer_card_never_renders_javascript_urls(app: Flask) -> None:
    offer = make_offer(
        OfferState.IN_PROGRESS,
        click_url="javascript:alert(1)",
        image_url="data:image/svg+xml,<svg onload=alert(1)>",
    )
    html = render(app, "{{ offer_card(offer) }}", offer=offer)
    assert "javascript:" not in html
    assert "data:" not in html
    assert "<img" not in html


def test_offer_card_escapes_hostile_text(app: Flask) -> None:
    offer = make_offer(OfferState.IN_PROGRESS, name=HOSTILE, headline='"><img src=x onerror=1>')
    html = render(app, "{{ offer_card(offer) }}", offer=offer)
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_offer_card_hides_continue_when_asked(app: Flask) -> None:
    html = render(
        app,
        "{{ offer_card(offer, show_continue=False) }}",
        offer=make_offer(OfferState.IN_PROGRESS),
    )
    assert "Continue" not in html


def test_offer_card_heading_level_is_configurable(app: Flask) -> None:
    offer = make_offer(OfferState.CREDITED)
    assert find(render(app, "{{ offer_card(o, heading_level=2) }}", o=offer), "h2")
    assert find(render(app, "{{ offer_card(o, heading_level='h1>') }}", o=offer), "h3")


def test_offer_card_shows_lost_reward_for_reversed(app: Flask) -> None:
    html = render(app, "{{ offer_card(offer) }}", offer=make_offer(OfferState.REVERSED))
    assert find(html, "span", class_="revu revu-reward revu-reward--lost")
    # reward_status 3 puts the offer's whole reward in the lost column.
    assert 'Lost</span> <span class="revu-reward__value">4,200</span>' in html
    # Rewards share one line, the currency named once at its end.
    assert find(html, "p", class_="revu-card__rewards")[0].text.endswith(" coins")


# --- offer_list -----------------------------------------------------------------------------


def test_offer_list_links_each_offer_from_a_pattern(app: Flask) -> None:
    offers = [
        make_offer(OfferState.PENDING, offer_id=1),
        make_offer(OfferState.CREDITED, offer_id=2),
    ]
    html = render(
        app, "{{ offer_list(offers, detail_url_for='/r/offers/{offer_id}') }}", offers=offers
    )
    assert [a.attrs["href"] for a in find(html, "a")] == ["/r/offers/1", "/r/offers/2"]
    assert len(find(html, "article")) == 2


def test_offer_list_accepts_a_callable(app: Flask) -> None:
    offers = [make_offer(OfferState.CREDITED, offer_id=3)]
    html = render(
        app,
        "{{ offer_list(offers, detail_url_for=link) }}",
        offers=offers,
        link=lambda o: f"/x/{o.offer_id}",
    )
    assert find(html, "a", href="/x/3")


def test_offer_list_empty_state_is_friendly(app: Flask) -> None:
    html = render(app, "{{ offer_list([]) }}")
    assert "No offers here yet" in html
    assert "<ul" not in html


def test_offer_list_custom_empty_message_is_escaped(app: Flask) -> None:
    html = render(app, "{{ offer_list([], empty_message=msg) }}", msg="Nothing <b>yet</b>")
    assert "Nothing &lt;b&gt;yet&lt;/b&gt;" in html


# --- progress_summary -----------------------------------------------------------------------


def test_progress_summary_totals_and_counts(app: Flask) -> None:
    offers = [make_offer(state) for state in OfferState]
    summary = ProgressSummary.from_offers(offers)
    html = render(app, "{{ progress_summary(summary) }}", summary=summary)
    amounts = [e.text for e in find(html, "dd", class_="revu-summary__amount")]
    # Each offer's reward counts where its reward_status puts it, whatever its steps say.
    assert amounts == ["4,200 coins", "4,200 coins", "12,600 coins"]
    assert "1 offer credited" in html
    assert "1 offer pending" in html
    assert "3 offers reversed or expired" in html
    assert find(html, "section", class_="revu revu-summary")


def test_progress_summary_mentions_overdue(app: Flask) -> None:
    overdue = make_offer(
        OfferState.PENDING,
        credit_window=timedelta(days=1),
        as_of=T0 + timedelta(days=30),
    )
    html = render(app, "{{ progress_summary(s) }}", s=ProgressSummary.from_offers([overdue]))
    assert "1 offer pending, 1 overdue" in html


def test_progress_summary_says_what_each_total_includes(app: Flask) -> None:
    html = render(app, "{{ progress_summary(s) }}", s=ProgressSummary.from_offers([]))
    (about,) = find(html, "details", class_="revu-summary__about")
    assert "open" not in about.attrs
    assert "What the totals include" in html
    assert "Pending: the whole rewards of offers waiting for credit, partial credits included." in (
        html
    )
    german = render(app, "{{ progress_summary(s) }}", "de", s=ProgressSummary.from_offers([]))
    assert "Was die Summen enthalten" in german


def test_overdue_notice_names_the_report_and_the_claim_details(app: Flask) -> None:
    overdue = make_offer(
        OfferState.PENDING, credit_window=timedelta(days=1), as_of=T0 + timedelta(days=30)
    )
    html = render(
        app,
        '{% from "revu_widgets/macros.html" import overdue_notice %}'
        '{{ overdue_notice(offers, detail_url_for="/o/{offer_id}") }}',
        offers=[overdue, make_offer(OfferState.CREDITED)],
    )
    assert find(html, "a", href="/o/7")
    assert "Open an offer to send “Report a problem”, or to copy its claim details" in html


# --- revu_assets ----------------------------------------------------------------------------


def test_revu_assets_links_kit_files_with_nonce(app: Flask) -> None:
    html = render(app, "{{ revu_assets(nonce='abc123') }}")
    (link,) = find(html, "link")
    (script,) = find(html, "script")
    assert link.attrs["href"] == "/revu-static/revu.css"
    assert link.attrs["nonce"] == "abc123"
    assert script.attrs["src"] == "/revu-static/revu.js"
    assert "defer" in script.attrs
    assert script.attrs["nonce"] == "abc123"


def test_revu_assets_without_nonce(app: Flask) -> None:
    assert "nonce" not in render(app, "{{ revu_assets() }}")


def test_asset_urls_serve_real_files(app: Flask) -> None:
    client = app.test_client()
    for name in ("revu.css", "revu.js"):
        response = client.get(f"/revu-static/{name}")
        assert response.status_code == 200
        response.close()


def test_kit_css_and_js_stay_under_8_kb_gzipped() -> None:
    total = sum(
        len(gzip.compress((STATIC / name).read_bytes(), compresslevel=9))
        for name in ("revu.css", "revu.js")
    )
    assert total < 8 * 1024, f"revu.css + revu.js are {total} bytes gzipped"


def test_macros_work_when_imported_without_context(app: Flask) -> None:
    # A host template's own variables must not leak in or be needed.
    source = (
        '{% from "revu_widgets/macros.html" import offer_card %}'
        "{% set revu_amount = 'shadowed' %}{{ offer_card(offer) }}"
    )
    with app.test_request_context():
        html = render_template_string(source, offer=make_offer(OfferState.CREDITED), config={})
    assert 'Earned</span> <span class="revu-reward__value">4,200</span>' in html
    assert "shadowed" not in html


def test_css_scopes_every_rule_to_the_kit() -> None:
    css = (STATIC / "revu.css").read_text()
    selectors = []
    depth = 0
    buffer = ""
    for char in css:
        if char == "{":
            if not buffer.strip().startswith("@"):
                selectors.append(buffer.strip())
            depth += 1
            buffer = ""
        elif char == "}":
            depth -= 1
            buffer = ""
        elif char == ";" and depth:
            buffer = ""
        else:
            buffer += char
    for group in selectors:
        group = group.split("*/")[-1]
        for selector in group.split(","):
            assert selector.strip().startswith((".revu", "[data-revu-")), selector
