"""How much parsing and validating a big Get Progress page costs next to ``json.loads``.

Run by hand: ``.venv/bin/python bench/bench_parse.py``. Builds a 500-offer page with five steps
per offer (every status, aliases, timestamps in both forms), then times ``json.loads`` of the
bytes alone, ``json.loads`` plus :func:`revu_widgets.schemas.parse_progress_page` reading every
field, and what a long history's list page does: every offer with only
:data:`~revu_widgets.schemas.SUMMARY_FIELDS` (counts, totals, order), then the 100 offers a
support page shows in full (only the fields their summary left out, in one load).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from revu_widgets.schemas import SUMMARY_FIELDS, complete_offers, parse_progress_page

OFFERS = 500
STEPS = 5
ROUNDS = 30
STATUS_WORDS = ["credited", "Completed", "pending credit", "", "revoked", "in_progress"]


def build_payload() -> bytes:
    """A realistic 500 x 5 page, serialised the way RevU would send it."""
    offers: list[dict[str, Any]] = []
    for i in range(OFFERS):
        id_key = ("offer_id", "cid", "id")[i % 3]
        offers.append(
            {
                id_key: 100000 + i,
                "name": f"Offer number {i}: reach level {i % 50}",
                "headline": "Play a game and level up",
                "description": "Install the game and reach the milestones below. " * 3,
                "requirements": "New players only.",
                "category": "Games",
                "image_url": f"https://cdn.example.com/offers/{i}.png",
                "click_url": f"https://publishers.example.com/click/{i}?uid=u-1&sid3=abc",
                "reward_status": 1 + i % 4,
                "in_progress": i % 4 == 0,
                "user_completed": i % 4 != 0,
                "total_user_reward": 1000 + i,
                "reporting": "up to 30 days",
                "started_at": "2026-11-20T09:14:00Z",
                "updated_at": 1764000000 + i,
                "expires_at": "2026-12-20T09:14:00+01:00",
                "events": [
                    {
                        "event_id": step,
                        "name": f"Step {step}",
                        "payout": 0.25,
                        "user_reward": 200 + step,
                        "status": STATUS_WORDS[(i + step) % len(STATUS_WORDS)],
                        "completed_at": "2026-11-21T10:00:00Z",
                        "credited_at": None,
                    }
                    for step in range(STEPS)
                ],
            }
        )
    envelope = {
        "status": "success",
        "publisher_id": 4021,
        "wall_id": 7788,
        "support_id": 918273645,
        "total": OFFERS,
        "offset": 0,
        "limit": OFFERS,
        "offers": offers,
    }
    return json.dumps(envelope).encode()


def best_of(rounds: int, work: Callable[[], object]) -> tuple[float, float]:
    """Best and median wall time of ``work`` in milliseconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    """Print both timings and their ratio."""
    body = build_payload()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    page = parse_progress_page(json.loads(body), now=now)
    if len(page.offers) != OFFERS or page.skipped:
        raise SystemExit(f"the benchmark page did not validate: {page.skipped}")

    loads_best, loads_median = best_of(ROUNDS, lambda: json.loads(body))
    full_best, full_median = best_of(ROUNDS, lambda: parse_progress_page(json.loads(body), now=now))

    def list_page() -> None:
        light = parse_progress_page(json.loads(body), now=now, only=SUMMARY_FIELDS)
        complete_offers(light.offers[:100])

    list_best, list_median = best_of(ROUNDS, list_page)
    print(f"payload: {OFFERS} offers x {STEPS} steps, {len(body) / 1024:.0f} KiB")
    print(f"json.loads only          best {loads_best:7.2f} ms   median {loads_median:7.2f} ms")
    print(f"json.loads + validation  best {full_best:7.2f} ms   median {full_median:7.2f} ms")
    print("list page: summary of all, 100 in full")
    print(f"                         best {list_best:7.2f} ms   median {list_median:7.2f} ms")
    print(f"ratio (best)             {full_best / loads_best:.1f}x")
    print(f"validation per offer     {(full_best - loads_best) / OFFERS * 1000:.1f} us")


if __name__ == "__main__":
    main()
