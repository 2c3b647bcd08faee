"""Shared fixtures: the fake RevU on loopback and a small host site with the kit installed.

``./dev.sh test`` runs the suite on several pytest-xdist workers (one process each, a test file
stays on one worker). Fixtures must therefore not share anything between processes: servers on
free loopback ports (port 0), files under ``tmp_path``/``tmp_path_factory``, one redis-server per
test; a file a test writes into the checkout (a screenshot) has a name no other test writes,
and is replaced whole (:func:`tests.files.replace_file`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, request, session
from flask.testing import FlaskClient

from revu_widgets import RevUWidgets
from revu_widgets.fake import FAKE_API_KEY
from revu_widgets.fake.server import FakeServer

from .reliability.scan_totals import TOTALS, WORKER_OUTPUT_KEY
from .template_code import SharedTemplateCode

pytest_plugins = ["revu_widgets.fake.pytest_plugin", "tests.redis_server"]

# Every Flask app a test builds reuses the code another app of this process compiled from the
# same template (see tests/template_code.py) instead of compiling the kit's templates again.
Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": SharedTemplateCode()}

HostFactory = Callable[..., Flask]
UserLoader = Callable[[], str | None]


def session_user() -> str | None:
    """The user ``sign_in`` put in the host's session."""
    user: str | None = session.get("user")
    return user


def header_user() -> str | None:
    """The user named by the request's ``X-Test-User`` header, for hosts without a session."""
    return request.headers.get("X-Test-User")


@pytest.fixture
def make_host(fake_revu_server: FakeServer) -> HostFactory:
    """Build a host site like a publisher's: its own sign-in, the kit installed.

    The signed-in user is whatever ``sign_in`` put in the host's session, or what ``signed_in``
    returns; staff are users whose id starts with ``staff-`` unless ``is_staff`` says otherwise.
    Keyword config overrides the defaults, the upstream URL and key included.
    """

    def factory(
        *,
        register_blueprint: bool = True,
        signed_in: UserLoader = session_user,
        is_staff: Callable[[], bool] | None = None,
        **config: Any,
    ) -> Flask:
        app = Flask("host_site")
        app.config.update(
            TESTING=True,
            SECRET_KEY="test-secret",
            REVU_API_KEY=FAKE_API_KEY,
            REVU_BASE_URL=fake_revu_server.url,
            REVU_MAX_RETRIES=0,
            # Generous: a heavy member's history on a machine busy with parallel test workers
            # takes seconds. Tests of a hanging RevU set short limits of their own.
            REVU_TIMEOUT=(10.0, 10.0),
            REVU_DEADLINE=20.0,
            # These tests change the fake between requests: every request must see its current
            # answer. Snapshot reuse has its own tests (test_store.py).
            REVU_CACHE_SECONDS=0,
        )
        app.config.update(config)
        revu = RevUWidgets(app, register_blueprint=register_blueprint)
        revu.user_id_loader(signed_in)

        @revu.support_access_loader
        def may_use_support() -> bool:
            if is_staff is not None:
                return is_staff()
            return str(signed_in() or "").startswith("staff-")

        app.extensions["test_revu"] = revu
        return app

    return factory


@pytest.fixture
def host(make_host: HostFactory) -> Flask:
    """The host site with the kit at the default prefix, ``/rewards``."""
    return make_host()


def sign_in(client: FlaskClient, user_id: str) -> FlaskClient:
    """Sign ``user_id`` in to the host site, the way the host's own login would."""
    with client.session_transaction() as sess:
        sess["user"] = user_id
    return client


@pytest.fixture
def member(host: Flask) -> FlaskClient:
    """A browser signed in as an active member with offers in every status."""
    return sign_in(host.test_client(), "alex-1")


# -- the API key guard's counts, over every worker ---------------------------------------------


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a worker: hand what the key guard scanned to the controlling process."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[WORKER_OUTPUT_KEY] = TOTALS.as_dict()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the controller: add up a finished worker's counts."""
    counts = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if counts:
        TOTALS.add(counts)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how much the key guard scanned, so a clean run is visibly a real one."""
    line = TOTALS.summary()
    if line is not None:
        terminalreporter.write_line(line)
