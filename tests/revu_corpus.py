"""Answers shaped the way RevU's documentation names things, one per source.

Every name carries a comment saying where RevU documents (or, marked "assumed", implies) it:
"GP" is the Get Progress API page and its Technical Docs, "GPers" Get Personalized, "GO" Get
Offers, "older" the older offer APIs (All Offers). See /README.md, "Upstream contract".
"""

from __future__ import annotations

from typing import Any

GET_PROGRESS: dict[str, Any] = {
    "status": "success",  # GP: envelope, "success"
    "publisher_id": 4021,  # GP: envelope carries the publisher id
    "wall_id": 7788,  # GPers/GO envelope (assumed for GP)
    "support_id": 918273645,  # GPers: integer per-request reference (assumed for GP)
    "total": 1,  # GP: matching offers before paging
    "offset": 0,  # GO envelope (assumed for GP)
    "limit": 25,  # GO envelope (assumed for GP)
    "offers": [  # GP: the page of offers
        {
            "offer_id": 81001,  # GP: the offer_id request parameter's name
            "name": "Dragon Realms",  # GPers/GO shared vocabulary
            "headline": "Play and level up",  # GPers
            "description": "Reach level 25.",  # GPers/GO
            "requirements": "New players only.",  # GPers
            "terms": "One reward per device.",  # GPers
            "category": "Games",  # GO
            "image_url": "https://cdn.example.com/81001.png",  # GPers
            "click_url": "https://publishers.example.com/click/81001",  # GPers (carries sid3)
            "reward_status": 1,  # GP: 1 in progress, 2 credited, 3 reversed/expired, 4 pending
            "in_progress": True,  # GP overview
            "user_completed": False,  # GP overview
            "total_user_reward": 1000,  # GPers: the member's whole reward
            "payout": 1.0,  # older ("Your payout in USD"): the publisher's revenue
            "reporting": "up to 30 days",  # older: time until credit
            "updated_at": "2026-11-20T09:00:00Z",  # assumed: ISO 8601 or Unix seconds
            "events": [  # GPers: "events[] with total_user_reward and per-event payout"
                {"event_id": 1, "name": "Install", "payout": 0.4, "status": "Completed"},
                {"event_id": 2, "name": "Level 25", "payout": 0.6, "status": ""},
            ],
        }
    ],
}

GET_OFFERS: dict[str, Any] = {
    "status": "success",
    "total": 1,
    "offers": [
        {
            "cid": 81002,  # GO: the offer's id
            "offer_name": "Puzzle Garden",  # GO: the offer's name
            "click_url_base": "https://publishers.example.com/click/81002",  # GO
            "creatives": [{"type": "image", "url": "https://cdn.example.com/81002.png"}],  # GO
            "platform": "android",  # third-party integration (unverified): not read
            "reward_status": 2,
            "total_user_reward": 300,
            "updated_at": 1763630040,
        }
    ],
}

OLDER_API: dict[str, Any] = {
    "status": "success",
    "affiliate_id": 4021,  # older: the publisher id
    "total": 1,
    "offers": [
        {
            "id": 81003,  # older: the offer's id
            "name": "Cash Quest",
            "offer_url": "https://publishers.example.com/go/81003",  # older: the offer link
            "currency_award": 5000,  # older: the member's reward
            "extra_terms": "Deposit within 7 days.",  # older: terms
            "payout": 4.8,  # older: "Your payout in USD"
            "reward_status": 4,
            "updated_at": "2026-11-21T09:00:00Z",
        }
    ],
}

CORPUS: dict[str, dict[str, Any]] = {
    "get-progress": GET_PROGRESS,
    "get-offers": GET_OFFERS,
    "older-api": OLDER_API,
}
