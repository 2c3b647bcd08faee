"""Translations: the kit's words through Flask-Babel, and the message catalog template it ships.

A host site configures Flask-Babel with a German locale and a catalog compiled at test time from
the kit's own ``messages.pot``; the pages come over real HTTP from the fake RevU on loopback.
Without Flask-Babel the kit's own catalogs and number and date formats follow Accept-Language.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import request
from flask.testing import FlaskClient
from flask_babel import Babel
from flask_babel import gettext as host_gettext

from revu_widgets import i18n
from revu_widgets.fake import FakeRevU

from .conftest import HostFactory, sign_in

REPO = Path(__file__).resolve().parents[1]
POT = REPO / "revu_widgets" / "locale" / "messages.pot"
PYBABEL = Path(sys.executable).with_name("pybabel")

# The command babel.cfg documents for regenerating the template, minus the output file.
EXTRACT = [
    "extract",
    "-F",
    "babel.cfg",
    "--no-location",
    "--add-comments=TRANSLATORS:",
    "--project=revu-widgets",
    "--copyright-holder=revu-widgets contributors",
]

GERMAN: Mapping[str, str] = {
    "My offers": "Meine Angebote",
    "In progress": "In Bearbeitung",
    "Pending credit": "Gutschrift ausstehend",
    "Credited": "Gutgeschrieben",
    "Not started": "Nicht begonnen",
    "Credited on %(date)s: %(amount)s were added to your balance.": (
        "Am %(date)s gutgeschrieben: %(amount)s wurden deinem Guthaben hinzugefügt."
    ),
}

GERMAN_PLURALS: Mapping[tuple[str, str], tuple[str, str]] = {
    ("%(done)s of %(num)d step", "%(done)s of %(num)d steps"): (
        "%(done)s von %(num)d Schritt",
        "%(done)s von %(num)d Schritten",
    ),
    ("Please try again in %(num)d second.", "Please try again in %(num)d seconds."): (
        "Bitte versuche es in %(num)d Sekunde erneut.",
        "Bitte versuche es in %(num)d Sekunden erneut.",
    ),
}

MEMBER = "lena-7"


def member_offers() -> list[dict[str, Any]]:
    """An in-progress offer worth 4,200 (3 of 4 steps done) and a one-step credited offer.

    The credited step lands at 23:30 UTC, which is already the next day in Berlin.
    """
    return [
        {
            "offer_id": 61001,
            "name": "Dragon Realms: reach level 25",
            "reward_status": 1,
            "in_progress": True,
            "total_user_reward": 4200,
            "started_at": "2026-11-20T09:14:00Z",
            "updated_at": "2026-11-25T18:02:11Z",
            "events": [
                {
                    "event_id": 1,
                    "name": "Install and open",
                    "user_reward": 50,
                    "status": "credited",
                    "completed_at": "2026-11-20T09:20:00Z",
                    "credited_at": "2026-11-20T09:31:00Z",
                },
                {
                    "event_id": 2,
                    "name": "Reach level 10",
                    "user_reward": 600,
                    "status": "credited",
                    "completed_at": "2026-11-22T20:00:00Z",
                    "credited_at": "2026-11-22T20:05:00Z",
                },
                {
                    "event_id": 3,
                    "name": "Reach level 18",
                    "user_reward": 1300,
                    "status": "pending",
                    "completed_at": "2026-11-25T18:02:11Z",
                },
                {"event_id": 4, "name": "Reach level 25", "user_reward": 2250, "status": ""},
            ],
        },
        {
            "offer_id": 61002,
            "name": "Quick survey about streaming habits",
            "reward_status": 2,
            "user_completed": True,
            "total_user_reward": 300,
            "started_at": "2026-11-20T23:00:00Z",
            "updated_at": "2026-11-20T23:30:00Z",
            "events": [
                {
                    "event_id": 1,
                    "name": "Complete the survey",
                    "user_reward": 300,
                    "status": "credited",
                    "completed_at": "2026-11-20T23:20:00Z",
                    "credited_at": "2026-11-20T23:30:00Z",
                }
            ],
        },
    ]


def run_pybabel(*args: str, cwd: Path = REPO) -> None:
    """Run the ``pybabel`` command a publisher or maintainer types."""
    done = subprocess.run(
        [str(PYBABEL), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def template_catalog() -> Catalog:
    with POT.open("rb") as f:
        return read_po(f)


def german_catalog(domain: str = "messages") -> Catalog:
    """German for a few of the kit's strings, each checked to be in the shipped template."""
    shipped = template_catalog()
    catalog = Catalog(locale="de", domain=domain)
    for msgid, text in GERMAN.items():
        assert shipped.get(msgid) is not None, f"{msgid!r} is not in messages.pot"
        catalog.add(msgid, text)
    for ids, texts in GERMAN_PLURALS.items():
        message = shipped.get(ids[0])
        assert message is not None, f"{ids[0]!r} is not in messages.pot"
        assert message.id == ids, f"{ids[0]!r} is not a plural message in messages.pot"
        catalog.add(ids, texts)
    return catalog


def write_catalog(directory: Path, catalog: Catalog) -> Path:
    """Compile ``catalog`` where Flask-Babel looks: ``<dir>/<locale>/LC_MESSAGES/<domain>.mo``."""
    target = directory / str(catalog.locale) / "LC_MESSAGES" / f"{catalog.domain}.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as f:
        write_mo(f, catalog)
    return target


@pytest.fixture
def translations(tmp_path: Path) -> Path:
    directory = tmp_path / "translations"
    write_catalog(directory, german_catalog())
    return directory


GermanHost = Callable[..., FlaskClient]


@pytest.fixture
def german_member(make_host: HostFactory, fake_revu: FakeRevU, translations: Path) -> GermanHost:
    """A signed-in member's browser on a host whose Flask-Babel picks German (and ``timezone``)."""
    fake_revu.set_offers(MEMBER, member_offers())

    def factory(timezone: str | None = None) -> FlaskClient:
        app = make_host(BABEL_TRANSLATION_DIRECTORIES=str(translations))
        Babel(app, locale_selector=lambda: "de", timezone_selector=lambda: timezone)
        return sign_in(app.test_client(), MEMBER)

    return factory


@pytest.fixture
def english_member(make_host: HostFactory, fake_revu: FakeRevU) -> FlaskClient:
    """A signed-in member on a host without Flask-Babel set up."""
    fake_revu.set_offers(MEMBER, member_offers())
    return sign_in(make_host().test_client(), MEMBER)


def page(client: FlaskClient, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# --- German through Flask-Babel -------------------------------------------------------------


def test_history_speaks_german_with_german_numbers(german_member: GermanHost) -> None:
    html = page(german_member(), "/rewards/")
    assert '<html lang="de">' in html
    assert "Meine Angebote" in html
    assert 'data-revu-field="state_label">In Bearbeitung</span>' in html
    assert 'data-revu-field="state_label">Gutgeschrieben</span>' in html
    assert 'data-revu-field="state_label">In progress</span>' not in html
    # Cards write their amounts as numbers and name the currency once per line.
    assert '<span class="revu-reward__value">4.200</span>' in html
    assert "4,200" not in html


def test_step_counts_use_german_plural_forms(german_member: GermanHost) -> None:
    html = page(german_member(), "/rewards/")
    assert 'data-revu-field="progress_text">3 von 4 Schritten</span>' in html
    assert 'data-revu-field="progress_text">1 von 1 Schritt</span>' in html
    assert 'aria-valuetext="3 von 4 Schritten"' in html


def test_detail_shows_german_step_statuses_and_dates(german_member: GermanHost) -> None:
    html = page(german_member(), "/rewards/offers/61001")
    assert "Gutschrift ausstehend" in html
    assert "Nicht begonnen" in html
    assert "Gutgeschrieben" in html
    # German medium date and short time, in Flask-Babel's default timezone (UTC).
    assert "20.11.2026, 09:31" in html
    assert "4.200 coins" in html


def test_explanation_is_translated_with_its_date_and_amount(german_member: GermanHost) -> None:
    html = page(german_member(), "/rewards/offers/61002")
    assert "Am 20.11.2026 gutgeschrieben: 300 coins wurden deinem Guthaben hinzugefügt." in html


def test_json_api_carries_the_same_german_words(german_member: GermanHost) -> None:
    offer = german_member().get("/rewards/api/offers/61001").get_json()["offer"]
    assert offer["state_label"] == "In Bearbeitung"
    assert offer["progress_text"] == "3 von 4 Schritten"
    assert offer["rewards"]["possible"]["text"] == "4.200 coins"
    assert [step["status_label"] for step in offer["steps"]] == [
        "Gutgeschrieben",
        "Gutgeschrieben",
        "Gutschrift ausstehend",
        "Nicht begonnen",
    ]


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        ("1", "Bitte versuche es in 1 Sekunde erneut."),
        ("30", "Bitte versuche es in 30 Sekunden erneut."),
    ],
)
def test_template_plurals_are_translated(
    german_member: GermanHost, fake_revu: FakeRevU, seconds: str, words: str
) -> None:
    fake_revu.add_fault("status", status=429, headers={"Retry-After": seconds})
    response = german_member().get("/rewards/")
    assert response.status_code == 429
    assert words in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("timezone", "credited"),
    [
        (None, "20.11.2026, 23:30 UTC"),
        ("Europe/Berlin", "21.11.2026, 00:30 MEZ"),
        ("America/New_York", "20.11.2026, 18:30 GMT-05:00"),
    ],
)
def test_timezone_selector_moves_displayed_times(
    german_member: GermanHost, timezone: str | None, credited: str
) -> None:
    client = german_member(timezone)
    html = page(client, "/rewards/offers/61002")
    assert credited in html
    # The explanation's day follows the same timezone.
    assert f"Am {credited.split(',')[0]} gutgeschrieben" in html
    step = client.get("/rewards/api/offers/61002").get_json()["offer"]["steps"][0]
    assert (step["credited_at"], step["credited_text"]) == ("2026-11-20T23:30:00Z", credited)


# --- without Flask-Babel --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "lang", "words", "amount", "credited"),
    [
        (
            "de-DE,de;q=0.9",
            "de",
            ("Meine Angebote", "In Bearbeitung", "3 von 4 Schritten"),
            '<span class="revu-reward__value">4.200</span>',
            "Am 20.11.2026 gutgeschrieben: 300 coins wurden deinem Guthaben hinzugefügt.",
        ),
        (
            "en-US,en;q=0.8",
            "en",
            ("My offers", "In progress", "3 of 4 steps"),
            '<span class="revu-reward__value">4,200</span>',
            "Credited on Nov 20, 2026: 300 coins were added to your balance.",
        ),
    ],
)
def test_without_flask_babel_text_and_formats_follow_accept_language(
    english_member: FlaskClient,
    accept_language: str,
    lang: str,
    words: tuple[str, ...],
    amount: str,
    credited: str,
) -> None:
    history = page(english_member, "/rewards/", **{"Accept-Language": accept_language})
    assert f'<html lang="{lang}">' in history
    for word in words:
        assert word in history
    assert amount in history
    detail = page(english_member, "/rewards/offers/61002", **{"Accept-Language": accept_language})
    assert credited in detail


def test_host_without_flask_babel_installed_follows_accept_language(
    german_member: GermanHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = german_member("Europe/Berlin")
    monkeypatch.setattr(i18n, "flask_babel", None)
    html = page(client, "/rewards/offers/61002", **{"Accept-Language": "de"})
    # The kit's own German catalog; times stay in UTC without Flask-Babel's timezone.
    assert '<html lang="de">' in html
    assert "Meine Angebote" in html
    assert "Am 20.11.2026 gutgeschrieben: 300 coins" in html
    assert "20.11.2026, 23:30" in html


def test_cli_works_with_a_locale_selector_that_reads_the_request(
    make_host: HostFactory, fake_revu: FakeRevU, translations: Path
) -> None:
    # The usual Flask-Babel selector: it needs a request, and the CLI has none.
    fake_revu.set_offers(MEMBER, member_offers())
    app = make_host(BABEL_TRANSLATION_DIRECTORIES=str(translations))
    Babel(app, locale_selector=lambda: request.accept_languages.best_match(["de", "en"]))
    result = app.test_cli_runner().invoke(args=["revu", "progress", MEMBER])
    assert result.exit_code == 0, result.output
    assert "In progress" in result.output
    assert "4,200" in result.output


# --- the shipped catalog template -----------------------------------------------------------


def catalog_entries(catalog: Catalog) -> dict[Any, tuple[Any, ...]]:
    """What a translator sees per message, leaving out the header and source locations."""
    return {
        (message.id, message.context): (tuple(message.auto_comments), sorted(message.flags))
        for message in catalog
        if message.id
    }


def test_shipped_template_matches_the_sources(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    run_pybabel(*EXTRACT, "-o", str(fresh), ".")
    with fresh.open("rb") as f:
        extracted = catalog_entries(read_po(f))
    shipped = catalog_entries(template_catalog())
    missing = sorted(str(key[0]) for key in extracted.keys() - shipped.keys())
    stale = sorted(str(key[0]) for key in shipped.keys() - extracted.keys())
    regenerate = "regenerate revu_widgets/locale/messages.pot with the command in babel.cfg"
    assert not missing, f"{regenerate}; not in it yet: {missing}"
    assert not stale, f"{regenerate}; no longer in the sources: {stale}"
    assert extracted == shipped, f"{regenerate}; translator comments or flags changed"


def test_template_holds_python_labels_and_template_strings() -> None:
    shipped = template_catalog()
    # An N_ label, a plural from Python, a revu_gettext and a revu_ngettext from the templates.
    assert shipped.get("Reversed & expired") is not None
    assert shipped.get("%(num)d offer credited") is not None
    assert shipped.get("Look up a member's offers") is not None
    message = shipped.get("%(num)d pending credit is overdue")
    assert message is not None
    assert message.id == (
        "%(num)d pending credit is overdue",
        "%(num)d pending credits are overdue",
    )


def test_installed_package_exposes_the_template() -> None:
    shipped = resources.files("revu_widgets") / "locale" / "messages.pot"
    assert shipped.is_file()
    assert 'msgid "Pending credit"' in shipped.read_text(encoding="utf-8")


def test_publisher_recipe_separate_domain_next_to_the_hosts_own(
    make_host: HostFactory, fake_revu: FakeRevU, tmp_path: Path
) -> None:
    """pybabel init from the shipped template into its own domain, beside the host's catalog."""
    directory = tmp_path / "translations"
    run_pybabel(
        "init", "-i", str(POT), "-d", str(directory), "-D", "revu_widgets", "-l", "de", cwd=tmp_path
    )
    po_path = directory / "de" / "LC_MESSAGES" / "revu_widgets.po"
    with po_path.open("rb") as f:
        kit = read_po(f, locale="de", domain="revu_widgets")
    kit["My offers"].string = "Meine Angebote"
    kit["%(done)s of %(num)d step"].string = (
        "%(done)s von %(num)d Schritt",
        "%(done)s von %(num)d Schritten",
    )
    with po_path.open("wb") as f:
        write_po(f, kit)
    run_pybabel("compile", "-d", str(directory), "-D", "revu_widgets", cwd=tmp_path)
    host_catalog = Catalog(locale="de", domain="messages")
    host_catalog.add("Welcome back", "Willkommen zurück")
    write_catalog(directory, host_catalog)

    fake_revu.set_offers(MEMBER, member_offers())
    app = make_host(
        BABEL_TRANSLATION_DIRECTORIES=f"{directory};{directory}",
        BABEL_DOMAIN="messages;revu_widgets",
    )
    Babel(app, locale_selector=lambda: "de")

    @app.get("/")
    def home() -> str:
        return host_gettext("Welcome back")

    client = sign_in(app.test_client(), MEMBER)
    assert page(client, "/") == "Willkommen zurück"
    html = page(client, "/rewards/")
    assert "Meine Angebote" in html
    assert "3 von 4 Schritten" in html
    assert "1 von 1 Schritt" in html
