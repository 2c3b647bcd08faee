"""Setting the kit up: config defaults, loud and early misconfiguration, Flask conventions."""

from __future__ import annotations

import pytest
from flask import Flask

from revu_widgets import RevUClient, RevUWidgets
from revu_widgets.errors import ConfigurationError, RevUError
from revu_widgets.extension import DEFAULT_CONFIG


def bare_app(**config: object) -> Flask:
    app = Flask("host_site")
    app.config.update(TESTING=True, **config)
    return app


def test_defaults_are_applied_without_overwriting_the_hosts_values() -> None:
    app = bare_app(REVU_API_KEY="k" * 20, REVU_PAGE_SIZE=10)
    RevUWidgets(app)
    assert app.config["REVU_PAGE_SIZE"] == 10
    assert app.config["REVU_URL_PREFIX"] == DEFAULT_CONFIG["REVU_URL_PREFIX"] == "/rewards"
    assert app.config["REVU_CURRENCY_NAME"] == "coins"


def test_init_app_registers_blueprint_extension_state_and_client() -> None:
    revu = RevUWidgets()
    app = bare_app(REVU_API_KEY="k" * 20)
    revu.init_app(app)
    assert "revu_widgets" in app.blueprints
    assert app.extensions["revu_widgets"].widgets is revu
    with app.app_context():
        assert isinstance(revu.client, RevUClient)
    assert not hasattr(revu, "app")
    assert any(r.rule == "/rewards/" for r in app.url_map.iter_rules())


def test_one_extension_serves_two_apps_with_their_own_clients() -> None:
    revu = RevUWidgets()
    first, second = bare_app(REVU_API_KEY="a" * 20), bare_app(REVU_API_KEY="b" * 20)
    revu.init_app(first)
    revu.init_app(second)
    with first.app_context():
        client_one = revu.client
    with second.app_context():
        client_two = revu.client
    assert client_one is not client_two


def test_missing_key_fails_at_init_with_what_to_do() -> None:
    with pytest.raises(ConfigurationError, match=r"REVU_API_KEY is not set.*app\.config"):
        RevUWidgets(bare_app())


@pytest.mark.parametrize(
    "url",
    [
        "http://publishers.revenueuniverse.com",
        "http://10.0.0.5:8080",
        "ftp://example.com",
        "publishers.revenueuniverse.com",
        "",
    ],
)
def test_base_url_must_be_https_unless_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError, match="REVU_BASE_URL must be an https"):
        RevUWidgets(bare_app(REVU_API_KEY="k" * 20, REVU_BASE_URL=url))


@pytest.mark.parametrize("url", ["http://127.0.0.1:9999", "http://localhost:1", "http://[::1]:2"])
def test_plain_http_is_allowed_to_loopback(url: str) -> None:
    RevUWidgets(bare_app(REVU_API_KEY="k" * 20, REVU_BASE_URL=url))


def test_configuration_error_never_shows_the_key() -> None:
    secret = "s3cr3t-key-000000000"
    with pytest.raises(ConfigurationError) as caught:
        RevUWidgets(bare_app(REVU_API_KEY=secret, REVU_BASE_URL="http://example.com"))
    assert secret not in str(caught.value)
    assert isinstance(caught.value, RevUError)


def test_missing_user_loader_fails_loudly_at_the_first_request() -> None:
    app = bare_app(REVU_API_KEY="k" * 20)
    RevUWidgets(app)
    with pytest.raises(ConfigurationError, match="user_id_loader"):
        app.test_client().get("/rewards/")


def test_use_fake_runs_the_built_in_fake_on_loopback() -> None:
    app = bare_app(REVU_USE_FAKE=True)
    revu = RevUWidgets(app)
    assert app.config["REVU_BASE_URL"].startswith("http://127.0.0.1:")
    revu.user_id_loader(lambda: "alex-1")
    response = app.test_client().get("/rewards/api/progress")
    assert response.status_code == 200
    assert response.get_json()["total"] == len(revu_fake_offers(app))
    app.extensions["revu_widgets"].fake_server.shutdown()


def revu_fake_offers(app: Flask) -> list[object]:
    fake = app.extensions["revu_widgets"].fake
    assert fake is not None
    return list(fake.offers_for("alex-1"))


def test_progress_for_host_views_needs_a_signed_in_user(host: Flask) -> None:
    revu = host.extensions["test_revu"]
    with host.test_request_context("/dashboard"), pytest.raises(RevUError, match="Sign in"):
        revu.progress()


def test_progress_for_host_views_filters_by_status_word(host: Flask) -> None:
    revu = host.extensions["test_revu"]
    with host.test_request_context("/dashboard"):
        from flask import session

        session["user"] = "alex-1"
        progress = revu.progress("credited")
    assert progress.offers
    assert {o.status.value for o in progress.offers} == {"credited"}


def test_progress_for_host_views_reads_all_as_every_status(host: Flask) -> None:
    # The same words as the history's ?status= and the CLI's --status: "all" is no filter.
    revu = host.extensions["test_revu"]
    with host.test_request_context("/dashboard"):
        from flask import session

        session["user"] = "alex-1"
        everything = revu.progress("all")
        unfiltered = revu.progress()
        with pytest.raises(ValueError, match="choose one of all, in_progress"):
            revu.progress("lost")
    assert len({o.status for o in everything.offers}) > 1
    assert [o.offer_id for o in everything.offers] == [o.offer_id for o in unfiltered.offers]
    assert everything.summary.total == unfiltered.summary.total


@pytest.mark.parametrize("value", [False, 0, "false", "0", "no", "off", "FALSE", " Off "])
def test_use_fake_off_in_any_usual_spelling_keeps_the_real_key_and_url(value: object) -> None:
    app = bare_app(REVU_API_KEY="k" * 20, REVU_USE_FAKE=value)
    RevUWidgets(app)
    assert app.config["REVU_USE_FAKE"] is False
    assert app.config["REVU_API_KEY"] == "k" * 20
    assert app.config["REVU_BASE_URL"] == DEFAULT_CONFIG["REVU_BASE_URL"]
    assert app.extensions["revu_widgets"].fake is None


@pytest.mark.parametrize("value", [True, 1, "true", "1", "yes", "on", "True"])
def test_use_fake_on_in_any_usual_spelling_starts_the_fake(value: object) -> None:
    app = bare_app(REVU_USE_FAKE=value)
    RevUWidgets(app)
    try:
        assert app.config["REVU_USE_FAKE"] is True
        assert app.config["REVU_BASE_URL"].startswith("http://127.0.0.1:")
    finally:
        app.extensions["revu_widgets"].fake_server.shutdown()


@pytest.mark.parametrize("value", ["", "maybe", "disabled", "f", 2, -1, 0.0, None, [], "truee"])
def test_use_fake_refuses_anything_else_and_says_what_to_write(value: object) -> None:
    with pytest.raises(ConfigurationError, match=r"REVU_USE_FAKE must be True or False"):
        RevUWidgets(bare_app(REVU_API_KEY="k" * 20, REVU_USE_FAKE=value))


@pytest.mark.parametrize(
    "config",
    [
        {"REVU_API_KEY": "real-key-000000000000"},
        {"REVU_BASE_URL": "https://proxy.example.com"},
    ],
)
def test_use_fake_never_silently_replaces_a_configured_upstream(config: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="turn REVU_USE_FAKE off"):
        RevUWidgets(bare_app(REVU_USE_FAKE=True, **config))


@pytest.mark.parametrize("token", ["a", "x" * 31, " " * 40, "y" * 31 + " ", b"z" * 40, 12345])
def test_a_short_support_token_is_refused_at_init(token: object) -> None:
    with pytest.raises(ConfigurationError, match="at least 32 characters") as caught:
        RevUWidgets(bare_app(REVU_API_KEY="k" * 20, REVU_SUPPORT_TOKEN=token))
    assert "token_urlsafe" in str(caught.value)


@pytest.mark.parametrize("token", [None, "", "t" * 32, "u" * 200])
def test_an_unset_or_long_enough_support_token_is_accepted(token: str | None) -> None:
    app = bare_app(REVU_API_KEY="k" * 20, REVU_SUPPORT_TOKEN=token)
    RevUWidgets(app)
    assert app.config["REVU_SUPPORT_TOKEN"] == token


def test_the_fakes_own_images_are_allowed_only_while_the_fake_is_used() -> None:
    real = bare_app(REVU_API_KEY="k" * 20)
    RevUWidgets(real)
    assert "http:" not in real.config["REVU_CONTENT_SECURITY_POLICY"]
    app = bare_app(REVU_USE_FAKE=True)
    RevUWidgets(app)
    try:
        base = app.config["REVU_BASE_URL"]
        assert (
            f"img-src 'self' https: {base}/_fake/images/;"
            in (app.config["REVU_CONTENT_SECURITY_POLICY"])
        )
    finally:
        app.extensions["revu_widgets"].fake_server.shutdown()
    own = bare_app(REVU_USE_FAKE=True, REVU_CONTENT_SECURITY_POLICY="default-src 'none'")
    RevUWidgets(own)
    own.extensions["revu_widgets"].fake_server.shutdown()
    assert own.config["REVU_CONTENT_SECURITY_POLICY"] == "default-src 'none'"
