"""Scale: many open offer pages on several workers and hosts, cache off vs memory vs Redis.

One run starts, on loopback only: the fake RevU (``python -m revu_widgets.fake``, 50 ms per
answer), a throw-away ``redis-server``, and for each of three set-ups two gunicorn instances
(gthread, 2 workers each, different ports) of ``bench/host_app.py``:

- ``off``: ``REVU_CACHE_SECONDS = 0``, no version checks: every poll is an upstream walk
  (how the kit behaved before snapshots);
- ``memory``: ``memory://``, 5 s snapshots, version checks (each process on its own);
- ``redis``: one Redis for both instances, 5 s snapshots, version checks.

Simulated viewers (``--viewers``, spread over ``--members``, so some members have several
tabs) each open one offer page on either instance and then poll as ``revu.js`` does, each
request to a random instance (a load balancer): the version stamp every
``REVU_LIVE_CHECK_SECONDS`` when the page offers one, the offer with ``If-None-Match`` when
the stamp moved and every ``REVU_REFRESH_SECONDS``. Meanwhile a "RevU" moves a watched offer
on every ``--postback-every`` seconds and calls the site's postback handler (``revu.refresh``)
on a random instance; each tab notes when it first shows the change.

Reported per set-up: upstream calls per member-minute, viewer request latency p50/p95, errors,
and postback-to-screen latency p50/p95::

    python bench/scale.py                 # 200 viewers, 70 members, 30 s per set-up
    python bench/scale.py --seconds 10 --viewers 60 --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests
from load import free_port, started, wait_until_up
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

HERE = Path(__file__).resolve().parent
UPSTREAM_LATENCY = 0.05
SETUPS = {
    "off": {"REVU_CACHE_URL": "memory://", "REVU_CACHE_SECONDS": "0", "LIVE_CHECK": "0"},
    "memory": {"REVU_CACHE_URL": "memory://", "REVU_CACHE_SECONDS": "5", "LIVE_CHECK": "1.5"},
    "redis": {"REVU_CACHE_URL": "redis", "REVU_CACHE_SECONDS": "5", "LIVE_CHECK": "1.5"},
}
_ATTR = re.compile(r'data-revu-(live|interval|version|version-stamp|check)="([^"]*)"')


@dataclass(slots=True)
class Result:
    """What one set-up measured."""

    setup: str
    viewers: int
    members: int
    seconds: float
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    upstream_calls: int = 0
    upstream_per_member_minute: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    postbacks: int = 0
    screen_latency_ms: dict[str, float] = field(default_factory=dict)
    screens_updated: int = 0


class Postbacks:
    """The offers being watched, and when each member's latest postback was sent."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watched: dict[str, int] = {}
        self.finished: set[str] = set()
        self.sent: dict[str, tuple[int, float]] = {}
        self.delays: list[float] = []
        self.count = 0

    def watch(self, member: str, offer_id: int) -> int:
        with self.lock:
            return self.watched.setdefault(member, offer_id)

    def shown(self, member: str, noted: set[int]) -> None:
        """A tab of ``member`` shows a change: count it once per postback per tab."""
        now = time.monotonic()
        with self.lock:
            latest = self.sent.get(member)
            if latest is not None and latest[0] not in noted:
                noted.add(latest[0])
                self.delays.append(now - latest[1])


class Viewer(threading.Thread):
    """One open offer page, polling like revu.js until the stop time."""

    def __init__(
        self, hosts: list[str], member: str, stop_at: float, board: Postbacks, seed: int
    ) -> None:
        super().__init__(daemon=True)
        self.hosts, self.member, self.stop_at, self.board = hosts, member, stop_at, board
        self.rng = random.Random(seed)
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.requests = 0

    def run(self) -> None:
        with requests.Session() as browser:
            # Like a browser, resend an idempotent request once when the server closed the
            # kept-alive connection just as it went out.
            browser.mount("http://", HTTPAdapter(max_retries=Retry(total=1, read=1, connect=1)))
            try:
                self._view(browser)
            except (requests.RequestException, ValueError, KeyError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def _get(
        self, browser: requests.Session, path: str, headers: dict[str, str] | None = None
    ) -> requests.Response:
        started_at = time.monotonic()
        response = browser.get(
            self.rng.choice(self.hosts) + path,
            headers=headers or {},
            timeout=30,
            allow_redirects=False,
        )
        self.latencies.append(time.monotonic() - started_at)
        self.requests += 1
        if response.status_code not in (200, 304):
            self.errors.append(f"{path}: HTTP {response.status_code}")
        return response

    def _view(self, browser: requests.Session) -> None:
        signed_in = browser.get(
            f"{self.hosts[0]}/login?user={self.member}", allow_redirects=False, timeout=30
        )
        if signed_in.status_code != 302:
            self.errors.append(f"login: HTTP {signed_in.status_code}")
        listing = self._get(browser, "/rewards/api/progress?status=in_progress").json()
        if not listing["offers"]:
            return
        offer_id = self.board.watch(self.member, listing["offers"][0]["offer_id"])
        page = self._get(browser, f"/rewards/offers/{offer_id}").text
        attrs = dict(_ATTR.findall(page))
        full_every = max(2.0, float(attrs.get("interval", "10")))
        check_every = float(attrs.get("check", "0")) if attrs.get("version") else 0.0
        version = attrs.get("version-stamp", "")
        etag, shown, noted = "", None, set[int]()
        last_full = 0.0
        time.sleep(self.rng.uniform(0, check_every or full_every))
        while time.monotonic() < self.stop_at:
            fetch = time.monotonic() - last_full >= full_every
            if not fetch and check_every:
                stamp = self._get(browser, "/rewards/api/version").json()["version"]
                fetch, version = stamp != version, stamp
            if fetch:
                last_full = time.monotonic()
                answer = self._get(
                    browser, attrs["live"], {"If-None-Match": etag} if etag else None
                )
                if answer.status_code == 200:
                    etag = answer.headers.get("ETag", "")
                    offer = answer.json()["offer"]
                    now_shown = (offer["state"], offer["steps_done"])
                    if shown is not None and now_shown != shown:
                        self.board.shown(self.member, noted)
                    shown = now_shown
            time.sleep(check_every or full_every)


def drive_postbacks(
    fake: str, key: str, hosts: list[str], secret: str, board: Postbacks, stop_at: float,
    every: float,
) -> None:  # fmt: skip
    """Move a watched offer on every ``every`` seconds, then call a random postback handler."""
    rng = random.Random(7)
    time.sleep(every)
    while time.monotonic() < stop_at - every:
        with board.lock:
            members = [m for m in board.watched if m not in board.finished]
        if members:
            member = rng.choice(members)
            moved_at = time.monotonic()
            moved = requests.post(
                f"{fake}/_fake/users/{member}/advance",
                json={"offer_id": board.watched[member]},
                headers={"X-API-Key": key},
                timeout=10,
            )
            if moved.status_code == 200:
                with board.lock:
                    board.count += 1
                    board.sent[member] = (board.count, moved_at)
                requests.get(
                    rng.choice(hosts) + "/postback",
                    params={"userid": member, "key": secret},
                    timeout=10,
                )
            else:
                with board.lock:
                    board.finished.add(member)
        time.sleep(every)


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp)]
    with started(command, tmp / "redis.log", dict(os.environ)):
        url = f"redis://127.0.0.1:{port}/0"
        give_up = time.monotonic() + 15
        while (
            subprocess.run(
                [binary.replace("redis-server", "redis-cli"), "-p", str(port), "ping"],
                capture_output=True,
                check=False,
            ).stdout.strip()
            != b"PONG"
        ):
            if time.monotonic() > give_up:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)
        yield url


def quantiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": values[0] * 1000, "p95": values[0] * 1000} if values else {}
    cuts = statistics.quantiles(values, n=100)
    return {"p50": round(cuts[49] * 1000, 1), "p95": round(cuts[94] * 1000, 1)}


def run_setup(
    name: str, args: argparse.Namespace, fake: str, key: str, redis_url: str, tmp: Path
) -> Result:
    result = Result(setup=name, viewers=args.viewers, members=args.members, seconds=args.seconds)
    setup = SETUPS[name]
    secret = secrets.token_hex(16)
    env = dict(
        os.environ,
        REVU_API_KEY=key,
        REVU_BASE_URL=fake,
        HOST_SECRET=secret,
        REVU_CACHE_URL=redis_url if setup["REVU_CACHE_URL"] == "redis" else "memory://",
        REVU_CACHE_SECONDS=setup["REVU_CACHE_SECONDS"],
        PYTHONUNBUFFERED="1",
    )
    live_check = setup["LIVE_CHECK"]
    ports = [free_port(), free_port()]
    hosts = [f"http://127.0.0.1:{port}" for port in ports]
    with ExitStack() as stack:
        for port in ports:
            command = [
                sys.executable, "-m", "gunicorn",
                "--worker-class", "gthread", "--workers", "2", "--threads", "8",
                "--bind", f"127.0.0.1:{port}", "--chdir", str(HERE),
                "--graceful-timeout", "5",
                "host_app:app",
            ]  # fmt: skip
            # The page's check interval comes from config: set it per set-up.
            stack.enter_context(
                started(
                    command,
                    tmp / f"{name}-{port}.log",
                    dict(env, REVU_LIVE_CHECK_SECONDS=live_check),
                )
            )
        for host in hosts:
            wait_until_up(f"{host}/healthz", {})
        before = requests.get(f"{fake}/_fake/stats", headers={"X-API-Key": key}, timeout=5)
        stop_at = time.monotonic() + args.seconds
        board = Postbacks()
        viewers = [
            Viewer(hosts, f"scale-{n % args.members}", stop_at, board, seed=n)
            for n in range(args.viewers)
        ]
        driver = threading.Thread(
            target=drive_postbacks,
            args=(fake, key, hosts, secret, board, stop_at, args.postback_every),
            daemon=True,
        )
        for viewer in viewers:
            viewer.start()
        driver.start()
        for viewer in viewers:
            viewer.join(args.seconds + 60)
        driver.join(30)
        after = requests.get(f"{fake}/_fake/stats", headers={"X-API-Key": key}, timeout=5)
    latencies = [x for v in viewers for x in v.latencies]
    errors = [e for v in viewers for e in v.errors]
    result.requests = sum(v.requests for v in viewers)
    result.errors = len(errors)
    result.error_samples = errors[:5]
    result.upstream_calls = after.json()["requests"] - before.json()["requests"]
    result.upstream_per_member_minute = round(
        result.upstream_calls / (args.members * args.seconds / 60), 2
    )
    result.latency_ms = quantiles(latencies)
    result.postbacks = board.count
    result.screens_updated = len(board.delays)
    result.screen_latency_ms = quantiles(board.delays)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--members", type=int, default=70)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--postback-every", type=float, default=1.0)
    parser.add_argument("--setups", default="off,memory,redis")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    key = secrets.token_hex(10)
    results = []
    with tempfile.TemporaryDirectory(prefix="revu-scale-") as tmp_name:
        tmp = Path(tmp_name)
        fake_port = free_port()
        fake = f"http://127.0.0.1:{fake_port}"
        fake_command = [sys.executable, "-m", "revu_widgets.fake", "--port", str(fake_port)]
        fake_command += ["--quiet", "--api-key", key, "--latency", str(UPSTREAM_LATENCY)]
        with started(fake_command, tmp / "fake.log", dict(os.environ)), redis_server(tmp) as url:
            wait_until_up(f"{fake}/_fake/stats", {"X-API-Key": key})
            for name in args.setups.split(","):
                requests.post(f"{fake}/_fake/reset", headers={"X-API-Key": key}, timeout=5)
                results.append(run_setup(name, args, fake, key, url, tmp))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return 0
    print(
        f"{args.viewers} viewers on {args.members} members, two gunicorn instances x 2 workers, "
        f"{args.seconds:g} s per set-up, upstream answers in {UPSTREAM_LATENCY * 1000:g} ms"
    )
    header = (
        f"{'set-up':8} {'requests':>8} {'errors':>6} {'upstream/member-min':>20} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'postbacks':>9} {'screen p50':>10} {'screen p95':>10}"
    )
    print(header)
    for r in results:
        print(
            f"{r.setup:8} {r.requests:8} {r.errors:6} {r.upstream_per_member_minute:20} "
            f"{r.latency_ms.get('p50', 0):8} {r.latency_ms.get('p95', 0):8} {r.postbacks:9} "
            f"{r.screen_latency_ms.get('p50', 0):10} {r.screen_latency_ms.get('p95', 0):10}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
