"""The applications the benchmarks measure, side by side, against one fake RevU on loopback.

* :func:`kit_app` - a host site with revu-widgets installed the documented way; the signed-in
  member and staff access come from a header, so one test client can play any member.
* :func:`baseline_app` - what a publisher could write without the kit: ``requests`` to the same
  upstream, ``json.loads``, and a plain Jinja list of the same fields. No validation, no
  explanations, no formatting beyond ``str``.
* :func:`naive_fetch_all` - a naive integration's upstream walk: a new connection per call,
  pages one after another.

The fake runs in its own process (:func:`fake_in_process`), as the real upstream runs on its
own machine: its work of building and serialising answers never holds this process's GIL. By
default one process builds every answer, so concurrent requests queue for its GIL; with
``processes=N`` gunicorn serves it from N processes, which answer concurrent requests in
parallel as RevU's servers do. Nothing here is timed; the ``bench_*.py`` scripts time it.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from flask import Flask, render_template_string, request

# revu_widgets is imported only where it is used, so that the baseline's worker in
# bench_memory.py does not carry the kit's modules.
if TYPE_CHECKING:
    from revu_widgets.fake import FakeRevU

#: The member whose 500 offers x 5 steps make the heaviest page.
HEAVY_USER = "bench-500x5"
#: A second member with the same 500 offers x 5 steps, whom the benches move on between reads
#: (:func:`advance`): every read of this member gets an answer one offer of which changed
#: since the last read, as after a postback.
MOVING_USER = "bench-500x5-moving"
#: A third such member whose every offer the benches change between reads (:func:`renew`): a
#: first read, nothing of it seen before.
RENEWED_USER = "bench-500x5-renewed"
#: A typical member of the fake: 12-20 offers, one of every state.
ACTIVE_USER = "alex-1"
#: The fake's heavy member: 1,200 offers, three upstream pages of 500.
PAGED_USER = "heavy-1"

OFFERS = 500
STEPS = 5

#: The support page shows this many offers per page (revu_widgets.support.SUPPORT_PAGE_SIZE);
#: the baseline renders the same number so both pages carry the same offers.
SHOWN_OFFERS = 100


def fake_key() -> str:
    """The key the fake RevU accepts."""
    from revu_widgets.fake import FAKE_API_KEY

    return FAKE_API_KEY


def heavy_offers(now: datetime) -> list[dict[str, Any]]:
    """500 raw offers x 5 steps, from the fake's heavy member, relative to ``now``.

    The fake's offers have one to six steps with their own times; shorter ones get extra steps
    cloned from their last one, a few hours earlier each, so every time on the page is distinct
    (as in real data) and formatting cannot be served from a handful of repeated values.
    """
    from revu_widgets.fake.data import generate_offers

    offers = generate_offers(PAGED_USER, now)[:OFFERS]
    for number, offer in enumerate(offers):
        events: list[dict[str, Any]] = offer.get("events") or []
        if not events:
            events = [{"event_id": 1, "name": "Complete the offer", "status": "in progress"}]
        while len(events) < STEPS:
            extra = copy.deepcopy(events[-1])
            extra["event_id"] = len(events) + 1
            extra["name"] = f"Bonus step {len(events) + 1}"
            shift = timedelta(hours=len(events), minutes=number % 60)
            for key in ("completed_at", "credited_at", "reversed_at"):
                if extra.get(key):
                    moment = datetime.fromisoformat(extra[key]) - shift
                    extra[key] = moment.isoformat().replace("+00:00", "Z")
            events.append(extra)
        offer["events"] = events[:STEPS]
    return offers


def kit_app(base_url: str) -> Flask:
    """A host site with the kit at ``/rewards``; ``X-Bench-User`` says who is signed in."""
    app = Flask("bench_kit")
    app.config.update(
        SECRET_KEY="bench",
        REVU_API_KEY=fake_key(),
        REVU_BASE_URL=base_url,
        REVU_MAX_RETRIES=0,
        REVU_TIMEOUT=(5.0, 30.0),
        REVU_DEADLINE=60.0,
        # Every page walks RevU and validates its answer: what a member's first visit costs
        # (a snapshot reused within REVU_CACHE_SECONDS only renders).
        REVU_CACHE_SECONDS=0,
    )
    from revu_widgets import RevUWidgets

    revu = RevUWidgets(app)

    @revu.user_id_loader
    def current_user() -> str | None:
        return request.headers.get("X-Bench-User")

    @revu.support_access_loader
    def is_staff() -> bool:
        return True

    return app


_BASELINE_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Offers of {{ user_id }}</title></head>
<body><h1>Offers of {{ user_id }}</h1>
<p>{{ total }} offers: {{ counts }}</p>
<ol>
{%- for offer in offers %}
<li id="offer-{{ offer.offer_id }}"><h3>{{ offer.name }} #{{ offer.offer_id }}</h3>
<p>{{ offer.reward_status }} · {{ offer.total_user_reward }} coins · {{ offer.reporting }}</p>
<p>{{ offer.headline }}</p>
<p>started {{ offer.started_at }} · updated {{ offer.updated_at }}
 · completed {{ offer.completed_at }} · expires {{ offer.expires_at }}</p>
<ol>
{%- for step in offer.events %}
<li>{{ step.name }}: {{ step.status }}, {{ step.user_reward }} coins,
completed {{ step.completed_at }}, credited {{ step.credited_at }},
reversed {{ step.reversed_at }} {{ step.reason }}</li>
{%- endfor %}
</ol></li>
{%- endfor %}
</ol></body></html>"""


def baseline_app(base_url: str, api_key: str) -> Flask:
    """The plain page: fetch the same JSON with requests, ``json.loads``, a plain Jinja list."""
    app = Flask("bench_baseline")
    session = requests.Session()

    @app.get("/offers/<user_id>")
    def offers(user_id: str) -> str:
        response = session.get(
            f"{base_url}/api/v1/users/{user_id}/getprogress",
            params={"limit": 500, "offset": 0},
            headers={"X-API-Key": api_key},
            timeout=30,
        )
        payload = json.loads(response.content)
        raw = payload["offers"]
        counts: dict[int, int] = {}
        for offer in raw:
            counts[offer.get("reward_status")] = counts.get(offer.get("reward_status"), 0) + 1
        for offer in raw:
            offer.setdefault("offer_id", offer.get("cid") or offer.get("id"))
        return render_template_string(
            _BASELINE_TEMPLATE,
            user_id=user_id,
            total=payload["total"],
            counts=counts,
            offers=raw[:SHOWN_OFFERS],
        )

    return app


def naive_fetch_all(base_url: str, user_id: str, page_size: int = 100) -> list[Any]:
    """A naive walk: RevU's default page size, a new connection per call, one after another."""
    offers: list[Any] = []
    offset = 0
    while True:
        response = requests.get(
            f"{base_url}/api/v1/users/{user_id}/getprogress",
            params={"limit": page_size, "offset": offset},
            headers={"X-API-Key": fake_key(), "Connection": "close"},
            timeout=30,
        )
        payload = json.loads(response.content)
        offers.extend(payload["offers"])
        offset += page_size
        if offset >= payload["total"]:
            return offers


@contextlib.contextmanager
def fake_in_process(
    latency: float = 0.0, dialect: str | None = None, processes: int = 1, code: Path | None = None
) -> Iterator[str]:
    """Run the fake RevU (:func:`fake_revu`) in a child process, or several; yield its URL.

    ``dialect`` is the vocabulary its generated members are sent in (the fake's default, RevU's
    documented names, when ``None``). With ``processes`` = 1 (the default) one process answers
    every request on kept-alive connections, so concurrent answers are built one after another.
    With more, gunicorn's sync workers, that many, answer on the same loopback port, each
    request in a process of its own (and on a new connection: a sync worker closes it after
    answering), so concurrent answers are built in parallel, as RevU's servers build them.
    Every process then holds its own copy of the members: the generated ones (the 1,200-offer
    member) answer alike in all of them, but the control calls (:func:`advance`, :func:`renew`,
    :func:`upstream_stats`) reach one process only, so they need the single-process fake.
    ``code`` is a checkout whose ``revu_widgets`` the fake runs (this one's when ``None``).
    """
    env = None if code is None else dict(os.environ, PYTHONPATH=str(code))
    if processes == 1:
        command = [sys.executable, __file__, "--latency", str(latency)]
        if dialect is not None:
            command += ["--dialect", dialect]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        try:
            assert child.stdout is not None
            url = child.stdout.readline().strip()
            if not url.startswith("http://127.0.0.1:"):
                raise SystemExit("the fake RevU did not start")
            yield url
        finally:
            child.terminate()
            child.wait(timeout=10)
        return
    # The port is bound here and handed over, so its number is known before gunicorn starts.
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        port = listener.getsockname()[1]
        # gunicorn sends an answer's headers and body in two writes: without this (which the
        # accepted connections inherit), Nagle's algorithm would hold the body back ~40 ms.
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        child = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "--workers", str(processes), "--worker-class", "sync", "--preload",
                "--bind", f"fd://{listener.fileno()}", "--log-level", "warning",
                "--pythonpath", str(Path(__file__).resolve().parent),
                f"apps:fake_revu(latency={latency!r}, dialect={dialect!r})",
            ],
            pass_fds=[listener.fileno()],
            env=env,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        # The socket already listens: this waits in its backlog until a worker is up.
        upstream_stats(url, timeout=60)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=10)


def fake_revu(latency: float = 0.0, dialect: str | None = None) -> FakeRevU:
    """The benchmarks' fake RevU: the 500 x 5 members set, the 1,200-offer member generated
    (as every process of a parallel fake must answer it from the start)."""
    from revu_widgets.fake import FakeRevU

    fake = (
        FakeRevU(latency=latency) if dialect is None else FakeRevU(latency=latency, dialect=dialect)
    )
    fake.set_offers(HEAVY_USER, heavy_offers(fake.now))
    fake.set_offers(MOVING_USER, heavy_offers(fake.now))
    fake.offers_for(PAGED_USER)
    return fake


def forget_answers(app: Flask) -> None:
    """Make the kit app's client forget the answers it has read (their decoded text, validated
    pages and offers), not how long each history is: its next read of a member decodes and
    validates every offer as for an answer never seen, and still walks a long history in one
    round trip."""
    from revu_widgets.client import REMEMBERED_ANSWER_CHARACTERS, REMEMBERED_OFFERS
    from revu_widgets.upstream_http import AnswerMemory, PageMemory

    client = app.extensions["revu_widgets"].client
    # The client offers no way to forget; new, empty memories are what it starts with.
    client._pages = PageMemory(REMEMBERED_OFFERS)
    client._answers = AnswerMemory(REMEMBERED_ANSWER_CHARACTERS)


def advance(base_url: str, user_id: str = MOVING_USER) -> None:
    """Move one of the member's offers on at the fake (as a postback would): the member's next
    answer differs from the last in that offer."""
    response = requests.post(
        f"{base_url}/_fake/users/{user_id}/advance", headers={"X-API-Key": fake_key()}, timeout=10
    )
    if response.status_code != 200:
        raise SystemExit(f"the fake could not advance {user_id}: {response.status_code}")


def renew(base_url: str, shift: int, user_id: str = RENEWED_USER) -> None:
    """Give the member 500 offers x 5 steps whose times are all ``shift`` seconds earlier than
    those of the fake's heavy member: each ``shift`` gives an answer every offer of which
    differs from those of any other."""
    from revu_widgets.fake.data import start_of_day

    moment = start_of_day(datetime.now(UTC)) - timedelta(seconds=shift)
    response = requests.put(
        f"{base_url}/_fake/users/{user_id}/offers",
        json=heavy_offers(moment),
        headers={"X-API-Key": fake_key()},
        timeout=30,
    )
    if response.status_code != 200:
        raise SystemExit(f"the fake could not renew {user_id}: {response.status_code}")


def upstream_stats(base_url: str, timeout: float = 10) -> tuple[int, int]:
    """``(requests, TCP connections)`` the fake has seen so far."""
    stats = requests.get(
        f"{base_url}/_fake/stats", headers={"X-API-Key": fake_key()}, timeout=timeout
    ).json()
    return int(stats["requests"]), int(stats["connections"])


def direct_pages(base_url: str) -> tuple[Callable[[], int], Callable[[], int]]:
    """Two plain clients of the fake at ``base_url``: one round trip for a page of 500 offers of
    the 1,200-offer member, and its three pages asked for at once, each on its own kept-alive
    connection. Both decode what they get (``json.loads``), as any client must before doing
    anything with it, and return the bytes received."""
    single = requests.Session()
    sessions = [requests.Session() for _ in range(3)]
    threads = ThreadPoolExecutor(max_workers=3)

    def page(session: requests.Session, number: int) -> int:
        response = session.get(
            f"{base_url}/api/v1/users/{PAGED_USER}/getprogress",
            params={"limit": 500, "offset": 500 * number},
            headers={"X-API-Key": fake_key()},
            timeout=30,
        )
        if response.status_code != 200:
            raise SystemExit(f"the fake answered {response.status_code}")
        json.loads(response.content)
        return len(response.content)

    def one() -> int:
        return page(single, 0)

    def three() -> int:
        return sum(threads.map(page, sessions, range(3)))

    return one, three


def _serve() -> None:
    parser = argparse.ArgumentParser(description="the benchmarks' fake RevU")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--dialect", default=None)
    args = parser.parse_args()
    from revu_widgets.fake.server import FakeServer

    server = FakeServer(fake_revu(args.latency, args.dialect), "127.0.0.1", 0)
    print(server.url, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    _serve()
