"""The entry points of ``revu_widgets.schemas``, at their edges: what an operator reads in an
error, what a partly broken offer keeps, which upstream error codes are believed, and what the
second read of a long history reads again."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from marshmallow import ValidationError

from revu_widgets.errors import BadPayloadError
from revu_widgets.models import OfferState
from revu_widgets.schemas import (
    DOCUMENTED_VOCABULARY,
    SUMMARY_FIELDS,
    complete_offer,
    complete_offers,
    field_paths,
    parse_offer,
    parse_progress_page,
    raw_error_code,
    read_envelope,
    read_step_facts,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def answer(*offers: Any, **envelope: Any) -> dict[str, Any]:
    return {"status": "success", "total": len(offers), "offers": list(offers), **envelope}


# -- what an operator reads ----------------------------------------------------------------------


def test_a_bad_envelope_says_where_and_what_to_do() -> None:
    with pytest.raises(BadPayloadError) as caught:
        read_envelope({"status": "failed", "offers": None, "support_id": "req-9"})
    assert str(caught.value) == (
        "RevU's Get Progress answer did not have the expected shape (problem at: offers, "
        "status, total). Try again later; if it keeps happening, contact RevU support and "
        "quote the reference."
    )
    assert caught.value.reference == "req-9"


def test_an_offer_without_a_usable_id_is_refused_per_field() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_offer({"offer_id": -1, "name": {"not": "text"}}, now=NOW)
    assert caught.value.messages == {"name": ["Not usable."], "offer_id": ["Not usable."]}
    with pytest.raises(ValidationError) as caught:
        parse_offer(["not", "an", "offer"], now=NOW)
    assert caught.value.messages == {"payload": ["Not usable."]}


def test_field_paths_are_dotted_sorted_and_prefixed() -> None:
    error = ValidationError({"events": {1: {"name": ["x"], "_schema": ["y"]}}, "name": ["z"]})
    assert field_paths(error) == ("events.1", "events.1.name", "name")
    assert field_paths(error, "offers.3") == (
        "offers.3.events.1",
        "offers.3.events.1.name",
        "offers.3.name",
    )
    assert field_paths(ValidationError("not an object")) == ("payload",)
    assert field_paths(ValidationError("not an object"), "offers.2") == ("offers.2",)


# -- partly broken offers ------------------------------------------------------------------------


def test_a_step_that_is_not_an_object_is_left_out_with_the_rest_kept() -> None:
    raw = {
        "offer_id": 1,
        "name": {"not": "text"},
        "events": [
            {"event_id": 1, "name": "Install"},
            "not a step",
            {"event_id": 3, "name": "Level 5", "status": ["not", "a", "word"]},
        ],
    }
    offer = parse_offer(raw, now=NOW)
    assert offer.name == "Offer 1"
    assert [(s.step_id, s.name, s.status_label) for s in offer.steps] == [
        ("1", "Install", ""),
        ("3", "Level 5", ""),
    ]
    assert offer.degraded == ("events.1", "events.2.status", "name")


def test_a_skipped_offer_is_named_by_the_vocabulary_in_use() -> None:
    vocabulary = DOCUMENTED_VOCABULARY.extended(
        {"offer.offer_id": "oid", "envelope.total": "count"}
    )
    payload = {"status": "success", "count": 2, "offers": [{"oid": "x-1"}, {"oid": 5}]}
    page = parse_progress_page(payload, now=NOW, vocabulary=vocabulary)
    assert page.total == 2
    assert [o.offer_id for o in page.offers] == [5]
    [skipped] = page.skipped
    assert (skipped.index, skipped.offer_id, skipped.field_paths) == (
        0,
        "x-1",
        ("offers.0.offer_id",),
    )


def test_offset_and_limit_when_neither_the_envelope_nor_the_request_says() -> None:
    page = parse_progress_page(answer({"offer_id": 1}, {"offer_id": 2}), now=NOW)
    assert (page.offset, page.limit) == (0, 2)


def test_without_a_moment_offers_are_read_against_now_in_utc() -> None:
    before = datetime.now(UTC)
    offer = parse_offer(
        {
            "offer_id": 1,
            "reward_status": 4,
            "reporting": "24 hours",
            "completed_at": "2020-01-01T00:00:00Z",
        }
    )
    assert offer.as_of.tzinfo is UTC
    assert before <= offer.as_of <= datetime.now(UTC)
    assert offer.is_overdue


# -- upstream error codes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"code": "rate_limited"}, "RATE_LIMITED"),
        ({"error": {"code": " invalid_user "}}, "INVALID_USER"),
        ({"error": "A" * 64}, "A" * 64),
        ({"error": "A" * 65}, None),
        ({"code": "not a code!"}, None),
        ({"code": "  "}, None),
        ({"code": "caf\u00e9"}, None),
        ({"code": 5, "error": "BANNED"}, "BANNED"),
        (["CODE"], None),
    ],
)
def test_only_short_plain_error_codes_are_believed(payload: object, code: str | None) -> None:
    assert raw_error_code(payload) == code


# -- the second read of a long history -----------------------------------------------------------


def summary(*raws: dict[str, Any]) -> tuple[Any, ...]:
    return parse_progress_page(answer(*raws), now=NOW, only=SUMMARY_FIELDS).offers


def test_completing_a_mixed_list_reads_only_what_was_read_in_part() -> None:
    full = parse_offer({"offer_id": 1, "name": "Full"}, now=NOW)
    [light] = summary({"offer_id": 2, "name": "Light", "headline": "Read when shown"})
    first, second = complete_offers([full, light])
    assert first is full
    assert (second.name, second.headline, second.complete) == ("Light", "Read when shown", True)


def test_completing_reads_only_the_fields_the_summary_left_out() -> None:
    # The summary's fields are valid already: completing never reads them again, so the
    # name the member saw in the list is the name on the offer's page.
    [light] = summary({"offer_id": 2, "name": "As listed", "headline": "H"})
    assert light.source is not None
    changed = dataclasses.replace(light, source={**light.source, "name": "Changed"})
    [shown] = complete_offers([changed])
    assert (shown.name, shown.headline) == ("As listed", "H")


def test_step_facts_leave_the_offer_marked_incomplete() -> None:
    [light] = summary({"offer_id": 3, "reward_status": 3, "events": [{"status": "expired"}]})
    [decided] = read_step_facts([light])
    assert decided.state is OfferState.EXPIRED
    assert decided.complete is False
    assert decided.name == "Offer 3"


def test_completing_one_offer_reads_the_publishers_names() -> None:
    vocabulary = DOCUMENTED_VOCABULARY.extended({"offer.headline": "teaser"})
    payload = answer({"offer_id": 4, "name": "Quest", "teaser": "Reach level 5"})
    [light] = parse_progress_page(
        payload, now=NOW, only=SUMMARY_FIELDS, vocabulary=vocabulary
    ).offers
    shown = complete_offer(light, vocabulary)
    assert (shown.name, shown.headline, shown.complete) == ("Quest", "Reach level 5", True)
