"""The demo site served on loopback, and Debian's Chromium to drive it.

One threaded werkzeug server runs ``demo_app.create_app`` on the embedded fake RevU for the whole
session; each test gets the fake's generated data afresh and its own browser context. Requests
to anything but the live server never leave the machine: offer images are answered locally or
fail as if offline, everything else is refused.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    Response,
    Route,
    sync_playwright,
)
from werkzeug.serving import WSGIRequestHandler, make_server

from demo_app import create_app, revu
from demo_app.accounts import find_user
from revu_widgets.fake import FakeRevU

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SUPPORT_TOKEN = "browser-test-support-token-0123"
#: Playwright's wait for anything on a loopback page; generous for a loaded 2-core CI box.
DEFAULT_TIMEOUT_MS = 8_000
#: Where the fake's offer images live; the tests answer them locally.
OFFER_IMAGES = "https://cdn.revu.example/"


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


class _QuietHandler(WSGIRequestHandler):
    # One log line per asset request would bury pytest's own output.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="session")
def live_site() -> Iterator[LiveSite]:
    """The demo app on the embedded fake, served by a threaded werkzeug server on 127.0.0.1."""
    with pytest.MonkeyPatch.context() as env:
        # The demo talks to the real RevU when a key is in the environment; tests never do.
        env.delenv("REVU_API_KEY", raising=False)
        env.delenv("REVU_BASE_URL", raising=False)
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "browser-test-secret",
                "REVU_USE_FAKE": True,
                "REVU_SUPPORT_TOKEN": SUPPORT_TOKEN,
                # The kit polls at most every 2 s; 1 asks for that floor, so tests wait little.
                "REVU_REFRESH_SECONDS": 1,
            }
        )
    with app.app_context():
        fake = revu.fake
    assert fake is not None, "REVU_USE_FAKE did not start the embedded fake RevU"
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-site", daemon=True)
    thread.start()
    try:
        yield LiveSite(f"http://127.0.0.1:{server.server_port}", app, fake)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        fake_server = app.extensions["revu_widgets"].fake_server
        if fake_server is not None:
            fake_server.shutdown()


@pytest.fixture
def site(live_site: LiveSite) -> LiveSite:
    """The live demo site, its fake back to generated data (no earlier advances or overrides)."""
    live_site.fake.reset()
    return live_site


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (or ``$REVU_CHROMIUM``), headless, for the whole session.

    A missing browser fails the tests: they are part of the suite, not an optional extra.
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

_PLACEHOLDER_COLOURS = ("#2f6f4f", "#8a4b08", "#1d4ed8", "#7c3aed", "#b91c1c", "#0f766e")


def placeholder_image(url: str) -> bytes:
    """A small square SVG standing in for an offer's image, its colour fixed by the URL."""
    colour = _PLACEHOLDER_COLOURS[sum(url.encode()) % len(_PLACEHOLDER_COLOURS)]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="12" fill="{colour}"/>'
        '<circle cx="32" cy="26" r="10" fill="#fff" fill-opacity=".85"/>'
        '<rect x="14" y="42" width="36" height="8" rx="4" fill="#fff" fill-opacity=".85"/>'
        "</svg>"
    ).encode()


def _answer_offer_images(route: Route) -> None:
    if route.request.url.startswith(OFFER_IMAGES):
        route.fulfill(
            status=200, content_type="image/svg+xml", body=placeholder_image(route.request.url)
        )
    else:
        route.abort("blockedbyclient")


def _offline(route: Route) -> None:
    # As if the image host were unreachable: the pages must cope with that.
    route.abort("internetdisconnected")


ContextFactory = Callable[..., BrowserContext]


@pytest.fixture
def make_context(browser: Browser, site: LiveSite) -> Iterator[ContextFactory]:
    """Open browser contexts for this test (closed at its end).

    ``offer_images=True`` answers offer images with local placeholders (for screenshots);
    otherwise they fail like an unreachable host. Other options go to ``new_context``.
    """
    opened: list[BrowserContext] = []

    def factory(*, offer_images: bool = False, **options: Any) -> BrowserContext:
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.route(
            lambda url: not url.startswith(site.url + "/"),
            _answer_offer_images if offer_images else _offline,
        )
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

    Offer images are left out: they come from the offer's own host, which may be down.
    """

    problems: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> PageProblems:
        """Start listening on ``page``."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        return self

    def _console(self, message: Any) -> None:
        # Chromium also logs each failed load; an offer image's is expected when offline.
        source = str(message.location.get("url", ""))
        if message.type == "error" and not source.startswith(OFFER_IMAGES):
            self.problems.append(f"console: {message.text} ({source})")

    def _failed(self, request: Request) -> None:
        if request.resource_type != "image":
            self.problems.append(f"failed: {request.url} ({request.failure})")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "image":
            self.problems.append(f"HTTP {response.status}: {response.url}")


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


# -- a fixed moment: the same pages on every run ------------------------------------------

#: The moment a frozen clock shows: data, "3 days ago" words and dates are relative to it.
FIXED_NOW = datetime(2026, 3, 18, 14, 30, tzinfo=UTC)
# Every module that asks the clock while serving a page or generating fake data.
_CLOCK_MODULES = (
    "revu_widgets.client",
    "revu_widgets.models",
    "revu_widgets.presentation",
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
        # Data generated before the patch is relative to today; start over from the fixed day.
        site.fake.reset()
        try:
            yield
        finally:
            site.fake.reset()
