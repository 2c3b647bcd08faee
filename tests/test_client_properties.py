"""Properties of parsing and requesting, checked over many generated inputs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revu_widgets.client import RevUClient
from revu_widgets.errors import BadPayloadError, InvalidRequestError
from revu_widgets.models import ProgressPage
from revu_widgets.schemas import parse_progress_page

pytestmark = pytest.mark.slow

NOW = datetime(2026, 12, 1, tzinfo=UTC)
KEY = "KEYabcdefghij1234567"
BASE = "https://publishers.example.com"

fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)

OFFER_KEYS = [
    "offer_id", "cid", "id", "name", "headline", "description", "requirements", "terms",
    "extra_terms", "category", "image_url", "click_url", "reward_status", "in_progress",
    "user_completed", "total_user_reward", "currency_award", "reporting", "started_at",
    "updated_at", "completed_at", "credited_at", "expires_at", "reason", "events",
]  # fmt: skip
EVENT_KEYS = [
    "event_id", "id", "name", "user_reward", "payout", "status", "completed_at",
    "credited_at", "reversed_at", "reason",
]  # fmt: skip

hostile_events = st.lists(
    st.dictionaries(st.sampled_from(EVENT_KEYS), json_values, max_size=6) | json_values,
    max_size=4,
)
hostile_offers = st.dictionaries(
    st.sampled_from(OFFER_KEYS), json_values | hostile_events, max_size=12
)
envelopes = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["success", "error"]) | json_values,
        "total": st.integers(min_value=-2, max_value=10**6) | json_values,
        "offers": st.lists(hostile_offers | json_values, max_size=6),
    },
    optional={
        "offset": json_values,
        "limit": json_values,
        "support_id": json_values,
        "publisher_id": json_values,
        "wall_id": json_values,
    },
)


def parse_or_refuse(payload: object) -> ProgressPage | None:
    """The page, or None when refused; a refusal always names where it failed."""
    try:
        return parse_progress_page(payload, now=NOW)
    except BadPayloadError as error:
        refused = error
    assert refused.field_paths
    return None


@fast
@given(json_values)
def test_any_json_gives_a_page_or_a_bad_payload(payload: object) -> None:
    parse_or_refuse(payload)


@fast
@given(envelopes)
def test_any_envelope_shaped_json_gives_a_page_or_a_bad_payload(payload: dict[str, Any]) -> None:
    page = parse_or_refuse(payload)
    if page is not None:
        assert len(page.offers) + len(page.skipped) == len(payload["offers"])
        for offer in page.offers:
            assert offer.image_url is None or offer.image_url.lower().startswith("http")
            assert offer.click_url is None or offer.click_url.lower().startswith("http")


status_words = st.sampled_from(
    ["", "credited", "Completed", "pending credit", "revoked", "expired", "In Progress", "odd"]
)
timestamps = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=4_000_000_000),
    st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat().replace("+00:00", "Z")),
)
rewards = st.integers(min_value=0, max_value=10**9) | st.decimals(
    min_value=0, max_value=10**6, places=2
).map(str)
events = st.fixed_dictionaries(
    {
        "event_id": st.integers(min_value=0, max_value=10**6),
        "name": st.text(min_size=1, max_size=20).filter(str.strip),
        "user_reward": rewards,
        "status": status_words,
        "completed_at": timestamps,
    }
)


# Letters and digits drawn as such (filtering arbitrary text for them rejects most draws), with
# the blanks around them that the parser strips.
names = st.builds(
    "{}{}{}".format,
    st.sampled_from(["", " ", "\t", "  "]),
    st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=36).filter(
        str.isalnum
    ),
    st.sampled_from(["", " ", "\n"]),
)


@st.composite
def valid_offers(draw: st.DrawFn, offer_id: int) -> dict[str, Any]:
    id_key = draw(st.sampled_from(["offer_id", "cid", "id"]))
    return {
        id_key: draw(st.sampled_from([offer_id, str(offer_id)])),
        "name": draw(names),
        "reward_status": draw(st.integers(min_value=1, max_value=4)),
        "total_user_reward": draw(rewards),
        "in_progress": draw(st.booleans()),
        "image_url": draw(st.sampled_from(["https://cdn.example.com/a.png", "javascript:x"])),
        "started_at": draw(timestamps),
        "events": draw(st.lists(events, max_size=6)),
    }


@st.composite
def valid_pages(draw: st.DrawFn, min_size: int = 0) -> list[dict[str, Any]]:
    ids = draw(
        st.lists(
            st.integers(min_value=0, max_value=2**40), unique=True, min_size=min_size, max_size=8
        )
    )
    return [draw(valid_offers(offer_id)) for offer_id in ids]


def envelope(offers: list[Any]) -> dict[str, Any]:
    return {"status": "success", "total": len(offers), "offers": offers}


def reward_of(raw: dict[str, Any]) -> Decimal:
    return Decimal(str(raw["total_user_reward"]))


@fast
@given(valid_pages())
def test_valid_offers_keep_ids_rewards_and_step_counts(raw_offers: list[dict[str, Any]]) -> None:
    page = parse_progress_page(envelope(raw_offers), now=NOW)
    assert page.skipped == ()
    assert len(page.offers) == len(raw_offers)
    for raw, offer in zip(raw_offers, page.offers, strict=True):
        raw_id = next(raw[k] for k in ("offer_id", "cid", "id") if k in raw)
        assert offer.offer_id == int(raw_id)
        assert offer.total_reward == reward_of(raw)
        assert offer.steps_total == len(raw["events"])
        assert [s.reward for s in offer.steps] == [
            Decimal(str(e["user_reward"])) for e in raw["events"]
        ]
        assert offer.name == raw["name"].strip()


corruptions = st.sampled_from(
    [
        ("total_user_reward", "a lot"),
        ("events", "see website"),
        ("started_at", "the other day"),
        ("reward_status", [1]),
        ("in_progress", "perhaps"),
    ]
)
unusable = st.sampled_from([("offer_id", "x"), ("offer_id", -3), (None, None)])


@fast
@given(valid_pages(min_size=1), st.data())
def test_corrupting_one_offer_affects_only_that_offer(
    raw_offers: list[dict[str, Any]], data: st.DataObject
) -> None:
    clean = parse_progress_page(envelope(raw_offers), now=NOW)
    k = data.draw(st.integers(min_value=0, max_value=len(raw_offers) - 1))
    field, value = data.draw(corruptions)
    corrupted: list[Any] = list(raw_offers)
    corrupted[k] = {**raw_offers[k], field: value}
    page = parse_progress_page(envelope(corrupted), now=NOW)
    # A bad field is left out of its own offer; every other offer is untouched.
    assert not page.skipped
    assert field in page.offers[k].degraded
    assert set(page.offers[k].degraded) - {field} == set(clean.offers[k].degraded)
    assert page.offers[k].offer_id == clean.offers[k].offer_id
    assert page.offers[:k] + page.offers[k + 1 :] == clean.offers[:k] + clean.offers[k + 1 :]


@fast
@given(valid_pages(min_size=1), st.data())
def test_an_offer_without_usable_id_is_the_only_one_skipped(
    raw_offers: list[dict[str, Any]], data: st.DataObject
) -> None:
    clean = parse_progress_page(envelope(raw_offers), now=NOW)
    k = data.draw(st.integers(min_value=0, max_value=len(raw_offers) - 1))
    field, value = data.draw(unusable)
    corrupted: list[Any] = list(raw_offers)
    corrupted[k] = {**raw_offers[k], field: value} if field else "not an offer"
    page = parse_progress_page(envelope(corrupted), now=NOW)
    assert [s.index for s in page.skipped] == [k]
    assert all(path.startswith(f"offers.{k}") for path in page.skipped[0].field_paths)
    assert page.offers == clean.offers[:k] + clean.offers[k + 1 :]


def has_dot_segment(user_id: str) -> bool:
    """Whether a hop that decodes ``%2F`` and resolves dot segments would climb out of the id."""
    parts = re.split(r"/|\\|%2f|%5c", user_id, flags=re.IGNORECASE)
    return any(unquote(part) in (".", "..") for part in parts)


user_ids = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=60
).filter(lambda s: s.strip() and not has_dot_segment(s))


@fast
@given(user_ids)
def test_any_printable_ascii_user_id_is_exactly_one_path_segment(user_id: str) -> None:
    client = RevUClient(KEY, base_url=BASE)
    with responses.RequestsMock() as upstream:
        upstream.get(re.compile(re.escape(BASE) + "/.*"), json=envelope([]))
        client.get_progress(user_id)
        url = upstream.calls[0].request.url or ""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    assert segments[:4] == ["", "api", "v1", "users"]
    assert segments[5:] == ["getprogress"]
    assert unquote(segments[4]) == user_id
    assert parts.fragment == ""


@fast
@given(
    st.lists(st.text(alphabet="ab.%2eEfF5cC", max_size=4), min_size=1, max_size=4).map(
        lambda parts: [*parts, ".."]
    ),
    st.sampled_from(["/", "\\", "%2F", "%2f", "%5C"]),
    st.randoms(use_true_random=False),
)
def test_user_ids_with_a_dot_segment_are_refused(
    parts: list[str], separator: str, rng: Any
) -> None:
    rng.shuffle(parts)
    user_id = separator.join(parts)
    assert has_dot_segment(user_id)
    with pytest.raises(InvalidRequestError, match="path segment"):
        RevUClient(KEY, base_url=BASE).get_progress(user_id)


@fast
@given(st.text(min_size=1, max_size=5).filter(lambda s: not (s.isascii() and s.isprintable())))
def test_non_printable_or_non_ascii_user_ids_are_refused(user_id: str) -> None:
    client = RevUClient(KEY, base_url=BASE)
    try:
        client.get_progress(user_id)
    except InvalidRequestError:
        return
    raise AssertionError("the user id was accepted")
