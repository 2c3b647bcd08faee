"""Load test: many concurrent visitors on a gunicorn-served host site with the kit.

Starts the fake RevU (``python -m revu_widgets.fake``) and gunicorn (gthread workers serving
``bench/host_app.py``) as separate processes on loopback, runs a fixed number of client
threads for a fixed time, then stops both servers and reports::

    python bench/load.py             # 200 clients for 60 s
    python bench/load.py --short     # 200 clients for 10 s
    python bench/load.py --seconds 3 # 200 clients for 3 s (what the test suite runs)
    python bench/load.py --json      # the report as JSON

Each client is one visitor with its own ``requests.Session`` (its own cookies and
connections): it signs in once, then cycles through the history page, the offer page and both
JSON routes. Passing means: no error at all (every answer 200, none holding the API key, no
server log line holding it), and upstream connections reused: the fake's count of TCP
connections stays near ``workers x threads`` however many requests were made. The exit status
is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
#: Members the clients sign in as (each a fake history of 12-20 offers, one upstream page).
MEMBERS = 40
#: Upstream connections allowed beyond one per server thread (readiness probes, a worker
#: restarted by gunicorn, a connection the fake closed while idle).
CONNECTION_SLACK = 8


@dataclass(slots=True)
class Report:
    """What one run measured."""

    clients: int
    seconds: float
    workers: int
    threads: int
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    requests_per_second: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    upstream_requests: int = 0
    upstream_connections: int = 0
    connection_limit: int = 0
    key_in_server_logs: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every check passed."""
        return not self.problems


def free_port() -> int:
    """A loopback port free at this moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_until_up(url: str, headers: dict[str, str], timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers 200, or fail after ``timeout`` seconds."""
    give_up = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, headers=headers, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > give_up:
            raise RuntimeError(f"{url} did not come up in {timeout:g} s")
        time.sleep(0.1)


@contextlib.contextmanager
def started(
    command: list[str], log: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` with its output in ``log``; stop it (and only it) afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class Visitor(threading.Thread):
    """One signed-in visitor making requests back to back until the stop time."""

    def __init__(self, base: str, member: str, stop_at: float, key: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.member = member
        self.stop_at = stop_at
        self.key = key.encode()
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def run(self) -> None:
        with requests.Session() as session:
            try:
                self._visit(session)
            except requests.RequestException as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def _visit(self, session: requests.Session) -> None:
        session.get(f"{self.base}/login", params={"user": self.member}, allow_redirects=False)
        first = self._get(session, "/rewards/api/progress")
        offers = first.json()["offers"] if first.status_code == 200 else []
        offer_id = offers[0]["offer_id"] if offers else 1
        paths = [
            "/rewards/",
            f"/rewards/offers/{offer_id}",
            "/rewards/api/progress",
            f"/rewards/api/offers/{offer_id}",
        ]
        turn = 0
        while time.monotonic() < self.stop_at:
            self._get(session, paths[turn % len(paths)])
            turn += 1

    def _get(self, session: requests.Session, path: str) -> requests.Response:
        started_at = time.monotonic()
        try:
            response = session.get(self.base + path, timeout=30, allow_redirects=False)
        except requests.RequestException as exc:
            self.statuses["exception"] += 1
            self.errors.append(f"{path}: {type(exc).__name__}")
            raise
        self.latencies.append(time.monotonic() - started_at)
        self.statuses[str(response.status_code)] += 1
        if response.status_code != 200:
            self.errors.append(f"{path}: HTTP {response.status_code}")
        headers = "".join(f"{k}{v}" for k, v in response.headers.items()).encode()
        if self.key in response.content or self.key in headers:
            self.errors.append(f"{path}: the API key is in the answer")
        return response


def fake_stats(fake_url: str, key: str) -> dict[str, Any]:
    """The fake's request and connection counts."""
    stats: dict[str, Any] = requests.get(
        f"{fake_url}/_fake/stats", headers={"X-API-Key": key}, timeout=5
    ).json()
    return stats


def run(clients: int, seconds: float, workers: int, threads: int) -> Report:
    """Start both servers, drive ``clients`` visitors for ``seconds``, stop, and report."""
    report = Report(clients=clients, seconds=seconds, workers=workers, threads=threads)
    key = secrets.token_hex(10)  # 20 characters, like a wall key; new every run
    fake_port, host_port = free_port(), free_port()
    fake_url, host_url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{host_port}"
    env = dict(
        os.environ,
        REVU_API_KEY=key,
        REVU_BASE_URL=fake_url,
        HOST_SECRET=secrets.token_hex(16),
        PYTHONUNBUFFERED="1",
    )
    fake_command = [sys.executable, "-m", "revu_widgets.fake", "--port", str(fake_port)]
    fake_command += ["--quiet", "--api-key", key]
    gunicorn_command = [
        sys.executable, "-m", "gunicorn",
        "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
        "--bind", f"127.0.0.1:{host_port}", "--chdir", str(HERE),
        "--log-level", "info", "--access-logfile", "-", "--graceful-timeout", "5",
        "host_app:app",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="revu-load-") as tmp:
        fake_log, host_log = Path(tmp) / "fake.log", Path(tmp) / "gunicorn.log"
        with started(fake_command, fake_log, env), started(gunicorn_command, host_log, env):
            wait_until_up(f"{fake_url}/_fake/stats", {"X-API-Key": key})
            wait_until_up(f"{host_url}/healthz", {})
            before = fake_stats(fake_url, key)
            stop_at = time.monotonic() + seconds
            visitors = [
                Visitor(host_url, f"load-{n % MEMBERS}", stop_at, key) for n in range(clients)
            ]
            started_at = time.monotonic()
            for visitor in visitors:
                visitor.start()
            for visitor in visitors:
                visitor.join(timeout=seconds + 60)
            elapsed = time.monotonic() - started_at
            after = fake_stats(fake_url, key)
        logs = fake_log.read_bytes() + host_log.read_bytes()
    report.key_in_server_logs = key.encode() in logs

    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    errors: list[str] = []
    for visitor in visitors:
        statuses.update(visitor.statuses)
        latencies.extend(visitor.latencies)
        errors.extend(visitor.errors)
        if visitor.is_alive():
            errors.append(f"{visitor.member}: still running after the time limit")
    report.statuses = dict(statuses)
    report.requests = sum(statuses.values())
    report.errors = len(errors)
    report.error_samples = errors[:10]
    report.requests_per_second = round(report.requests / elapsed, 1)
    if latencies:
        cuts = statistics.quantiles(latencies, n=100)
        report.latency_ms = {
            "p50": round(cuts[49] * 1000, 1),
            "p95": round(cuts[94] * 1000, 1),
            "p99": round(cuts[98] * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        }
    # The probes and the stats call before the run opened connections of their own.
    report.upstream_requests = after["requests"] - before["requests"]
    report.upstream_connections = after["connections"] - before["connections"]
    report.connection_limit = workers * threads + CONNECTION_SLACK
    report.problems = check(report)
    return report


def check(report: Report) -> list[str]:
    """What failed in ``report`` (empty when the run passed)."""
    problems = []
    if report.errors:
        problems.append(f"{report.errors} errors, e.g. {report.error_samples[:3]}")
    if report.requests < report.clients:
        problems.append(f"only {report.requests} requests from {report.clients} clients")
    if report.upstream_connections > report.connection_limit:
        problems.append(
            f"{report.upstream_connections} upstream connections for "
            f"{report.upstream_requests} requests: more than {report.connection_limit} "
            "means connections are not reused"
        )
    if report.key_in_server_logs:
        problems.append("the API key is in the servers' logs")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run the load test from the command line."""
    parser = argparse.ArgumentParser(
        prog="python bench/load.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--short", action="store_true", help="run for 10 s (default 60 s)")
    parser.add_argument("--seconds", type=float, help="how long to run")
    parser.add_argument("--clients", type=int, default=200, help="concurrent visitors (200)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (8)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    seconds = args.seconds or (10.0 if args.short else 60.0)
    if not (1 <= args.clients <= 1000 and 0 < seconds <= 600):
        parser.error("clients must be 1..1000 and seconds at most 600")
    report = run(args.clients, seconds, args.workers, args.threads)
    if args.json:
        print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    else:
        print(
            f"{report.clients} clients, {report.seconds:g} s, gunicorn gthread "
            f"{report.workers} workers x {report.threads} threads\n"
            f"requests: {report.requests} ({report.requests_per_second} /s), "
            f"errors: {report.errors}, statuses: {report.statuses}\n"
            f"latency ms: {report.latency_ms}\n"
            f"upstream: {report.upstream_requests} requests over "
            f"{report.upstream_connections} connections (limit {report.connection_limit})\n"
            f"API key in server logs: {'yes' if report.key_in_server_logs else 'no'}\n"
            + ("PASS" if report.ok else "FAIL: " + "; ".join(report.problems))
        )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
