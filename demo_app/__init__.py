"""PointPanda: a small rewards site showing every part of revu-widgets the way a publisher uses it.

Run it from a checkout with ``flask --app demo_app run`` (or ``./dev.sh demo``). Without
``REVU_API_KEY`` in the environment it serves offline from the kit's built-in fake RevU; with
``REVU_API_KEY`` (and optionally ``REVU_BASE_URL``) it talks to the real RevU, and every page
says which upstream it is using.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from revu_widgets import RevUWidgets

from .accounts import current_user
from .views import bp, install_site, staff_sign_in_allowed

#: The kit, set up once and bound to each app by :func:`create_app` (Flask extension pattern).
revu = RevUWidgets()


@revu.user_id_loader
def current_revu_user() -> str | None:
    """The signed-in member's id: the only place the kit learns who is looking."""
    user = current_user()
    return user.user_id if user else None


@revu.support_access_loader
def may_use_support_desk() -> bool:
    """Only staff may look up other members' offers."""
    user = current_user()
    return user is not None and user.is_staff and staff_sign_in_allowed()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the PointPanda site.

    ``config`` is applied last, over the environment, so tests can choose the upstream:
    ``create_app({"REVU_USE_FAKE": True})``.
    """
    app = Flask(__name__)
    app.config.update(
        REVU_URL_PREFIX="/rewards",
        REVU_BASE_TEMPLATE="demo/layout.html",
        REVU_CURRENCY_NAME="bamboo",
        REVU_PAGE_SIZE=20,
        REVU_LOGIN_URL="/sign-in",
        # Short, so "Simulate progress" shows up on an open offer page almost at once.
        REVU_REFRESH_SECONDS=4,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="pointpanda_session",
    )
    api_key = os.environ.get("REVU_API_KEY", "").strip()
    if api_key:
        app.config["REVU_API_KEY"] = api_key
        app.config["REVU_USE_FAKE"] = False
        base_url = os.environ.get("REVU_BASE_URL", "").strip()
        if base_url:
            app.config["REVU_BASE_URL"] = base_url
    else:
        app.config["REVU_USE_FAKE"] = True
    # A random default means sessions and the support token last as long as the process:
    # fine for a demo, and nothing guessable ships in the code.
    app.config["SECRET_KEY"] = os.environ.get("FLASK_SECRET_KEY") or secrets.token_hex(32)
    app.config["REVU_SUPPORT_TOKEN"] = os.environ.get(
        "REVU_SUPPORT_TOKEN"
    ) or secrets.token_urlsafe(24)
    if config:
        app.config.update(config)

    revu.init_app(app)
    install_site(app, revu)
    app.register_blueprint(bp)
    return app


__all__ = ["create_app", "revu"]
