"""Fairness: one member's history page, alone and while a 10,000-offer account is loading.

The fake RevU runs in a child process and answers every request after 300 ms. A member with a
one-page history is timed alone (median of ``--rounds`` requests), then again while five
concurrent requests of a 10,000-offer account (20 pages of 500) are in flight, each on its own
thread, as browsers on a threaded server would send them. Reported side by side: the member's
median in both cases and their ratio, the heavy requests' statuses, and the upstream requests
made for the heavy account (one shared walk: 20)::

    .venv/bin/python bench/fairness.py --rounds 5
"""

from __future__ import annotations

import argparse
import copy
import statistics
import threading
import time
from typing import Any

import requests
from apps import fake_in_process, fake_key
from flask import Flask, request

from revu_widgets import RevUWidgets

HEAVY, LIGHT = "whale-1", "alex-1"
HEAVY_OFFERS = 10_000
UPSTREAM_LATENCY = 0.3


def whale_offers(base_url: str) -> list[dict[str, Any]]:
    """10,000 raw offers: the fake's 1,200-offer member, cloned with new ids."""
    from datetime import UTC, datetime

    from revu_widgets.fake.data import generate_offers

    source = generate_offers("heavy-bench", datetime.now(UTC))
    offers = []
    for number in range(HEAVY_OFFERS):
        offer = copy.deepcopy(source[number % len(source)])
        offer["offer_id"] = 1_000_000 + number
        offers.append(offer)
    return offers


def site(base_url: str) -> Flask:
    app = Flask("bench_fairness")
    app.config.update(
        SECRET_KEY="bench",
        REVU_API_KEY=fake_key(),
        REVU_BASE_URL=base_url,
        # Every light request walks RevU: the time compared is upstream + validation + page.
        REVU_CACHE_SECONDS=0,
    )
    revu = RevUWidgets(app)
    revu.user_id_loader(lambda: request.headers.get("X-Bench-User"))
    return app


def timed(app: Flask, user: str) -> tuple[float, int]:
    started = time.perf_counter()
    status = app.test_client().get("/rewards/", headers={"X-Bench-User": user}).status_code
    return time.perf_counter() - started, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with fake_in_process(latency=UPSTREAM_LATENCY) as base_url:
        key = {"X-API-Key": fake_key()}
        requests.put(
            f"{base_url}/_fake/users/{HEAVY}/offers",
            json=whale_offers(base_url),
            headers=key,
            timeout=120,
        ).raise_for_status()
        app = site(base_url)
        timed(app, LIGHT)  # warm connections and templates
        alone = [timed(app, LIGHT)[0] for _ in range(args.rounds)]

        before = requests.get(f"{base_url}/_fake/stats", headers=key, timeout=10).json()
        heavy_results: list[tuple[float, int]] = []
        heavy = [
            threading.Thread(target=lambda: heavy_results.append(timed(app, HEAVY)))
            for _ in range(5)
        ]
        for thread in heavy:
            thread.start()
        time.sleep(UPSTREAM_LATENCY)  # the heavy walk is under way
        loaded = []
        while any(t.is_alive() for t in heavy) or len(loaded) < args.rounds:
            loaded.append(timed(app, LIGHT)[0])
            if len(loaded) >= args.rounds and not any(t.is_alive() for t in heavy):
                break
            if len(loaded) >= args.rounds * 4:
                break
        for thread in heavy:
            thread.join()
        after = requests.get(f"{base_url}/_fake/stats", headers=key, timeout=10).json()

    light_alone, light_loaded = statistics.median(alone), statistics.median(loaded)
    print(
        f"upstream answers in {UPSTREAM_LATENCY * 1000:g} ms; {HEAVY_OFFERS} offers heavy account"
    )
    print(
        f"light member alone:            median {light_alone * 1000:7.0f} ms "
        f"({len(alone)} requests)"
    )
    print(
        f"light member, heavy in flight: median {light_loaded * 1000:7.0f} ms "
        f"({len(loaded)} requests, max {max(loaded) * 1000:.0f} ms)"
    )
    print(f"ratio:                         {light_loaded / light_alone:.2f}x")
    print(
        "heavy requests: "
        + ", ".join(f"{status} in {seconds:.1f} s" for seconds, status in heavy_results)
    )
    print(f"upstream requests during the heavy load: {after['requests'] - before['requests']}")


if __name__ == "__main__":
    main()
