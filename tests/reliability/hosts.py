"""A publisher's host site with the kit installed, built without pytest.

The fault matrix script, the fixtures and the fuzzers all build the same host: its own
session-based sign-in (``/login/<user>`` stands in for the host's login form), staff are users
whose id starts with ``staff-``, and the chatbot API is on with :data:`SUPPORT_TOKEN`.
"""

from __future__ import annotations

import socket
from typing import Any

from flask import Flask, session
from flask.testing import FlaskClient

from revu_widgets import RevUWidgets

#: The wall key every reliability test uses: distinctive, so a leak of it cannot hide.
SECRET_API_KEY = "Rk7vQ2xZ9mPwL4tJ8cNb"
#: Any twelve characters of the key are enough to call it leaked.
SECRET_FRAGMENTS = (SECRET_API_KEY, SECRET_API_KEY[:12], SECRET_API_KEY[-12:])
#: The support chatbot token of the host site.
SUPPORT_TOKEN = "support-token-for-reliability-tests"
#: Small bounds so a fault costs at most a few seconds: (connect, read) and deadline. Not
#: smaller: on a machine busy with other test runs a loopback answer can take a good part of a
#: second, and a 429 waited out (Retry-After: 1) or a retried 5xx must still finish well inside
#: the deadline, or the cell would answer 504 instead of what the table says.
FAST_TIMEOUT = (1.0, 1.0)
FAST_DEADLINE = 3.0
#: Retries stay on (one), so the matrix covers the retry path too.
FAST_RETRIES = 1


def build_host(base_url: str, **config: Any) -> Flask:
    """The host site with the kit at ``/rewards``, pointed at ``base_url``."""
    app = Flask("reliability_host")
    app.config.update(
        TESTING=True,
        SECRET_KEY="host-session-secret",
        REVU_API_KEY=SECRET_API_KEY,
        REVU_BASE_URL=base_url,
        REVU_TIMEOUT=FAST_TIMEOUT,
        REVU_DEADLINE=FAST_DEADLINE,
        # These tests change the fake between requests: every request must see its current
        # answer. Snapshot reuse has its own tests (test_store.py).
        REVU_CACHE_SECONDS=0,
        REVU_MAX_RETRIES=FAST_RETRIES,
        REVU_SUPPORT_TOKEN=SUPPORT_TOKEN,
    )
    app.config.update(config)
    revu = RevUWidgets(app)

    @revu.user_id_loader
    def current_user() -> str | None:
        user: str | None = session.get("user")
        return user

    @revu.support_access_loader
    def is_staff() -> bool:
        return str(session.get("user", "")).startswith("staff-")

    return app


def signed_in(app: Flask, user_id: str) -> FlaskClient:
    """A browser of ``app`` signed in as ``user_id``, the way the host's login would."""
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user"] = user_id
    return client


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (bound for a moment, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
