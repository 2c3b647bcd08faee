"""Failed support-token attempts are limited per client address, answered 429 + Retry-After."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from revu_widgets.fake import FakeRevU

from .conftest import HostFactory

TOKEN = "s" * 40
URL = "/rewards/support/api/users/alex-1"


def support_host(make_host: HostFactory) -> Flask:
    return make_host(REVU_SUPPORT_TOKEN=TOKEN, REVU_SUPPORT_TOKEN_LIMIT="3/10 minutes")


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def ask(client: FlaskClient, token: str) -> int:
    return client.get(URL, headers={"Authorization": f"Bearer {token}"}).status_code


def test_wrong_tokens_beyond_the_limit_get_429_with_retry_after(
    make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    guesser = from_address(support_host(make_host), "198.51.100.7")
    assert [ask(guesser, f"wrong-{i}") for i in range(3)] == [401, 401, 401]

    response = guesser.get(URL, headers={"Authorization": "Bearer wrong-4"})
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 600
    assert response.get_json()["error"]["code"] == "too_many_attempts"
    assert TOKEN not in response.get_data(as_text=True)
    # Once throttled, the right token waits too (a guess must not learn it was right),
    # and RevU is not asked.
    assert ask(guesser, TOKEN) == 429
    assert fake_revu.requests == []


def test_other_addresses_and_right_tokens_are_not_throttled(make_host: HostFactory) -> None:
    app = support_host(make_host)
    guesser, desk = from_address(app, "198.51.100.7"), from_address(app, "203.0.113.9")
    for i in range(5):
        ask(guesser, f"wrong-{i}")
    assert ask(guesser, TOKEN) == 429
    assert [ask(desk, TOKEN) for _ in range(5)] == [200] * 5  # right tokens do not count
    assert ask(desk, "wrong") == 401


def test_throttled_attempts_are_audited(
    make_host: HostFactory, caplog: pytest.LogCaptureFixture
) -> None:
    guesser = from_address(support_host(make_host), "198.51.100.7")
    with caplog.at_level(logging.INFO, logger="revu_widgets.audit"):
        for i in range(4):
            ask(guesser, f"wrong-{i}")
    results = [r.getMessage() for r in caplog.records if r.name == "revu_widgets.audit"]
    assert sum("result=throttled" in line for line in results) == 1
    assert sum("result=unauthorized" in line for line in results) == 3
