"""The load test's short run: gunicorn with the kit, 200 visitors, no errors, connections reused.

Only correctness is asserted; throughput and latency are measured by ``bench/load.py``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "load.py"


def load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("revu_load", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("revu_load", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_200_visitors_get_no_errors_and_share_upstream_connections() -> None:
    # Correctness only: how many requests the run managed is the machine's speed, not the kit's
    # behaviour, so no rate is asserted here (bench/load.py reports it; bench/README-load.md).
    finished = subprocess.run(
        # 3 s: every visitor signs in and is answered at least once however short the run, and
        # each second more only repeats the same requests at the cost of two busy cores.
        [sys.executable, str(SCRIPT), "--seconds", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    report = json.loads(finished.stdout)
    members = load_module().MEMBERS
    assert report["clients"] >= 200
    assert report["errors"] == 0, report["error_samples"]
    assert set(report["statuses"]) == {"200"}
    # Every visitor was answered at least once, whatever the machine's speed.
    assert report["requests"] >= report["clients"]
    # Every member was read from RevU, and never more often than pages were asked for.
    assert members <= report["upstream_requests"] <= report["requests"]
    # Connections are kept per server thread and reused: their number is bounded by the
    # servers' threads, not by the requests made.
    assert report["upstream_connections"] <= report["workers"] * report["threads"] + 8
    assert report["upstream_connections"] < report["upstream_requests"]
    assert not report["key_in_server_logs"]
    assert finished.returncode == 0, report["problems"]


def test_load_check_fails_a_run_that_opens_a_connection_per_request() -> None:
    load = load_module()
    report = load.Report(clients=200, seconds=10, workers=2, threads=8, requests=4000)
    report.upstream_requests = 4000
    report.upstream_connections = 4000
    report.connection_limit = 24
    assert any("not reused" in problem for problem in load.check(report))


def test_load_check_fails_a_run_with_any_error_or_a_leaked_key() -> None:
    load = load_module()
    report = load.Report(clients=200, seconds=10, workers=2, threads=8, requests=4000)
    report.errors = 1
    report.error_samples = ["/rewards/: HTTP 502"]
    report.key_in_server_logs = True
    problems = load.check(report)
    assert any("1 errors" in problem for problem in problems)
    assert any("API key" in problem for problem in problems)
