"""The host site ``bench/load.py`` and ``bench/scale.py`` serve with gunicorn.

A publisher's app with the kit installed: a login and a postback handler. Configured from the
environment: ``REVU_BASE_URL`` / ``REVU_API_KEY`` (the fake RevU on loopback),
``REVU_CACHE_URL`` / ``REVU_CACHE_SECONDS`` (the store under test), ``HOST_SECRET`` (the
session key, the same on every instance, and the postback's key). Visitors sign in at
``/login?user=ID`` (the host's own session, as a real site's login would set it) and then use
the kit's pages under ``/rewards``.
"""

from __future__ import annotations

import hmac
import os

from flask import Flask, abort, redirect, request, session
from werkzeug.wrappers import Response

from revu_widgets import RevUWidgets

app = Flask("bench_host")
app.config.update(
    SECRET_KEY=os.environ["HOST_SECRET"],
    REVU_API_KEY=os.environ["REVU_API_KEY"],
    REVU_BASE_URL=os.environ["REVU_BASE_URL"],
    REVU_CACHE_URL=os.environ.get("REVU_CACHE_URL", "memory://"),
    REVU_CACHE_SECONDS=float(os.environ.get("REVU_CACHE_SECONDS", "5")),
    REVU_LIVE_CHECK_SECONDS=float(os.environ.get("REVU_LIVE_CHECK_SECONDS", "1.5")),
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


@app.get("/postback")
def postback() -> str:
    """RevU's postback, as a publisher wires it: check the key, credit, ``revu.refresh``."""
    if not hmac.compare_digest(request.args.get("key", ""), app.config["SECRET_KEY"]):
        abort(403)
    revu.refresh(request.args["userid"])
    return "OK"


@app.get("/healthz")
def healthz() -> str:
    """Readiness probe for the bench scripts."""
    return "ok"
