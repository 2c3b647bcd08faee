"""Deterministic, realistic Get Progress data for the fake RevU.

Every user id gets the same offers in every run and every process: the generator is seeded from
a SHA-256 of the id (Python's ``hash()`` is salted per process) and all timestamps are offsets
from the ``now`` it is given. The id's prefix picks the kind of user:

- ``new-...``: no offers yet;
- ``heavy-...``: :data:`HEAVY_OFFER_COUNT` offers, enough to need many upstream pages;
- ``banned-...``: banned from the offerwall (the server answers 403, there is no data);
- anything else: an active history of 12-20 offers that always contains every state the UI
  must handle (multi-step in progress, pending within its window, pending overdue, credited,
  reversed with a reason, expired).

Offers come back as raw dicts shaped like RevU's payload, newest activity first.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote

NEW_PREFIX = "new-"
HEAVY_PREFIX = "heavy-"
BANNED_PREFIX = "banned-"
#: How many offers a ``heavy-...`` user has.
HEAVY_OFFER_COUNT = 1200

IMAGE_BASE = "https://cdn.revu.example/offers/"
CLICK_BASE = "https://click.revu.example/click/"

# Offer ids are catalogue ids: the same offer has the same id for every user, as upstream.
_FIRST_OFFER_ID = 51001
_CATALOGUE_SIZE = 6000
_REWARD_PER_DOLLAR = 1000

# Reporting windows: RevU's words and how long they mean.
_WINDOWS = {
    "instant": timedelta(0),
    "up to 24 hours": timedelta(hours=24),
    "up to 48 hours": timedelta(hours=48),
    "up to 3 days": timedelta(days=3),
    "up to 7 days": timedelta(days=7),
    "up to 30 days": timedelta(days=30),
    "up to 45 days": timedelta(days=45),
}

_GAMES = (
    "Dragon Realms",
    "Puzzle Garden",
    "Galaxy Miners",
    "Kingdom Clash",
    "Word Orchard",
    "Tile Tycoon",
    "Harbor Town",
    "Sky Racers",
    "Bubble Bay",
    "Farmstead Valley",
    "Card Castle",
    "Neon Drift",
    "Pirate Cove Legends",
    "Solitaire Springs",
    "Monster Academy",
)
_SERVICES = (
    "StreamBox",
    "TuneWave",
    "ReadMore",
    "CloudVault",
    "FitPulse",
    "MealKit Co",
    "NewsDaily+",
    "PhotoLab Pro",
)
_FINANCE = (
    "Cash Quest",
    "Penny Bank",
    "Coinrise",
    "SaveSmart",
    "Northstar Credit",
    "Budgetly",
)
_STORES = ("ShopNest", "Gadget Hub", "Bloom & Co", "PetPantry", "Trailgear", "HomeCraft")
_APPS = ("Snapnote", "RouteMate", "Lingo Buddy", "Sleepwell", "Parkly", "Recipebox")
_SURVEY_TOPICS = (
    "streaming habits",
    "grocery shopping",
    "mobile games",
    "travel plans",
    "home internet",
    "pet food",
    "coffee",
    "banking apps",
)
_REVERSAL_REASONS = (
    "Deposit charged back",
    "Duplicate account detected",
    "Trial cancelled before 7 days",
    "Purchase returned",
    "The advertiser could not verify the install",
    "VPN or proxy detected",
)


@dataclass(frozen=True, slots=True)
class _Template:
    """One catalogue offer: what it is and what its steps are worth."""

    offer_id: int
    name: str
    headline: str
    description: str
    requirements: str
    category: str
    reporting: str
    duration_days: int
    steps: tuple[tuple[str, int], ...]

    @property
    def window(self) -> timedelta:
        return _WINDOWS[self.reporting]


def _game(rng: random.Random, offer_id: int) -> _Template:
    title = rng.choice(_GAMES)
    steps_count = rng.randint(2, 6)
    top = rng.choice((20, 25, 30, 40, 50))
    levels = sorted(rng.sample(range(3, top), steps_count - 2)) if steps_count > 2 else []
    steps = [("Install and open", rng.choice((20, 50, 100)))]
    reward = rng.randint(3, 8) * 50
    for level in [*levels, top]:
        steps.append((f"Reach level {level}", reward))
        reward = int(reward * rng.uniform(1.4, 2.2)) // 10 * 10
    return _Template(
        offer_id=offer_id,
        name=f"{title}: reach level {top}",
        headline=f"Play {title} and level up",
        description=(
            f"Install {title}, create a profile and reach the milestones below "
            f"within {rng.choice((14, 30))} days."
        ),
        requirements="New players only. Install and open the game on a phone you have not "
        "used for it before.",
        category="Games",
        reporting=rng.choice(("up to 3 days", "up to 7 days", "up to 48 hours")),
        duration_days=rng.choice((14, 30)),
        steps=tuple(steps),
    )


def _trial(rng: random.Random, offer_id: int) -> _Template:
    service = rng.choice(_SERVICES)
    reward = rng.randint(10, 40) * 100
    steps: tuple[tuple[str, int], ...]
    if rng.random() < 0.5:
        steps = (("Start the free trial", reward),)
    else:
        steps = (("Start the free trial", reward // 5), ("Stay subscribed for 7 days", reward))
    return _Template(
        offer_id=offer_id,
        name=f"{service} free trial",
        headline=f"Try {service} free for 7 days",
        description=f"Start a 7-day free trial of {service}.",
        requirements="Keep the trial active for 7 days. Cancelling early voids the reward.",
        category="Free trials",
        reporting="up to 30 days",
        duration_days=30,
        steps=steps,
    )


def _finance(rng: random.Random, offer_id: int) -> _Template:
    brand = rng.choice(_FINANCE)
    deposit = rng.choice((10, 20, 50))
    steps = [("Register", rng.choice((100, 200))), ("Verify your identity", 300)]
    steps.append((f"First deposit of ${deposit}", deposit * rng.randint(200, 500)))
    if rng.random() < 0.4:
        del steps[1]
    return _Template(
        offer_id=offer_id,
        name=f"{brand}: deposit ${deposit}",
        headline=f"Open a {brand} account",
        description=f"Sign up with {brand} and make a first deposit of ${deposit}.",
        requirements="New customers only, 18+. One account per person.",
        category="Finance",
        reporting="up to 7 days",
        duration_days=30,
        steps=tuple(steps),
    )


def _shopping(rng: random.Random, offer_id: int) -> _Template:
    store = rng.choice(_STORES)
    spend = rng.choice((20, 25, 40, 60))
    return _Template(
        offer_id=offer_id,
        name=f"{store}: first purchase of ${spend}+",
        headline=f"Shop at {store}",
        description=f"Make a first purchase of ${spend} or more at {store}.",
        requirements="Returned or cancelled orders are not rewarded. Coupons void the reward.",
        category="Shopping",
        reporting="up to 45 days",
        duration_days=30,
        steps=((f"Purchase ${spend} or more", spend * rng.randint(40, 80)),),
    )


def _survey(rng: random.Random, offer_id: int) -> _Template:
    topic = rng.choice(_SURVEY_TOPICS)
    minutes = rng.choice((5, 10, 15, 20))
    return _Template(
        offer_id=offer_id,
        name=f"Quick survey about {topic}",
        headline=f"Share your opinion in {minutes} minutes",
        description=f"A {minutes} minute survey.",
        requirements="Answer honestly; inconsistent answers are not rewarded.",
        category="Surveys",
        reporting=rng.choice(("instant", "up to 24 hours", "up to 3 days")),
        duration_days=7,
        steps=(("Complete the survey", minutes * rng.randint(20, 40)),),
    )


def _app(rng: random.Random, offer_id: int) -> _Template:
    app = rng.choice(_APPS)
    steps: tuple[tuple[str, int], ...] = (("Install and sign up", rng.randint(3, 9) * 50),)
    if rng.random() < 0.5:
        steps = (*steps, ("Use the app on 3 different days", rng.randint(4, 12) * 50))
    return _Template(
        offer_id=offer_id,
        name=f"{app}: install and sign up",
        headline=f"Try the {app} app",
        description=f"Install {app} from the app store and create an account.",
        requirements="New users only.",
        category="Apps",
        reporting="up to 48 hours",
        duration_days=14,
        steps=steps,
    )


_KINDS = (_game, _game, _game, _trial, _finance, _shopping, _survey, _app)


@lru_cache(maxsize=_CATALOGUE_SIZE)
def _template(index: int) -> _Template:
    rng = random.Random(index * 7919 + 17)  # noqa: S311 - test data, not secrets
    return rng.choice(_KINDS)(rng, _FIRST_OFFER_ID + index)


def iso_utc(moment: datetime) -> str:
    """``moment`` as RevU writes times: ISO 8601 in UTC, to the second, with ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seed(user_id: str) -> int:
    digest = hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big")


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.randint(int(low * 60), int(high * 60)))


def _days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.randint(int(low * 1440), int(high * 1440)))


# The states an active user's history always covers, in this order; extra offers are drawn
# from _EXTRA_STATES.
_REQUIRED_STATES = (
    "in_progress_multi",
    "in_progress",
    "pending",
    "pending_overdue",
    "credited",
    "credited_multi",
    "reversed",
    "expired",
)
_EXTRA_STATES = (
    "in_progress",
    "in_progress",
    "pending",
    "credited",
    "credited",
    "credited",
    "credited_multi",
    "reversed",
    "expired",
)


def _fits(template: _Template, state: str) -> bool:
    steps = len(template.steps)
    if state == "in_progress_multi":
        return steps >= 3
    if state == "credited_multi":
        return steps >= 2
    if state in ("pending", "pending_overdue"):
        return template.window >= timedelta(days=3)
    return True


def _build_offer(
    rng: random.Random, template: _Template, state: str, user_id: str, now: datetime
) -> dict[str, Any]:
    """One offer in ``state``; every timestamp lies at or before ``now`` (expiry excepted)."""
    steps = template.steps
    count = len(steps)
    window = template.window
    events: list[dict[str, Any]] = [
        {
            "event_id": number,
            "name": name,
            "payout": round(reward / _REWARD_PER_DOLLAR, 2),
            "user_reward": reward,
            "status": "",
            "completed_at": None,
            "credited_at": None,
        }
        for number, (name, reward) in enumerate(steps, start=1)
    ]
    offer: dict[str, Any] = {
        "offer_id": template.offer_id,
        "name": template.name,
        "headline": template.headline,
        "description": template.description,
        "requirements": template.requirements,
        "category": template.category,
        "image_url": f"{IMAGE_BASE}{template.offer_id}.png",
        "click_url": f"{CLICK_BASE}{template.offer_id}?uid={quote(user_id, safe='')}",
        "reward_status": 1,
        "in_progress": True,
        "user_completed": False,
        "total_user_reward": sum(reward for _, reward in steps),
        "reporting": template.reporting,
    }
    duration = timedelta(days=template.duration_days)

    # How many steps the user finished, and when the last of them was finished.
    if state in ("in_progress_multi", "in_progress"):
        done = (
            rng.randint(1, count - 1) if state == "in_progress_multi" else rng.randint(0, count - 1)
        )
        age = _days(rng, 0.5, template.duration_days - 2)
        last_done = now - _minutes(rng, 1, min(age.total_seconds() / 3600 * 0.5, 72) + 1)
    elif state == "pending":
        done = count
        last_done = now - _minutes(rng, 2, max(2.5, window.total_seconds() / 3600 * 0.4))
        age = now - last_done + _days(rng, 0.2, 6)
    elif state == "pending_overdue":
        done = count
        last_done = now - window - _days(rng, 2, 20)
        age = now - last_done + _days(rng, 0.2, 6)
    elif state in ("credited", "credited_multi"):
        done = count
        last_done = now - _days(rng, 2, 120)
        age = now - last_done + _days(rng, 0.1, 10)
    elif state == "reversed":
        done = rng.randint(1, count)
        last_done = now - _days(rng, 10, 90)
        age = now - last_done + _days(rng, 0.1, 10)
    else:  # expired
        done = rng.randint(0, count - 1)
        age = duration + _days(rng, 1, 90)
        last_done = now - age + _days(rng, 0.01, max(0.02, template.duration_days * 0.6))
    started = now - age
    if last_done < started:
        last_done = started + timedelta(minutes=7)

    # Spread the finished steps between the start and the last finished step.
    span = (last_done - started).total_seconds()
    moments = sorted(rng.uniform(0, span) for _ in range(max(done - 1, 0)))
    completed = [started + timedelta(seconds=int(s)) for s in moments]
    if done:
        completed.append(last_done)
    for event, moment in zip(events, completed, strict=False):
        event["completed_at"] = iso_utc(moment)
    stamps = [started, *completed]

    def credit(event: dict[str, Any], finished: datetime) -> None:
        delay = _minutes(rng, 0.05, 3) if window else timedelta(minutes=1)
        credited = min(finished + delay, now)
        event["status"] = "credited"
        event["credited_at"] = iso_utc(credited)
        stamps.append(credited)

    if state in ("in_progress_multi", "in_progress"):
        for index, moment in enumerate(completed):
            # The most recent step may still wait for its credit, as on RevU.
            if index == done - 1 and rng.random() < 0.6:
                events[index]["status"] = "pending"
            else:
                credit(events[index], moment)
        offer["expires_at"] = iso_utc(started + duration)
        if started + duration < now + timedelta(days=2):
            offer["expires_at"] = iso_utc(now + _days(rng, 2, 10))
    elif state in ("pending", "pending_overdue"):
        for index, moment in enumerate(completed[:-1]):
            credit(events[index], moment)
        events[-1]["status"] = "pending"
        offer.update(reward_status=4, in_progress=False, user_completed=True)
        offer["completed_at"] = iso_utc(last_done)
    elif state in ("credited", "credited_multi"):
        for index, moment in enumerate(completed):
            credit(events[index], moment)
        offer.update(reward_status=2, in_progress=False, user_completed=True)
        offer["completed_at"] = iso_utc(last_done)
        offer["credited_at"] = events[-1]["credited_at"]
    elif state == "reversed":
        for index, moment in enumerate(completed):
            credit(events[index], moment)
        revoked = events[done - 1]
        reversed_at = last_done + _days(rng, 1, 9)
        reason = rng.choice(_REVERSAL_REASONS)
        revoked.update(status="revoked", reversed_at=iso_utc(reversed_at), reason=reason)
        stamps.append(reversed_at)
        # Later steps stay not done: an "expired" step would make the offer read as expired.
        offer.update(reward_status=3, in_progress=False, user_completed=done == count)
        if rng.random() < 0.5:
            offer["reason"] = reason
    else:  # expired
        for index, moment in enumerate(completed):
            credit(events[index], moment)
        for event in events[done:]:
            event["status"] = "expired"
        offer.update(reward_status=3, in_progress=False, user_completed=False)
        offer["expires_at"] = iso_utc(started + duration)
        stamps.append(started + duration)

    offer["started_at"] = iso_utc(started)
    offer["updated_at"] = iso_utc(max(s for s in stamps if s <= now))
    offer["events"] = events
    return offer


def _pick_templates(
    rng: random.Random, states: Sequence[str], pool: int, *, distinct_names: bool
) -> list[_Template]:
    """Distinct catalogue offers, each able to show the state asked of it."""
    chosen: list[_Template] = []
    used: set[int] = set()
    names: set[str] = set()
    for state in states:
        while True:
            index = rng.randrange(pool)
            if index in used:
                continue
            template = _template(index)
            if distinct_names and template.name in names:
                continue
            if _fits(template, state):
                used.add(index)
                names.add(template.name)
                chosen.append(template)
                break
    return chosen


def generate_offers(user_id: str, now: datetime) -> list[dict[str, Any]]:
    """The user's offers as raw RevU dicts, newest activity first (empty for new/banned users)."""
    if user_id.startswith((NEW_PREFIX, BANNED_PREFIX)):
        return []
    rng = random.Random(_seed(user_id))  # noqa: S311 - test data, not secrets
    if user_id.startswith(HEAVY_PREFIX):
        states = [
            *_REQUIRED_STATES,
            *rng.choices(_EXTRA_STATES, k=HEAVY_OFFER_COUNT - len(_REQUIRED_STATES)),
        ]
        pool = _CATALOGUE_SIZE
    else:
        extra = rng.randint(12, 20) - len(_REQUIRED_STATES)
        states = [*_REQUIRED_STATES, *rng.choices(_EXTRA_STATES, k=extra)]
        pool = 400
    # A heavy history is longer than the catalogue has distinct names; repeats are fine there.
    templates = _pick_templates(rng, states, pool, distinct_names=pool < _CATALOGUE_SIZE)
    offers = [
        _build_offer(rng, template, state, user_id, now)
        for template, state in zip(templates, states, strict=True)
    ]
    offers.sort(key=lambda offer: offer["updated_at"], reverse=True)
    return offers


def window_for(reporting: str) -> timedelta | None:
    """How long RevU's ``reporting`` words (as this generator writes them) give for crediting."""
    return _WINDOWS.get(reporting)


def start_of_day(moment: datetime) -> datetime:
    """Midnight UTC of ``moment``'s day: the default anchor, stable for a whole day."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


__all__ = [
    "BANNED_PREFIX",
    "HEAVY_OFFER_COUNT",
    "HEAVY_PREFIX",
    "NEW_PREFIX",
    "generate_offers",
    "iso_utc",
    "offer_image_svg",
    "start_of_day",
    "window_for",
]


def offer_image_svg(offer_id: int) -> bytes:
    """A small square picture for an offer: a colour and a gift box, steady per offer id."""
    hue = offer_id * 47 % 360
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        f'<rect width="64" height="64" rx="12" fill="hsl({hue} 62% 46%)"/>'
        '<g fill="none" stroke="#fff" stroke-width="3" stroke-linejoin="round">'
        '<rect x="16" y="28" width="32" height="22" rx="2"/>'
        '<rect x="13" y="21" width="38" height="8" rx="2"/>'
        '<path d="M32 21v29M32 21c-4-8-13-8-11-2 1 3 7 2 11 2 4 0 10 1 11-2 2-6-7-6-11 2"/>'
        "</g></svg>"
    ).encode()
