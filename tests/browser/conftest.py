"""The demo site served on loopback, and Debian's Chromium to drive it.

One threaded werkzeug server runs ``demo_app.create_app`` on the embedded fake RevU for this
package's tests; each test gets the fake's generated data afresh and its own browser context.
Requests for anything but loopback (the site, and the fake RevU drawing its offers' images)
fail as if offline.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    Response,
    Route,
    expect,
    sync_playwright,
)
from werkzeug.serving import WSGIRequestHandler

from demo_app import revu
from demo_app.accounts import find_user
from revu_widgets.fake import FakeRevU
from revu_widgets.fake.app import IMAGES_PREFIX

from ..demo_site import demo_on_fake
from ..servers import serve_wsgi

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SUPPORT_TOKEN = "browser-test-support-token-0123456789"
#: Playwright's wait for anything on a loopback page; generous for a loaded 2-core CI box.
DEFAULT_TIMEOUT_MS = 20_000
# ``expect(...)`` assertions wait as long (their own default is 5 s).
expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


def chromium_path() -> str:
    """The Chromium binary the tests drive: ``$REVU_CHROMIUM`` or Debian's."""
    return os.environ.get("REVU_CHROMIUM", "/usr/bin/chromium")


@dataclass(frozen=True)
class LiveSite:
    """The demo site on loopback, with the fake RevU behind it."""

    url: str
    app: Flask
    fake: FakeRevU

    def __call__(self, path: str) -> str:
        """The absolute URL of ``path`` on the site."""
        return self.url + path


def _closing_responses(app: Any) -> Any:
    """``app``, with each response body closed even when the browser hangs up mid-answer.

    werkzeug's development server skips ``close()`` when the connection was reset (the browser
    moved on while a file was being sent), and the open file then surfaces as a
    ``ResourceWarning`` in some later test.
    """

    def closing_app(environ: Any, start_response: Any) -> Iterator[bytes]:
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return closing_app


class _QuietHandler(WSGIRequestHandler):
    # One log line per asset request would bury pytest's own output.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="package")
def live_site() -> Iterator[LiveSite]:
    """The demo app on the embedded fake, served by a threaded werkzeug server on 127.0.0.1."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "browser-test-secret",
        "REVU_USE_FAKE": True,
        "REVU_SUPPORT_TOKEN": SUPPORT_TOKEN,
        # The kit polls at most every 2 s; 1 asks for that floor, so tests wait little.
        "REVU_REFRESH_SECONDS": 1,
        # These tests change the fake under open pages: every request must see its answer.
        "REVU_CACHE_SECONDS": 0,
    }
    with demo_on_fake(config) as app:
        with app.app_context():
            fake = revu.fake
        assert fake is not None, "REVU_USE_FAKE did not start the embedded fake RevU"
        with serve_wsgi(_closing_responses(app), request_handler=_QuietHandler) as url:
            yield LiveSite(url, app, fake)


@pytest.fixture
def site(live_site: LiveSite) -> LiveSite:
    """The live demo site, its fake back to generated data (no earlier advances or overrides)."""
    live_site.fake.reset()
    return live_site


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (or ``$REVU_CHROMIUM``), headless, shared by this package's tests.

    A missing browser fails the tests: they are part of the suite, not an optional extra. It
    closes with the package, because Playwright's sync API allows one driver at a time and other
    test modules start their own.
    """
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"The browser tests need Chromium, and there is none at {path}. Install it "
            "(Debian/Ubuntu: sudo apt-get install chromium; ./dev.sh test does this when run "
            "as root) or set REVU_CHROMIUM to a Chromium binary.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# -- requests that would leave the machine ----------------------------------------------------


def _off_machine(url: str) -> bool:
    return urlsplit(url).hostname not in ("127.0.0.1", "localhost")


def _offline(route: Route) -> None:
    # As if the host were unreachable (an offer image on a CDN): the pages must cope with that.
    route.abort("internetdisconnected")


ContextFactory = Callable[..., BrowserContext]


@pytest.fixture
def make_context(browser: Browser, site: LiveSite) -> Iterator[ContextFactory]:
    """Open browser contexts for this test (closed at its end); options go to ``new_context``.

    Requests for anything but loopback fail as if offline: the site and the fake RevU (which
    draws its offers' images) are all a test may reach.
    """
    opened: list[BrowserContext] = []

    def factory(**options: Any) -> BrowserContext:
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.route(_off_machine, _offline)
        opened.append(context)
        return context

    yield factory
    for context in opened:
        context.close()


@pytest.fixture
def context(make_context: ContextFactory) -> BrowserContext:
    """A fresh browser context: its own cookies, light colour scheme, 1280x800."""
    return make_context(viewport={"width": 1280, "height": 800})


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in this test's context."""
    return context.new_page()


# -- what the user would notice ---------------------------------------------------------------


@dataclass
class PageProblems:
    """Console errors, uncaught exceptions and failed requests seen on a page.

    Offer images are left out: they come from the offer's own host, which may be down. Any other
    image, script or stylesheet of the site that fails counts.
    """

    problems: list[str] = field(default_factory=list)
    #: ``(status, url)`` of pages that answer with an error status on purpose (a 404 page).
    allowed: set[tuple[int, str]] = field(default_factory=set)

    def watch(self, page: Page) -> PageProblems:
        """Start listening on ``page``."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        return self

    def allow(self, status: int, url: str) -> None:
        """``url`` answers ``status`` on purpose: neither the response nor its log line counts."""
        self.allowed.add((status, url))

    def unexpected(self) -> list[str]:
        """What was seen, less what :meth:`allow` expected."""
        return [
            line
            for line in self.problems
            if not any(
                line == f"HTTP {status}: {url}"
                or (
                    line.startswith("console: ")
                    and line.endswith(f"({url})")
                    and str(status) in line
                )
                for status, url in self.allowed
            )
        ]

    def _console(self, message: Any) -> None:
        # Chromium also logs each failed load; an offer image's may fail, as above.
        source = str(message.location.get("url", ""))
        if message.type == "error" and not (
            message.text.startswith("Failed to load resource") and is_offer_image(source)
        ):
            self.problems.append(f"console: {message.text} ({source})")

    def _failed(self, request: Request) -> None:
        # ERR_ABORTED is a load the browser itself cancelled because the page moved on.
        if not is_offer_image(request.url) and request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed: {request.url} ({request.failure})")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and not is_offer_image(response.url):
            self.problems.append(f"HTTP {response.status}: {response.url}")


def is_offer_image(url: str) -> bool:
    """An offer's own image: on the offer's host, or drawn by the fake RevU for its data."""
    return _off_machine(url) or urlsplit(url).path.startswith(IMAGES_PREFIX)


def sign_in(page: Page, site: LiveSite, user_id: str) -> None:
    """Sign in through the demo's own sign-in form, the way a visitor does."""
    user = find_user(user_id)
    assert user is not None, f"{user_id} is not a demo member"
    page.goto(site("/sign-in"))
    page.get_by_role("button", name=f"Be {user.name}").click()
    page.wait_for_url(site("/dashboard"))


def offers_by_state(page: Page, site: LiveSite) -> dict[str, list[int]]:
    """The signed-in member's offer ids per state, read from the kit's own JSON route."""
    response = page.request.get(site("/rewards/api/progress"))
    assert response.ok, response.status
    states: dict[str, list[int]] = {}
    for offer in response.json()["offers"]:
        states.setdefault(offer["state"], []).append(offer["offer_id"])
    return states


# -- every page, as the people who see it ---------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """One page on a tour of the site: what it is, where, and the status it answers with."""

    label: str
    path: str
    status: int = 200


#: Who takes the tour: between them they see every kit page, error pages and the support desk.
TOUR_MEMBERS = ("alex-42", "new-sam", "heavy-jo", "banned-pat", "staff-kim")


def tour(page: Page, site: LiveSite, user_id: str) -> list[Stop]:
    """The pages ``user_id`` can reach (``page`` is signed in as them)."""
    if user_id == "banned-pat":
        return [
            Stop("dashboard, banned", "/dashboard", 403),
            Stop("history, banned (403)", "/rewards/", 403),
        ]
    if user_id == "staff-kim":
        return [
            Stop("support search", "/rewards/support/"),
            Stop("support member", "/rewards/support/users/alex-42"),
            Stop("support member, nothing yet", "/rewards/support/users/new-sam"),
            Stop("support member, pending tab", "/rewards/support/users/alex-42?status=pending"),
        ]
    if user_id == "heavy-jo":
        return [
            Stop("dashboard", "/dashboard"),
            Stop("history", "/rewards/"),
            Stop("history, searched and sorted", "/rewards/?status=pending&sort=amount&q=a"),
            Stop("history, page 7", "/rewards/?page=7"),
        ]
    if user_id == "new-sam":
        return [Stop("dashboard", "/dashboard"), Stop("history", "/rewards/")]
    stops = [Stop("home", "/"), Stop("dashboard", "/dashboard"), Stop("history", "/rewards/")]
    stops += [
        Stop(f"history, {tab} tab", f"/rewards/?status={tab}")
        for tab in ("overdue", "in_progress", "pending", "credited", "reversed")
    ]
    stops.append(Stop("history, unknown tab", "/rewards/?status=in-progress"))
    stops += [
        Stop(f"offer, {state}", f"/rewards/offers/{ids[0]}")
        for state, ids in sorted(offers_by_state(page, site).items())
    ]
    stops.append(Stop("offer not found (404)", "/rewards/offers/999999", 404))
    return stops


def visit(page: Page, site: LiveSite, stop: Stop) -> None:
    """Open ``stop`` and check it answered as expected."""
    response = page.goto(site(stop.path))
    assert response is not None, stop
    assert response.status == stop.status, stop


# -- a fixed moment: the same pages on every run ------------------------------------------

#: The moment a frozen clock shows: data, "3 days ago" words and dates are relative to it.
FIXED_NOW = datetime(2026, 3, 18, 14, 30, tzinfo=UTC)
# Every module that asks the clock while serving a page or generating fake data.
_CLOCK_MODULES = (
    "revu_widgets.client",
    "revu_widgets.models",
    "revu_widgets.formatting",
    "revu_widgets.report",
    "revu_widgets.schemas",
    "revu_widgets.support",
    "revu_widgets.fake.app",
)


class _FixedDateTime(datetime):
    """``datetime`` whose ``now()`` is :data:`FIXED_NOW`."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        moment = FIXED_NOW if tz is None else FIXED_NOW.astimezone(tz)
        return moment if tz is not None else moment.replace(tzinfo=None)


@contextlib.contextmanager
def frozen_clock(site: LiveSite) -> Iterator[None]:
    """Serve the site as if it were :data:`FIXED_NOW`, with the fake's data to match.

    Pages then read the same on every load, run and day: screenshots only change when the
    pages do, and two loads of a page can be compared word for word.
    """
    import importlib

    modules = [importlib.import_module(name) for name in _CLOCK_MODULES]
    with pytest.MonkeyPatch.context() as patch:
        for module in modules:
            patch.setattr(module, "datetime", _FixedDateTime)
        # Data generated before the patch is relative to today; start over from the fixed day,
        # and number RevU support references from the start as a fresh fake does.
        site.fake.reset()
        patch.setattr(site.fake, "_support_ids", itertools.count(918273645))
        try:
            yield
        finally:
            site.fake.reset()


def wait_for_js(page: Page, expression: str, *, timeout: float = DEFAULT_TIMEOUT_MS / 1000) -> None:
    """Wait until ``expression`` is truthy in the page.

    Playwright's ``wait_for_function`` re-evaluates its predicate with ``eval`` inside the page,
    which the kit's CSP (rightly) forbids; ``page.evaluate`` runs through the debugging
    protocol instead, so polling it from here works under any policy.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:g} s: {expression}")
        time.sleep(0.05)


def refresh_settled(page: Page) -> None:
    """Wait until the offer page's live refresh has dealt with any check it has under way.

    The kit marks its root ``aria-busy="true"`` when a timer sends a request, and clears it only
    once the answer is in the page and the next check scheduled. On a paused page clock
    (``page.clock.pause_at``), a test can then move time on knowing exactly which checks ran,
    however slowly a loaded machine answered them.
    """
    wait_for_js(page, "!document.querySelector('[data-revu-live][aria-busy=true]')")
