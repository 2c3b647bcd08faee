"""Latency: the kit's pages next to one direct upstream round trip, with 80 ms of upstream latency.

Run by hand: ``.venv/bin/python bench/bench_latency.py [--rounds 15] [--latency 0.08]``.

The fake RevU waits ``--latency`` seconds before every answer. Measured side by side, round by
round, in one run (medians):

* ``direct``: one Get Progress call over a kept-alive connection, body read and ``json.loads``:
  the least any page showing this data can cost;
* the kit's history page (``/rewards/``, with its tab counts) and offer page
  (``/rewards/offers/<id>``) for an active member (16 offers) and the history page for a heavy
  member (1,200 offers, three upstream pages of 500), compared with one direct round trip for
  a page of 500 of that member's offers;
* a naive integration: RevU's default page size (100), a new connection for every call, pages
  one after another, ``json.loads`` and nothing else.

Also prints how many upstream calls and new TCP connections each kit page made.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

import requests
from apps import (
    ACTIVE_USER,
    PAGED_USER,
    fake_in_process,
    kit_app,
    naive_fetch_all,
    upstream_stats,
)

from revu_widgets.fake import FAKE_API_KEY

#: The target: each kit page within this many times one direct round trip.
TARGET_RATIO = 1.15
#: The target for the member with 1,200 offers: within this many times one direct round trip
#: for a page of 500 offers.
TARGET_HEAVY_RATIO = 1.3


def main() -> None:
    """Time every variant, print medians and ratios to one direct round trip."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--latency", type=float, default=0.08)
    args = parser.parse_args()

    load_start = os.getloadavg()
    with fake_in_process(args.latency) as base:
        kit = kit_app(base).test_client()
        direct_session = requests.Session()
        active_offer = direct_session.get(
            f"{base}/api/v1/users/{ACTIVE_USER}/getprogress",
            headers={"X-API-Key": FAKE_API_KEY},
            timeout=30,
        ).json()["offers"][0]["offer_id"]

        def direct() -> None:
            response = direct_session.get(
                f"{base}/api/v1/users/{ACTIVE_USER}/getprogress",
                params={"limit": 500, "offset": 0},
                headers={"X-API-Key": FAKE_API_KEY},
                timeout=30,
            )
            json.loads(response.content)

        def direct_500() -> None:
            response = direct_session.get(
                f"{base}/api/v1/users/{PAGED_USER}/getprogress",
                params={"limit": 500, "offset": 0},
                headers={"X-API-Key": FAKE_API_KEY},
                timeout=30,
            )
            json.loads(response.content)

        def kit_page(url: str, user: str) -> Callable[[], None]:
            def get() -> None:
                response = kit.get(url, headers={"X-Bench-User": user})
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")

            return get

        def naive_detail() -> None:
            response = requests.get(
                f"{base}/api/v1/users/{ACTIVE_USER}/getprogress",
                params={"offer_id": active_offer, "limit": 1},
                headers={"X-API-Key": FAKE_API_KEY, "Connection": "close"},
                timeout=30,
            )
            json.loads(response.content)

        variants: dict[str, Callable[[], object]] = {
            "direct round trip (active)": direct,
            "kit history, active member": kit_page("/rewards/", ACTIVE_USER),
            "kit offer page, active member": kit_page(
                f"/rewards/offers/{active_offer}", ACTIVE_USER
            ),
            "direct round trip, 500 offers": direct_500,
            "kit history, 1,200 offers": kit_page("/rewards/", PAGED_USER),
            "naive history, active member": lambda: naive_fetch_all(base, ACTIVE_USER),
            "naive offer page, active member": naive_detail,
            "naive history, 1,200 offers": lambda: naive_fetch_all(base, PAGED_USER),
        }
        calls: dict[str, tuple[int, int]] = {}
        for name, work in variants.items():
            work()  # warm: templates compiled, sessions and connections open
            before_requests, before_connections = upstream_stats(base)
            work()
            after_requests, after_connections = upstream_stats(base)
            # The second stats call opened one connection of its own.
            calls[name] = (
                after_requests - before_requests,
                after_connections - before_connections - 1,
            )

        times: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        for round_number in range(args.rounds):
            # Rotate the order so no variant always runs first or last.
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                variants[name]()
                times[name].append((time.perf_counter() - start) * 1000)
    load_end = os.getloadavg()

    direct_median = statistics.median(times["direct round trip (active)"])
    print(
        f"upstream latency {args.latency * 1000:.0f} ms, {args.rounds} rounds, "
        "medians (ratio to one direct round trip)"
    )
    print(f"{'':34} {'median':>9} {'ratio':>7} {'calls':>6} {'new conns':>10}")
    for name in names:
        median = statistics.median(times[name])
        made, opened = calls[name]
        print(f"{name:34} {median:7.1f} ms {median / direct_median:6.2f}x {made:6d} {opened:10d}")
    print(f"target: kit pages <= {TARGET_RATIO}x one direct round trip")
    heavy = statistics.median(times["kit history, 1,200 offers"])
    direct_500 = statistics.median(times["direct round trip, 500 offers"])
    print(
        f"kit history, 1,200 offers / one 500-offer round trip: {heavy / direct_500:.2f}x "
        f"(target <= {TARGET_HEAVY_RATIO}x)"
    )
    print(f"load average (1 min) {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end")


if __name__ == "__main__":
    main()
