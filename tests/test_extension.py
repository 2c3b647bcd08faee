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
