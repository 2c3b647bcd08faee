"""The schemas' quick path validates exactly as marshmallow's own ``Schema.load`` does.

``OfferSchema().load(raw)`` reads each field with its marshmallow field directly (for speed on
large pages); ``load([raw], many=True)`` goes through marshmallow's generic machinery. Both must
accept, reject and build the same things for any input, hostile or valid.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from revu_widgets.schemas import _AS_OF, MAX_URL_LENGTH, OfferSchema, StepSchema, is_safe_url

from .test_client_properties import hostile_events, hostile_offers, valid_offers

pytestmark = pytest.mark.slow

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def both_ways(schema: OfferSchema | StepSchema, raw: Any) -> tuple[object, object]:
    token = _AS_OF.set(NOW)
    try:
        results = []
        for load in (lambda: schema.load(raw), lambda: schema.load([raw], many=True)[0]):
            try:
                results.append(("ok", load()))
            except ValidationError as error:
                messages = error.messages
                # many=True nests the messages under the item's index.
                if isinstance(messages, dict) and set(messages) == {0}:
                    messages = messages[0]
                results.append(("error", messages))
        return results[0], results[1]
    finally:
        _AS_OF.reset(token)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_offers | valid_offers(offer_id=51001))
def test_offer_quick_path_matches_marshmallow_load(raw: Any) -> None:
    quick, generic = both_ways(OfferSchema(), raw)
    assert quick == generic


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_events.flatmap(lambda events: st.sampled_from(events) if events else st.just({})))
def test_step_quick_path_matches_marshmallow_load(raw: Any) -> None:
    quick, generic = both_ways(StepSchema(), raw)
    assert quick == generic


def urlsplit_verdict(value: str) -> bool:
    """The URL rule written plainly, with urlsplit alone (what the quick regex must agree with)."""
    if not 0 < len(value) <= MAX_URL_LENGTH or not value.isprintable():
        return False
    if " " in value or "\\" in value or not value[:8].lower().startswith(("http://", "https://")):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a malformed port)
    except ValueError:
        return False
    return bool(parts.hostname) and "@" not in parts.netloc


url_like = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["http://", "https://", "HTTPS://", "javascript:", "ftp://", "//", ""]),
        st.sampled_from(["", "user@", "a:b@", "@"]),
        st.text(alphabet="abcXYZ019.-_[]:~%", max_size=12),
        st.sampled_from(["", ":", ":0", ":80", ":65535", ":65536", ":99999", ":x"]),
        st.sampled_from(["", "/", "/p?q=1#f", "?x", "#y", "/\\", "/ a"]),
    ),
)


@settings(max_examples=2000, deadline=None)
@given(url_like)
def test_quick_url_check_agrees_with_urlsplit(value: str) -> None:
    assert is_safe_url(value) is urlsplit_verdict(value)
