"""The kit's own catalogs: complete, placeholder-safe, compiled, and chosen per request.

Every message of ``messages.pot`` has a translation in every shipped language (each plural
form too), every ``%(name)s`` placeholder survives, the committed ``.mo`` files are the ``.po``
files compiled, and the kit's pages speak the host's Flask-Babel locale or, without Flask-Babel,
the visitor's ``Accept-Language`` — over real HTTP from the fake RevU.
"""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from flask_babel import Babel

from revu_widgets import i18n
from revu_widgets.fake import FakeRevU

from .conftest import HostFactory, sign_in
from .test_i18n import MEMBER, POT, member_offers, template_catalog

LOCALE = Path(i18n.__file__).resolve().parent / "locale"
LANGUAGES = i18n.KIT_LANGUAGES
PLACEHOLDER = re.compile(r"%\((\w+)\)([sdif])")


def kit_po(language: str) -> Catalog:
    path = LOCALE / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as f:
        return read_po(f, locale=language, domain=i18n.DOMAIN)


def placeholders(text: str) -> Counter[tuple[str, str]]:
    return Counter(PLACEHOLDER.findall(text))


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def test_every_shipped_language_has_a_catalog() -> None:
    found = sorted(p.parent.parent.name for p in LOCALE.glob(f"*/LC_MESSAGES/{i18n.DOMAIN}.po"))
    assert found == sorted(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_translates_every_message_of_the_template(language: str) -> None:
    catalog = kit_po(language)
    # As many plural forms as Babel's rules for the language have (Spanish: one, many, other).
    assert catalog.num_plurals == Catalog(locale=language).num_plurals
    missing, fuzzy, stale = [], [], []
    for message in template_catalog():
        if not message.id:
            continue
        translated = catalog.get(message.id)
        if translated is None or not all(forms(translated)):
            missing.append(message.id)
        elif translated.fuzzy:
            fuzzy.append(message.id)
        elif isinstance(message.id, tuple) != isinstance(translated.id, tuple):
            stale.append(message.id)
        elif isinstance(message.id, tuple) and len(forms(translated)) != catalog.num_plurals:
            missing.append(message.id)
    update = (
        f"update revu_widgets/locale/{language}: pybabel update -i {POT.name} "
        f"-d revu_widgets/locale -D {i18n.DOMAIN}, translate, compile"
    )
    assert not missing, f"{update}; untranslated: {missing}"
    assert not fuzzy, f"{update}; fuzzy: {fuzzy}"
    assert not stale, f"{update}; singular/plural changed: {stale}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_placeholder_survives_translation(language: str) -> None:
    broken = []
    for message in kit_po(language):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            expected = [placeholders(singular)]
            expected += [placeholders(plural)] * (len(forms(message)) - 1)
        else:
            expected = [placeholders(message.id)]
        for want, text in zip(expected, forms(message), strict=True):
            if placeholders(text) != want:
                broken.append((message.id, text))
    assert not broken, f"placeholders lost or added in {language}: {broken}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_is_the_po_file_compiled(language: str) -> None:
    mo_path = LOCALE / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo"
    with mo_path.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for message in kit_po(language):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            for n, text in zip((1, 2, 5), forms(message) * 3, strict=False):
                got = compiled.ngettext(message.id[0], message.id[1], n)
                if got not in forms(message):
                    stale.append((message.id, n, got, text))
        elif compiled.gettext(message.id) != message.string:
            stale.append((message.id, compiled.gettext(message.id)))
    assert not stale, (
        f"revu_widgets/locale/{language} .mo is stale: run pybabel compile -d "
        f"revu_widgets/locale -D {i18n.DOMAIN}: {stale[:5]}"
    )


# --- which language a request gets ------------------------------------------------------------


@pytest.fixture
def member(make_host: HostFactory, fake_revu: FakeRevU) -> FlaskClient:
    """A signed-in member on a host without Flask-Babel."""
    fake_revu.set_offers(MEMBER, member_offers())
    return sign_in(make_host().test_client(), MEMBER)


def history(client: FlaskClient, **headers: str) -> str:
    response = client.get("/rewards/", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept_language", "lang", "title", "steps", "number"),
    [
        ("es-ES,es;q=0.9", "es", "Mis ofertas", "3 de 4 pasos", "4.200"),
        ("de-CH", "de", "Meine Angebote", "3 von 4 Schritten", "4&#39;200"),
        ("fr", "fr", "Mes offres", "3 sur 4 étapes", "4\u202f200"),
        ("pt-BR,pt;q=0.8", "pt-BR", "Minhas ofertas", "3 de 4 etapas", "4.200"),
        ("pt", "pt-BR", "Minhas ofertas", "3 de 4 etapas", "4.200"),
        ("ja,de;q=0.5", "de", "Meine Angebote", "3 von 4 Schritten", "4,200"),
        ("ja", "en", "My offers", "3 of 4 steps", "4,200"),
    ],
)
def test_without_flask_babel_pages_follow_accept_language(
    member: FlaskClient, accept_language: str, lang: str, title: str, steps: str, number: str
) -> None:
    html = history(member, **{"Accept-Language": accept_language})
    assert f'<html lang="{lang}">' in html
    assert title in html
    assert f'data-revu-field="progress_text">{steps}</span>' in html
    assert f'<span class="revu-reward__value">{number}</span>' in html


def test_plural_forms_follow_the_language(member: FlaskClient) -> None:
    html = history(member, **{"Accept-Language": "fr"})
    # French reads 0 and 1 as singular; the member has one credited and no reversed offer.
    assert "1 offre créditée" in html
    assert "0 offre annulée ou expirée" in html
    html = history(member, **{"Accept-Language": "es"})
    assert "1 oferta abonada" in html
    assert "0 ofertas revertidas o caducadas" in html


@pytest.mark.parametrize(
    ("locale", "title"),
    [("es", "Mis ofertas"), ("fr", "Mes offres"), ("pt_BR", "Minhas ofertas"), ("en", "My offers")],
)
def test_flask_babel_locale_wins_over_accept_language(
    make_host: HostFactory, fake_revu: FakeRevU, locale: str, title: str
) -> None:
    fake_revu.set_offers(MEMBER, member_offers())
    app = make_host()
    Babel(app, locale_selector=lambda: locale)
    client = sign_in(app.test_client(), MEMBER)
    html = history(client, **{"Accept-Language": "de"})
    assert f'<html lang="{locale.replace("_", "-")}">' in html
    assert title in html
    assert "Meine Angebote" not in html


def test_json_routes_speak_the_request_language(member: FlaskClient) -> None:
    body = member.get("/rewards/api/offers/61001", headers={"Accept-Language": "es"}).get_json()
    assert body["offer"]["state_label"] == "En curso"
    assert body["offer"]["progress_text"] == "3 de 4 pasos"


def test_error_pages_are_translated(member: FlaskClient, fake_revu: FakeRevU) -> None:
    fake_revu.add_fault("status", status=503, count=None)
    response = member.get("/rewards/", headers={"Accept-Language": "pt-BR"})
    assert response.status_code == 503
    assert "As ofertas estão temporariamente indisponíveis" in response.get_data(as_text=True)


def test_outside_a_request_the_kit_speaks_english() -> None:
    translator = i18n.translator()
    assert translator.language == "en"
    assert translator.gettext("My offers") == "My offers"
    assert translator.ngettext("%(num)d offer pending", "%(num)d offers pending", 2) == (
        "2 offers pending"
    )


def test_regional_catalog_falls_back_to_its_language() -> None:
    assert i18n.kit_catalog("de_AT").ugettext("My offers") == "Meine Angebote"
    assert i18n.kit_catalog("pt").ugettext("My offers") == "Minhas ofertas"
    assert i18n.kit_catalog("ja").ugettext("My offers") == "My offers"
