"""Memory: peak RSS of a worker serving the heaviest page, next to the plain baseline app.

Run by hand: ``.venv/bin/python bench/bench_memory.py [--requests 20]``.

Each app runs in a fresh process of its own (the fake RevU in a third one) and serves its page
``--requests`` times: the kit the support view of the member with 500 offers x 5 steps, the
baseline the plain list of the same JSON (see ``bench_cpu.py``). Each worker then reports its
peak resident set (``VmHWM`` from ``/proc/self/status``; ``ru_maxrss`` where that is missing).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from apps import HEAVY_USER, baseline_app, fake_in_process, fake_key, kit_app

#: The target: the kit's worker peaks below this many times the baseline's.
TARGET_RATIO = 2.0


def _peak_kib() -> int:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _worker(kind: str, base_url: str, count: int) -> None:
    if kind == "kit":
        client = kit_app(base_url).test_client()
        url, headers = f"/rewards/support/users/{HEAVY_USER}", {"X-Bench-User": "staff-1"}
    else:
        client = baseline_app(base_url, os.environ["REVU_BENCH_KEY"]).test_client()
        url, headers = f"/offers/{HEAVY_USER}", {}
    for _ in range(count):
        if client.get(url, headers=headers).status_code != 200:
            raise SystemExit(f"{kind}: {url} failed")
    kit_loaded = "revu_widgets.templating" in sys.modules
    print(json.dumps({"peak_kib": _peak_kib(), "kit_loaded": kit_loaded}))


def main() -> None:
    """Start one worker per app, print their peaks and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker[0], args.worker[1], args.requests)
        return

    peaks: dict[str, int] = {}
    with fake_in_process() as base_url:
        for kind in ("baseline", "kit"):
            output = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--requests",
                    str(args.requests),
                    "--worker",
                    kind,
                    base_url,
                ],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "REVU_BENCH_KEY": fake_key()},
            ).stdout
            report = json.loads(output.strip().splitlines()[-1])
            if report["kit_loaded"] != (kind == "kit"):
                raise SystemExit(f"the {kind} worker loaded the wrong modules")
            peaks[kind] = report["peak_kib"]
    for kind, peak in peaks.items():
        print(f"{kind:9} peak RSS {peak / 1024:6.1f} MiB after {args.requests} requests")
    ratio = peaks["kit"] / peaks["baseline"]
    verdict = "met" if ratio < TARGET_RATIO else "MISSED"
    print(f"ratio     {ratio:.2f}x  (target < {TARGET_RATIO}x: {verdict})")


if __name__ == "__main__":
    main()
