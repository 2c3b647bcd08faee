"""The vocabularies the fake RevU can answer in.

RevU's Get Progress field names are not all published; its sibling APIs use several names for
the same thing. The fake answers its generated data in one of these dialects, so the kit is
tried against each:

* ``documented`` (the default): the names the Get Progress docs use or assume (``offer_id``,
  ``name``, ``click_url``, ``image_url``, ``total_user_reward``), an offer ``payout`` (the
  publisher's USD revenue) and events that carry only ``payout``: no public page names a
  per-event member reward.
* ``kit``: as ``documented``, plus a ``user_reward`` on every event (the member's reward per
  step, the name the kit reads first when RevU sends one).
* ``get-offers``: Get Offers' names: ``cid``, ``offer_name``, ``click_url_base``,
  ``creatives[].url``.
* ``legacy``: older offer APIs' names: ``id``, ``offer_url``, ``currency_award``,
  ``extra_terms``, and ``affiliate_id`` in the envelope.

Offers a test sets with :meth:`~revu_widgets.fake.FakeRevU.set_offers` are sent as given.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

#: Every dialect the fake speaks.
DIALECTS: Final = ("documented", "kit", "get-offers", "legacy")
#: The dialect the fake speaks unless told otherwise.
DEFAULT_DIALECT: Final = "documented"


def check_dialect(dialect: str) -> str:
    """``dialect`` when the fake speaks it; raises ``ValueError`` naming the ones it does."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    return dialect


def _renamed(data: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {names.get(key, key): value for key, value in data.items()}


def speak_offer(offer: dict[str, Any], dialect: str) -> dict[str, Any]:
    """A generated offer (the kit's names, events with ``user_reward`` and ``payout``) as
    ``dialect`` names it."""
    events = [dict(event) for event in offer.get("events") or []]
    payouts = [Decimal(str(e["payout"])) for e in events if e.get("payout") is not None]
    result = dict(offer, events=events)
    if payouts:
        result["payout"] = float(sum(payouts, Decimal(0)))
    if dialect != "kit":
        for event in events:
            event.pop("user_reward", None)
    if dialect == "get-offers":
        result = _renamed(
            result, {"offer_id": "cid", "name": "offer_name", "click_url": "click_url_base"}
        )
        image = result.pop("image_url", None)
        result["creatives"] = [{"type": "icon"}, {"type": "image", "url": image}]
    elif dialect == "legacy":
        result = _renamed(
            result,
            {
                "offer_id": "id",
                "click_url": "offer_url",
                "total_user_reward": "currency_award",
                "terms": "extra_terms",
            },
        )
    return result


def speak_envelope(envelope: dict[str, Any], dialect: str) -> dict[str, Any]:
    """An answer's envelope as ``dialect`` names it (offers already translated)."""
    if dialect == "legacy":
        return _renamed(envelope, {"publisher_id": "affiliate_id"})
    return envelope


__all__ = ["DEFAULT_DIALECT", "DIALECTS", "check_dialect", "speak_envelope", "speak_offer"]
