"""Every upstream fault against every kit route, over real HTTP to the fake RevU on loopback.

The table lives in :mod:`tests.reliability.matrix`; ``docs/fault-matrix.md`` is generated from
it, and a test here keeps the two identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from revu_widgets.fake import FakeRevU
from revu_widgets.fake.server import FakeServer

from .matrix import (
    FAULTS,
    ROUTES,
    Cell,
    Fault,
    Route,
    Upstreams,
    document,
    make_upstreams,
    run_cell,
    upstreams,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "fault-matrix.md"


@pytest.fixture(scope="module")
def upstreams_per_route() -> Iterator[dict[Route, Upstreams]]:
    """A fake RevU and its hosts for each route: a fault's cells then run at the same time, each
    against its own fake, so the routes wait out a hang or a trickle together, not in turn."""
    with ExitStack() as stack:
        yield {route: stack.enter_context(upstreams()) for route in ROUTES}


@pytest.mark.parametrize("fault", FAULTS, ids=[f.slug for f in FAULTS])
def test_fault_gives_the_tables_answer_on_every_route_within_the_deadline(
    upstreams_per_route: dict[Route, Upstreams], fault: Fault
) -> None:
    def cell(route: Route) -> Cell:
        ups = upstreams_per_route[route]
        try:
            return run_cell(ups, route, fault)
        finally:
            ups.fake.release()  # a response still hanging on purpose ends now

    # Waiting overlaps; work does not: a huge answer's cells each build and read tens of MB,
    # and six at once on a busy machine would push each past the deadline (504, not the 502
    # the table says), so those run one after another as before.
    workers = 1 if fault.kind == "huge" else len(ROUTES)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        cells = list(pool.map(cell, ROUTES))
    failures = [f"{c.route.title}: {'; '.join(c.problems)}" for c in cells if not c.ok]
    assert not failures, "\n".join(failures)


def test_offer_with_unreadable_fields_is_shown_without_them_not_as_missing(
    fake_revu: FakeRevU, fake_revu_server: FakeServer
) -> None:
    ups = make_upstreams(fake_revu, fake_revu_server.url)
    fault = next(f for f in FAULTS if f.slug == "bad-offer")
    offer_json = next(r for r in ROUTES if r.json and r.single_offer)
    cell = run_cell(ups, offer_json, fault)
    assert cell.status == 200
    assert b"offer_not_found" not in cell.body
    # The unreadable values themselves never reach the member.
    assert b"a lot" not in cell.body
    assert b"the other day" not in cell.body


def test_published_matrix_is_generated_from_the_tested_table() -> None:
    assert DOC.read_text(encoding="utf-8") == document(), (
        "docs/fault-matrix.md is stale: run python -m tests.reliability.matrix "
        "--write docs/fault-matrix.md"
    )


def test_manual_shows_the_tested_matrix() -> None:
    # The manual's reliability page includes the generated file itself, so it cannot drift.
    page = (DOC.parent / "reliability.md").read_text(encoding="utf-8")
    assert "```{include} fault-matrix.md" in page
    table = [line for line in document().splitlines() if line.startswith("|")]
    assert table
    assert table == [
        line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("|")
    ]
