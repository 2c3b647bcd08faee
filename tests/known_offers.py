"""Upstream offers built by hand, whose counts and totals the CLI and support tests know.

Together they hold one offer in progress (650 of 4,200 earned, 3,550 still possible), one pending
credit that is overdue (2,500, finished 40 days ago with up to 30 days to credit) and one reversed
(5,000, "Deposit charged back"). Each call returns fresh dicts, so a test may change them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """``moment`` the way RevU writes times: ISO 8601 with a ``Z``."""
    return moment.isoformat().replace("+00:00", "Z")


def days_ago(days: int) -> str:
    """The upstream time ``days`` before ``NOW``."""
    return iso(NOW - timedelta(days=days))


def in_progress_offer() -> dict[str, Any]:
    """Offer 51001, in progress: two of three steps credited (650 coins), 3,550 to go."""
    return {
        "offer_id": 51001,
        "name": "Dragon Realms: reach level 25",
        "reward_status": 1,
        "in_progress": True,
        "total_user_reward": 4200,
        "updated_at": days_ago(1),
        "events": [
            {"event_id": 1, "name": "Install", "user_reward": 50, "status": "credited"},
            {"event_id": 2, "name": "Level 10", "user_reward": 600, "status": "credited"},
            {"event_id": 3, "name": "Level 25", "user_reward": 3550, "status": ""},
        ],
    }


def overdue_pending_offer() -> dict[str, Any]:
    """Offer 51003, pending credit of 2,500: finished 40 days ago, crediting takes up to 30."""
    return {
        "offer_id": 51003,
        "name": "StreamBox free trial",
        "reward_status": 4,
        "user_completed": True,
        "total_user_reward": 2500,
        "reporting": "up to 30 days",
        "updated_at": days_ago(40),
        "events": [
            {
                "event_id": 1,
                "name": "Start the free trial",
                "user_reward": 2500,
                "status": "pending",
                "completed_at": days_ago(40),
            }
        ],
    }


def reversed_offer() -> dict[str, Any]:
    """Offer 51004, 5,000 coins reversed 50 days ago: "Deposit charged back"."""
    return {
        "offer_id": 51004,
        "name": "Cash Quest: deposit $10",
        "reward_status": 3,
        "user_completed": True,
        "total_user_reward": 5000,
        "reason": "Deposit charged back",
        "updated_at": days_ago(50),
        "events": [
            {"event_id": 1, "name": "First deposit", "user_reward": 5000, "status": "revoked"}
        ],
    }


def credited_offer() -> dict[str, Any]:
    """Offer 51002, a survey whose 300 coins were credited 60 days ago."""
    return {
        "offer_id": 51002,
        "name": "Quick survey",
        "reward_status": 2,
        "user_completed": True,
        "total_user_reward": 300,
        "updated_at": days_ago(60),
        "events": [{"event_id": 1, "name": "Survey", "user_reward": 300, "status": "credited"}],
    }


def known_offers() -> list[dict[str, Any]]:
    """In progress, overdue pending and reversed: earned 650, pending 2,500, reversed 5,000."""
    return [in_progress_offer(), overdue_pending_offer(), reversed_offer()]
