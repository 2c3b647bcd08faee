"""PointPanda's side of "Report a problem": its postback ledger and a claims desk in memory.

A real site would keep both in its database: the ledger is what its RevU postback handler
credited, the desk its help-desk tickets. Here they live in this process, so the whole loop
(a member reports, staff read the claim) can be tried offline.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from decimal import Decimal

from flask import g

from revu_widgets.claims import Claim
from revu_widgets.models import Offer
from revu_widgets.state import full_progress, member_progress


@dataclass(frozen=True, slots=True)
class Ticket:
    """One claim as PointPanda's desk keeps it."""

    reference: str
    claim: Claim


class ClaimsDesk:
    """Tickets filed through the kit's claim handler, newest first. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: list[Ticket] = []
        self._numbers = itertools.count(1001)

    def file(self, claim: Claim) -> str:
        """Keep ``claim`` and return its ticket reference (what the member is shown)."""
        with self._lock:
            ticket = Ticket(f"PP-{next(self._numbers)}", claim)
            self._tickets.insert(0, ticket)
        return ticket.reference

    def tickets(self) -> list[Ticket]:
        """Every ticket, newest first."""
        with self._lock:
            return list(self._tickets)

    def find(self, reference: str) -> Ticket | None:
        """The ticket with this reference, or ``None``."""
        with self._lock:
            return next((t for t in self._tickets if t.reference == reference), None)


def lost_postback(offers: tuple[Offer, ...]) -> int | None:
    """The offer whose postback "got lost" in the demo: the one RevU credited something for last."""
    latest = {
        o.offer_id: max(s.credited_at for s in o.steps if s.credited_at is not None)
        for o in offers
        if o.credited_amount and any(s.credited_at is not None for s in o.steps)
    }
    return max(latest, key=lambda offer_id: (latest[offer_id], offer_id)) if latest else None


def ledger_amount(user_id: str, offer_id: int) -> Decimal:
    """What PointPanda's ledger credited for the offer.

    The demo has no postbacks, so its ledger credits what RevU credited — except one postback
    per member that "got lost" on the way, so the site's own problem can be tried.
    """
    # One page asks about many offers: read the member's history once per request.
    books: dict[str, dict[int, Decimal]] = g.setdefault("pointpanda_ledger", {})
    if user_id not in books:
        offers = full_progress(member_progress(user_id)).offers
        lost = lost_postback(offers)
        books[user_id] = {o.offer_id: o.credited_amount for o in offers if o.offer_id != lost}
    return books[user_id].get(offer_id, Decimal(0))


__all__ = ["ClaimsDesk", "Ticket", "ledger_amount", "lost_postback"]
