"""PointPanda's language switch: Flask-Babel picks the visitor's language, the kit follows.

The kit translates its own pages and macros into every language it ships a catalog for; the
site only tells Flask-Babel which locale a request is in. A visitor's choice is kept in the
session; without one, the browser's ``Accept-Language`` decides.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, request, session, url_for
from flask_babel import Babel
from werkzeug.wrappers import Response as BaseResponse

from revu_widgets import i18n

from .accounts import require_csrf

#: The languages offered, each named in itself.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "pt_BR": "Português (Brasil)",
}
_SESSION_KEY = "demo_language"

bp = Blueprint("demo_language", __name__)


def pick_language() -> str:
    """The visitor's chosen language, else the best Accept-Language match, else English."""
    chosen = session.get(_SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    offered = [tag.replace("_", "-") for tag in LANGUAGES]
    best = request.accept_languages.best_match(offered, default="en")
    return best.replace("-", "_")


def install_language(app: Flask) -> None:
    """Set Flask-Babel up on ``app`` and give templates the switch's choices."""
    assert set(LANGUAGES) == set(i18n.available_languages()), "offer what the kit ships"
    Babel(app, locale_selector=pick_language)
    app.register_blueprint(bp)

    @app.context_processor
    def language_context() -> dict[str, object]:
        return {"demo_languages": LANGUAGES, "demo_language": pick_language()}


@bp.post("/language")
def choose_language() -> BaseResponse:
    """Remember the visitor's language and go back to the page they were on."""
    require_csrf()
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400, description="Pick one of the languages in the list.")
    session[_SESSION_KEY] = language
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for("demo.home")
    return redirect(target)
