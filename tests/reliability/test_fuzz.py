"""Fuzzing: generated upstream payloads and query strings never break a page.

* whole payloads through the parse function and everything the pages and JSON routes compute
  from its models (thousands of examples, in process);
* a smaller number of whole payloads served by the fake RevU and read through every page;
* generated query strings and path segments on every route, in process, with the fake RevU
  on loopback behind the kit.

Every answer is one of the documented statuses; none is a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revu_widgets import presentation
from revu_widgets.errors import BadPayloadError
from revu_widgets.fake import FakeRevU, serve_in_thread
from revu_widgets.models import ProgressSummary
from revu_widgets.schemas import parse_progress_page
from revu_widgets.support import support_offer_as_json

from .hosts import SECRET_API_KEY, SUPPORT_TOKEN, build_host, signed_in
from .html_audit import audit, csp_nonce

pytestmark = pytest.mark.slow

#: Statuses the kit documents for its pages and JSON routes.
DOCUMENTED = frozenset({200, 400, 401, 403, 404, 429, 502, 503, 504})
NOW = datetime(2026, 12, 1, tzinfo=UTC)
MEMBER = "fuzz-1"

# Each test's examples share one app and fake; the key watch (function-scoped, autouse)
# deliberately spans all of a test's examples.
many = settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
some = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
routes_budget = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- payloads ------------------------------------------------------------------------------

weird_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40
) | st.sampled_from(
    ["<script>alert(1)</script>", "{{7*7}}", "\u202e", "", " ", "null", "NaN", "1e999", "-0"]
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | weird_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(weird_text, inner, max_size=3),
    max_leaves=12,
)
timestamps = (
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | weird_text
    | st.none()
)
amounts = (
    st.integers(min_value=-(10**15), max_value=10**15)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=False, allow_infinity=False).map(str)
    | weird_text
    | st.none()
)
status_words = (
    st.sampled_from(
        ["", "completed", "Completed", "Revoked", "pending", "credited", "expired", "in progress"]
    )
    | weird_text
)
urls = (
    st.sampled_from(
        ["https://x.example/a.png", "javascript:alert(1)", "data:,x", "//x.example", "http://[::1"]
    )
    | weird_text
)

events = st.fixed_dictionaries(
    {},
    optional={
        "event_id": json_scalars,
        "name": weird_text | json_values,
        "user_reward": amounts,
        "payout": amounts,
        "status": status_words | json_values,
        "completed_at": timestamps,
        "credited_at": timestamps,
        "reversed_at": timestamps,
        "reason": weird_text,
    },
)
offers = st.fixed_dictionaries(
    {
        "offer_id": st.integers(min_value=-5, max_value=2**64) | json_scalars,
        "name": weird_text | json_values,
    },
    optional={
        "reward_status": st.integers(min_value=-1, max_value=6) | json_scalars,
        "headline": weird_text,
        "description": weird_text,
        "requirements": weird_text,
        "terms": weird_text,
        "category": weird_text | json_values,
        "image_url": urls,
        "click_url": urls,
        "in_progress": json_scalars,
        "user_completed": json_scalars,
        "total_user_reward": amounts,
        "reporting": st.sampled_from(["up to 30 days", "instant", "2 weeks", "72 hours"])
        | weird_text,
        "started_at": timestamps,
        "updated_at": timestamps,
        "completed_at": timestamps,
        "credited_at": timestamps,
        "expires_at": timestamps,
        "reason": weird_text,
        "events": st.lists(events | json_values, max_size=5) | json_values,
    },
)
offer_lists = st.lists(offers | json_values, max_size=6)
envelopes = st.fixed_dictionaries(
    {"status": st.sampled_from(["success", "SUCCESS ", "error"]) | json_scalars},
    optional={
        "total": st.integers(min_value=-1, max_value=10**6) | json_scalars,
        "offers": offer_lists | json_values,
        "offset": json_scalars,
        "limit": json_scalars,
        "support_id": json_scalars,
    },
)
payloads = envelopes | json_values


@pytest.fixture(scope="module")
def fuzz_upstream() -> Iterator[tuple[str, FakeRevU]]:
    fake = FakeRevU(api_key=SECRET_API_KEY)
    with serve_in_thread(fake) as server:
        yield server.url, fake
        fake.release()


@pytest.fixture(scope="module")
def fuzz_host(fuzz_upstream: tuple[str, FakeRevU]) -> tuple[Flask, FakeRevU]:
    url, fake = fuzz_upstream
    return build_host(url, REVU_PAGE_SIZE=500, REVU_MAX_RETRIES=0), fake


@pytest.fixture(scope="module")
def reading_host(fuzz_upstream: tuple[str, FakeRevU]) -> tuple[Flask, FakeRevU]:
    """The same host, reusing a member's snapshot: the query fuzzers never change the fake, so
    each example need not read the same history from it again."""
    url, fake = fuzz_upstream
    return build_host(url, REVU_PAGE_SIZE=500, REVU_MAX_RETRIES=0, REVU_CACHE_SECONDS=3600), fake


@many
@given(payloads)
def test_any_payload_parses_or_is_refused_and_every_model_presents(
    fuzz_host: tuple[Flask, FakeRevU], payload: Any
) -> None:
    app, _ = fuzz_host
    try:
        page = parse_progress_page(payload, now=NOW)
    except BadPayloadError:
        # Refused as a whole: the pages answer 502 with a reference (see the fault matrix).
        return
    with app.test_request_context("/rewards/"):
        summary = ProgressSummary.from_offers(page.offers)
        json.dumps(presentation.totals_as_json(summary), allow_nan=False)
        for offer in page.offers:
            json.dumps(presentation.offer_as_json(offer), allow_nan=False)
            json.dumps(support_offer_as_json(offer), allow_nan=False)
            presentation.claim_details(offer, user_id=MEMBER, support_id=page.support_id)
            presentation.status_label(offer)
            presentation.next_action(offer)
            for step in offer.steps:
                presentation.status_label(step)


@some
@given(offer_lists)
def test_any_offers_served_by_the_fake_give_documented_answers_on_every_page(
    fuzz_host: tuple[Flask, FakeRevU], raw_offers: list[Any]
) -> None:
    app, fake = fuzz_host
    fake.set_offers(MEMBER, raw_offers)
    member = signed_in(app, MEMBER)
    urls = ["/rewards/", "/rewards/api/progress", f"/rewards/support/users/{MEMBER}"]
    urls += [
        f"/rewards/offers/{o['offer_id']}"
        for o in raw_offers[:3]
        if isinstance(o, dict) and isinstance(o.get("offer_id"), int) and o["offer_id"] >= 0
    ]
    staff = signed_in(app, "staff-1")
    for url in urls:
        response = (staff if "/support/" in url else member).get(url)
        assert response.status_code in DOCUMENTED, (url, response.status_code)
        if response.mimetype == "text/html":
            nonce = csp_nonce(response.headers.get("Content-Security-Policy", ""))
            assert not audit(response.get_data(as_text=True), nonce).problems, url


# --- query strings and paths ---------------------------------------------------------------

param_names = st.sampled_from(
    ["status", "page", "user_id", "offer_id", "limit", "offset", "next", "api_key", "format"]
) | st.text(max_size=8)
param_values = (
    st.sampled_from(["all", "pending", "credited", "reversed", "in_progress", "0", "-1", "2"])
    | st.integers(min_value=-(10**30), max_value=10**30).map(str)
    | st.text(max_size=30)
)
raw_queries = st.lists(st.tuples(param_names, param_values), max_size=5).map(
    lambda pairs: "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
) | st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#"),
    max_size=60,
)

ROUTES = [
    "/rewards/",
    "/rewards/offers/{offer_id}",
    "/rewards/api/progress",
    "/rewards/api/offers/{offer_id}",
    "/rewards/support/",
    "/rewards/support/users/{member}",
    "/rewards/support/api/users/{member}",
]


@pytest.mark.parametrize("route", ROUTES)
@routes_budget
@given(query=raw_queries)
def test_any_query_string_gives_a_documented_status(
    reading_host: tuple[Flask, FakeRevU], route: str, query: str
) -> None:
    app, fake = reading_host
    offer_id = int(fake.offers_for("alex-1")[0]["offer_id"])
    client = signed_in(app, "staff-1" if "/support/" in route else "alex-1")
    headers = {"Authorization": f"Bearer {SUPPORT_TOKEN}"} if "/support/api/" in route else {}
    url = route.format(offer_id=offer_id, member="alex-1") + "?" + query
    response = client.get(url, headers=headers)
    allowed = DOCUMENTED | ({303} if route == "/rewards/support/" else set())
    assert response.status_code in allowed, (url, response.status_code)


path_segments = st.text(max_size=40) | st.integers(min_value=-(10**25), max_value=10**25).map(str)


@routes_budget
@given(segment=path_segments)
def test_any_offer_or_member_segment_gives_a_documented_status(
    reading_host: tuple[Flask, FakeRevU], segment: str
) -> None:
    app, _ = reading_host
    staff = signed_in(app, "staff-1")
    encoded = quote(segment, safe="")
    for url in (
        f"/rewards/offers/{encoded}",
        f"/rewards/api/offers/{encoded}",
        f"/rewards/support/users/{encoded}",
    ):
        response = staff.get(url)
        assert response.status_code in DOCUMENTED, (url, response.status_code)
