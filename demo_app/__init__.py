"""PointPanda: a small rewards site showing every part of revu-widgets the way a publisher uses it.

Run it from a checkout with ``flask --app demo_app run`` (or ``./dev.sh demo``). Without
``REVU_API_KEY`` in the environment it serves offline from the kit's built-in fake RevU; with
``REVU_API_KEY`` (and optionally ``REVU_BASE_URL``) it talks to the real RevU, and every page
says which upstream it is using.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import Flask

from revu_widgets import Member, RevUWidgets
from revu_widgets.claims import Claim

from .accounts import current_user, find_user
from .claims_desk import ClaimsDesk, ledger_amount
from .language import install_language
from .shared import SharedProgress, instance_secret
from .views import bp, claims_desk, install_site, staff_sign_in_allowed

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


@revu.claim_handler
def file_claim(claim: Claim) -> str:
    """File a member's report on PointPanda's claims desk; the member sees the reference."""
    return claims_desk().file(claim)


@revu.ledger_loader
def credited_by_pointpanda(user_id: str, offer_id: int) -> Decimal:
    """What PointPanda's own postback ledger credited the member for an offer."""
    return ledger_amount(user_id, offer_id)


@revu.member_resolver
def who_is(user_id: str) -> Member | None:
    """Who a member id is on PointPanda, shown to support staff above a lookup."""
    user = find_user(user_id)
    return Member(name=user.name, email=f"{user.user_id}@pointpanda.example") if user else None


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the PointPanda site.

    ``config`` is applied last, over the environment, so tests can choose the upstream:
    ``create_app({"REVU_USE_FAKE": True})``.
    """
    # DEMO_INSTANCE_PATH moves the shared secrets and progress out of the checkout (tests).
    app = Flask(__name__, instance_path=os.environ.get("DEMO_INSTANCE_PATH") or None)
    app.config.update(
        REVU_URL_PREFIX="/rewards",
        REVU_BASE_TEMPLATE="demo/layout.html",
        REVU_CURRENCY_NAME="bamboo",
        REVU_PAGE_SIZE=20,
        REVU_LOGIN_URL="/sign-in",
        # Short, so "Simulate progress" (and its postback) shows on an open offer page within
        # a second.
        REVU_REFRESH_SECONDS=4,
        REVU_LIVE_CHECK_SECONDS=0.5,
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
    app.config["SECRET_KEY"] = os.environ.get("FLASK_SECRET_KEY")
    app.config["REVU_SUPPORT_TOKEN"] = os.environ.get("REVU_SUPPORT_TOKEN")
    if config:
        app.config.update(config)
    # Random secrets, made once and kept in the instance folder: every worker of a
    # multi-process server reads the same ones, and nothing guessable ships in the code.
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret(app.instance_path, "secret_key")
    if not app.config["REVU_SUPPORT_TOKEN"]:
        app.config["REVU_SUPPORT_TOKEN"] = instance_secret(app.instance_path, "support_token")

    revu.init_app(app)
    app.extensions["demo_claims"] = ClaimsDesk()
    if app.config["REVU_USE_FAKE"] and not app.testing:
        # Each worker runs its own fake RevU; simulated progress reaches all of them.
        app.extensions["demo_shared_progress"] = SharedProgress.for_server(app.instance_path)
    install_site(app, revu)
    install_language(app)
    app.register_blueprint(bp)
    return app


__all__ = ["create_app", "revu"]
