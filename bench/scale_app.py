"""The host site ``bench/scale.py`` serves with gunicorn: the kit, a login and a postback handler.

Configured from the environment: ``REVU_BASE_URL`` / ``REVU_API_KEY`` (the fake RevU),
``REVU_CACHE_URL`` / ``REVU_CACHE_SECONDS`` (the store under test), ``SCALE_SECRET`` (the
session key, the same on every instance, and the postback's key).
"""

from __future__ import annotations

import hmac
import os

from flask import Flask, abort, redirect, request, session
from werkzeug.wrappers import Response

from revu_widgets import RevUWidgets

app = Flask("scale_host")
app.config.update(
    SECRET_KEY=os.environ["SCALE_SECRET"],
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
    """Readiness probe for the bench script."""
    return "ok"
