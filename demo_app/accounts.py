"""PointPanda's people: the demo members, who is signed in, and the form token.

There are no passwords: a visitor picks a person. The ids follow the built-in fake RevU's
conventions, so each person shows a different side of the kit ("new-" nothing yet, "heavy-"
1,200 offers, "banned-" banned upstream, anything else an active history).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from flask import abort, request, session

#: Session key holding the signed-in member's id.
SESSION_USER_KEY = "demo_user_id"
#: Session key holding the per-session token every POST form must echo back.
SESSION_CSRF_KEY = "demo_csrf"
#: Name of the hidden form field carrying that token.
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A PointPanda member a visitor can sign in as."""

    user_id: str
    name: str
    #: What signing in as this person shows off, in one sentence.
    blurb: str
    is_staff: bool = False


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "alex-42",
        "Alex",
        "An active member with offers in every state: in progress, pending, credited, "
        "reversed and expired.",
    ),
    DemoUser("new-sam", "Sam", "Joined today and has not started an offer yet."),
    DemoUser("heavy-jo", "Jo", "A power user with 1,200 offers: tabs, counts and paging."),
    DemoUser(
        "banned-pat",
        "Pat",
        "Banned by RevU: every page that fetches offers answers with a friendly refusal.",
    ),
    DemoUser(
        "staff-kim",
        "Kim",
        "Support staff: opens the support desk to look up any member's offers.",
        is_staff=True,
    ),
)

_USERS_BY_ID = {user.user_id: user for user in DEMO_USERS}


def find_user(user_id: str | None) -> DemoUser | None:
    """The demo member with this id, or ``None`` for anything else."""
    if user_id is None:
        return None
    return _USERS_BY_ID.get(user_id)


def current_user() -> DemoUser | None:
    """The member signed in on this request, or ``None``."""
    user_id = session.get(SESSION_USER_KEY)
    return find_user(user_id) if isinstance(user_id, str) else None


def sign_in(user: DemoUser) -> None:
    """Start a fresh session for ``user``.

    The old session is dropped first so a token planted before sign-in is not carried over.
    """
    session.clear()
    session[SESSION_USER_KEY] = user.user_id
    session[SESSION_CSRF_KEY] = secrets.token_urlsafe(32)


def sign_out() -> None:
    """Forget the signed-in member and their form token."""
    session.clear()


def csrf_token() -> str:
    """This session's form token, created on first use."""
    token = session.get(SESSION_CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_CSRF_KEY] = token
    return token


def require_csrf() -> None:
    """Refuse (400) a POST whose form token does not match the session's."""
    expected = session.get(SESSION_CSRF_KEY)
    sent = request.form.get(CSRF_FIELD, "")
    if (
        not isinstance(expected, str)
        or not expected
        or not hmac.compare_digest(expected.encode(), sent.encode())
    ):
        abort(400, description="This form has expired. Go back, reload the page and try again.")
