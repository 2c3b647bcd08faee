"""The kit's JSON shapes: offers, steps, counts and totals as the member API sends them.

Rewards carry both a number and the member's words for it; times are ISO 8601 strings in UTC,
with words beside them where pages show them. Nothing from the raw upstream answer passes
through: only the validated models, worded by :mod:`revu_widgets.wording`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .formatting import (
    amount_number,
    currency_name,
    format_amount,
    format_date,
    format_datetime,
    isoformat,
)
from .models import Offer, OfferState, ProgressSummary, SkippedOffer, Step
from .wording import (
    credited_at,
    explain,
    next_action,
    next_action_code,
    progress_values,
    status_label,
    steps_text,
)


def _reward_json(value: Decimal | None) -> dict[str, Any]:
    return {"amount": amount_number(value), "text": format_amount(value)}


def step_as_json(step: Step) -> dict[str, Any]:
    """One step, normalised (the shape inside :func:`offer_as_json`).

    Times are ISO 8601 strings in UTC (``completed_at``), like every time in the kit's JSON,
    with the member's words beside them (``completed_text``).
    """
    return {
        "step_id": step.step_id,
        "name": step.name,
        "status": step.status.value,
        "status_label": status_label(step),
        "raw_status": step.status_label or None,
        "is_done": step.is_done,
        "reward": _reward_json(step.reward),
        "completed_at": isoformat(step.completed_at),
        "completed_text": format_datetime(step.completed_at),
        "credited_at": isoformat(step.credited_at),
        "credited_text": format_datetime(step.credited_at),
        "reversed_at": isoformat(step.reversed_at),
        "reversed_text": format_datetime(step.reversed_at),
        "reason": step.reason,
    }


def offer_as_json(offer: Offer, *, can_report: bool = False) -> dict[str, Any]:
    """One offer as normalised JSON for the kit's API routes and the live refresh.

    Rewards carry both a number and the formatted words; times are ISO 8601 strings in UTC,
    with words in a ``*_text`` field where pages show them. Nothing from the raw upstream dict
    passes through. ``can_report`` as for :func:`next_action`.
    """
    done, total = progress_values(offer)
    return {
        "offer_id": offer.offer_id,
        "name": offer.name,
        "headline": offer.headline,
        "description": offer.description,
        "requirements": offer.requirements,
        "category": offer.category,
        "image_url": offer.image_url,
        "click_url": offer.click_url,
        "status": offer.status.value,
        "state": offer.state.value,
        "state_label": status_label(offer),
        "can_continue": offer.can_continue,
        "progress": round(offer.progress, 4),
        "progress_value": done,
        "progress_max": total,
        "progress_text": steps_text(offer),
        "steps_done": offer.steps_done,
        "steps_total": offer.steps_total,
        # The member's amounts only (RevU's USD payout never leaves the server); null when
        # RevU gave none.
        "rewards": {
            kind: _reward_json(amount if offer.reward_known else None)
            for kind, amount in (
                ("earned", offer.earned),
                ("pending", offer.pending),
                ("lost", offer.lost),
                ("remaining", offer.remaining),
                ("possible", offer.possible),
                ("partial", offer.partial_credit),
            )
        },
        "currency": currency_name(),
        "reporting": offer.reporting,
        "started_at": isoformat(offer.started_at),
        "last_activity_at": isoformat(offer.last_activity_at),
        "credited_at": isoformat(credited_at(offer)),
        "expires_at": isoformat(offer.expires_at),
        "expected_credit_at": isoformat(offer.expected_credit_at),
        "expected_credit_text": format_date(offer.expected_credit_at),
        "overdue": offer.is_overdue,
        "reversal_reason": offer.reversal_reason if offer.state is OfferState.REVERSED else None,
        "needs_claim_details": offer.needs_claim_details,
        "explanation": explain(offer),
        "next_action": {
            "code": next_action_code(offer),
            "text": next_action(offer, can_report=can_report),
        },
        "steps": [step_as_json(step) for step in offer.steps],
    }


def skipped_as_json(skipped: SkippedOffer) -> dict[str, Any]:
    """An offer left out by validation: its id when known and the failing fields (no values)."""
    return {"offer_id": skipped.offer_id, "fields": list(skipped.field_paths)}


def summary_counts(summary: ProgressSummary) -> dict[str, int]:
    """How many offers in each state, and how many are overdue (for the JSON routes)."""
    return {
        "total": summary.total,
        "in_progress": summary.in_progress,
        "pending": summary.pending,
        "credited": summary.credited,
        "reversed": summary.reversed,
        "expired": summary.expired,
        "reversed_or_expired": summary.reversed_or_expired,
        "unknown": summary.unknown,
        "overdue": summary.overdue,
    }


def summary_totals(summary: ProgressSummary) -> dict[str, Decimal]:
    """A member's reward totals under the names both JSON APIs use (offers' rewards too)."""
    return {
        "earned": summary.earned,
        "pending": summary.pending_amount,
        "lost": summary.lost,
        "remaining": summary.remaining,
    }


def totals_as_json(summary: ProgressSummary) -> dict[str, Any]:
    """A member's reward totals as the member API sends them: each a number and its words."""
    return {name: _reward_json(amount) for name, amount in summary_totals(summary).items()}
