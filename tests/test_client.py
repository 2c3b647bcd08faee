"""RevUClient against a mocked transport: arguments, encoding, retries, errors, secrecy."""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

import revu_widgets.client as client_module
from revu_widgets.client import RevUClient
from revu_widgets.errors import (
    AuthenticationError,
    BadPayloadError,
    BannedError,
    ConfigurationError,
    ForbiddenError,
    InvalidRequestError,
    IpBannedError,
    RateLimitedError,
    RevUError,
    UpstreamBadRequestError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    UserBannedError,
)
from revu_widgets.models import OfferState, RewardStatus

KEY = "KEYabcdefghij1234567"
BASE = "https://publishers.example.com"
URL = f"{BASE}/api/v1/users/u-42/getprogress"


def raw_offer(offer_id: int, **fields: Any) -> dict[str, Any]:
    """A small valid raw offer."""
    return {
        "offer_id": offer_id,
        "name": f"Offer {offer_id}",
        "reward_status": 2,
        "total_user_reward": 100,
        "updated_at": 1_760_000_000 + offer_id,
        **fields,
    }


def body(*offers: Any, total: int | None = None, **envelope: Any) -> dict[str, Any]:
    """A Get Progress answer."""
    count = len(offers) if total is None else total
    return {"status": "success", "total": count, "offers": list(offers), **envelope}


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", recorded.append)
    return recorded


@pytest.fixture
def client() -> RevUClient:
    return RevUClient(KEY, base_url=BASE, max_retries=2)


def sent_query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


# -- construction -----------------------------------------------------------------------------


def test_repr_never_shows_the_key(client: RevUClient) -> None:
    assert KEY not in repr(client)
    assert BASE in repr(client)
    assert KEY not in repr(vars(client))


@pytest.mark.parametrize(
    "base_url",
    [
        "http://publishers.example.com",
        "ftp://publishers.example.com",
        "publishers.example.com",
        "https://",
        "https://user:pw@publishers.example.com",
        "https://publishers.example.com/?api_key=x",
        "http://10.0.0.1",
    ],
)
def test_non_https_or_odd_base_urls_are_refused(base_url: str) -> None:
    with pytest.raises(ConfigurationError, match="REVU_BASE_URL"):
        RevUClient(KEY, base_url=base_url)


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8080", "http://127.9.9.9", "http://[::1]:80", "http://localhost"]
)
def test_plain_http_is_allowed_to_loopback(base_url: str) -> None:
    assert RevUClient(KEY, base_url=base_url + "/").base_url == base_url


@pytest.mark.parametrize("key", ["", "   ", f"{KEY}\r\nX-Evil: 1", f" {KEY}", "kéy"])
def test_unusable_keys_are_refused_without_echoing_them(key: str) -> None:
    with pytest.raises(ConfigurationError, match="REVU_API_KEY") as caught:
        RevUClient(key, base_url=BASE)
    if key.strip():
        assert key.strip() not in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"timeout": 0}, "REVU_TIMEOUT"),
        ({"timeout": (1, -1)}, "REVU_TIMEOUT"),
        ({"timeout": "5"}, "REVU_TIMEOUT"),
        ({"max_retries": -1}, "REVU_MAX_RETRIES"),
        ({"deadline": 0}, "deadline"),
    ],
)
def test_bad_limits_are_configuration_errors(kwargs: dict[str, Any], word: str) -> None:
    with pytest.raises(ConfigurationError, match=word):
        RevUClient(KEY, base_url=BASE, **kwargs)


# -- requests ---------------------------------------------------------------------------------


def test_key_travels_only_in_the_header(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, json=body(raw_offer(1)))
    page = client.get_progress("u-42")
    request = upstream.calls[0].request
    assert request.headers["X-API-Key"] == KEY
    assert "Authorization" not in request.headers
    assert KEY not in (request.url or "")
    assert page.offers[0].offer_id == 1


def test_query_parameters_are_sent_normalised(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, json=body())
    client.get_progress(
        "u-42",
        limit=25,
        offset=50,
        offer_id=7,
        reward_status=RewardStatus.PENDING,
        sid3="sess-1",
        ip="203.0.113.7",
        country="de",
    )
    assert sent_query(upstream.calls[0]) == {
        "limit": ["25"],
        "offset": ["50"],
        "offer_id": ["7"],
        "reward_status": ["4"],
        "sid3": ["sess-1"],
        "ip": ["203.0.113.7"],
        "country": ["DE"],
    }


def test_reward_status_accepts_revu_codes(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, json=body())
    client.get_progress("u-42", reward_status=3)
    assert sent_query(upstream.calls[0])["reward_status"] == ["3"]


@pytest.mark.parametrize(
    ("user_id", "encoded"),
    [
        ("a/b", "a%2Fb"),
        ("a..b/c", "a..b%2Fc"),
        ("x?api_key=1", "x%3Fapi_key%3D1"),
        ("x#frag", "x%23frag"),
        ("a b", "a%20b"),
        ("%2e%2e.", "%252e%252e."),
        ("john.doe", "john.doe"),
        ("...", "..."),
        (12345, "12345"),
    ],
)
def test_hostile_user_ids_stay_one_path_segment(
    client: RevUClient, upstream: responses.RequestsMock, user_id: Any, encoded: str
) -> None:
    upstream.get(f"{BASE}/api/v1/users/{encoded}/getprogress", json=body())
    client.get_progress(user_id)
    url = upstream.calls[0].request.url or ""
    assert urlsplit(url).path == f"/api/v1/users/{encoded}/getprogress"
    assert urlsplit(url).fragment == ""
    assert "api_key" not in parse_qs(urlsplit(url).query)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"user_id": ""}, "user id"),
        ({"user_id": "."}, "user id"),
        ({"user_id": ".."}, "user id"),
        ({"user_id": "x/../victim"}, "user id"),
        ({"user_id": "x\\..\\victim"}, "user id"),
        ({"user_id": "x/%2e%2E/victim"}, "user id"),
        ({"user_id": "./x"}, "user id"),
        ({"user_id": "x/."}, "user id"),
        ({"user_id": " "}, "user id"),
        ({"user_id": "   "}, "user id"),
        ({"offer_id": 0}, "offer_id"),
        ({"offer_id": 2**63}, "offer_id"),
        ({"user_id": "José"}, "ASCII"),
        ({"user_id": "a\nb"}, "ASCII"),
        ({"user_id": "x" * 256}, "longer"),
        ({"user_id": None}, "user id"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offer_id": -4}, "offer_id"),
        ({"reward_status": 0}, "reward_status"),
        ({"reward_status": 5}, "reward_status"),
        ({"reward_status": RewardStatus.UNKNOWN}, "reward_status"),
        ({"ip": "1.2.3"}, "ip"),
        ({"ip": "::1"}, "ip"),
        ({"ip": "203.0.113.7/24"}, "ip"),
        ({"country": "USA"}, "country"),
        ({"country": "1A"}, "country"),
        ({"sid3": "a\tb"}, "sid3"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    client: RevUClient, upstream: responses.RequestsMock, kwargs: dict[str, Any], word: str
) -> None:
    args = {"user_id": "u-42", **kwargs}
    user_id = args.pop("user_id")
    with pytest.raises(InvalidRequestError, match=word):
        client.get_progress(user_id, **args)
    assert len(upstream.calls) == 0


def test_redirects_are_not_followed(client: RevUClient, upstream: responses.RequestsMock) -> None:
    upstream.get(URL, status=302, headers={"Location": "https://evil.example/steal"})
    upstream.get("https://evil.example/steal", json=body())
    with pytest.raises(UpstreamError, match="redirect"):
        client.get_progress("u-42")
    assert len(upstream.calls) == 1


# -- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_transient_statuses_are_retried_then_succeed(
    client: RevUClient, upstream: responses.RequestsMock, waits: list[float], status: int
) -> None:
    upstream.get(URL, status=status)
    upstream.get(URL, json=body(raw_offer(1)))
    page = client.get_progress("u-42")
    assert len(page.offers) == 1
    assert len(upstream.calls) == 2
    assert len(waits) == 1


def test_backoff_is_jittered_and_grows(
    client: RevUClient, upstream: responses.RequestsMock, waits: list[float]
) -> None:
    upstream.get(URL, status=503)
    with pytest.raises(UpstreamUnavailableError, match="503"):
        client.get_progress("u-42")
    assert len(upstream.calls) == 3
    assert 0 <= waits[0] <= 0.2
    assert 0 <= waits[1] <= 0.4


def test_connection_errors_are_retried(
    client: RevUClient, upstream: responses.RequestsMock, waits: list[float]
) -> None:
    upstream.get(URL, body=requests.ConnectionError("refused"))
    upstream.get(URL, json=body())
    assert client.get_progress("u-42").total == 0
    assert len(upstream.calls) == 2


def test_read_timeouts_are_retried_then_reported_as_timeouts(
    client: RevUClient, upstream: responses.RequestsMock, waits: list[float]
) -> None:
    upstream.get(URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(UpstreamTimeoutError):
        client.get_progress("u-42")
    assert len(upstream.calls) == 3


def test_server_error_500_is_not_retried(
    client: RevUClient, upstream: responses.RequestsMock, waits: list[float]
) -> None:
    upstream.get(URL, status=500, json={"support_id": "ref-500"})
    with pytest.raises(UpstreamUnavailableError) as caught:
        client.get_progress("u-42")
    assert len(upstream.calls) == 1
    assert caught.value.reference == "ref-500"


def test_zero_retries_means_one_attempt(
    upstream: responses.RequestsMock, waits: list[float]
) -> None:
    upstream.get(URL, status=503)
    with pytest.raises(UpstreamUnavailableError):
        RevUClient(KEY, base_url=BASE, max_retries=0).get_progress("u-42")
    assert len(upstream.calls) == 1


def test_short_retry_after_is_honoured(
    client: RevUClient, upstream: responses.RequestsMock, waits: list[float]
) -> None:
    upstream.get(URL, status=429, headers={"Retry-After": "1"})
    upstream.get(URL, json=body())
    client.get_progress("u-42")
    assert waits == [1.0]


def test_long_retry_after_fails_fast_with_the_wait(
    client: RevUClient, upstream: responses.RequestsMock, waits: list[float]
) -> None:
    upstream.get(URL, status=429, headers={"Retry-After": "120"}, json={"support_id": "r-9"})
    with pytest.raises(RateLimitedError) as caught:
        client.get_progress("u-42")
    assert caught.value.retry_after == 120
    assert caught.value.reference == "r-9"
    assert len(upstream.calls) == 1
    assert waits == []


def test_retry_after_as_http_date_is_understood(
    client: RevUClient, upstream: responses.RequestsMock, waits: list[float]
) -> None:
    upstream.get(URL, status=503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    with pytest.raises(UpstreamUnavailableError):
        client.get_progress("u-42")
    assert len(upstream.calls) == 1


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "1\u00b2", "\u2460"])
def test_a_retry_after_of_other_digits_is_ignored_not_a_crash(
    client: RevUClient, upstream: responses.RequestsMock, waits: list[float], value: str
) -> None:
    # str.isdigit() takes these, int() does not: the header must read as "no hint".
    upstream.get(URL, status=429, headers={"Retry-After": value})
    with pytest.raises(RateLimitedError) as caught:
        RevUClient(KEY, base_url=BASE, max_retries=0).get_progress("u-42")
    assert caught.value.retry_after is None


@pytest.mark.parametrize("value", ["\u00b2", "\u00b9\u00b2\u00b3"])
def test_a_content_length_of_other_digits_does_not_crash_the_size_check(
    client: RevUClient, upstream: responses.RequestsMock, value: str
) -> None:
    upstream.get(
        URL, json=body(), headers={"Content-Length": value}, auto_calculate_content_length=False
    )
    assert client.get_progress("u-42").total == 0


def test_retry_after_beyond_the_deadline_is_not_waited(
    upstream: responses.RequestsMock, waits: list[float]
) -> None:
    upstream.get(URL, status=429, headers={"Retry-After": "2"})
    with pytest.raises(RateLimitedError):
        RevUClient(KEY, base_url=BASE, deadline=1.0).get_progress("u-42")
    assert waits == []


def test_exhausted_rate_limit_retries_raise_rate_limited(
    client: RevUClient, upstream: responses.RequestsMock, waits: list[float]
) -> None:
    upstream.get(URL, status=429)
    with pytest.raises(RateLimitedError):
        client.get_progress("u-42")
    assert len(upstream.calls) == 3


# -- error mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_is_an_authentication_error(
    client: RevUClient, upstream: responses.RequestsMock, status: int
) -> None:
    upstream.get(URL, status=status, json={"status": "error", "code": "INVALID_API_KEY"})
    with pytest.raises(AuthenticationError, match="REVU_API_KEY"):
        client.get_progress("u-42")


@pytest.mark.parametrize("code", ["USER_BANNED", "IP_BANNED"])
def test_banned_answers_carry_the_reason(
    client: RevUClient, upstream: responses.RequestsMock, code: str
) -> None:
    upstream.get(URL, status=403, json={"status": "error", "code": code, "support_id": 77})
    with pytest.raises(BannedError) as caught:
        client.get_progress("u-42")
    assert caught.value.reason == code
    assert caught.value.reference == "77"


# Every error body shape RevU's docs leave open (get-progress.md, "Errors").
ERROR_SHAPES = [
    lambda code: {"code": code},
    lambda code: {"status": "error", "code": code, "message": "m"},
    lambda code: {"error": {"code": code, "message": "m"}},
    lambda code: {"error": code},
]


@pytest.mark.parametrize("shape", ERROR_SHAPES)
@pytest.mark.parametrize(
    ("code", "error", "error_code"),
    [
        ("USER_BANNED", UserBannedError, "user_banned"),
        ("user_banned", UserBannedError, "user_banned"),
        ("IP_BANNED", IpBannedError, "ip_banned"),
        ("INVALID_API_KEY", AuthenticationError, "upstream_auth"),
        ("WALL_DISABLED", ForbiddenError, "upstream_forbidden"),
    ],
)
def test_error_code_is_read_from_every_documented_shape(
    client: RevUClient,
    upstream: responses.RequestsMock,
    shape: Any,
    code: str,
    error: type[Exception],
    error_code: str,
) -> None:
    upstream.get(URL, status=403, json=shape(code))
    with pytest.raises(error) as caught:
        client.get_progress("u-42")
    assert caught.value.code == error_code  # type: ignore[attr-defined]


@pytest.mark.parametrize("body", ["Forbidden", "<html>403</html>", "", '{"error": 5}'])
def test_403_without_a_code_is_not_called_a_bad_key(
    client: RevUClient, upstream: responses.RequestsMock, body: str
) -> None:
    upstream.get(URL, status=403, body=body)
    with pytest.raises(ForbiddenError) as caught:
        client.get_progress("u-42")
    assert "REVU_API_KEY" not in str(caught.value)
    assert "did not say the API key is wrong" in str(caught.value)


def test_bad_request_is_mapped(client: RevUClient, upstream: responses.RequestsMock) -> None:
    upstream.get(URL, status=400, body="<html>bad</html>")
    with pytest.raises(UpstreamBadRequestError):
        client.get_progress("u-42")


def test_unexpected_status_is_an_upstream_error(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, status=404)
    with pytest.raises(UpstreamError, match="404"):
        client.get_progress("u-42")


@pytest.mark.parametrize(
    ("payload", "word"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "not JSON"),
        (b"", "empty"),
        (b"   \n", "empty"),
        (b'{"status": "success", "total": 1, "offers": [', "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b'{"status": "success", "total": 1' + b"1" * 5000 + b', "offers": []}', "not JSON"),
        (b'{"status": "success", "offers": []}', "total"),
    ],
)
def test_unreadable_bodies_are_bad_payloads(
    client: RevUClient, upstream: responses.RequestsMock, payload: bytes, word: str
) -> None:
    upstream.get(URL, body=payload, content_type="application/json")
    with pytest.raises(BadPayloadError, match=word):
        client.get_progress("u-42")


def test_oversized_body_is_refused(
    client: RevUClient, upstream: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_BODY_BYTES", 1000)
    upstream.get(URL, json=body(*[raw_offer(i) for i in range(50)]))
    with pytest.raises(BadPayloadError, match="larger"):
        client.get_progress("u-42")


def test_declared_oversized_body_is_refused_unread(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, body=b"{}", headers={"Content-Length": str(64 * 1024 * 1024)})
    with pytest.raises(BadPayloadError, match="larger"):
        client.get_progress("u-42")


MARKER = "RAW-UPSTREAM-MARKER"


@pytest.mark.parametrize(
    "outcome",
    [
        {"status": 401, "body": f'{{"message": "{MARKER} {KEY}"}}'},
        {"status": 403, "body": f'{{"code": "USER_BANNED", "message": "{MARKER}"}}'},
        {"status": 400, "body": MARKER},
        {"status": 500, "body": MARKER},
        {"status": 429, "body": MARKER, "headers": {"Retry-After": "60"}},
        {"status": 200, "body": f"<html>{MARKER} {KEY}</html>"},
        {"status": 200, "body": json.dumps({"status": MARKER, "total": KEY, "offers": []})},
        {"body": requests.ConnectionError(f"{MARKER} {KEY}")},
        {"body": requests.ReadTimeout(f"{MARKER} {KEY}")},
    ],
)
def test_error_text_and_logs_never_hold_the_key_or_the_raw_body(
    client: RevUClient,
    upstream: responses.RequestsMock,
    waits: list[float],
    caplog: pytest.LogCaptureFixture,
    outcome: dict[str, Any],
) -> None:
    caplog.set_level(logging.DEBUG, logger="revu_widgets")
    upstream.get(URL, **outcome)
    with pytest.raises(RevUError) as caught:
        client.get_progress("u-42")
    text = f"{caught.value} {caught.value!r} {caught.value.reference}"
    assert KEY not in text
    assert MARKER not in text
    # The transport's exceptions hold the request headers: they must not ride along.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__
    assert caplog.records
    assert all(KEY not in r.getMessage() and MARKER not in r.getMessage() for r in caplog.records)


def test_each_call_logs_path_status_and_attempt(
    client: RevUClient,
    upstream: responses.RequestsMock,
    waits: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="revu_widgets.client")
    upstream.get(URL, status=503)
    upstream.get(URL, json=body())
    client.get_progress("u-42")
    [record] = [r for r in caplog.records if r.levelno == logging.INFO]
    message = record.getMessage()
    assert "/api/v1/users/u-42/getprogress -> 200" in message
    assert "attempt 2" in message
    assert KEY not in message


# -- whole history ----------------------------------------------------------------------------


def test_all_progress_walks_every_page_and_sorts_by_activity(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    offers = [raw_offer(i) for i in range(1, 8)]
    offers[2] = raw_offer(3, reward_status=1, expires_at=1_900_000_000)

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url or "").query)
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        chunk = offers[offset : offset + limit]
        return 200, {}, json.dumps(body(*chunk, total=len(offers), offset=offset, limit=limit))

    upstream.add_callback(responses.GET, URL, callback=answer)
    progress = client.get_all_progress("u-42", page_size=3)
    assert len(upstream.calls) == 3
    assert progress.offers[0].offer_id == 3
    assert progress.offers[0].state is OfferState.IN_PROGRESS
    assert [o.offer_id for o in progress.offers[1:]] == [7, 6, 5, 4, 2, 1]
    assert progress.summary.total == 7
    assert progress.summary.credited == 6
    assert not progress.truncated


def test_all_progress_deduplicates_shifted_pages(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, json=body(raw_offer(1), raw_offer(2), total=4))
    upstream.get(URL, json=body(raw_offer(2), raw_offer(3), total=4))
    progress = client.get_all_progress("u-42", page_size=2)
    assert sorted(o.offer_id for o in progress.offers) == [1, 2, 3]


def test_all_progress_stops_at_the_page_cap(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, json=body(raw_offer(1), total=10))
    progress = client.get_all_progress("u-42", page_size=1, max_pages=3)
    assert len(upstream.calls) == 3
    assert progress.truncated


def test_all_progress_reports_skipped_offers_at_history_positions(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, json=body(raw_offer(1), raw_offer(2), total=4))
    upstream.get(URL, json=body(raw_offer(3), {"offer_id": "four", "name": "x"}, total=4))
    progress = client.get_all_progress("u-42", page_size=2)
    [skipped] = progress.skipped
    assert (skipped.index, skipped.offer_id) == (3, "four")
    assert skipped.field_paths == ("offers.3.offer_id",)


def test_all_progress_fails_when_a_later_page_fails(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, json=body(raw_offer(1), total=2))
    upstream.get(URL, status=401)
    with pytest.raises(AuthenticationError):
        client.get_all_progress("u-42", page_size=1)


def test_get_offer_uses_the_offer_filter(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, json=body(raw_offer(51003)))
    found = client.get_offer("u-42", 51003)
    assert found is not None
    assert found.offer_id == 51003
    assert sent_query(upstream.calls[0])["offer_id"] == ["51003"]


def test_get_offer_returns_none_when_absent(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, json=body(raw_offer(1)))
    assert client.get_offer("u-42", 2) is None


def test_get_offer_returns_the_offer_without_its_unreadable_fields(
    client: RevUClient, upstream: responses.RequestsMock
) -> None:
    upstream.get(URL, json=body({"offer_id": 9, "name": "x", "total_user_reward": "??"}))
    found = client.get_offer("u-42", 9)
    assert found is not None
    assert (found.total_reward, found.degraded) == (None, ("total_user_reward",))


# -- sessions ---------------------------------------------------------------------------------


def test_each_thread_gets_its_own_session(client: RevUClient) -> None:
    mine = client._session()
    assert client._session() is mine
    theirs: list[requests.Session] = []
    thread = threading.Thread(target=lambda: theirs.append(client._session()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine
    client.close()


def test_a_finished_thread_does_not_leave_its_session_behind(client: RevUClient) -> None:
    thread = threading.Thread(target=client._session)
    thread.start()
    thread.join()
    del thread
    gc.collect()
    assert len(client._holders) == 0


def test_a_forked_process_gets_a_fresh_session(
    client: RevUClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = client._session()
    monkeypatch.setattr(client_module.os, "getpid", lambda: -1)
    assert client._session() is not parent
    client.close()


def test_session_pool_is_sized_for_threaded_servers(client: RevUClient) -> None:
    adapter = client._session().get_adapter(BASE)
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert adapter._pool_maxsize == client_module.POOL_MAXSIZE  # type: ignore[attr-defined]
    client.close()


def test_a_session_passed_in_is_used(upstream: responses.RequestsMock) -> None:
    session = requests.Session()
    session.headers["X-Host-App"] = "shop"
    upstream.get(URL, json=body())
    RevUClient(KEY, base_url=BASE, session=session).get_progress("u-42")
    assert upstream.calls[0].request.headers["X-Host-App"] == "shop"
