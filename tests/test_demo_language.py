"""The demo's language switch: Flask-Babel's locale, chosen by the visitor, drives the kit."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .demo_site import demo_on_fake

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    with demo_on_fake({"TESTING": True, "SECRET_KEY": "language-test"}) as app:
        yield app


def token(client: FlaskClient, path: str = "/") -> str:
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, "no form token on the page"
    return match.group(1)


def signed_in(app: Flask, user_id: str = "alex-42") -> FlaskClient:
    client = app.test_client()
    response = client.post(
        "/sign-in", data={"csrf_token": token(client, "/sign-in"), "user_id": user_id}
    )
    assert response.status_code == 302
    return client


def choose(client: FlaskClient, language: str, next_url: str = "/rewards/") -> int:
    response = client.post(
        "/language",
        data={"csrf_token": token(client), "language": language, "next": next_url},
    )
    if response.status_code == 302:
        assert response.headers["Location"] == next_url
    return response.status_code


@pytest.mark.parametrize(
    ("language", "lang", "title"),
    [
        ("es", "es", "Mis ofertas"),
        ("de", "de", "Meine Angebote"),
        ("fr", "fr", "Mes offres"),
        ("pt_BR", "pt-BR", "Minhas ofertas"),
    ],
)
def test_chosen_language_translates_the_kit_pages(
    app: Flask, language: str, lang: str, title: str
) -> None:
    client = signed_in(app)
    assert choose(client, language) == 302
    html = client.get("/rewards/").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert title in html
    assert f'<option value="{language}" lang="{lang}" selected>' in html


def test_without_a_choice_the_browser_language_is_used(app: Flask) -> None:
    client = signed_in(app)
    html = client.get("/rewards/", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(
        as_text=True
    )
    assert "Meine Angebote" in html
    assert "bamboo" in html


def test_a_choice_wins_over_the_browser_language(app: Flask) -> None:
    client = signed_in(app)
    assert choose(client, "es") == 302
    html = client.get("/rewards/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Mis ofertas" in html


def test_switch_refuses_unknown_languages_forged_forms_and_foreign_targets(app: Flask) -> None:
    client = signed_in(app)
    assert choose(client, "xx") == 400
    forged = client.post("/language", data={"csrf_token": "forged", "language": "es"})
    assert forged.status_code == 400
    response = client.post(
        "/language",
        data={"csrf_token": token(client), "language": "es", "next": "//evil.example/"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
