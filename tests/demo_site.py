"""The demo site on its embedded fake RevU, as the demo and browser tests start it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from demo_app import create_app, revu
from demo_app.accounts import DEMO_USERS

_TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def demo_on_fake(config: dict[str, Any]) -> Iterator[Flask]:
    """``create_app(config)`` on the embedded fake RevU; the fake's server stops on exit."""
    with pytest.MonkeyPatch.context() as env:
        # The demo talks to the real RevU when a key is in the environment; tests never do.
        env.delenv("REVU_API_KEY", raising=False)
        env.delenv("REVU_BASE_URL", raising=False)
        app = create_app(config)
    try:
        yield app
    finally:
        server = getattr(app.extensions["revu_widgets"], "fake_server", None)
        if server is not None:
            server.shutdown()


def reset_fake(app: Flask) -> None:
    """Back to the fake's generated data, without earlier tests' advances, for every member."""
    with app.app_context():
        fake = revu.fake
        assert fake is not None
        fake.reset()
        for user in DEMO_USERS:
            revu.refresh(user.user_id)


def form_token(client: FlaskClient, page: str = "/sign-in") -> str:
    """The CSRF token as a browser gets it: from a form on a page."""
    match = _TOKEN_FIELD.search(client.get(page).get_data(as_text=True))
    assert match, f"no form token on {page}"
    return match.group(1)


def sign_in(client: FlaskClient, user_id: str, **extra: str) -> Any:
    """Sign in to the demo site through its form, as a visitor does."""
    response = client.post(
        "/sign-in", data={"csrf_token": form_token(client), "user_id": user_id, **extra}
    )
    assert response.status_code == 302
    return response
