"""In debug mode, the browser reports what the kit's Content-Security-Policy blocked.

The kit's pages send a strict, nonce-based policy. A host layout with an inline ``<style>`` or
``<script>`` then loses it on the kit's pages only, and the browser says so in its console,
where a developer may never look. With ``app.debug`` on, the policy carries a ``report-uri``
pointing at the kit's ``csp-report`` route, which logs each violation on the
``revu_widgets.csp`` logger with the fix, so it shows up in the terminal running the app.
Without debug mode the route answers 404 and the policy has no ``report-uri``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from flask import Response, abort, current_app, request, url_for

log = logging.getLogger("revu_widgets.csp")

#: Reports larger than this are not read (a real one is well under 4 KB).
MAX_REPORT_BYTES = 16 * 1024
#: Longest value quoted from a report in the log line.
_VALUE_LIMIT = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

_INLINE_FIX = (
    "give the inline <style>/<script> in your layout the kit's nonce: "
    '<style nonce="{{ csp_nonce }}"> / <script nonce="{{ csp_nonce }}">, or move it into a '
    "file on your site; or set REVU_CONTENT_SECURITY_POLICY = None and send your own policy"
)
_ATTRIBUTE_FIX = (
    'inline style="..." and on...= handler attributes cannot carry a nonce: move them into '
    "a stylesheet or a script file; or set REVU_CONTENT_SECURITY_POLICY = None and send "
    "your own policy"
)
_EVAL_FIX = "the kit's policy forbids eval() and new Function(): load code from files instead"
_URL_FIX = (
    "the kit's policy loads scripts, styles and connections from this site only: serve %s "
    "from your own site, or set REVU_CONTENT_SECURITY_POLICY to a policy that allows it"
)


def policy_with_report_uri(policy: str) -> str:
    """``policy`` plus a ``report-uri`` to the kit's report route (for debug mode)."""
    if "report-uri" in policy:
        return policy
    return f"{policy.rstrip('; ')}; report-uri {url_for('revu_widgets.csp_report')}"


def _clean(value: Any) -> str:
    text = _UNSAFE.sub("", str(value))
    return text if len(text) <= _VALUE_LIMIT else text[:_VALUE_LIMIT] + "…"


def violations(payload: Any) -> list[Mapping[str, Any]]:
    """The violation bodies in a ``report-uri`` or a Reporting API payload (others ignored)."""
    if isinstance(payload, Mapping) and isinstance(payload.get("csp-report"), Mapping):
        return [payload["csp-report"]]
    if isinstance(payload, list):
        return [
            item["body"]
            for item in payload
            if isinstance(item, Mapping)
            and item.get("type") == "csp-violation"
            and isinstance(item.get("body"), Mapping)
        ]
    return []


def _field(report: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = report.get(name)
        if value not in (None, ""):
            return _clean(value)
    return ""


def describe(report: Mapping[str, Any]) -> str:
    """One log line for a violation: what was blocked, where, and what to change."""
    directive = _field(report, "effective-directive", "effectiveDirective", "violated-directive")
    blocked = _field(report, "blocked-uri", "blockedURL")
    page = _field(report, "document-uri", "documentURL")
    source = _field(report, "source-file", "sourceFile")
    line = _field(report, "line-number", "lineNumber")
    if blocked == "inline" and directive.endswith("-attr"):
        what, fix = "an inline attribute", _ATTRIBUTE_FIX
    elif blocked == "inline":
        kind = "script" if directive.startswith("script") else "style"
        what, fix = f"an inline <{kind}>", _INLINE_FIX
    elif blocked in {"eval", "wasm-eval"}:
        what, fix = "eval()", _EVAL_FIX
    else:
        what, fix = blocked or "a resource", _URL_FIX % (blocked or "it")
    where = f" ({source}, line {line})" if source and line else f" ({source})" if source else ""
    return (
        f"Content-Security-Policy blocked {what} on {page or 'a kit page'} "
        f"[{directive or 'unknown directive'}]{where}. Fix: {fix}."
    )


def receive_report() -> Response:
    """Log the violations of one browser report (the blueprint's ``csp_report`` route)."""
    if not current_app.debug:
        abort(404)
    if (request.content_length or 0) > MAX_REPORT_BYTES:
        abort(413)
    raw = request.get_data(cache=False)
    if len(raw) > MAX_REPORT_BYTES:
        abort(413)
    try:
        payload = json.loads(raw)
    except ValueError:
        abort(400)
    found = violations(payload)
    if not found:
        abort(400)
    for report in found:
        log.warning("%s", describe(report))
    return Response(status=204)


__all__ = [
    "MAX_REPORT_BYTES",
    "describe",
    "policy_with_report_uri",
    "receive_report",
    "violations",
]
