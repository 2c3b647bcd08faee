"""The schema fields' limits, each exactly at the limit and one past it (``schemas/fields.py``).

Upstream data is hostile; every bound below is where a value stops being read. A bound that
moved by one (``<`` for ``<=``), a limit of the wrong size or a changed message fails here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import Schema, ValidationError

from revu_widgets.models import RewardStatus, StepStatus
from revu_widgets.schemas import fields as f


def refused(field: Any, value: object) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        field.deserialize(value)
    messages: list[str] = caught.value.messages  # type: ignore[assignment]
    return messages


# -- text ---------------------------------------------------------------------------------------


def test_text_at_its_limit_is_kept_and_one_more_is_cut_with_an_ellipsis() -> None:
    text = f.Text(max_length=5)
    assert text.deserialize("abcde") == "abcde"
    assert text.deserialize("abcdef") == "abcd\u2026"
    # The cut drops spaces left at its end, never at its start.
    assert text.deserialize("ab  def") == "ab\u2026"
    assert text.deserialize(" abcde ") == "abcde"


def test_text_reads_numbers_as_their_digits_but_not_booleans() -> None:
    text = f.Text(max_length=3)
    assert text.deserialize(12) == "12"
    assert text.deserialize(1.5) == "1.5"
    assert text.deserialize(12345) == "12\u2026"
    assert refused(text, True) == ["Not a text value."]


def test_control_characters_are_removed_from_otherwise_printable_text() -> None:
    text = f.Text(max_length=50)
    assert text.deserialize("\x1b[2JOffer") == "[2JOffer"
    assert text.deserialize("caf\u00e9\x07") == "caf\u00e9"
    assert text.deserialize("\u200b\u202e") is None


# -- links ----------------------------------------------------------------------------------------


def test_url_length_limit_is_exact() -> None:
    base = "https://a.example/"
    assert f.is_safe_url(base + "x" * (f.MAX_URL_LENGTH - len(base)))
    assert not f.is_safe_url(base + "x" * (f.MAX_URL_LENGTH - len(base) + 1))
    assert not f.is_safe_url("")


def test_url_port_limit_is_exact() -> None:
    assert f.is_safe_url("https://a.example:65535/")
    assert not f.is_safe_url("https://a.example:65536/")
    assert f.is_safe_url("http://a.example:80/x")


@pytest.mark.parametrize(
    "url",
    [
        "HTTP://A.EXAMPLE/x",
        "HTTPS://A.EXAMPLE/x",
        "http://a.example/x",
        # Not the plain form (a character the fast path does not take), still a safe URL.
        "https://a_b.example/x",
        "http://a_b.example/x",
    ],
)
def test_http_and_https_urls_in_any_case_are_safe(url: str) -> None:
    assert f.is_safe_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://a.example/a\\b",
        "https://a_b.example/\\",
        "https://a_b.example:99999/",
        "https://user@a_b.example/",
        "ftp://a_b.example/",
        "httpx://a_b.example/",
    ],
)
def test_unsafe_urls_are_refused(url: str) -> None:
    assert not f.is_safe_url(url)


# -- ids, counts, flags, amounts ------------------------------------------------------------------


def test_offer_ids_from_zero_to_the_largest_signed_64_bit_number() -> None:
    offer_id = f.OfferId()
    assert offer_id.deserialize(0) == 0
    assert offer_id.deserialize(2**63 - 1) == 2**63 - 1
    assert offer_id.deserialize(str(2**63 - 1)) == 2**63 - 1
    assert offer_id.deserialize("0" * 19) == 0
    assert refused(offer_id, 2**63) == ["Not a valid offer id."]
    assert refused(offer_id, "1" + "0" * 19) == ["Not a valid offer id."]
    assert refused(offer_id, -1) == ["Not a valid offer id."]


def test_counts_from_zero_to_a_billion() -> None:
    count = f.Count()
    assert count.deserialize(0) == 0
    assert count.deserialize(10**9) == 10**9
    assert count.deserialize("1000000000") == 10**9
    assert count.deserialize("0000000001") == 1
    assert count.deserialize(3.0) == 3
    assert refused(count, 10**9 + 1) == ["Not a valid count."]
    assert refused(count, "00000000001") == ["Not a valid count."]
    assert refused(count, 2.5) == ["Not a valid count."]
    assert refused(count, "x") == ["Not a valid count."]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False), (" Yes ", True), ("no", False)],
)
def test_flags(value: object, expected: bool) -> None:
    assert f.Flag().deserialize(value) is expected


@pytest.mark.parametrize("value", [2, -1, "maybe", 1.0])
def test_other_flags_are_refused(value: object) -> None:
    assert refused(f.Flag(), value) == ["Not a valid flag."]


def test_a_missing_flag_is_false() -> None:
    assert f.Flag().load_default is False


def test_amounts_from_zero_to_just_under_the_limit() -> None:
    amount = f.Amount()
    assert amount.deserialize(0) == 0
    assert amount.deserialize("0") == 0
    assert amount.deserialize(0.3) == Decimal("0.3")
    assert amount.deserialize(10**12 - 1) == f.MAX_REWARD - 1
    assert amount.deserialize(" ") is None
    assert amount.deserialize("1" + "0" * 11 + "." + "0" * 27) == Decimal(10) ** 11
    for bad in (10**12, -1, float("nan"), float("inf"), "1" * 41, "x", True):
        assert refused(amount, bad) == ["Not a valid amount."], bad


# -- times -----------------------------------------------------------------------------------------


def test_times_from_1970_up_to_but_not_including_2100() -> None:
    start = datetime(1970, 1, 1, tzinfo=UTC)
    end = datetime(2100, 1, 1, tzinfo=UTC)
    assert f.parse_timestamp(0) == start
    assert f.parse_timestamp("0") == start
    assert f.parse_timestamp("1970-01-01T00:00:00Z") == start
    assert f.parse_timestamp(end.timestamp() - 1) == datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)
    for bad in (-1, end.timestamp(), "2100-01-01T00:00:00Z", "1969-12-31T23:59:59Z"):
        with pytest.raises(ValueError, match=r"^timestamp out of range$"):
            f.parse_timestamp(bad)


def test_times_in_other_zones_are_read_as_utc() -> None:
    moment = f.parse_timestamp("2026-03-18T16:30:00+02:00")
    assert moment == datetime(2026, 3, 18, 14, 30, tzinfo=UTC)
    assert moment is not None
    assert moment.utcoffset() is not None
    assert moment.tzinfo is UTC
    naive = f.parse_timestamp("2026-03-18T14:30:00")
    assert naive is not None
    assert naive.tzinfo is UTC


def test_timestamp_text_length_limit_is_exact() -> None:
    assert f.parse_timestamp("2026-03-18T14:30:00.0000+00:00:00.000000") == datetime(
        2026, 3, 18, 14, 30, tzinfo=UTC
    )
    assert f.parse_timestamp("2026-03-18T14:30:00.000000+00:00") is not None
    with pytest.raises(ValueError, match=r"^timestamp too long$"):
        f.parse_timestamp("2" * 41)


@pytest.mark.parametrize(
    ("value", "message"),
    [("soon", "not an ISO 8601 timestamp"), ([], "not a timestamp"), (True, "not a timestamp")],
)
def test_timestamp_errors_say_what_was_wrong(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        f.parse_timestamp(value)


# -- status words ----------------------------------------------------------------------------


def test_reward_status_codes_up_to_nine_digits() -> None:
    status = f.RewardStatusField()
    assert status.deserialize(" 2 ") is RewardStatus.CREDITED
    assert status.deserialize("000000004") is RewardStatus.PENDING
    assert status.deserialize("999999999") is RewardStatus.UNKNOWN
    assert refused(status, "0000000004") == ["Not a valid reward status."]
    assert status.load_default is RewardStatus.UNKNOWN


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Pending-Credit", StepStatus.PENDING),
        ("in_progress", StepStatus.IN_PROGRESS),
        ("NOT  STARTED", StepStatus.NOT_STARTED),
        ("", StepStatus.NOT_STARTED),
        (None, StepStatus.NOT_STARTED),
        ("pending-creditx", StepStatus.UNKNOWN),
    ],
)
def test_step_status_words_ignore_case_spaces_and_separators(
    word: str | None, status: StepStatus
) -> None:
    assert f.step_status_from_word(word) is status


def test_step_status_field_reads_numbers_as_words_and_refuses_booleans() -> None:
    field = f.StepStatusField()
    assert field.deserialize("Credited") == (StepStatus.CREDITED, "Credited")
    assert field.deserialize(7)[0] is StepStatus.UNKNOWN
    assert field.deserialize(7)[1] == "7"
    assert refused(field, True) == ["Not a valid status word."]


def test_a_status_word_is_read_from_its_first_600_characters() -> None:
    # The first 600 characters are read, then cleaned: hostile padding costs no more than that.
    field = f.StepStatusField()
    assert field.deserialize("\x00" * 592 + "credited") == (StepStatus.CREDITED, "credited")
    assert field.deserialize("\x00" * 593 + "credited") == (StepStatus.UNKNOWN, "credite")


# -- labels ---------------------------------------------------------------------------------------


def test_numeric_labels_up_to_64_digits() -> None:
    label = f.Label()
    assert label.deserialize(10**64 - 1) == "9" * 64
    assert label.deserialize(-(10**64 - 1)) == "-" + "9" * 64
    assert label.deserialize(10**64) is None
    assert label.deserialize(-(10**64)) is None
    assert label.deserialize(" ab ") == "ab"
    assert refused(label, True) == ["Not a valid identifier."]


def test_offer_id_strings_up_to_19_digits() -> None:
    assert refused(f.OfferId(), "0" * 20) == ["Not a valid offer id."]


def test_amount_text_up_to_40_characters() -> None:
    amount = f.Amount()
    assert amount.deserialize(" " * 37 + "1.5") == Decimal("1.5")
    assert amount.deserialize("0." + "0" * 37 + "1") == Decimal("1e-38")
    assert refused(amount, " " * 38 + "1.5") == ["Not a valid amount."]
    assert refused(amount, "0." + "0" * 38 + "1") == ["Not a valid amount."]


# -- every field inside a schema ------------------------------------------------------------------

# (field class, its arguments, a raw value, what it reads)
FIELDS: list[tuple[Any, dict[str, Any], object, object]] = [
    (f.Text, {"max_length": 3}, "abc", "abc"),
    (f.HttpUrl, {}, "https://a.example/", "https://a.example/"),
    (f.Label, {}, 5, "5"),
    (f.Flag, {}, "yes", True),
    (f.Amount, {}, 1, Decimal(1)),
    (f.Timestamp, {}, 0, datetime(1970, 1, 1, tzinfo=UTC)),
    (f.RewardStatusField, {}, 2, RewardStatus.CREDITED),
    (f.StepStatusField, {}, "paid", (StepStatus.CREDITED, "paid")),
]


@pytest.mark.parametrize(("kind", "arguments", "raw", "read"), FIELDS)
def test_null_reads_as_nothing_and_marshmallow_options_are_kept(
    kind: Any, arguments: dict[str, Any], raw: object, read: object
) -> None:
    # RevU sends null for any field it has nothing for: never an error.
    schema = Schema.from_dict({"value": kind(data_key="upstream", **arguments)})()
    assert schema.load({"upstream": None}) == {"value": None}
    assert schema.load({"upstream": raw}) == {"value": read}


def test_what_a_missing_field_reads_as() -> None:
    schema = Schema.from_dict(
        {kind.__name__: kind(**arguments) for kind, arguments, _, _ in FIELDS}
    )
    assert schema().load({}) == {
        "Flag": False,
        "RewardStatusField": RewardStatus.UNKNOWN,
        "StepStatusField": (StepStatus.NOT_STARTED, ""),
    }


@pytest.fixture
def server_five_hours_behind_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A POSIX zone rule: no time zone database needed.
    monkeypatch.setenv("TZ", "EST5")
    time.tzset()
    assert time.timezone == 5 * 3600
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("server_five_hours_behind_utc")
def test_naive_times_are_utc_whatever_the_servers_zone() -> None:
    assert f.parse_timestamp("2026-03-18T14:30:00") == datetime(2026, 3, 18, 14, 30, tzinfo=UTC)
