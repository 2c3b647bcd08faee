"""RevU's error answers over real HTTP: the code is read from any body shape, a banned member is
told apart from a banned network, and a 403 blames the key only when RevU's code says so."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from .conftest import HostFactory, header_user

USER = "alex-1"


@pytest.fixture
def app(make_host: HostFactory) -> Flask:
    return make_host(signed_in=header_user)


def answer(app: Flask, path: str) -> tuple[int, str]:
    response = app.test_client().get(path, headers={"X-Test-User": USER})
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "body",
    [
        {"code": "IP_BANNED"},
        {"status": "error", "code": "IP_BANNED", "message": "no"},
        {"error": {"code": "IP_BANNED", "message": "no"}},
        {"error": "IP_BANNED"},
    ],
)
def test_a_banned_network_is_told_so_in_its_own_words(
    app: Flask, fake_revu: Any, body: dict[str, Any]
) -> None:
    fake_revu.add_fault("status", count=None, status=403, body=body)
    status, html = answer(app, "/rewards/")
    assert status == 403
    assert "network you are connected to" in html
    assert "for your account" not in html
    json_status, text = answer(app, "/rewards/api/progress")
    assert json_status == 403
    assert '"ip_banned"' in text


@pytest.mark.parametrize("body", [{"error": "USER_BANNED"}, {"error": {"code": "USER_BANNED"}}])
def test_a_banned_member_is_told_it_is_their_account(
    app: Flask, fake_revu: Any, body: dict[str, Any]
) -> None:
    fake_revu.add_fault("status", count=None, status=403, body=body)
    status, html = answer(app, "/rewards/")
    assert status == 403
    assert "for your account" in html
    assert "network you are connected to" not in html
    assert '"user_banned"' in answer(app, "/rewards/api/progress")[1]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"error": {"code": "INVALID_API_KEY"}}, "upstream_auth"),
        ({"error": "WALL_SUSPENDED"}, "upstream_forbidden"),
        ("Forbidden", "upstream_forbidden"),
    ],
)
def test_a_403_blames_the_key_only_when_the_code_says_so(
    app: Flask, fake_revu: Any, body: object, code: str
) -> None:
    fake_revu.add_fault("status", count=None, status=403, body=body)
    status, text = answer(app, "/rewards/api/progress")
    assert status == 502
    assert f'"{code}"' in text
