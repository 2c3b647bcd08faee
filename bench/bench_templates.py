"""A change to the kit's templates, measured: the heaviest page with the kit's templates vs with
a folder of changed ones, in the same run.

Run by hand: ``.venv/bin/python bench/bench_templates.py CHANGED_FOLDER [--rounds 40]``.

``CHANGED_FOLDER`` holds templates laid out as ``templates/`` is (e.g.
``CHANGED_FOLDER/revu_widgets/support/user.html``); the application's own template folder comes
before the kit's, so those files replace the kit's for the second app only. Both apps render
the support view of a member with 500 offers x 5 steps from the same fake RevU (in its own
process), through Flask's test client, interleaved round by round with who goes first
alternating; the result is the ratio of the medians. Run it twice with the same folder on both
sides (``templates``) to see the noise of the machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from apps import HEAVY_USER, fake_in_process, kit_app


def main() -> None:
    """Time both apps, print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("changed", type=Path, help="folder of changed templates")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    with fake_in_process() as base_url:
        kit = kit_app(base_url)
        changed = kit_app(base_url)
        changed.template_folder = str(args.changed.resolve())
        clients = {"kit": kit.test_client(), "changed": changed.test_client()}
        url = f"/rewards/support/users/{HEAVY_USER}"
        headers = {"X-Bench-User": "staff-1"}
        times: dict[str, list[float]] = {name: [] for name in clients}
        for round_number in range(args.rounds + 3):
            order = list(clients.items())
            if round_number % 2:
                order.reverse()
            for name, client in order:
                start = time.perf_counter()
                response = client.get(url, headers=headers)
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{name}: {url} answered {response.status_code}")
                if round_number >= 3:  # the first rounds warm caches and templates
                    times[name].append(elapsed)

    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        print(f"{name:8}  median {medians[name]:7.1f} ms  best {min(values):7.1f} ms")
    print(f"ratio     {medians['changed'] / medians['kit']:.3f}x (changed / kit)")


if __name__ == "__main__":
    main()
