"""Chromium reports what the kit's CSP blocked in a host layout; the terminal gets the fix.

A host in debug mode whose layout has an inline ``<style>`` (without the kit's nonce) and one
that carries it: the first is blocked on kit pages and the browser's report becomes a log line
naming the fix; the second is applied and nothing is reported.
"""

from __future__ import annotations

import logging
import time

import pytest
from flask import Flask
from jinja2 import DictLoader
from playwright.sync_api import Browser

from ..conftest import HostFactory
from ..servers import serve_wsgi
from .conftest import DEFAULT_TIMEOUT_MS

pytestmark = pytest.mark.browser

LAYOUT = """<!doctype html>
<html lang="en"><head><title>{% block title %}{% endblock %}</title>
<style{{ nonce_attribute }}>header { color: rgb(1, 2, 3); }</style></head>
<body><header>Host site</header>{% block content %}{% endblock %}</body></html>"""


def host_with_layout(make_host: HostFactory, nonce: bool) -> Flask:
    attribute = ' nonce="{{ csp_nonce }}"' if nonce else ""
    app = make_host(DEBUG=True, REVU_BASE_TEMPLATE="layout.html", signed_in=lambda: "alex-1")
    app.jinja_loader = DictLoader(  # type: ignore[assignment]
        {"layout.html": LAYOUT.replace("{{ nonce_attribute }}", attribute)}
    )
    return app


def csp_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The kit's CSP log lines about inline blocks (the fake's http images are reported too)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "revu_widgets.csp" and "inline" in r.getMessage()
    ]


def header_colour(browser: Browser, url: str) -> str:
    context = browser.new_context()
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(url)
        colour: str = page.eval_on_selector("header", "e => getComputedStyle(e).color")
        return colour
    finally:
        context.close()


def test_blocked_inline_style_in_the_host_layout_is_logged_with_the_fix(
    browser: Browser, make_host: HostFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="revu_widgets.csp")
    with serve_wsgi(host_with_layout(make_host, nonce=False)) as base:
        assert header_colour(browser, base + "/rewards/") != "rgb(1, 2, 3)"
        deadline = time.monotonic() + 15
        while not csp_lines(caplog) and time.monotonic() < deadline:
            time.sleep(0.1)
    lines = csp_lines(caplog)
    assert lines, "Chromium sent no CSP report to the kit"
    assert "an inline <style>" in lines[0]
    assert "/rewards/" in lines[0]
    assert 'nonce="{{ csp_nonce }}"' in lines[0]


def test_inline_style_with_the_kit_nonce_applies_and_is_not_reported(
    browser: Browser, make_host: HostFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="revu_widgets.csp")
    with serve_wsgi(host_with_layout(make_host, nonce=True)) as base:
        assert header_colour(browser, base + "/rewards/") == "rgb(1, 2, 3)"
    assert csp_lines(caplog) == []
