"""Access rules on every route, and the API key kept out of everything a person can see.

The key watch in ``conftest.py`` scans every response, log record and kit exception of every
reliability test; the tests here first prove that it finds a planted key, then add what a
single route cannot show: production-mode error handling, debug logging of the HTTP stack, the
terminal command, and how the key travels upstream.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from revu_widgets import RevUWidgets
from revu_widgets.errors import UpstreamUnavailableError
from revu_widgets.fake import FakeRevU

from .conftest import HostBuilder, KeyWatch
from .hosts import SECRET_API_KEY, SECRET_FRAGMENTS, SUPPORT_TOKEN, signed_in
from .matrix import FAULTS, MEMBER, ROUTES, STAFF, make_upstreams, run_cell

SLOW_FAULTS = {"timeout", "429-short", "429-short-once", "slow-drip", "huge-20mb", "slow-ok"}
BEARER = {"Authorization": f"Bearer {SUPPORT_TOKEN}"}


def offer_id_of(fake: FakeRevU) -> int:
    return int(fake.offers_for(MEMBER)[0]["offer_id"])


def test_key_watch_finds_a_planted_key_in_logs_errors_and_responses(
    key_watch: KeyWatch, make_kit_host: HostBuilder
) -> None:
    logging.getLogger("host.app").debug("calling with %s", SECRET_API_KEY[:12] + "...")
    assert key_watch.findings() == ["log record"]
    key_watch.forget()
    UpstreamUnavailableError(f"failed with key {SECRET_API_KEY}")
    assert key_watch.findings() == [
        "exception UpstreamUnavailableError",
        "exception UpstreamUnavailableError attributes",
    ]
    key_watch.forget()
    app = make_kit_host()
    app.add_url_rule("/leaky", "leaky", lambda: Response("ok", headers={"X-Debug": SECRET_API_KEY}))
    app.test_client().get("/leaky")
    assert key_watch.findings() == ["response 200 /leaky"]
    key_watch.forget()


# The faults that answer at once (the slow ones only add waiting to the same code paths).
QUICK_FAULTS = [f for f in FAULTS if f.slug not in SLOW_FAULTS]


def test_no_route_shows_the_key_under_any_fault_in_production_mode_with_debug_logs(
    fake_revu: FakeRevU, fake_revu_server: Any, key_watch: KeyWatch
) -> None:
    # Production settings (Flask's own 500 handling and error logging) and the HTTP stack's
    # debug logging on: the places a key usually slips out.
    ups = make_upstreams(fake_revu, fake_revu_server.url)
    for app in (ups.live, ups.refused):
        app.config.update(TESTING=False, DEBUG=False, PROPAGATE_EXCEPTIONS=False)
    for name in ("urllib3", "requests", "werkzeug", "revu_widgets"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        for fault in QUICK_FAULTS:
            for route in ROUTES:
                cell = run_cell(ups, route, fault)
                assert cell.status < 500 or cell.status in (502, 503, 504), cell.problems
                assert not cell.problems, (fault.slug, route.title, cell.problems)
    finally:
        for name in ("urllib3", "requests", "werkzeug", "revu_widgets"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    assert len(key_watch.capture.records) > len(QUICK_FAULTS) * len(ROUTES)
    assert not key_watch.findings()


def test_key_travels_upstream_only_in_the_x_api_key_header(
    fake_revu: FakeRevU, alex: FlaskClient
) -> None:
    offer_id = offer_id_of(fake_revu)
    for url in ("/rewards/", "/rewards/api/progress", f"/rewards/offers/{offer_id}"):
        alex.get(url)
    assert fake_revu.requests
    for record in fake_revu.requests:
        assert record.key_source == "x-api-key"
        assert record.key_valid
        sent = record.path + repr(record.query)
        assert not any(fragment in sent for fragment in SECRET_FRAGMENTS)
        assert not any(h.lower() == "authorization" for h in record.headers)


def test_client_and_kit_state_reprs_hide_the_key(kit_host: Flask) -> None:
    state = kit_host.extensions["revu_widgets"]
    for text in (repr(state), repr(state.client), str(vars(state.client))):
        assert not any(fragment in text for fragment in SECRET_FRAGMENTS)


def test_terminal_command_shows_no_key_on_success_or_failure(
    kit_host: Flask, fake_revu: FakeRevU
) -> None:
    runner = kit_host.test_cli_runner()
    outputs = [runner.invoke(args=["revu", "progress", MEMBER]).output]
    outputs.append(runner.invoke(args=["revu", "progress", MEMBER, "--json"]).output)
    for fault in ("drop", "non_json", "hang"):
        fake_revu.add_fault(fault, count=None)
        result = runner.invoke(args=["revu", "progress", MEMBER])
        assert result.exit_code != 0
        outputs.append(result.output)
        fake_revu.clear_faults()
    assert MEMBER in outputs[0]
    for output in outputs:
        assert not any(fragment in output for fragment in SECRET_FRAGMENTS)
        assert "Traceback" not in output


# --- access --------------------------------------------------------------------------------

USER_ID_PARAMETERS = ["user_id", "uid", "userId", "user", "id", "member", "sub", "revu_user_id"]


def test_user_id_parameters_and_headers_are_ignored_on_every_route(
    kit_host: Flask, fake_revu: FakeRevU
) -> None:
    offer_id = offer_id_of(fake_revu)
    query = "&".join(f"{name}=heavy-1" for name in USER_ID_PARAMETERS)
    headers = {"X-User-Id": "heavy-1", "X-Revu-User": "heavy-1", "X-Forwarded-User": "heavy-1"}
    member = signed_in(kit_host, MEMBER)
    staff = signed_in(kit_host, STAFF)
    for route in ROUTES:
        client = staff if route.support else member
        extra = BEARER if route.support and route.json else {}
        response = client.get(f"{route.url(offer_id)}?{query}", headers={**headers, **extra})
        assert response.status_code == 200, route.title
    assert {r.user_id for r in fake_revu.requests} == {MEMBER}


def test_support_routes_and_search_ignore_query_ids_for_the_looked_up_member(
    kit_host: Flask, fake_revu: FakeRevU
) -> None:
    staff = signed_in(kit_host, STAFF)
    staff.get(f"/rewards/support/users/{MEMBER}?user_id=heavy-1")
    assert {r.user_id for r in fake_revu.requests} == {MEMBER}


def _support_token_app(fake_revu_server: Any, *, token: str | None) -> Flask:
    app = Flask("host_without_support_loader")
    app.config.update(
        TESTING=True,
        SECRET_KEY="s",
        REVU_API_KEY=SECRET_API_KEY,
        REVU_BASE_URL=fake_revu_server.url,
        REVU_SUPPORT_TOKEN=token,
    )
    revu = RevUWidgets(app)
    revu.user_id_loader(lambda: MEMBER)
    return app


SUPPORT_REFUSALS = [
    # (who, path kind, headers, expected status)
    ("signed out", "page", {}, 403),
    ("member", "page", {}, 403),
    ("signed out", "search", {}, 403),
    ("member", "search", {}, 403),
    ("signed out", "api", {}, 401),
    ("staff session", "api", {}, 401),
    ("member", "api", {"Authorization": "Bearer wrong-token"}, 401),
    ("signed out", "api", {"Authorization": f"Basic {SUPPORT_TOKEN}"}, 401),
    ("signed out", "api", {"Authorization": SUPPORT_TOKEN}, 401),
    ("signed out", "api", {"Authorization": f"Bearer {SUPPORT_TOKEN[:-1]}"}, 401),
    ("signed out", "api", {"Authorization": f"Bearer {SUPPORT_TOKEN}x"}, 401),
    ("signed out", "api", {"X-Support-Token": SUPPORT_TOKEN}, 401),
    ("signed out", "api-query-token", {}, 401),
]


@pytest.mark.parametrize(
    ("who", "kind", "headers", "status"), SUPPORT_REFUSALS, ids=range(len(SUPPORT_REFUSALS))
)
def test_support_routes_refuse_without_access_and_never_ask_upstream(
    kit_host: Flask,
    fake_revu: FakeRevU,
    who: str,
    kind: str,
    headers: dict[str, str],
    status: int,
) -> None:
    client = kit_host.test_client()
    if who != "signed out":
        client = signed_in(kit_host, STAFF if who == "staff session" else MEMBER)
    url = {
        "page": f"/rewards/support/users/{MEMBER}",
        "search": f"/rewards/support/?user_id={MEMBER}",
        "api": f"/rewards/support/api/users/{MEMBER}",
        "api-query-token": (
            f"/rewards/support/api/users/{MEMBER}?token={SUPPORT_TOKEN}"
            f"&access_token={SUPPORT_TOKEN}&api_key={SUPPORT_TOKEN}"
        ),
    }[kind]
    response = client.get(url, headers=headers)
    assert response.status_code == status
    assert fake_revu.requests == []
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert SUPPORT_TOKEN not in response.get_data(as_text=True)


def test_support_views_and_api_do_not_exist_unless_turned_on(
    fake_revu: FakeRevU, fake_revu_server: Any
) -> None:
    client = _support_token_app(fake_revu_server, token=None).test_client()
    for url in (
        "/rewards/support/",
        f"/rewards/support/users/{MEMBER}",
        f"/rewards/support/api/users/{MEMBER}",
    ):
        assert client.get(url, headers=BEARER).status_code == 404
    assert fake_revu.requests == []


def test_the_support_token_alone_opens_only_the_chatbot_api(
    fake_revu: FakeRevU, fake_revu_server: Any
) -> None:
    client = _support_token_app(fake_revu_server, token=SUPPORT_TOKEN).test_client()
    assert client.get(f"/rewards/support/api/users/{MEMBER}", headers=BEARER).status_code == 200
    # No access loader: the staff pages stay closed, token or not.
    assert client.get(f"/rewards/support/users/{MEMBER}", headers=BEARER).status_code == 404
