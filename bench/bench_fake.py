"""The fake RevU's own cost: two versions of the fake side by side, serving the same pages.

Run by hand from the checkout root:
``.venv/bin/python bench/bench_fake.py --before REV [--rounds 15] [--latency 0.08]``.

``--before`` is a git revision (exported with ``git archive``) or the path of another checkout;
"after" is this checkout's working tree. Each version of the fake runs in its own process
(``apps.fake_in_process``: one process, the ``kit`` dialect, as ``before_after.py`` serves the
history) with ``--latency`` seconds of latency. Against each, round by round in a rotating
order, this times what ``before_after.py`` calls the floor of the 1,200-offer history: one
round trip for a page of 500 offers (kept-alive connection, ``json.loads``), and the member's
three pages of 500 asked for at once, each on its own kept-alive connection, and decoded. A
fake that builds concurrent answers one after another in its one process makes the second
wait for the first; the ratio of the two is what a client of that fake pays for three pages
over one, before doing anything with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack

from apps import direct_pages, fake_in_process
from before_after import checkout


def main() -> None:
    """Start both fakes, time both requests against each round by round, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision or checkout directory")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--latency", type=float, default=0.08)
    args = parser.parse_args()

    load_start = os.getloadavg()
    variants: dict[tuple[str, str], Callable[[], int]] = {}
    with ExitStack() as stack:
        before = stack.enter_context(checkout(args.before))
        for version, code in (("before", before), ("after", None)):
            base = stack.enter_context(fake_in_process(args.latency, dialect="kit", code=code))
            variants[(version, "one")], variants[(version, "three")] = direct_pages(base)
        keys = list(variants)
        for _ in range(2):  # warm: members generated, connections open
            for key in keys:
                variants[key]()
        times: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
        for round_number in range(args.rounds):
            shift = round_number % len(keys)
            for key in keys[shift:] + keys[:shift]:
                start = time.perf_counter()
                variants[key]()
                times[key].append((time.perf_counter() - start) * 1000)
    load_end = os.getloadavg()

    median = {key: statistics.median(values) for key, values in times.items()}
    print(
        f"fake before: {args.before}   after: working tree   {args.rounds} rounds, medians "
        f"(best), upstream latency {args.latency * 1000:.0f} ms"
    )
    for version in ("before", "after"):
        one, three = median[(version, "one")], median[(version, "three")]
        print(
            f"{version:7} one 500-offer page {one:6.1f} ms ({min(times[(version, 'one')]):6.1f})"
            f"   three at once {three:6.1f} ms ({min(times[(version, 'three')]):6.1f})"
            f"   three / one {three / one:5.2f}x"
        )
    print(f"load average (1 min) {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end")


if __name__ == "__main__":
    main()
