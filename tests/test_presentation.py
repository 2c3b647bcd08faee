"""Words, numbers, dates and JSON the kit shows for offers (revu_widgets.presentation)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from revu_widgets import presentation
from revu_widgets.errors import (
    AuthenticationError,
    BadPayloadError,
    IpBannedError,
    OfferNotFoundError,
    RateLimitedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from revu_widgets.models import (
    Offer,
    OfferState,
    ProgressSummary,
    RewardStatus,
    Step,
    StepStatus,
)
from revu_widgets.schemas import is_safe_url

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def only_step(name: str, status: StepStatus, word: str, **details: Any) -> tuple[Step]:
    """The single step of a one-step offer, worth the offer's whole 4,200 coins."""
    return (Step(name, status, word, "1", Decimal(4200), **details),)


def make_offer(state: OfferState, **overrides: object) -> Offer:
    """An offer in ``state`` with realistic steps, built straight from the models."""
    base: dict[str, object] = {
        "offer_id": 51001,
        "name": "Dragon Realms",
        "status": RewardStatus.IN_PROGRESS,
        "total_reward": Decimal(4200),
        "click_url": "https://publishers.revenueuniverse.com/click/51001",
        "image_url": "https://cdn.example/51001.png",
        "started_at": T0,
        "as_of": T0 + timedelta(days=6),
    }
    if state is OfferState.IN_PROGRESS:
        base["steps"] = (
            Step("Install and open", StepStatus.CREDITED, "credited", "1", Decimal(50), T0, T0),
            Step(
                "Reach level 18",
                StepStatus.PENDING,
                "pending",
                "2",
                Decimal(1300),
                T0 + timedelta(days=5),
            ),
            Step("Reach level 25", StepStatus.NOT_STARTED, "", "3", Decimal(2850)),
        )
        base["expires_at"] = T0 + timedelta(days=30)
    elif state is OfferState.PENDING:
        base.update(
            status=RewardStatus.PENDING,
            user_completed=True,
            reporting="up to 30 days",
            credit_window=timedelta(days=30),
            steps=only_step(
                "Start trial", StepStatus.PENDING, "pending", completed_at=T0 + timedelta(days=1)
            ),
        )
    elif state is OfferState.CREDITED:
        base.update(
            status=RewardStatus.CREDITED,
            user_completed=True,
            steps=only_step(
                "Survey",
                StepStatus.CREDITED,
                "credited",
                completed_at=T0,
                credited_at=T0 + timedelta(hours=1),
            ),
        )
    elif state is OfferState.REVERSED:
        base.update(
            status=RewardStatus.REVERSED,
            user_completed=True,
            steps=only_step(
                "Deposit",
                StepStatus.REVERSED,
                "Revoked",
                completed_at=T0,
                reversed_at=T0 + timedelta(days=3),
                reason="Chargeback on the deposit",
            ),
        )
    elif state is OfferState.EXPIRED:
        base.update(
            status=RewardStatus.REVERSED,
            expires_at=T0 + timedelta(days=5),
            steps=(
                Step("Install", StepStatus.CREDITED, "credited", "1", Decimal(200), T0, T0),
                Step("Reach level 30", StepStatus.EXPIRED, "expired", "2", Decimal(4000)),
            ),
        )
    elif state is OfferState.REVERSED_OR_EXPIRED:
        base.update(status=RewardStatus.REVERSED)
    else:
        base.update(status=RewardStatus.UNKNOWN)
    base.update(overrides)
    offer = Offer(**base)  # type: ignore[arg-type]
    assert offer.state is state
    return offer


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    presentation.install(app)
    return app


@pytest.fixture
def en(app: Flask) -> Iterator[None]:
    with app.test_request_context(headers={"Accept-Language": "en-US,en;q=0.8"}):
        yield


@pytest.mark.parametrize(
    ("state", "label"),
    [
        (OfferState.IN_PROGRESS, "In progress"),
        (OfferState.PENDING, "Pending credit"),
        (OfferState.CREDITED, "Credited"),
        (OfferState.REVERSED, "Reversed"),
        (OfferState.EXPIRED, "Expired"),
        (OfferState.UNKNOWN, "Unknown"),
    ],
)
def test_every_offer_state_has_one_label(en: None, state: OfferState, label: str) -> None:
    assert presentation.status_label(state) == label
    assert presentation.status_label(make_offer(state)) == label
    assert presentation.status_value(make_offer(state)) == state.value


def test_every_step_status_has_a_label(en: None) -> None:
    labels = {presentation.status_label(status) for status in StepStatus}
    assert len(labels) == len(StepStatus)
    assert presentation.status_label(StepStatus.NOT_STARTED) == "Not started"


def test_unknown_step_status_shows_the_raw_word(en: None) -> None:
    step = Step("Level up", StepStatus.UNKNOWN, "On hold")
    assert presentation.status_label(step) == "Unknown (On hold)"


def test_unknown_step_word_cannot_break_lines_or_run_long(en: None) -> None:
    step = Step("Level up", StepStatus.UNKNOWN, "held\n\nfor\treview " + "x" * 200)
    label = presentation.status_label(step)
    assert "\n" not in label
    assert "\t" not in label
    assert len(label) < 60


def test_amount_uses_currency_word_from_config(app: Flask) -> None:
    app.config["REVU_CURRENCY_NAME"] = "gems"
    with app.test_request_context(headers={"Accept-Language": "en-US"}):
        assert presentation.format_amount(Decimal(4200)) == "4,200 gems"


def test_amount_defaults_to_coins(en: None) -> None:
    assert presentation.format_amount(Decimal("12.5")) == "12.5 coins"


def test_numbers_follow_accept_language(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "de-DE,de;q=0.9"}):
        assert presentation.format_amount(Decimal(4200)) == "4.200 coins"
        assert presentation.format_date(T0) == "20.11.2026"
    with app.test_request_context(headers={"Accept-Language": "en-US"}):
        assert presentation.format_amount(Decimal(4200)) == "4,200 coins"
        assert presentation.format_date(T0) == "Nov 20, 2026"


def test_numbers_and_dates_keep_the_locales_region_and_script(app: Flask) -> None:
    # Formats are remembered per locale identifier: the region and script are part of it.
    with app.test_request_context(headers={"Accept-Language": "en-IN"}):
        assert presentation.format_number(Decimal("1234567.5")) == "12,34,567.5"
        assert presentation.format_date(T0) == "20 Nov 2026"
    with app.test_request_context(headers={"Accept-Language": "en-US"}):
        assert presentation.format_number(Decimal("1234567.5")) == "1,234,567.5"
    with app.test_request_context(headers={"Accept-Language": "zh-Hant-TW"}):
        assert presentation.format_date(T0) == "2026年11月20日"


def test_unparseable_accept_language_falls_back_to_next_then_english(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "xx-YY, fr;q=0.5"}):
        assert presentation.format_number(Decimal("1234.5")) == "1\u202f234,5"
    with app.test_request_context(headers={"Accept-Language": "*, zz"}):
        assert presentation.format_number(1234) == "1,234"


def test_formatting_outside_a_request_uses_english(app: Flask) -> None:
    with app.app_context():
        assert presentation.format_amount(Decimal(1000)) == "1,000 coins"


def test_datetime_is_shown_in_utc_without_flask_babel(en: None) -> None:
    text = presentation.format_datetime(datetime(2026, 1, 2, 23, 30, tzinfo=UTC))
    # A time names its zone: "11:30 PM" alone is a guess for a member elsewhere.
    assert text == "Jan 2, 2026, 11:30\u202fPM UTC"


def test_relative_time_reads_both_ways(en: None) -> None:
    assert presentation.format_relative(T0 - timedelta(days=3), now=T0) == "3 days ago"
    assert presentation.format_relative(T0 + timedelta(hours=2), now=T0) == "in 2 hours"


def test_isoformat_is_utc_with_z() -> None:
    naive = datetime(2026, 11, 20, 9, 0)
    assert presentation.isoformat(naive) == "2026-11-20T09:00:00Z"
    other = datetime(2026, 11, 20, 10, 0, tzinfo=UTC) + timedelta(0)
    assert presentation.isoformat(other) == "2026-11-20T10:00:00Z"
    assert presentation.isoformat(None) is None


def test_steps_text_counts_done_steps(en: None) -> None:
    assert presentation.steps_text(make_offer(OfferState.IN_PROGRESS)) == "2 of 3 steps"
    single = make_offer(OfferState.CREDITED, steps=())
    assert presentation.steps_text(single) == "Completed"
    assert presentation.progress_values(single) == (1, 1)


def test_in_progress_explanation_names_next_step_and_deadline(en: None) -> None:
    text = presentation.explain(make_offer(OfferState.IN_PROGRESS))
    assert "2 of 3 steps" in text
    assert "Next: Reach level 25." in text
    assert "Finish by Dec 20, 2026." in text


def test_pending_explanation_gives_expected_credit_date(en: None) -> None:
    offer = make_offer(OfferState.PENDING)
    assert not offer.is_overdue
    text = presentation.explain(offer)
    assert text.startswith("Pending credit:")
    assert "4,200 coins" in text
    assert "Expected by Dec 21, 2026." in text
    assert "overdue" not in text


def test_overdue_pending_explanation_says_overdue_and_what_to_do(en: None) -> None:
    offer = make_offer(OfferState.PENDING, as_of=T0 + timedelta(days=45))
    assert offer.is_overdue
    text = presentation.explain(offer)
    assert "expected by Dec 21, 2026 and is now overdue" in text
    # What to do is the next action's job, which knows whether a report can be sent.
    assert "support" not in text
    assert presentation.next_action_code(offer) == "contact_support"
    assert presentation.next_action(offer) == "Contact support with the claim details."
    assert presentation.next_action(offer, can_report=True) == (
        "Use “Report a problem” on this offer's page: the claim details go with your report."
    )


def test_pending_without_a_window_quotes_reporting_time(en: None) -> None:
    offer = make_offer(OfferState.PENDING, credit_window=None, reporting="a few weeks")
    assert "crediting takes a few weeks" in presentation.explain(offer)


def test_credited_explanation_says_when(en: None) -> None:
    text = presentation.explain(make_offer(OfferState.CREDITED))
    assert text == "Credited on Nov 20, 2026: 4,200 coins were added to your balance."


def test_reversed_offer_shows_reason(en: None) -> None:
    text = presentation.explain(make_offer(OfferState.REVERSED))
    assert "took back the reward" in text
    assert "Reason given: Chargeback on the deposit" in text


def test_reversed_without_reason_says_so(en: None) -> None:
    offer = make_offer(
        OfferState.REVERSED, steps=(Step("Deposit", StepStatus.REVERSED, "reversed"),)
    )
    assert "No reason was given." in presentation.explain(offer)


def test_expired_explanation_differs_from_reversed(en: None) -> None:
    text = presentation.explain(make_offer(OfferState.EXPIRED))
    assert "ran out" in text
    assert "nothing was taken back" in text
    assert "You keep the 200 coins already credited." in text
    assert "took back" not in text


def test_unknown_state_explanation_is_honest(en: None) -> None:
    assert "do not recognise" in presentation.explain(make_offer(OfferState.UNKNOWN))


@pytest.mark.parametrize(
    ("state", "code", "words"),
    [
        (OfferState.IN_PROGRESS, "continue", "next step is “Reach level 25”"),
        (OfferState.PENDING, "wait", "wait until Dec 21, 2026"),
        (OfferState.CREDITED, "none", "Nothing to do."),
        (OfferState.REVERSED, "contact_support", "contact support with the claim details"),
        (OfferState.EXPIRED, "none", "Nothing to do."),
        (OfferState.UNKNOWN, "contact_support", "Contact support"),
    ],
)
def test_next_action_for_each_state(en: None, state: OfferState, code: str, words: str) -> None:
    offer = make_offer(state)
    assert presentation.next_action_code(offer) == code
    assert words in presentation.next_action(offer)


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (OfferState.REVERSED, "If you think this is a mistake, use “Report a problem”"),
        (OfferState.REVERSED_OR_EXPIRED, "If you think this is a mistake, use “Report a problem”"),
        (OfferState.UNKNOWN, "Use “Report a problem” on this offer's page"),
    ],
)
def test_next_action_points_to_the_report_when_one_can_be_sent(
    en: None, state: OfferState, words: str
) -> None:
    offer = make_offer(state)
    assert presentation.next_action(offer, can_report=True).startswith(words)
    assert "Report a problem" not in presentation.next_action(offer)


@pytest.mark.parametrize(
    "state", [OfferState.IN_PROGRESS, OfferState.PENDING, OfferState.CREDITED, OfferState.EXPIRED]
)
def test_next_action_without_a_dispute_ignores_the_report(en: None, state: OfferState) -> None:
    offer = make_offer(state)
    assert presentation.next_action(offer, can_report=True) == presentation.next_action(offer)


def test_offer_as_json_next_action_follows_can_report(en: None) -> None:
    offer = make_offer(OfferState.PENDING, as_of=T0 + timedelta(60))
    closed = presentation.offer_as_json(offer)["next_action"]
    open_ = presentation.offer_as_json(offer, can_report=True)["next_action"]
    assert closed["code"] == open_["code"] == "contact_support"
    assert "Report a problem" in open_["text"]
    assert "Report a problem" not in closed["text"]


@pytest.mark.parametrize(
    ("state", "rows"),
    [
        # The credited first step (50) is a partial credit: shown, never as "earned".
        (OfferState.IN_PROGRESS, [("possible", 4200), ("partial", 50)]),
        (OfferState.PENDING, [("pending", 4200)]),
        (OfferState.CREDITED, [("earned", 4200)]),
        (OfferState.REVERSED, [("lost", 4200)]),
        (OfferState.EXPIRED, [("lost", 4200), ("partial", 200)]),
        (OfferState.REVERSED_OR_EXPIRED, [("lost", 4200)]),
        (OfferState.UNKNOWN, [("possible", 4200)]),
    ],
)
def test_card_rewards_lead_with_what_the_offer_counts_for(
    en: None, state: OfferState, rows: list[tuple[str, int]]
) -> None:
    assert presentation.reward_rows(make_offer(state)) == [(k, Decimal(a)) for k, a in rows]


def test_card_rewards_of_a_credited_offer_have_no_partial_row(en: None) -> None:
    # Its credited steps are part of the whole reward, already earned.
    steps = (
        Step("Install", StepStatus.CREDITED, "credited", "1", Decimal(200), T0, T0),
        Step("Level 30", StepStatus.CREDITED, "credited", "2", Decimal(4000), T0, T0),
    )
    offer = make_offer(OfferState.CREDITED, steps=steps)
    assert presentation.reward_rows(offer) == [("earned", Decimal(4200))]
    assert presentation.reward_label("partial") == "Credited so far"


def test_partial_credit_is_zero_once_the_offer_is_credited(en: None) -> None:
    credited = make_offer(OfferState.CREDITED)
    assert credited.credited_steps_reward == Decimal(4200)
    assert credited.partial_credit == Decimal(0)
    assert make_offer(OfferState.EXPIRED).partial_credit == Decimal(200)
    assert make_offer(OfferState.PENDING).partial_credit == Decimal(0)
    data = presentation.offer_as_json(credited)
    assert data["rewards"]["partial"] == {"amount": 0, "text": "0 coins"}


def test_card_rewards_unknown_reward_shows_no_amount(en: None) -> None:
    offer = make_offer(OfferState.PENDING, total_reward=None, steps=())
    assert presentation.reward_rows(offer) == []


def test_cards_of_each_tab_add_up_to_its_summary_total(en: None) -> None:
    offers = [make_offer(state) for state in OfferState] + [
        make_offer(OfferState.CREDITED, offer_id=51002, total_reward=Decimal("12.5"), steps=()),
        make_offer(OfferState.PENDING, offer_id=51003, total_reward=Decimal(700)),
    ]
    summary = ProgressSummary.from_offers(offers)
    shown: dict[str, Decimal] = {}
    for offer in offers:
        for kind, amount in presentation.reward_rows(offer):
            shown[kind] = shown.get(kind, Decimal(0)) + amount
    assert shown["earned"] == summary.earned == Decimal("4212.5")
    assert shown["pending"] == summary.pending_amount == Decimal(4900)
    assert shown["lost"] == summary.lost == Decimal(12600)
    # Partial credits are named on their cards and counted in no total.
    assert shown["partial"] == Decimal(250)


def test_offer_as_json_shape(en: None) -> None:
    data = presentation.offer_as_json(make_offer(OfferState.IN_PROGRESS))
    json.dumps(data)  # plain JSON types only
    assert data["offer_id"] == 51001
    assert data["state"] == "in_progress"
    assert data["state_label"] == "In progress"
    assert data["steps_done"] == 2
    assert data["steps_total"] == 3
    assert data["progress_text"] == "2 of 3 steps"
    assert (data["progress_value"], data["progress_max"]) == (2, 3)
    # reward_status (in progress) decides the totals: the credited first step is told on the
    # timeline, the offer's reward is still to be earned.
    assert data["rewards"]["earned"] == {"amount": 0, "text": "0 coins"}
    assert data["rewards"]["pending"] == {"amount": 0, "text": "0 coins"}
    assert data["rewards"]["remaining"] == {"amount": 4200, "text": "4,200 coins"}
    assert data["rewards"]["possible"]["amount"] == 4200
    # The credited first step is a partial credit, named as such.
    assert data["rewards"]["partial"] == {"amount": 50, "text": "50 coins"}
    assert data["steps"][0]["reward"] == {"amount": 50, "text": "50 coins"}
    assert data["can_continue"] is True
    assert data["overdue"] is False
    assert data["expected_credit_at"] is None
    assert data["expires_at"] == "2026-12-20T09:00:00Z"
    assert data["explanation"].startswith("You have finished")
    assert data["next_action"]["code"] == "continue"
    first = data["steps"][0]
    assert first["status"] == "credited"
    assert first["status_label"] == "Credited"
    # One time format in every JSON answer: ISO 8601 in UTC, the words beside it.
    assert first["completed_at"] == "2026-11-20T09:00:00Z"
    assert first["credited_text"].startswith("Nov 20, 2026")
    assert (data["steps"][2]["completed_at"], data["steps"][2]["completed_text"]) == (None, "")


def test_offer_as_json_fractional_reward_is_a_float(en: None) -> None:
    offer = make_offer(OfferState.CREDITED, total_reward=Decimal("12.5"), steps=())
    data = presentation.offer_as_json(offer)
    assert data["rewards"]["earned"] == {"amount": 12.5, "text": "12.5 coins"}


def test_offer_as_json_overdue_pending(en: None) -> None:
    data = presentation.offer_as_json(make_offer(OfferState.PENDING, as_of=T0 + timedelta(60)))
    assert data["overdue"] is True
    assert data["expected_credit_at"] == "2026-12-21T09:00:00Z"
    assert data["needs_claim_details"] is True
    assert data["next_action"]["code"] == "contact_support"


def test_counts_and_totals_as_json(en: None) -> None:
    summary = ProgressSummary.from_offers([make_offer(state) for state in OfferState])
    counts = presentation.summary_counts(summary)
    assert counts["total"] == 7
    assert counts["reversed"] == 1
    assert counts["reversed_or_expired"] == 1
    totals = presentation.totals_as_json(summary)
    assert set(totals) == {"earned", "pending", "lost", "remaining"}
    # Only the credited offer's reward is earned; the steps credited on others are not.
    assert totals["earned"] == {"amount": 4200, "text": "4,200 coins"}
    assert totals["lost"] == {"amount": 12600, "text": "12,600 coins"}


def test_claim_details_has_everything_support_needs(en: None) -> None:
    offer = make_offer(OfferState.PENDING, as_of=T0 + timedelta(days=45))
    text = presentation.claim_details(offer, user_id="demo-42", support_id="918273645")
    assert "User ID: demo-42" in text
    assert "Offer: 51001 — Dragon Realms" in text
    assert "Status: Pending credit (overdue)" in text
    assert "RevU support reference: 918273645" in text
    assert "Expected credit: 2026-12-21 09:00 UTC" in text
    assert "1. Start trial — Pending credit, reward 4,200 coins" in text
    assert "completed 2026-11-21 09:00 UTC; credited -; reversed -" in text


def test_claim_details_lists_reversal_reason_and_times(en: None) -> None:
    text = presentation.claim_details(
        make_offer(OfferState.REVERSED), user_id="u1", support_id=None
    )
    assert "Reason given: Chargeback on the deposit" in text
    assert "reversed 2026-11-23 09:00 UTC" in text
    assert "RevU support reference: -" in text


def test_claim_details_upstream_text_cannot_forge_lines(en: None) -> None:
    offer = make_offer(OfferState.REVERSED, name="Game\nStatus: Credited")
    text = presentation.claim_details(offer, user_id="u1", support_id=None)
    assert "\nStatus: Credited" not in text
    assert "Offer: 51001 — Game Status: Credited" in text


@pytest.mark.parametrize(
    "url",
    [
        "https://good@evil.example/",
        "https://evil.example\\@good.example/",
        "https://good.example/\u202egnp.exe",
        " https://good.example/",
        "//evil.example/",
    ],
)
def test_http_url_filter_follows_the_schemas_rule(url: str) -> None:
    # One URL-safety rule: the templates' filter refuses what the schemas refuse.
    assert not is_safe_url(url)
    assert presentation.http_url(url) is None


def test_http_url_refuses_other_schemes() -> None:
    assert presentation.http_url("javascript:alert(1)") is None
    assert presentation.http_url(" data:text/html,x") is None
    assert presentation.http_url(None) is None
    assert presentation.http_url("https://x.example/a?b=1") == "https://x.example/a?b=1"


def test_detail_url_fills_pattern_or_calls() -> None:
    offer = make_offer(OfferState.CREDITED)
    assert presentation.detail_url("/rewards/offers/{offer_id}", offer) == "/rewards/offers/51001"
    assert presentation.detail_url("/a/{offer_id}?x={y}", offer) == "/a/51001?x={y}"
    assert presentation.detail_url(lambda o: f"/o/{o.offer_id}", offer) == "/o/51001"
    assert presentation.detail_url(None, offer) is None


def test_tab_labels(en: None) -> None:
    assert presentation.tab_label("reversed") == "Reversed & expired"
    assert presentation.tab_label("all") == "All"


@pytest.mark.parametrize(
    ("exc", "title"),
    [
        (RateLimitedError("429 from RevU", retry_after=3), "Too many requests"),
        (UpstreamTimeoutError("read timeout"), "The offers service is slow"),
        (UpstreamUnavailableError("503"), "Offers are temporarily unavailable"),
        (IpBannedError("banned", reason="IP_BANNED"), "Offers are not available"),
        (AuthenticationError("RevU refused the API key"), "We could not load your offers"),
        (BadPayloadError("offers is not a list"), "We could not load your offers"),
    ],
)
def test_upstream_errors_get_fixed_visitor_wording(en: None, exc: Exception, title: str) -> None:
    shown_title, message = presentation.error_text(exc)  # type: ignore[arg-type]
    assert shown_title == title
    assert str(exc) not in message


def test_offer_not_found_keeps_its_visitor_message(en: None) -> None:
    title, message = presentation.error_text(OfferNotFoundError("We could not find it."))
    assert (title, message) == ("Offer not found", "We could not find it.")


def test_http_error_text_for_404(en: None) -> None:
    assert presentation.http_error_text(404)[0] == "Page not found"
    assert presentation.http_error_text(500)[0] == "Something went wrong"


def test_install_registers_prefixed_filters_and_globals(app: Flask) -> None:
    for name in ("revu_amount", "revu_datetime", "revu_date", "revu_relative", "revu_iso"):
        assert name in app.jinja_env.filters
    for name in ("revu_status_label", "revu_explain", "revu_next_action", "revu_gettext"):
        assert name in app.jinja_env.globals
