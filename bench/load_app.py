"""The host site the load test serves with gunicorn: a publisher's app with the kit installed.

Configured from the environment by ``bench/load.py``: ``REVU_BASE_URL`` (the fake RevU on
loopback) and ``REVU_API_KEY``. Visitors sign in at ``/login?user=ID`` (the host's own
session, as a real site's login would set it) and then use the kit's pages under ``/rewards``.
"""

from __future__ import annotations

import os

from flask import Flask, redirect, request, session
from werkzeug.wrappers import Response

from revu_widgets import RevUWidgets

app = Flask("load_host")
app.config.update(
    SECRET_KEY=os.environ.get("LOAD_SESSION_SECRET", "load-test-session-secret"),
    REVU_API_KEY=os.environ["REVU_API_KEY"],
    REVU_BASE_URL=os.environ["REVU_BASE_URL"],
)
revu = RevUWidgets(app)


@revu.user_id_loader
def current_user() -> str | None:
    """The member signed in to the host's own session."""
    user: str | None = session.get("user")
    return user


@app.get("/login")
def login() -> Response:
    """Stand-in for the host's login form."""
    session["user"] = request.args["user"]
    return redirect("/rewards/")


@app.get("/healthz")
def healthz() -> str:
    """Readiness probe for the load script."""
    return "ok"
