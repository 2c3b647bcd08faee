"""Before and after: the same pages served by two versions of the kit, side by side in one run.

Run by hand from the checkout root:
``.venv/bin/python bench/before_after.py --before REV [--rounds 15] [--latency 0.08]
[--fake-processes N]``.

``--before`` is a git revision (exported with ``git archive`` to a temporary directory) or the
path of another checkout; "after" is this checkout's working tree. Each version serves its pages
in its own worker process (this virtualenv, ``PYTHONPATH`` pointing at that version), through
Flask's test client as in ``bench_cpu.py``; this script asks the workers for one page at a time,
round by round in a rotating order, so machine noise hits every page alike. Each page's wall
time and the CPU time its worker spent on it (all threads: without the waits for the upstream,
and less sensitive to other work on the machine) are reported. Measured:

* the support view of a member with 500 offers x 5 steps, no upstream latency, next to the plain
  page doing the same fetch (``bench_cpu.py``'s pair: the ratio is what to compare), three
  ways: ``support``, the same answer read again and again; ``support-changed``, an answer one
  offer of which changed since that worker's last read (the fake advances the member before
  each read, as a postback would); ``support-new``, an answer none of whose offers that worker
  has seen (every offer's times shifted before each read: a first read);
* the history page of the member with 1,200 offers (three upstream pages of 500), with
  ``--latency`` seconds of upstream latency, next to one direct round trip for a page of 500
  offers (kept-alive connection, ``json.loads``), and next to its three pages fetched at once
  the same way (``direct3x500``: the least any client pays for them from this fake, which
  builds concurrent answers in one process); ``history`` reads the same three answers again
  and again (the client recognises them), ``history-cold`` reads them after the worker's
  client forgot every answer it had read (``apps.forget_answers``), as for a member whose
  answer it has never seen, though it knows the history's length;
* with ``--fake-processes N`` (N > 1), the same history rows again (``-parallel``) against a
  second slow fake served by N processes (``apps.fake_in_process(..., processes=N)``), which
  answers concurrent requests in parallel, as RevU's servers do. By default (1) there is no
  such fake and no such rows.

Both fakes run in their own processes and speak the ``kit`` dialect (RevU's documented names plus
a member reward on every event), which versions from before the documented vocabulary read too.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The pages, and which worker serves each (the plain page and the direct round trip do not
#: depend on the kit's version, so only "after" serves them).
PAGES = (
    ("after", "support"),
    ("before", "support"),
    ("after", "support-changed"),
    ("before", "support-changed"),
    ("after", "support-new"),
    ("before", "support-new"),
    ("after", "plain"),
    ("after", "history"),
    ("before", "history"),
    ("after", "history-cold"),
    ("after", "direct500"),
    ("after", "direct3x500"),
)
#: With ``--fake-processes`` above 1: the history rows against the parallel fake.
PARALLEL_PAGES = (
    ("after", "history-parallel"),
    ("after", "history-cold-parallel"),
    ("after", "direct500-parallel"),
    ("after", "direct3x500-parallel"),
)


@contextmanager
def checkout(before: str) -> Iterator[Path]:
    """A directory holding the ``before`` version: a path as given, or a revision exported."""
    given = Path(before)
    if (given / "revu_widgets").is_dir():
        yield given.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="revu-before-") as directory:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", before],
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(directory, filter="data")
        yield Path(directory)


class Worker:
    """One version of the kit in its own process, answering "time this page" requests."""

    def __init__(self, name: str, code: Path, fast: str, slow: str, parallel: str) -> None:
        self.name = name
        env = dict(os.environ, PYTHONPATH=str(code))
        command = [sys.executable, __file__, "--worker", "--fast", fast, "--slow", slow]
        self._process = subprocess.Popen(
            [*command, "--parallel", parallel],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=str(code),
        )
        ready = self._line()
        if not ready.startswith(str(code)):
            raise SystemExit(f"the {name} worker loaded the kit from {ready}, not {code}")

    def time(self, page: str) -> tuple[float, float, int]:
        """Milliseconds the page took in the worker, CPU milliseconds the worker spent on it
        (all its threads), and the page's size in bytes."""
        assert self._process.stdin is not None
        self._process.stdin.write(page + "\n")
        self._process.stdin.flush()
        elapsed, cpu, size = self._line().split()
        return float(elapsed), float(cpu), int(size)

    def close(self) -> None:
        """Stop the worker."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)

    def _line(self) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line or line.startswith("error"):
            raise SystemExit(f"the {self.name} worker failed: {line or 'no answer'}")
        return line


def serve_pages(fast: str, slow: str, parallel: str) -> None:
    """The worker: build the apps against the fakes, then time pages named on stdin (the
    parallel fake's URL is the slow one's when there is no parallel fake)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from apps import (
        HEAVY_USER,
        MOVING_USER,
        PAGED_USER,
        RENEWED_USER,
        baseline_app,
        direct_pages,
        fake_key,
        forget_answers,
        kit_app,
    )

    import revu_widgets

    kit_fast = kit_app(fast).test_client()
    plain = baseline_app(fast, fake_key()).test_client()

    def get(client: object, url: str, user: str | None = None) -> Callable[[], int]:
        def run() -> int:
            headers = {"X-Bench-User": user} if user else {}
            response = client.get(url, headers=headers)  # type: ignore[attr-defined]
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            return len(response.data)

        return run

    pages: dict[str, Callable[[], int]] = {
        "support": get(kit_fast, f"/rewards/support/users/{HEAVY_USER}", "staff-1"),
        "support-changed": get(kit_fast, f"/rewards/support/users/{MOVING_USER}", "staff-1"),
        "support-new": get(kit_fast, f"/rewards/support/users/{RENEWED_USER}", "staff-1"),
        "plain": get(plain, f"/offers/{HEAVY_USER}"),
    }
    # Untimed, before each read of a cold page: its client forgets the answers it has read.
    prepare: dict[str, Callable[[], None]] = {}
    for suffix, base in (("", slow), ("-parallel", parallel)):
        kit, kit_cold = kit_app(base), kit_app(base)
        pages[f"history{suffix}"] = get(kit.test_client(), "/rewards/", PAGED_USER)
        pages[f"history-cold{suffix}"] = get(kit_cold.test_client(), "/rewards/", PAGED_USER)
        prepare[f"history-cold{suffix}"] = lambda app=kit_cold: forget_answers(app)
        pages[f"direct500{suffix}"], pages[f"direct3x500{suffix}"] = direct_pages(base)
    print(Path(revu_widgets.__file__).resolve().parent.parent, flush=True)
    for line in sys.stdin:
        try:
            page = line.strip()
            if page in prepare:
                prepare[page]()
                gc.collect()  # the forgotten answers are freed now, not while timed
            start, start_cpu = time.perf_counter(), time.process_time()
            size = pages[page]()
            elapsed = (time.perf_counter() - start) * 1000
            cpu = (time.process_time() - start_cpu) * 1000
        except Exception as error:
            print(f"error {type(error).__name__}: {error}", flush=True)
            return
        print(f"{elapsed:.3f} {cpu:.3f} {size}", flush=True)


def main() -> None:
    """Start both fakes and both workers, time every page round by round, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="git revision or checkout directory to compare with")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--latency", type=float, default=0.08)
    parser.add_argument(
        "--fake-processes",
        type=int,
        default=1,
        help="with N > 1, also time the history against a fake served by N processes",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fast", help=argparse.SUPPRESS)
    parser.add_argument("--slow", help=argparse.SUPPRESS)
    parser.add_argument("--parallel", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        serve_pages(args.fast, args.slow, args.parallel)
        return
    if not args.before:
        parser.error("--before is required")

    sys.path.insert(0, str(ROOT / "bench"))
    from apps import advance, fake_in_process, renew

    load_start = os.getloadavg()
    with ExitStack() as stack:
        before = stack.enter_context(checkout(args.before))
        fast = stack.enter_context(fake_in_process(0.0, dialect="kit"))
        slow = stack.enter_context(fake_in_process(args.latency, dialect="kit"))
        parallel, all_pages = slow, PAGES
        if args.fake_processes > 1:
            parallel = stack.enter_context(
                fake_in_process(args.latency, dialect="kit", processes=args.fake_processes)
            )
            all_pages = PAGES + PARALLEL_PAGES
        # Untimed, before each read of these pages: the answer changes at the fake.
        shifts = iter(range(1, 10**6))
        prepare: dict[str, Callable[[], None]] = {
            "support-changed": lambda: advance(fast),
            "support-new": lambda: renew(fast, next(shifts)),
        }
        workers = {
            "after": Worker("after", ROOT, fast, slow, parallel),
            "before": Worker("before", before, fast, slow, parallel),
        }
        for worker in workers.values():
            stack.callback(worker.close)
        for _ in range(2):  # warm: templates compiled, connections open, lengths remembered
            for version, page in all_pages:
                prepare.get(page, lambda: None)()
                workers[version].time(page)
        times: dict[tuple[str, str], list[float]] = {key: [] for key in all_pages}
        cpu: dict[tuple[str, str], list[float]] = {key: [] for key in all_pages}
        sizes: dict[tuple[str, str], int] = {}
        for round_number in range(args.rounds):
            shift = round_number % len(all_pages)
            for key in all_pages[shift:] + all_pages[:shift]:
                prepare.get(key[1], lambda: None)()
                elapsed, spent, sizes[key] = workers[key[0]].time(key[1])
                times[key].append(elapsed)
                cpu[key].append(spent)
    load_end = os.getloadavg()

    median = {key: statistics.median(values) for key, values in times.items()}
    print(
        f"before: {args.before}   after: working tree   {args.rounds} rounds, medians "
        f"(best), upstream latency for the history pages {args.latency * 1000:.0f} ms"
    )
    print(f"{'':29} {'wall':>9} {'(best)':>9} {'CPU':>9} {'(best)':>9} {'page':>9}")
    for key in all_pages:
        version, page = key
        print(
            f"{version:7} {page:21} {median[key]:6.1f} ms ({min(times[key]):6.1f}) "
            f"{statistics.median(cpu[key]):6.1f} ms ({min(cpu[key]):6.1f}) "
            f"{sizes[key] / 1024:5.0f} KiB"
        )
    plain = median[("after", "plain")]
    for page in ("support", "support-changed", "support-new"):
        for version in ("before", "after"):
            print(
                f"{version:7} {page:15} view / plain page  {median[(version, page)] / plain:5.2f}x"
            )
    fakes = [("", "one-process fake")]
    if args.fake_processes > 1:
        fakes.append(("-parallel", f"{args.fake_processes}-process fake"))
    for suffix, fake in fakes:
        one = median[("after", f"direct500{suffix}")]
        three = median[("after", f"direct3x500{suffix}")]
        rows = [("before", "history"), ("after", "history")] if not suffix else []
        rows += [("after", f"history{suffix}"), ("after", f"history-cold{suffix}")]
        for version, page in dict.fromkeys(rows):
            print(
                f"{version:7} 1,200-offer {page.removesuffix(suffix):12} ({fake}) / one 500-offer "
                f"round trip {median[(version, page)] / one:5.2f}x   / its three pages at once "
                f"{median[(version, page)] / three:5.2f}x"
            )
        print(f"        three 500-offer pages at once / one ({fake}) {three / one:5.2f}x")
    print(f"load average (1 min) {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end")


if __name__ == "__main__":
    main()
