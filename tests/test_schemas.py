"""The schemas: RevU's vocabulary in, validated models out; hostile data kept out."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from revu_widgets.errors import BadPayloadError
from revu_widgets.models import OfferState, RewardStatus, StepStatus
from revu_widgets.schemas import (
    MAX_LONG_TEXT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_OFFERS_PER_PAGE,
    MAX_STEPS_PER_OFFER,
    SUMMARY_FIELDS,
    complete_offers,
    is_safe_url,
    parse_credit_window,
    parse_offer,
    parse_progress_page,
    parse_timestamp,
    read_step_facts,
    step_status_from_word,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def offer(**fields: Any) -> dict[str, Any]:
    """A valid raw offer with the given fields replaced (None removes a field)."""
    raw: dict[str, Any] = {
        "offer_id": 51001,
        "name": "Dragon Realms: reach level 25",
        "image_url": "https://cdn.example.com/51001.png",
        "click_url": "https://publishers.example.com/click/51001?uid=u1",
        "reward_status": 1,
        "in_progress": True,
        "user_completed": False,
        "total_user_reward": 4200,
        "reporting": "up to 3 days",
        "started_at": "2026-11-20T09:14:00Z",
        "events": [
            {"event_id": 1, "name": "Install", "user_reward": 50, "status": "credited"},
            {"event_id": 2, "name": "Level 10", "user_reward": 600, "status": ""},
        ],
    }
    for key, value in fields.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def page(*offers: Any, **envelope: Any) -> dict[str, Any]:
    """A raw Get Progress answer around the given offers."""
    return {"status": "success", "total": len(offers), "offers": list(offers), **envelope}


def test_sample_page_from_the_contract_is_read_completely() -> None:
    sample = Path("/work/shared/revu/samples/progress-page.json")
    payload = (
        json.loads(sample.read_text())
        if sample.exists()
        else page(offer(), support_id=918273645, publisher_id=4021, wall_id=7788)
    )
    result = parse_progress_page(payload, now=NOW)
    assert not result.skipped
    assert result.support_id == "918273645"
    assert result.publisher_id == "4021"
    assert result.wall_id == "7788"
    assert all(o.as_of == NOW for o in result.offers)


def test_envelope_offset_and_limit_fall_back_to_what_was_asked() -> None:
    result = parse_progress_page(page(offer()), now=NOW, offset=200, limit=100)
    assert (result.offset, result.limit) == (200, 100)
    result = parse_progress_page(page(offer(), offset=5, limit=10), now=NOW, offset=0, limit=1)
    assert (result.offset, result.limit) == (5, 10)


@pytest.mark.parametrize("key", ["offer_id", "cid", "id"])
def test_offer_id_is_read_from_any_alias(key: str) -> None:
    raw = offer(offer_id=None)
    raw[key] = 777
    assert parse_offer(raw).offer_id == 777


def test_offer_id_as_digit_string_is_accepted() -> None:
    assert parse_offer(offer(offer_id="90210")).offer_id == 90210


def test_terms_and_reward_aliases_are_accepted() -> None:
    result = parse_offer(
        offer(total_user_reward=None, currency_award="12.5", extra_terms="  Be nice  ")
    )
    assert result.total_reward == Decimal("12.5")
    assert result.terms == "Be nice"


def test_step_id_alias_is_accepted_and_payout_is_never_the_members_reward() -> None:
    raw = offer(total_user_reward=None, events=[{"id": "e-9", "name": "Go", "payout": 0.3}])
    step = parse_offer(raw).steps[0]
    assert step.step_id == "e-9"
    assert step.payout == Decimal("0.3")
    assert step.reward is None


def test_step_user_reward_is_the_members_and_payout_is_kept_apart() -> None:
    raw = offer(events=[{"event_id": 1, "name": "Go", "payout": 0.05, "user_reward": 50}])
    step = parse_offer(raw).steps[0]
    assert (step.reward, step.payout, step.reward_is_share) == (Decimal(50), Decimal("0.05"), False)


def test_payout_only_steps_share_the_offers_reward_in_proportion() -> None:
    events = [
        {"event_id": 1, "name": "Install", "payout": 0.05},
        {"event_id": 2, "name": "Level 10", "payout": 0.60},
        {"event_id": 3, "name": "Level 25", "payout": 0.35},
    ]
    result = parse_offer(offer(total_user_reward=1000, payout=1.0, events=events))
    assert [s.reward for s in result.steps] == [Decimal(50), Decimal(600), Decimal(350)]
    assert all(s.reward_is_share for s in result.steps)
    assert result.payout == Decimal("1.0")
    assert result.total_reward == Decimal(1000)


def test_unknown_fields_are_ignored() -> None:
    raw = offer(surprise={"nested": [1, 2]}, another_new_field="x")
    raw["events"][0]["brand_new"] = True
    assert parse_offer(raw).offer_id == 51001


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T09:14:00Z", datetime(2026, 11, 20, 9, 14, tzinfo=UTC)),
        ("2026-11-20T10:14:00+01:00", datetime(2026, 11, 20, 9, 14, tzinfo=UTC)),
        ("2026-11-20T09:14:00", datetime(2026, 11, 20, 9, 14, tzinfo=UTC)),
        (1763630040, datetime(2025, 11, 20, 9, 14, tzinfo=UTC)),
        (1763630040.5, datetime(2025, 11, 20, 9, 14, 0, 500000, tzinfo=UTC)),
        ("1763630040", datetime(2025, 11, 20, 9, 14, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_timestamps_become_aware_utc(value: object, expected: datetime | None) -> None:
    result = parse_timestamp(value)
    assert result == expected
    if result is not None:
        assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2026-13-45T00:00:00Z", True, [], {"t": 1}, -5, 10**12, float("nan"), "9" * 60],
)
def test_unreadable_timestamps_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        parse_timestamp(value)


def test_offer_timestamps_are_read_in_both_forms() -> None:
    result = parse_offer(offer(updated_at=1764000000, expires_at="2026-12-20T09:14:00+01:00"))
    assert result.updated_at == datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
    assert result.expires_at == datetime(2026, 12, 20, 8, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        (None, StepStatus.NOT_STARTED),
        ("", StepStatus.NOT_STARTED),
        ("in progress", StepStatus.IN_PROGRESS),
        ("In_Progress", StepStatus.IN_PROGRESS),
        ("started", StepStatus.IN_PROGRESS),
        ("Completed", StepStatus.COMPLETED),
        ("COMPLETE", StepStatus.COMPLETED),
        ("pending", StepStatus.PENDING),
        ("Pending  Credit", StepStatus.PENDING),
        ("pending_credit", StepStatus.PENDING),
        ("credited", StepStatus.CREDITED),
        ("Paid", StepStatus.CREDITED),
        ("Revoked", StepStatus.REVERSED),
        ("reversed", StepStatus.REVERSED),
        ("  EXPIRED ", StepStatus.EXPIRED),
        ("on hold", StepStatus.UNKNOWN),
    ],
)
def test_status_words_map_to_step_statuses(word: str | None, expected: StepStatus) -> None:
    assert step_status_from_word(word) is expected


def test_unknown_status_word_is_kept_as_label() -> None:
    step = parse_offer(offer(events=[{"name": "Go", "status": "Under Review"}])).steps[0]
    assert step.status is StepStatus.UNKNOWN
    assert step.status_label == "Under Review"


def test_missing_step_status_means_not_started() -> None:
    step = parse_offer(offer(events=[{"name": "Go"}])).steps[0]
    assert step.status is StepStatus.NOT_STARTED


def test_null_step_status_means_not_started() -> None:
    step = parse_offer(offer(events=[{"name": "Go", "status": None}])).steps[0]
    assert step.status is StepStatus.NOT_STARTED
    assert step.status_label == ""


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1, RewardStatus.IN_PROGRESS),
        (2, RewardStatus.CREDITED),
        (3, RewardStatus.REVERSED),
        (4, RewardStatus.PENDING),
        ("4", RewardStatus.PENDING),
        (9, RewardStatus.UNKNOWN),
        (0, RewardStatus.UNKNOWN),
        (None, RewardStatus.UNKNOWN),
    ],
)
def test_reward_status_codes(code: object, expected: RewardStatus) -> None:
    raw = offer(reward_status=None)
    raw["reward_status"] = code
    assert parse_offer(raw).status is expected


def test_missing_reward_status_is_unknown_not_an_error() -> None:
    assert parse_offer(offer(reward_status=None)).status is RewardStatus.UNKNOWN


def test_rewards_become_exact_decimals() -> None:
    result = parse_offer(offer(total_user_reward=0.3))
    assert result.total_reward == Decimal("0.3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("up to 30 days", timedelta(days=30)),
        ("instant", timedelta(0)),
        ("Instantly", timedelta(0)),
        ("24 hours", timedelta(hours=24)),
        ("2 weeks", timedelta(weeks=2)),
        ("1-3 days", timedelta(days=3)),
        ("1 to 3 days", timedelta(days=3)),
        ("within 45 minutes", timedelta(minutes=45)),
        ("1 day to 2 weeks", timedelta(weeks=2)),
        ("1 month", timedelta(days=30)),
        ("when the advertiser confirms", None),
        ("9999 days", None),
        ("", None),
        (None, None),
    ],
)
def test_reporting_text_is_read_as_credit_window(
    text: str | None, expected: timedelta | None
) -> None:
    assert parse_credit_window(text) == expected


def test_offer_keeps_reporting_text_and_window() -> None:
    result = parse_offer(offer(reporting="Up to 7 days"))
    assert result.reporting == "Up to 7 days"
    assert result.credit_window == timedelta(days=7)


def test_pending_offer_gets_expected_credit_date_from_reporting() -> None:
    raw = offer(
        reward_status=4,
        reporting="up to 30 days",
        events=[{"name": "Trial", "status": "pending", "completed_at": "2026-11-10T08:09:00Z"}],
    )
    result = parse_offer(raw, now=NOW)
    assert result.state is OfferState.PENDING
    assert result.expected_credit_at == datetime(2026, 12, 10, 8, 9, tzinfo=UTC)
    assert not result.is_overdue


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "/relative/path.png",
        "//evil.example/x.png",
        "ftp://files.example.com/x.png",
        "https://",
        "https:///path-only",
        "https:evil.example",
        "https://user:pw@evil.example/",
        "https://publisher.example@evil.example/",
        "https://evil.example/\u202egnp.exe",
        "https://evil.example/a b",
        "https://evil.example/\nx",
        "https:\\\\evil.example",
        "https://evil.example:99999/",
        "https://e.example/" + "a" * 3000,
        "\x00https://evil.example/",
        42,
        ["https://evil.example/"],
    ],
)
def test_unsafe_urls_are_refused(url: object) -> None:
    assert not is_safe_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/offers/51001.png",
        "HTTP://cdn.example.com/x.png",
        "http://127.0.0.1:8000/click?uid=1&sid3=a",
        "https://[2001:db8::1]/x",
    ],
)
def test_http_and_https_urls_with_a_host_are_kept(url: str) -> None:
    assert is_safe_url(url)


def test_dropped_urls_are_blanked_and_reported() -> None:
    raw = offer(image_url="javascript:alert(1)", click_url="data:text/html,hi")
    result = parse_progress_page(page(raw, offer(offer_id=2)), now=NOW)
    first = result.offers[0]
    assert first.image_url is None
    assert first.click_url is None
    assert result.dropped_urls == ((51001, "image_url"), (51001, "click_url"))
    assert result.offers[1].image_url is not None


def test_blank_or_missing_urls_are_not_reported_as_dropped() -> None:
    result = parse_progress_page(page(offer(image_url="   ", click_url=None)), now=NOW)
    assert result.dropped_urls == ()
    assert result.offers[0].image_url is None


def test_bad_field_is_left_out_and_the_offer_kept() -> None:
    bad = offer(offer_id=66, total_user_reward="lots")
    result = parse_progress_page(page(offer(offer_id=1), bad, offer(offer_id=3)), now=NOW)
    assert [o.offer_id for o in result.offers] == [1, 66, 3]
    assert not result.skipped
    kept = result.offers[1]
    assert kept.total_reward is None
    assert kept.degraded == ("total_user_reward",)
    assert kept.name == "Dragon Realms: reach level 25"


def test_offer_without_usable_id_is_skipped_and_the_rest_kept() -> None:
    bad = offer(offer_id="sixty-six")
    result = parse_progress_page(page(offer(offer_id=1), bad), now=NOW)
    assert [o.offer_id for o in result.offers] == [1]
    skipped = result.skipped[0]
    assert (skipped.index, skipped.offer_id) == (1, "sixty-six")
    assert skipped.field_paths == ("offers.1.offer_id",)


def test_bad_step_field_is_left_out_and_paths_never_hold_values() -> None:
    secret = "s3cr3t-value-in-upstream-data"
    bad = offer(events=[{"name": "ok"}, {"name": "bad", "completed_at": secret}])
    result = parse_progress_page(page(bad), now=NOW)
    kept = result.offers[0]
    assert kept.degraded == ("events.1.completed_at",)
    assert [s.name for s in kept.steps] == ["ok", "bad"]
    assert kept.steps[1].completed_at is None
    assert secret not in repr(result)


def test_offer_without_name_shows_a_label_with_its_id() -> None:
    result = parse_progress_page(page(offer(name="   "), offer(offer_id=7, name=None)), now=NOW)
    assert [o.name for o in result.offers] == ["Offer 51001", "Offer 7"]
    assert not any(o.name_given for o in result.offers)
    assert not result.skipped


def test_offer_without_id_is_skipped_without_an_id() -> None:
    result = parse_progress_page(page(offer(offer_id=None, name="   ")), now=NOW)
    skipped = result.skipped[0]
    assert skipped.offer_id is None
    assert skipped.field_paths == ("offers.0.offer_id",)


@pytest.mark.parametrize("item", ["a string", 42, None, [1, 2], True])
def test_non_object_offer_is_skipped(item: object) -> None:
    result = parse_progress_page(page(item, offer()), now=NOW)
    assert [s.field_paths for s in result.skipped] == [("offers.0",)]
    assert len(result.offers) == 1


@pytest.mark.parametrize("value", [-1, True, "abc", 2**64, 1.5])
def test_unusable_offer_id_skips_the_offer(value: object) -> None:
    result = parse_progress_page(page(offer(offer_id=value)), now=NOW)
    assert not result.offers
    assert result.skipped[0].field_paths == ("offers.0.offer_id",)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_user_reward", -5),
        ("total_user_reward", "NaN"),
        ("total_user_reward", 1e300),
        ("total_user_reward", True),
        ("in_progress", "maybe"),
        ("reward_status", "paid"),
        ("name", {"en": "x"}),
        ("events", "not a list"),
        ("started_at", "not a date"),
    ],
)
def test_wrong_typed_field_is_left_out_of_the_offer(field: str, value: object) -> None:
    raw = offer()
    raw[field] = value
    result = parse_progress_page(page(raw), now=NOW)
    assert not result.skipped
    assert result.offers[0].degraded == (field,)


def test_too_many_steps_leaves_the_steps_out() -> None:
    steps = [{"name": f"s{i}"} for i in range(MAX_STEPS_PER_OFFER + 1)]
    result = parse_progress_page(page(offer(events=steps)), now=NOW)
    assert not result.skipped
    assert result.offers[0].steps == ()
    assert result.offers[0].degraded == ("events",)


def test_null_events_mean_no_steps() -> None:
    assert parse_offer(offer(events=None)).steps == ()
    raw = offer()
    raw["events"] = None
    assert parse_offer(raw).steps == ()


def test_long_text_is_cut_with_an_ellipsis() -> None:
    result = parse_offer(offer(name="N" * 10_000, description="D" * 100_000))
    assert len(result.name) == MAX_NAME_LENGTH
    assert result.name.endswith("\u2026")
    assert result.description is not None
    assert len(result.description) == MAX_LONG_TEXT_LENGTH


def test_control_and_bidi_characters_are_removed_from_text() -> None:
    result = parse_offer(offer(name="Fr\u202eee\x00 coins\u200b", description="a\nb"))
    assert result.name == "Free coins"
    assert result.description == "a\nb"


def test_flags_accept_common_spellings() -> None:
    result = parse_offer(offer(in_progress=1, user_completed="true"))
    assert (result.in_progress, result.user_completed) == (True, True)
    raw = offer()
    raw["in_progress"] = None
    assert parse_offer(raw).in_progress is False


@pytest.mark.parametrize(
    ("payload", "paths"),
    [
        ([], ("payload",)),
        ("nope", ("payload",)),
        (None, ("payload",)),
        ({"status": "error", "total": 0, "offers": []}, ("status",)),
        ({"total": 0, "offers": []}, ("status",)),
        ({"status": "success", "offers": []}, ("total",)),
        ({"status": "success", "total": -1, "offers": []}, ("total",)),
        ({"status": "success", "total": "many", "offers": []}, ("total",)),
        ({"status": "success", "total": 1, "offers": {"a": 1}}, ("offers",)),
        ({"status": "success", "total": 1}, ("offers",)),
        ({"status": "success", "total": 0, "offers": [], "offset": -3}, ("offset",)),
        ({"status": "success", "total": 0, "offers": [], "support_id": [1]}, ("support_id",)),
        ({"status": 1, "total": None, "offers": None}, ("offers", "status", "total")),
    ],
)
def test_bad_envelope_is_refused_with_paths(payload: object, paths: tuple[str, ...]) -> None:
    with pytest.raises(BadPayloadError) as caught:
        parse_progress_page(payload, now=NOW)
    assert caught.value.field_paths == paths
    for path in paths:
        assert path in str(caught.value)


def test_bad_envelope_error_carries_support_id_but_no_values() -> None:
    payload = {"status": "success", "total": "SECRET-TOTAL", "offers": [], "support_id": 91}
    with pytest.raises(BadPayloadError) as caught:
        parse_progress_page(payload, now=NOW)
    assert caught.value.reference == "91"
    assert "SECRET-TOTAL" not in str(caught.value)


def test_too_many_offers_is_refused() -> None:
    payload = page(*([{}] * (MAX_OFFERS_PER_PAGE + 1)))
    with pytest.raises(BadPayloadError) as caught:
        parse_progress_page(payload, now=NOW)
    assert caught.value.field_paths == ("offers",)


def test_parsing_does_not_change_the_input() -> None:
    payload = page(offer(offer_id=None, cid=5), offer(events=[{"id": 1, "payout": 2}]))
    before = copy.deepcopy(payload)
    parse_progress_page(payload, now=NOW)
    assert payload == before


def test_now_defaults_to_the_current_time() -> None:
    before = datetime.now(UTC)
    result = parse_progress_page(page(offer()))
    assert before <= result.offers[0].as_of <= datetime.now(UTC)


# -- reading a long history in two steps: summary fields, then the rest when shown -----------------


def test_completing_summaries_gives_the_full_reading_bad_fields_included() -> None:
    raws = [
        offer(offer_id=1),
        # A bad summary field (updated_at) and a bad detail field (image_url): both are left
        # out, and both are named, whichever read found them.
        offer(offer_id=2, updated_at="not a time", image_url="javascript:alert(1)"),
        offer(offer_id=3, name=None, reward_status=4, completed_at="2026-11-01T00:00:00Z"),
        offer(offer_id=4, events=[{"event_id": 1, "name": "Go", "payout": 0.4}], payout=1.5),
    ]
    full = parse_progress_page(page(*raws), now=NOW).offers
    light = parse_progress_page(page(*raws), now=NOW, only=SUMMARY_FIELDS).offers
    assert not any(o.complete for o in light)
    assert all(o.steps == () for o in light)
    completed = complete_offers(light)
    assert completed == full
    assert all(o.complete and o.source is None for o in completed)
    assert completed[1].degraded == ("image_url", "updated_at")
    assert completed[2].name == "Offer 3"
    assert completed[3].steps[0].payout == Decimal("0.4")


def test_completing_keeps_the_moment_each_offer_was_read_against() -> None:
    earlier = parse_progress_page(page(offer(offer_id=1)), now=NOW, only=SUMMARY_FIELDS)
    later_now = NOW + timedelta(days=40)
    later = parse_progress_page(page(offer(offer_id=2)), now=later_now, only=SUMMARY_FIELDS)
    first, second = complete_offers((*earlier.offers, *later.offers))
    assert (first.as_of, second.as_of) == (NOW, later_now)


def test_complete_offers_leaves_complete_offers_alone() -> None:
    full = parse_progress_page(page(offer()), now=NOW).offers
    assert complete_offers(full)[0] is full[0]


def test_step_facts_decide_a_status_3_offer_without_reading_the_steps_words() -> None:
    raw = offer(
        reward_status=3,
        events=[{"event_id": 7, "name": "Deposit", "status": "expired", "reason": "Too late"}],
    )
    light = parse_progress_page(page(raw), now=NOW, only=SUMMARY_FIELDS).offers
    assert light[0].state is OfferState.REVERSED_OR_EXPIRED
    assert not light[0].summary_without_steps
    [decided] = read_step_facts(light)
    assert decided.state is OfferState.EXPIRED
    assert not decided.complete
    assert decided.steps[0].status is StepStatus.EXPIRED
    assert (decided.steps[0].name, decided.steps[0].reason) == ("", None)
    [shown] = complete_offers((decided,))
    assert shown == parse_offer(raw, now=NOW)


def test_offers_sharing_an_id_are_each_completed_from_their_own_summary() -> None:
    # Offer ids are catalogue ids: two members' histories hold the same offer.
    mine = offer(offer_id=9, name="Mine", reward_status=2, total_user_reward=10)
    theirs = offer(offer_id=9, name="Theirs", reward_status=4, total_user_reward=20)
    light = parse_progress_page(page(mine, theirs), now=NOW, only=SUMMARY_FIELDS).offers
    first, second = complete_offers(light)
    assert (first.name, first.status, first.total_reward) == ("Mine", RewardStatus.CREDITED, 10)
    assert (second.name, second.status, second.total_reward) == ("Theirs", RewardStatus.PENDING, 20)
    assert first == parse_offer(mine, now=NOW)
    assert second == parse_offer(theirs, now=NOW)
