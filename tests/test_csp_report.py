"""In debug mode the kit's CSP reports violations to the kit, which logs each with its fix."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask

from revu_widgets import csp

from .conftest import HostFactory, sign_in

INLINE_STYLE_REPORT = {
    "csp-report": {
        "document-uri": "http://127.0.0.1:5000/rewards/",
        "referrer": "",
        "violated-directive": "style-src-elem",
        "effective-directive": "style-src-elem",
        "original-policy": "default-src 'self'",
        "disposition": "enforce",
        "blocked-uri": "inline",
        "line-number": 7,
        "source-file": "http://127.0.0.1:5000/rewards/",
        "status-code": 200,
    }
}


@pytest.fixture
def debug_host(make_host: HostFactory) -> Flask:
    return make_host(DEBUG=True)


def post_report(app: Flask, body: object, content_type: str = "application/csp-report") -> int:
    response = app.test_client().post(
        "/rewards/csp-report", data=json.dumps(body), content_type=content_type
    )
    return response.status_code


def test_debug_pages_ask_the_browser_to_report_to_the_kit(debug_host: Flask) -> None:
    client = sign_in(debug_host.test_client(), "alex-1")
    policy = client.get("/rewards/").headers["Content-Security-Policy"]
    assert policy.endswith("; report-uri /rewards/csp-report")
    assert "'nonce-" in policy


def test_without_debug_there_is_no_report_uri_and_no_route(make_host: HostFactory) -> None:
    app = make_host()
    client = sign_in(app.test_client(), "alex-1")
    assert "report-uri" not in client.get("/rewards/").headers["Content-Security-Policy"]
    assert post_report(app, INLINE_STYLE_REPORT) == 404


def test_report_uri_follows_a_custom_prefix(make_host: HostFactory) -> None:
    app = make_host(DEBUG=True, REVU_URL_PREFIX="/my-offers")
    client = sign_in(app.test_client(), "alex-1")
    policy = client.get("/my-offers/").headers["Content-Security-Policy"]
    assert policy.endswith("report-uri /my-offers/csp-report")


def test_inline_style_violation_is_logged_with_the_nonce_fix(
    debug_host: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="revu_widgets.csp"):
        assert post_report(debug_host, INLINE_STYLE_REPORT) == 204
    (record,) = [r for r in caplog.records if r.name == "revu_widgets.csp"]
    message = record.getMessage()
    assert "blocked an inline <style> on http://127.0.0.1:5000/rewards/" in message
    assert "[style-src-elem]" in message
    assert "line 7" in message
    assert 'nonce="{{ csp_nonce }}"' in message
    assert "REVU_CONTENT_SECURITY_POLICY = None" in message


def test_reporting_api_batches_are_logged_one_line_each(
    debug_host: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    batch = [
        {
            "type": "csp-violation",
            "url": "http://127.0.0.1/rewards/",
            "body": {
                "documentURL": "http://127.0.0.1/rewards/",
                "effectiveDirective": "script-src-elem",
                "blockedURL": "inline",
                "sourceFile": "http://127.0.0.1/rewards/",
                "lineNumber": 12,
            },
        },
        {
            "type": "csp-violation",
            "body": {
                "documentURL": "http://127.0.0.1/rewards/",
                "effectiveDirective": "script-src-elem",
                "blockedURL": "https://cdn.example.net/widget.js",
            },
        },
        {"type": "deprecation", "body": {"id": "x"}},
    ]
    with caplog.at_level(logging.WARNING, logger="revu_widgets.csp"):
        assert post_report(debug_host, batch, "application/reports+json") == 204
    messages = [r.getMessage() for r in caplog.records if r.name == "revu_widgets.csp"]
    assert len(messages) == 2
    assert "an inline <script>" in messages[0]
    assert "serve https://cdn.example.net/widget.js from your own site" in messages[1]


def test_inline_attribute_violation_says_attributes_cannot_carry_a_nonce() -> None:
    line = csp.describe({"effective-directive": "style-src-attr", "blocked-uri": "inline"})
    assert "an inline attribute" in line
    assert "cannot carry a nonce" in line


def test_hostile_report_values_cannot_forge_log_lines(
    debug_host: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    report = {
        "csp-report": {
            "document-uri": "http://x/\nERROR forged line\x1b[2J" + "a" * 500,
            "effective-directive": "img-src",
            "blocked-uri": "http://evil\r\n.example/",
        }
    }
    with caplog.at_level(logging.WARNING, logger="revu_widgets.csp"):
        assert post_report(debug_host, report) == 204
    (record,) = [r for r in caplog.records if r.name == "revu_widgets.csp"]
    message = record.getMessage()
    assert "\n" not in message
    assert "\r" not in message
    assert "\x1b" not in message
    assert "a" * 201 not in message


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b'{"something": "else"}', 400),
        (b"[]", 400),
        (b'{"csp-report": {"a": "' + b"x" * (csp.MAX_REPORT_BYTES + 1) + b'"}}', 413),
    ],
)
def test_bad_reports_are_refused(debug_host: Flask, body: bytes, status: int) -> None:
    response = debug_host.test_client().post(
        "/rewards/csp-report", data=body, content_type="application/csp-report"
    )
    assert response.status_code == status


def test_only_post_is_accepted(debug_host: Flask) -> None:
    assert debug_host.test_client().get("/rewards/csp-report").status_code == 405
