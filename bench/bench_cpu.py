"""CPU: the heaviest page next to a plain page doing the same fetch, in the same run.

Run by hand: ``.venv/bin/python bench/bench_cpu.py [--rounds 25] [--profile]``.

The heaviest page is the support view of a member with 500 offers x 5 steps
(``/rewards/support/users/<id>``: every offer validated, totals over all 500, the first 100
offers rendered with every step, explanation and claim summary). The baseline fetches the same
JSON from the same fake RevU (in its own process) with ``requests``, runs ``json.loads`` and
renders a plain Jinja list of the same fields for the same 100 offers. Both run in this
process through Flask's test client, interleaved round by round, so machine noise hits both
alike; the result is the ratio of the medians. ``--profile`` shows where the kit's page
spends its time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Callable

from apps import HEAVY_USER, SHOWN_OFFERS, baseline_app, fake_in_process, fake_key, kit_app
from flask.testing import FlaskClient

#: The target: the kit's heaviest page in at most this many times the baseline's time.
TARGET_RATIO = 2.0


def timed(client: FlaskClient, url: str, headers: dict[str, str]) -> tuple[float, int]:
    """Milliseconds for one GET, and the size of the page."""
    start = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed, len(response.data)


def main() -> None:
    """Time both pages, print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--profile", action="store_true", help="profile the kit's page")
    args = parser.parse_args()

    with fake_in_process() as base_url:
        kit = kit_app(base_url).test_client()
        plain = baseline_app(base_url, fake_key()).test_client()
        kit_url = f"/rewards/support/users/{HEAVY_USER}"
        plain_url = f"/offers/{HEAVY_USER}"
        headers = {"X-Bench-User": "staff-1"}

        pages: list[tuple[str, Callable[[], tuple[float, int]]]] = [
            ("kit", lambda: timed(kit, kit_url, headers)),
            ("baseline", lambda: timed(plain, plain_url, {})),
        ]
        for _ in range(3):
            for _name, page in pages:
                page()
        times: dict[str, list[float]] = {"kit": [], "baseline": []}
        sizes: dict[str, int] = {}
        for round_number in range(args.rounds):
            # Alternate who goes first, so neither always runs on a cache warmed by the other.
            order = pages if round_number % 2 == 0 else pages[::-1]
            for name, page in order:
                elapsed, sizes[name] = page()
                times[name].append(elapsed)

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                kit.get(kit_url, headers=headers)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)

    kit_median = statistics.median(times["kit"])
    plain_median = statistics.median(times["baseline"])
    ratio = kit_median / plain_median
    print(
        f"support view, 500 offers x 5 steps, {SHOWN_OFFERS} rendered, "
        f"{args.rounds} rounds interleaved"
    )
    print(
        f"kit       median {kit_median:7.1f} ms  best {min(times['kit']):7.1f} ms  "
        f"page {sizes['kit'] / 1024:6.0f} KiB"
    )
    print(
        f"baseline  median {plain_median:7.1f} ms  best {min(times['baseline']):7.1f} ms  "
        f"page {sizes['baseline'] / 1024:6.0f} KiB"
    )
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(f"ratio     {ratio:.2f}x  (target <= {TARGET_RATIO}x: {verdict})")


if __name__ == "__main__":
    main()
