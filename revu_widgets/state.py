"""The kit's per-application state and the one read path every page, route and command uses.

:func:`~revu_widgets.extension.RevUWidgets.init_app` keeps a :class:`KitState` in
``app.extensions["revu_widgets"]``. The views, the support pages, the claim form and the CLI
reach it through :func:`kit_state` or the :data:`current_kit` proxy (as flask-smorest's
``current_api``), so none of them holds, or imports, the extension object.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from flask import current_app, g
from werkzeug.local import LocalProxy

from .client import RevUClient
from .errors import BadPayloadError, ConfigurationError, OfferNotFoundError
from .formatting import gettext
from .limiter import RateLimiter
from .models import Offer, SkippedOffer, UserProgress
from .store import SnapshotStore

if TYPE_CHECKING:
    from .extension import RevUWidgets
    from .fake import FakeRevU
    from .fake.server import FakeServer

log = logging.getLogger("revu_widgets")


@dataclass(frozen=True, slots=True)
class KitState:
    """What the extension keeps per application, in ``app.extensions["revu_widgets"]``."""

    #: The extension object: the host's loaders and hooks.
    widgets: RevUWidgets
    client: RevUClient
    store: SnapshotStore
    #: The shared rate limiter (same storage as the snapshots); see :mod:`revu_widgets.limiter`.
    limiter: RateLimiter
    fake: FakeRevU | None = None
    fake_server: FakeServer | None = None


def kit_state() -> KitState:
    """The current application's kit state; a clear error when the kit is not set up on it."""
    try:
        state: KitState = current_app.extensions["revu_widgets"]
    except KeyError:
        raise ConfigurationError(
            "revu-widgets is not set up on this application: call RevUWidgets(app) or "
            "revu.init_app(app) first."
        ) from None
    return state


#: The current application's :class:`KitState` (a proxy: valid inside an app context).
current_kit = cast(KitState, LocalProxy(kit_state))


def member_progress(user_id: str) -> UserProgress:
    """A member's whole validated history, through the snapshot store.

    The one read path of every page, JSON route, support view and command: concurrent readers
    share one upstream walk, and its result serves them for ``REVU_CACHE_SECONDS``.

    Each offer is read only as far as the counts, totals and order need (``Offer.complete``
    says which were read in full): what a page shows goes through :func:`full_offers` first.
    """
    state = kit_state()
    max_pages = int(current_app.config["REVU_MAX_PAGES"])
    return state.store.read(
        user_id,
        lambda: state.client.get_all_progress(user_id, max_pages=max_pages, complete=False),
    )


def full_offers(offers: Iterable[Offer]) -> tuple[Offer, ...]:
    """Offers of a snapshot read in full, for showing them (see :func:`member_progress`)."""
    return kit_state().client.complete_offers(offers)


def support_offers(offers: Iterable[Offer]) -> tuple[Offer, ...]:
    """Offers of a snapshot read with what a support card shows (not the member-facing texts,
    links and image: see :data:`~revu_widgets.schemas.SUPPORT_FIELDS`)."""
    return kit_state().client.support_offers(offers)


def full_progress(progress: UserProgress) -> UserProgress:
    """``progress`` with every offer read in full (for JSON, the CLI and host views)."""
    return replace(progress, offers=full_offers(progress.offers))


def load_offer(user_id: str, offer_id: int) -> tuple[Offer, str | None]:
    """One offer of the member, read in full, and RevU's support reference.

    The offer page, its live refresh and the claim form all load an offer here: from the
    member's snapshot, or, for an offer beyond the walk's page cap, with
    :meth:`RevUClient.get_offer`. Raises :class:`OfferNotFoundError` when the member has no
    such offer, :class:`BadPayloadError` when RevU sent it in a form that could not be read.
    """
    progress = member_progress(user_id)
    offer = next((o for o in progress.offers if o.offer_id == offer_id), None)
    skipped = tuple(s for s in progress.skipped if s.offer_id == str(offer_id))
    report_skipped(skipped)
    if offer is None and skipped:
        # RevU sent the offer but it failed validation: an upstream fault, not a missing offer.
        raise BadPayloadError(
            f"RevU answered for offer {offer_id}, but the offer's id could not be read.",
            reference=progress.support_id,
        )
    if offer is None and progress.truncated:
        offer = kit_state().client.get_offer(user_id, offer_id)
    if offer is None:
        raise OfferNotFoundError(
            gettext(
                "We could not find this offer in your history. It may be from another account, "
                "or RevU has not recorded any progress on it yet."
            ),
            reference=progress.support_id,
        )
    return full_offers((offer,))[0], progress.support_id


def report_skipped(skipped: Iterable[SkippedOffer]) -> None:
    """Log each offer that failed validation (a page shows the rest and says some are missing)."""
    for item in skipped:
        # repr: the id and paths come from upstream, and a newline or an escape sequence in
        # them must not forge or rewrite log lines.
        log.warning(
            "RevU offer skipped: failed validation (request %s, offer %r, fields %r)",
            g.get("revu_request_id"),
            item.offer_id,
            ", ".join(item.field_paths),
        )


__all__ = [
    "KitState",
    "current_kit",
    "full_offers",
    "full_progress",
    "kit_state",
    "load_offer",
    "member_progress",
    "report_skipped",
    "support_offers",
]
