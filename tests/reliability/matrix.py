"""The fault matrix: every upstream failure against every kit page and JSON route.

One table (:data:`FAULTS` x :data:`ROUTES`) drives both the tests in ``test_fault_matrix.py``
and the published table, so the two cannot drift apart::

    python -m tests.reliability.matrix          # the expected table, as markdown
    python -m tests.reliability.matrix --run    # run every cell against the fake, with timings
    python -m tests.reliability.matrix --write docs/fault-matrix.md

``--run`` exits with status 1 when any cell answers differently from the table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import Flask

from revu_widgets.fake import FakeRevU, serve_in_thread

from .hosts import (
    FAST_DEADLINE,
    FAST_RETRIES,
    FAST_TIMEOUT,
    SECRET_API_KEY,
    SECRET_FRAGMENTS,
    SUPPORT_TOKEN,
    build_host,
    closed_loopback_port,
    signed_in,
)

#: The member whose pages are requested, and the staff member who looks them up.
MEMBER = "alex-1"
STAFF = "staff-1"
#: What a cell may take beyond the deadline: parsing a 20 MB answer, rendering, the test client,
#: on a machine busy with other work (parallel test workers included). Generous on purpose: the
#: budget shows the deadline ends a 3,600 s hang or an endless trickle, not how fast this
#: machine is.
SLACK_SECONDS = 60.0
#: The longest any cell may take.
TIME_BUDGET = FAST_DEADLINE + SLACK_SECONDS


@dataclass(frozen=True, slots=True)
class Route:
    """One of the kit's pages or JSON routes."""

    title: str
    path: str
    json: bool
    #: Asks upstream for one offer (``offer_id=``) rather than the whole history.
    single_offer: bool = False
    support: bool = False

    def url(self, offer_id: int) -> str:
        """The path for the test member (or the member support looks up) and ``offer_id``."""
        return self.path.format(offer_id=offer_id, member=MEMBER)


ROUTES: tuple[Route, ...] = (
    Route("history page `/`", "/rewards/", json=False),
    Route("offer page `/offers/<id>`", "/rewards/offers/{offer_id}", json=False, single_offer=True),
    Route("`/api/progress`", "/rewards/api/progress", json=True),
    Route("`/api/offers/<id>`", "/rewards/api/offers/{offer_id}", json=True, single_offer=True),
    Route("support page", "/rewards/support/users/{member}", json=False, support=True),
    Route("support JSON", "/rewards/support/api/users/{member}", json=True, support=True),
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One way upstream fails, and what every route must answer."""

    slug: str
    title: str
    #: The fake's fault kind (see ``revu_widgets.fake.faults.FAULT_DEFAULTS``); ``None`` for a
    #: refused connection, which needs no fake at all.
    kind: str | None
    params: Mapping[str, Any] = field(default_factory=dict)
    #: Requests it applies to; ``None`` means every one (retries included).
    count: int | None = None
    status: int = 502
    #: The JSON error code; ``None`` when the answer is a success.
    code: str | None = "bad_payload"
    #: Status and code on the single-offer routes, when they differ.
    offer_status: int | None = None
    offer_code: str | None = None
    #: A ``Retry-After`` header is expected on the answer.
    retry_after: bool = False

    def expected(self, route: Route) -> tuple[int, str | None]:
        """``(status, JSON error code)`` that ``route`` must answer with."""
        if route.single_offer and self.offer_status is not None:
            return self.offer_status, self.offer_code
        return self.status, self.code


def _status(code: int, **headers: str) -> dict[str, Any]:
    return {"status": code, "headers": headers}


FAULTS: tuple[Fault, ...] = (
    Fault("timeout", "upstream hangs (no answer)", "hang", status=504, code="upstream_timeout"),
    Fault("refused", "connection refused", None, status=503, code="upstream_unavailable"),
    Fault("dropped", "connection dropped, no answer", "drop", status=503,
          code="upstream_unavailable"),
    Fault("http-500", "HTTP 500", "status", _status(500), status=503,
          code="upstream_unavailable"),
    Fault("http-502", "HTTP 502", "status", _status(502), status=503,
          code="upstream_unavailable"),
    Fault("http-503", "HTTP 503", "status", _status(503), status=503,
          code="upstream_unavailable"),
    Fault("http-504", "HTTP 504", "status", _status(504), status=504,
          code="upstream_timeout"),
    Fault("429-long", "HTTP 429, Retry-After: 120", "status",
          _status(429, **{"Retry-After": "120"}), status=429, code="rate_limited",
          retry_after=True),
    Fault("429-short", "HTTP 429, Retry-After: 1, every time", "status",
          _status(429, **{"Retry-After": "1"}), status=429, code="rate_limited",
          retry_after=True),
    Fault("429-short-once", "HTTP 429, Retry-After: 1, once (waited out)", "status",
          _status(429, **{"Retry-After": "1"}), count=1, status=200, code=None),
    Fault("http-401", "HTTP 401 (bad key)", "status", _status(401), status=502,
          code="upstream_auth"),
    Fault("http-403", "HTTP 403 `{\"error\": {\"code\": \"INVALID_API_KEY\"}}`", "status",
          {"status": 403, "body": {"error": {"code": "INVALID_API_KEY", "message": "no"}}},
          status=502, code="upstream_auth"),
    Fault("http-403-bare", "HTTP 403 without an error code", "status",
          {"status": 403, "body": "Forbidden"}, status=502, code="upstream_forbidden"),
    Fault("banned", "HTTP 403 `USER_BANNED`", "status",
          {"status": 403, "body": {"status": "error", "code": "USER_BANNED", "message": "no"}},
          status=403, code="user_banned"),
    Fault("ip-banned", "HTTP 403 `{\"error\": \"IP_BANNED\"}`", "status",
          {"status": 403, "body": {"error": "IP_BANNED"}}, status=403, code="ip_banned"),
    Fault("http-400", "HTTP 400 (bad parameter)", "status", _status(400), status=502,
          code="upstream_bad_request"),
    Fault("redirect", "HTTP 302 to elsewhere", "status",
          _status(302, Location="https://elsewhere.example/"), status=502, code="upstream_error"),
    Fault("non-json-200", "HTTP 200 with an HTML page", "non_json", {"status": 200}),
    Fault("non-json-502", "HTTP 502 HTML page from a proxy", "non_json", {"status": 502},
          status=503, code="upstream_unavailable"),
    Fault("truncated", "JSON cut half-way (honest length)", "truncated"),
    Fault("truncated-short", "JSON cut half-way, connection closed early", "truncated",
          {"honest_length": False}),
    Fault("empty", "HTTP 200, empty body", "empty"),
    *(
        Fault(f"envelope-{variant}", f"wrong envelope: {title}", "envelope", {"variant": variant})
        for variant, title in (
            ("no_offers", "`offers` missing"),
            ("offers_object", "`offers` an object"),
            ("list", "a bare list"),
            ("total_text", "`total` a word"),
            ("not_success", "`status` not success"),
            ("string", "a JSON string"),
        )
    ),
    Fault("bad-offer", "one offer with unreadable fields among good ones (shown without them)",
          "bad_offer", status=200, code=None),
    Fault("huge-20mb", "huge answer, 20 MB (15,000 offers)", "huge", {"megabytes": 20.0}),
    Fault("huge-48mb", "huge answer, 48 MB (over the size cap)", "huge", {"megabytes": 48.0}),
    Fault("slow-drip", "answer trickles at 8 bytes/s", "slow_drip", status=504,
          code="upstream_timeout"),
    Fault("slow-ok", "answer after 0.2 s (within bounds)", "latency", {"seconds": 0.2},
          status=200, code=None),
)  # fmt: skip


@dataclass(slots=True)
class Cell:
    """What one route answered under one fault."""

    route: Route
    fault: Fault
    status: int
    elapsed: float
    body: bytes
    headers: dict[str, str]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The answer was the one the table promises."""
        return not self.problems


class _Tags(HTMLParser):
    """Collects text inside ``<code class="revu-ref">`` and every start tag's name."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.references: list[str] = []
        self._in_ref = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_ref = tag == "code" and ("class", "revu-ref") in attrs

    def handle_endtag(self, tag: str) -> None:
        self._in_ref = False

    def handle_data(self, data: str) -> None:
        if self._in_ref and data.strip():
            self.references.append(data.strip())


def check(cell: Cell) -> list[str]:
    """Everything wrong with ``cell`` compared with the table (empty when it is right)."""
    status, code = cell.fault.expected(cell.route)
    problems = []
    text = cell.body.decode("utf-8", "replace")
    if cell.status != status:
        problems.append(f"status {cell.status}, expected {status}")
    if cell.elapsed > TIME_BUDGET:
        problems.append(f"took {cell.elapsed:.2f} s, budget {TIME_BUDGET:.2f} s")
    everything = text + "\n" + "\n".join(f"{k}: {v}" for k, v in cell.headers.items())
    if any(fragment in everything for fragment in SECRET_FRAGMENTS):
        problems.append("the API key is in the answer")
    if "Traceback" in text or "werkzeug.debug" in text:
        problems.append("a traceback is in the answer")
    content_type = cell.headers.get("Content-Type", "")
    expected_type = "application/json" if cell.route.json else "text/html"
    if not content_type.startswith(expected_type):
        problems.append(f"Content-Type {content_type!r}, expected {expected_type}")
    if cell.headers.get("Cache-Control") != "private, no-store":
        problems.append("no Cache-Control: private, no-store")
    if code is None:
        return problems
    request_id = cell.headers.get("X-Request-Id", "")
    if not request_id:
        problems.append("no X-Request-Id header")
    if cell.fault.retry_after and not cell.headers.get("Retry-After", "").isdigit():
        problems.append("no Retry-After header")
    if cell.route.json:
        problems.extend(_check_json_error(cell, code))
    else:
        tags = _Tags()
        tags.feed(text)
        if not tags.references:
            problems.append("no reference on the error page")
        if "h1" not in tags.tags:
            problems.append("no heading on the error page")
    return problems


def _check_json_error(cell: Cell, code: str) -> list[str]:
    try:
        error = json.loads(cell.body)["error"]
    except (ValueError, KeyError, TypeError):
        return ["not a JSON error body"]
    problems = []
    if error.get("code") != code:
        problems.append(f"error code {error.get('code')!r}, expected {code!r}")
    if not error.get("reference"):
        problems.append("no reference in the JSON error")
    if not error.get("message"):
        problems.append("no message in the JSON error")
    return problems


@dataclass(slots=True)
class Upstreams:
    """The two hosts every cell runs on: one on the fake, one on a port nobody listens on."""

    fake: FakeRevU
    live: Flask
    refused: Flask
    offer_id: int


@contextlib.contextmanager
def upstreams() -> Iterator[Upstreams]:
    """Start the fake RevU on loopback and build both hosts (for the script)."""
    fake = FakeRevU(api_key=SECRET_API_KEY)
    with serve_in_thread(fake) as server:
        yield make_upstreams(fake, server.url)
        fake.release()


def make_upstreams(fake: FakeRevU, url: str) -> Upstreams:
    """Both hosts for a fake already served at ``url``."""
    live = build_host(url)
    refused = build_host(f"http://127.0.0.1:{closed_loopback_port()}")
    offer_id = next(
        int(offer["offer_id"]) for offer in fake.offers_for(MEMBER) if offer["reward_status"] == 1
    )
    return Upstreams(fake=fake, live=live, refused=refused, offer_id=offer_id)


def run_cell(ups: Upstreams, route: Route, fault: Fault) -> Cell:
    """Apply ``fault``, request ``route`` once, and check the answer against the table."""
    ups.fake.clear_faults()
    ups.fake.reset()
    app = ups.refused if fault.kind is None else ups.live
    if fault.kind is not None:
        ups.fake.add_fault(fault.kind, count=fault.count, **fault.params)
    client = signed_in(app, STAFF if route.support else MEMBER)
    headers = {"Authorization": f"Bearer {SUPPORT_TOKEN}"} if route.support and route.json else {}
    started = time.monotonic()
    response = client.get(route.url(ups.offer_id), headers=headers)
    body = response.get_data()
    elapsed = time.monotonic() - started
    ups.fake.clear_faults()
    cell = Cell(
        route=route,
        fault=fault,
        status=response.status_code,
        elapsed=elapsed,
        body=body,
        headers=dict(response.headers),
    )
    cell.problems = check(cell)
    return cell


def _expected_text(fault: Fault, route: Route) -> str:
    status, code = fault.expected(route)
    if code is None:
        return f"{status}"
    return f"{status} `{code}`"


def render(cells: Mapping[tuple[str, str], Cell] | None = None) -> str:
    """The matrix as markdown; with ``cells``, each shows what was measured."""
    lines = [
        "| upstream fault | " + " | ".join(route.title for route in ROUTES) + " |",
        "|---|" + "---|" * len(ROUTES),
    ]
    for fault in FAULTS:
        row = []
        for route in ROUTES:
            text = _expected_text(fault, route)
            if cells is not None:
                cell = cells[fault.slug, route.path]
                mark = "ok" if cell.ok else "FAIL: " + "; ".join(cell.problems)
                text = f"{cell.status} {mark} {cell.elapsed:.2f} s"
            row.append(text)
        lines.append(f"| {fault.title} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def document() -> str:
    """The published page: how to read the table, the bounds it was measured with, the table."""
    return (
        "# Fault matrix\n\n"
        "What each of the kit's pages and JSON routes answers when RevU's Get Progress API "
        "misbehaves. Generated by `python -m tests.reliability.matrix --write "
        "docs/fault-matrix.md` from the table that `tests/reliability/test_fault_matrix.py` "
        "runs over real HTTP against the fake RevU on loopback; rerun it with "
        "`python -m tests.reliability.matrix --run`.\n\n"
        "Each cell is the HTTP status the visitor (or the app calling the JSON route) gets, "
        "and for errors the `error.code` of the JSON body. Every error answer, page or JSON, "
        "carries a reference to quote (RevU's `support_id` when it sent one, else the "
        "request's `X-Request-Id`), `Cache-Control: private, no-store`, no traceback and never "
        "the API key; 429 answers carry `Retry-After`.\n\n"
        f"Measured with `REVU_TIMEOUT = {FAST_TIMEOUT}`, `REVU_DEADLINE = {FAST_DEADLINE}` and "
        f"`REVU_MAX_RETRIES = {FAST_RETRIES}`: every cell must answer within "
        f"{TIME_BUDGET:g} s (the deadline plus {SLACK_SECONDS:g} s for parsing and rendering "
        "on a busy machine). "
        "The support routes are asked by a staff member (page) and with the support token "
        "(JSON).\n\n" + render()
    )


def main(argv: list[str] | None = None) -> int:
    """Print, write or run the matrix."""
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.matrix")
    parser.add_argument("--run", action="store_true", help="run every cell and show timings")
    parser.add_argument("--write", metavar="PATH", help="write the markdown page to PATH")
    args = parser.parse_args(argv)
    if args.write:
        Path(args.write).write_text(document(), encoding="utf-8")
        print(f"wrote {args.write}")
        return 0
    if not args.run:
        print(document(), end="")
        return 0
    cells: dict[tuple[str, str], Cell] = {}
    with upstreams() as ups:
        for fault in FAULTS:
            for route in ROUTES:
                cells[fault.slug, route.path] = run_cell(ups, route, fault)
    print(render(cells), end="")
    failed = [cell for cell in cells.values() if not cell.ok]
    slowest = max(cell.elapsed for cell in cells.values())
    print(f"\n{len(cells)} cells, {len(failed)} failed, slowest {slowest:.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
