"""Screenshots for the manual: each macro's example, the manual itself, the history in Spanish
and German.

The macro examples are the Jinja blocks of ``docs/macros.md``, rendered with the demo's kit
against the fake's data on a frozen clock and shown in Chromium with the kit's stylesheet. The
manual is built with Sphinx (warnings as errors) into a temporary folder and served on loopback.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import render_template_string
from playwright.sync_api import Browser, Page, expect

from revu_widgets.state import full_progress, member_progress

from ..files import replace_file
from ..test_docs import example_offer, macro_examples
from .conftest import ContextFactory, LiveSite, frozen_clock, sign_in
from .test_screenshots import PNG_SIGNATURE, SHOTS, settle

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]


def save(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) < 400_000, f"{path.name} is {len(data)} bytes: keep the manual's images small"


def example_page(site: LiveSite, name: str) -> str:
    """The macro's example from the manual, rendered for alex-42, inside a bare page."""
    with site.app.test_request_context("/", base_url=site.url):
        progress = full_progress(member_progress("alex-42"))
        offer = example_offer(progress)
        body = render_template_string(
            macro_examples()[name], progress=progress, offer=offer, csp_nonce=""
        )
        assets = render_template_string(
            '{% from "revu_widgets/macros.html" import revu_assets %}{{ revu_assets() }}'
        )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{assets}</head>'
        f'<body class="revu revu-page"><main class="revu-page__main" id="example">{body}'
        "</main></body></html>"
    )


@pytest.mark.parametrize("name", sorted(macro_examples()))
def test_screenshot_of_each_macro_example(
    make_context: ContextFactory, site: LiveSite, name: str
) -> None:
    context = make_context(viewport={"width": 720, "height": 900}, color_scheme="light")
    page = context.new_page()
    with frozen_clock(site):
        html = example_page(site, name)
        # Same origin as the kit's static files, so the stylesheet loads under the site's CSP.
        page.goto(site("/sign-in"))
        page.set_content(html, wait_until="load")
        expect(page.locator("#example .revu").first).to_be_visible()
        target = SHOTS / f"macro-{name}.png"
        replace_file(
            target, page.locator("#example").screenshot(animations="disabled", caret="hide")
        )
    save(target)


@pytest.mark.parametrize(("language", "title"), [("es", "Mis ofertas"), ("de", "Meine Angebote")])
def test_screenshot_of_the_history_in_another_language(
    make_context: ContextFactory, site: LiveSite, language: str, title: str
) -> None:
    context = make_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
    page = context.new_page()
    with frozen_clock(site):
        sign_in(page, site, "alex-42")
        page.goto(site("/rewards/"))
        # The demo's language switch, as a visitor uses it.
        page.get_by_label("Language").select_option(language)
        page.get_by_role("button", name="Change").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        assert page.evaluate("document.documentElement.lang") == language
        settle(page)
        target = SHOTS / f"history-{language}-desktop-light.png"
        replace_file(target, page.screenshot(animations="disabled", caret="hide"))
    save(target)


@pytest.fixture(scope="module")
def built_manual(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The manual built from this checkout with warnings as errors.

    ``./dev.sh test`` has just built it so (``docs/_build/html``) and says where in
    ``$REVU_BUILT_MANUAL``; a plain pytest run builds it here.
    """
    prebuilt = Path(os.environ.get("REVU_BUILT_MANUAL", "") or "/nonexistent")
    if (prebuilt / "index.html").is_file():
        return prebuilt
    out = tmp_path_factory.mktemp("manual")
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("sphinx-build")),
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(REPO / "docs"),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def manual_url(built_manual: Path) -> Iterator[str]:
    handler = functools.partial(_QuietFiles, directory=str(built_manual))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def open_manual(browser: Browser, url: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
    page.goto(url)
    page.wait_for_load_state("load")
    assert not errors, errors
    return page


@pytest.mark.parametrize(
    ("path", "heading", "shot"),
    [
        ("/index.html", "revu-widgets", "docs-home"),
        ("/macros.html#offer-card", "Macros: the widget kit on your own pages", "docs-macros"),
    ],
)
def test_screenshot_of_the_manual(
    browser: Browser, manual_url: str, path: str, heading: str, shot: str
) -> None:
    page = open_manual(browser, manual_url + path.partition("#")[0])
    try:
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        _, _, fragment = path.partition("#")
        target = SHOTS / f"{shot}.png"
        # One macro's whole entry (purpose, example, signature, parameters, screenshot), or the
        # page as a reader first sees it.
        shot_of = page.locator(f"section#{fragment}") if fragment else page
        replace_file(target, shot_of.screenshot(animations="disabled", caret="hide"))
    finally:
        page.context.close()
    save(target)


def test_manual_pages_load_everything_from_loopback(browser: Browser, manual_url: str) -> None:
    # Every page and its assets come from this site: no font, script or style from elsewhere.
    for path in ("/quickstart.html", "/configuration.html", "/support.html", "/models.html"):
        page = open_manual(browser, manual_url + path)
        page.context.close()
