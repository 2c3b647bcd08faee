"""The kit's own translations, and which language a request gets.

The kit ships compiled catalogs (``revu_widgets/locale/<lang>/LC_MESSAGES/revu_widgets.mo``)
for the languages in :data:`KIT_LANGUAGES`. A request's language is the host's Flask-Babel
locale when the host uses Flask-Babel, else the visitor's best ``Accept-Language`` match among
those languages, else English. With Flask-Babel, a message the host's own catalogs translate
(for example in a ``revu_widgets`` domain of its own) wins over the kit's translation, so a
site can reword any message; everything else comes from the kit's catalogs.

Outside a request (the ``flask revu`` command, a background job) the kit speaks English:
Flask-Babel's selectors usually read the request and fail without one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import tzinfo
from importlib import resources
from typing import Any, NamedTuple

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations
from flask import current_app, g, has_request_context, request

try:  # Flask-Babel is optional: the host app decides whether it manages the locale.
    import flask_babel
except ImportError:  # pragma: no cover - depends on the host environment
    flask_babel = None

#: The catalogs' domain: ``revu_widgets.mo`` inside the package's ``locale`` folder.
DOMAIN = "revu_widgets"

#: The languages the kit ships catalogs for, besides English (the messages themselves).
KIT_LANGUAGES: tuple[str, ...] = ("de", "es", "fr", "pt_BR")

# A bare language tag a visitor sends picks the kit's one regional catalog for it.
_REGIONAL = {"pt": "pt_BR"}

Translate = Callable[..., str]
TranslatePlural = Callable[..., str]


class Translator(NamedTuple):
    """``gettext`` and ``ngettext`` bound to one request's language."""

    gettext: Translate
    ngettext: TranslatePlural
    #: The language tag of the text, for ``<html lang>`` (``"en"``, ``"de"``, ``"pt-BR"``).
    language: str


def _locale_dir() -> str:
    return str(resources.files("revu_widgets") / "locale")


@functools.lru_cache(maxsize=32)
def kit_catalog(language: str) -> NullTranslations:
    """The kit's compiled catalog for ``language`` (``de``, ``de_AT``, ``pt_BR``...).

    A regional tag falls back to its language (``de_AT`` reads ``de``); English, or a language
    the kit has no catalog for, gives a catalog that returns every message unchanged.
    """
    language = _REGIONAL.get(language, language)
    return Translations.load(_locale_dir(), [language], domain=DOMAIN)


def available_languages() -> tuple[str, ...]:
    """``en`` and every language the kit ships a catalog for."""
    return ("en", *KIT_LANGUAGES)


def _babel_active() -> bool:
    # Only inside a request: Flask-Babel's locale and timezone selectors usually read the
    # request (Accept-Language, the signed-in user), and raise when called from the CLI or a job.
    return flask_babel is not None and has_request_context() and "babel" in current_app.extensions


def host_locale() -> Locale | None:
    """Flask-Babel's locale for this request, when the host uses Flask-Babel."""
    return flask_babel.get_locale() if _babel_active() else None


def host_timezone() -> tzinfo | None:
    """Flask-Babel's timezone for this request, when the host uses Flask-Babel."""
    return flask_babel.get_timezone() if _babel_active() else None


def request_language() -> str:
    """The language of the kit's text for this request, as a Babel locale name (``pt_BR``)."""
    if _babel_active():
        locale = flask_babel.get_locale()
        return str(locale) if locale is not None else "en"
    if not has_request_context():
        return "en"
    cached = g.get("_revu_language")
    if isinstance(cached, str):
        return cached
    language = _accept_language_match()
    g._revu_language = language
    return language


def _accept_language_match() -> str:
    # werkzeug matches "de-CH" to "de" and "pt-BR" to "pt_BR"; a bare "pt" is tried as pt_BR.
    offered = [tag.replace("_", "-") for tag in available_languages()]
    best = request.accept_languages.best_match([*offered, *_REGIONAL])
    if best is None:
        return "en"
    best = _REGIONAL.get(best, best).replace("_", "-")
    try:
        return str(Locale.parse(best, sep="-"))
    except (UnknownLocaleError, ValueError):
        return "en"


def _plain_gettext(message: str, **variables: Any) -> str:
    return message % variables if variables else message


def _plain_ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return (singular if num == 1 else plural) % variables


_ENGLISH = Translator(_plain_gettext, _plain_ngettext, "en")


def translator() -> Translator:
    """The request's :class:`Translator` (English outside a request), built once per request."""
    if not has_request_context():
        return _ENGLISH
    cached = g.get("_revu_translator")
    if isinstance(cached, Translator):
        return cached
    made = _make_translator()
    g._revu_translator = made
    return made


def _make_translator() -> Translator:
    language = request_language()
    kit = kit_catalog(language)
    html_lang = language.replace("_", "-")
    if not _babel_active():
        return Translator(_bound_gettext(kit), _bound_ngettext(kit), html_lang)
    host = flask_babel.get_translations()

    def host_first_gettext(message: str, **variables: Any) -> str:
        text = str(host.ugettext(message))
        if text == message:
            text = str(kit.ugettext(message))
        return text % variables if variables else text

    def host_first_ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = str(host.ungettext(singular, plural, num))
        if text in (singular, plural):
            text = str(kit.ungettext(singular, plural, num))
        return text % variables

    return Translator(host_first_gettext, host_first_ngettext, html_lang)


def _bound_gettext(catalog: NullTranslations) -> Translate:
    def kit_gettext(message: str, **variables: Any) -> str:
        text = str(catalog.ugettext(message))
        return text % variables if variables else text

    return kit_gettext


def _bound_ngettext(catalog: NullTranslations) -> TranslatePlural:
    def kit_ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return str(catalog.ungettext(singular, plural, num)) % variables

    return kit_ngettext


__all__ = [
    "DOMAIN",
    "KIT_LANGUAGES",
    "Translator",
    "available_languages",
    "host_locale",
    "host_timezone",
    "kit_catalog",
    "request_language",
    "translator",
]
