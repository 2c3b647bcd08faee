"""``flask revu doctor``: does the kit understand what the configured RevU really sends?

:func:`diagnose` reads raw Get Progress answers (as :meth:`RevUClient.get_raw_progress` returns
them) against the kit's :class:`~revu_widgets.schemas.Vocabulary` and reports, without values:
which upstream name supplied each of the kit's fields and in how many offers, which upstream
fields nothing read, offers skipped and fields left out, dropped links, and money checks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from .client import RawAnswer
from .errors import BadPayloadError
from .models import ZERO, SkippedOffer
from .schemas import ObjectKind, Vocabulary, parse_progress_page

#: The kit fields every offer needs for the member to understand it; an offer without one is
#: "read but doubtful" (name falls back to the id, the tab or the reward is unknown).
REQUIRED_OFFER_FIELDS: Final = ("offer_id", "name", "reward_status", "total_user_reward")

#: Exit statuses of ``flask revu doctor``.
EXIT_OK: Final = 0
EXIT_DOUBTFUL: Final = 1
EXIT_FAILED: Final = 2


@dataclass(frozen=True, slots=True)
class PageCheck:
    """One upstream call: its status, time and size."""

    offset: int
    status: int
    milliseconds: int
    offers: int


@dataclass(slots=True)
class DoctorReport:
    """What :func:`diagnose` found (see the module docstring); JSON-ready via :meth:`as_json`."""

    user_id: str
    pages: list[PageCheck] = field(default_factory=list)
    total: int | None = None
    #: Envelope: kit field -> the upstream name that supplied it (first page).
    envelope: dict[str, str] = field(default_factory=dict)
    #: ``"offer.name"`` -> {upstream name: how many offers/events it supplied}.
    sources: dict[str, Counter[str]] = field(default_factory=dict)
    #: ``"offer.platform"`` -> how many objects carried an upstream field nothing reads.
    unread: Counter[str] = field(default_factory=Counter)
    #: Kit field -> how many offers lacked it (from :data:`REQUIRED_OFFER_FIELDS`).
    missing_required: Counter[str] = field(default_factory=Counter)
    skipped: list[SkippedOffer] = field(default_factory=list)
    #: ``(offer id, dotted paths)`` of fields left out because they could not be read.
    degraded: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    dropped_urls: list[tuple[int, str]] = field(default_factory=list)
    offers: int = 0
    events: int = 0
    #: Events that carry only ``payout`` (the publisher's USD revenue), no member reward.
    payout_only_events: int = 0
    #: Offers whose payout-only steps could not be given a share of the member's reward.
    unknown_step_rewards: list[int] = field(default_factory=list)
    #: Offers whose steps' member rewards do not add up to the offer's total.
    rewards_not_adding_up: list[int] = field(default_factory=list)

    @property
    def doubtful(self) -> bool:
        """Something was skipped, left out, missing or does not add up."""
        return bool(
            self.skipped
            or self.degraded
            or self.missing_required
            or self.unknown_step_rewards
            or self.rewards_not_adding_up
        )

    @property
    def exit_code(self) -> int:
        """:data:`EXIT_OK` when every offer was read, else :data:`EXIT_DOUBTFUL`."""
        return EXIT_DOUBTFUL if self.doubtful else EXIT_OK

    def as_json(self) -> dict[str, Any]:
        """The report as plain JSON data (never upstream values, only names and counts)."""
        return {
            "user_id": self.user_id,
            "exit_code": self.exit_code,
            "pages": [
                {
                    "offset": p.offset,
                    "status": p.status,
                    "milliseconds": p.milliseconds,
                    "offers": p.offers,
                }
                for p in self.pages
            ],
            "total": self.total,
            "envelope": self.envelope,
            "fields": {key: dict(counts) for key, counts in sorted(self.sources.items())},
            "unread_fields": dict(sorted(self.unread.items())),
            "missing_required": dict(sorted(self.missing_required.items())),
            "offers": self.offers,
            "events": self.events,
            "skipped": [
                {"index": s.index, "offer_id": s.offer_id, "fields": list(s.field_paths)}
                for s in self.skipped
            ],
            "left_out": [
                {"offer_id": offer_id, "fields": list(paths)} for offer_id, paths in self.degraded
            ],
            "dropped_urls": [
                {"offer_id": offer_id, "field": name} for offer_id, name in self.dropped_urls
            ],
            "money": {
                "payout_only_events": self.payout_only_events,
                "offers_with_unknown_step_rewards": self.unknown_step_rewards,
                "offers_whose_steps_do_not_add_up": self.rewards_not_adding_up,
            },
        }


def _count_sources(
    report: DoctorReport, vocabulary: Vocabulary, kind: ObjectKind, raw: dict[str, Any]
) -> None:
    for kit_field, name in vocabulary.sources(kind, raw).items():
        report.sources.setdefault(f"{kind}.{kit_field}", Counter())[name] += 1
    known = vocabulary.top_keys(kind)
    for key in raw:
        if key not in known:
            report.unread[f"{kind}.{key}"] += 1


def diagnose(
    user_id: str,
    answers: list[tuple[int, RawAnswer]],
    vocabulary: Vocabulary,
    *,
    now: datetime | None = None,
) -> DoctorReport:
    """Check raw answers (``(offset, answer)`` pairs of one member's walk) against the kit.

    Raises :class:`~revu_widgets.errors.BadPayloadError` when an answer is not JSON or its
    envelope is wrong (the kit cannot read that answer at all).
    """
    report = DoctorReport(user_id=user_id)
    moment = now or datetime.now(UTC)
    for offset, answer in answers:
        payload = answer.payload
        if not isinstance(payload, dict):
            raise BadPayloadError(
                f"RevU's answer at offset {offset} is not a JSON object, so nothing in it can "
                "be read."
            )
        page = parse_progress_page(payload, now=moment, offset=offset, vocabulary=vocabulary)
        raw_offers = list(vocabulary.resolve("envelope", payload).get("offers", []))
        report.pages.append(
            PageCheck(offset, answer.status, round(answer.seconds * 1000), len(raw_offers))
        )
        if not report.envelope:
            report.total = page.total
            report.envelope = vocabulary.sources("envelope", payload)
        report.skipped.extend(page.skipped)
        report.dropped_urls.extend(page.dropped_urls)
        for raw in raw_offers:
            if not isinstance(raw, dict):
                continue
            report.offers += 1
            _count_sources(report, vocabulary, "offer", raw)
            found = vocabulary.sources("offer", raw)
            for kit_field in REQUIRED_OFFER_FIELDS:
                if kit_field not in found:
                    report.missing_required[kit_field] += 1
            events = vocabulary.resolve("offer", raw).get("events")
            for event in events if isinstance(events, list) else []:
                if not isinstance(event, dict):
                    continue
                report.events += 1
                _count_sources(report, vocabulary, "event", event)
                event_sources = vocabulary.sources("event", event)
                if "payout" in event_sources and "user_reward" not in event_sources:
                    report.payout_only_events += 1
        for offer in page.offers:
            if offer.degraded:
                report.degraded.append((offer.offer_id, offer.degraded))
            if any(s.reward is None for s in offer.steps):
                report.unknown_step_rewards.append(offer.offer_id)
            stated = [
                s.reward for s in offer.steps if s.reward is not None and not s.reward_is_share
            ]
            total = offer.total_reward
            if (
                total is not None
                and stated
                and len(stated) == len(offer.steps)
                and sum(stated, ZERO) != total
            ):
                report.rewards_not_adding_up.append(offer.offer_id)
    return report


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} ({count})" for name, count in counter.most_common())


def render_report(report: DoctorReport, vocabulary: Vocabulary) -> str:
    """The report as a terminal table."""
    lines = [f"RevU doctor for user {report.user_id}"]
    for page in report.pages:
        lines.append(
            f"  offset {page.offset}: HTTP {page.status} in {page.milliseconds} ms, "
            f"{page.offers} offers"
        )
    lines.append(f"  total offers RevU reports: {report.total}")
    lines.append("")
    lines.append("Envelope (kit field <- upstream name):")
    for kit_field in vocabulary.fields_of("envelope"):
        name = report.envelope.get(kit_field)
        lines.append(f"  {kit_field:<20} {'<- ' + name if name else 'not sent'}")
    kinds: tuple[tuple[ObjectKind, int], ...] = (("offer", report.offers), ("event", report.events))
    for kind, count in kinds:
        lines.append("")
        lines.append(f"{kind.capitalize()} fields, over {count} {kind}s (upstream name (count)):")
        for kit_field in vocabulary.fields_of(kind):
            found = report.sources.get(f"{kind}.{kit_field}")
            lines.append(f"  {kit_field:<20} {_counts(found) if found else 'not sent'}")
    lines.append("")
    unread = _counts(report.unread) if report.unread else "none"
    lines.append(f"Upstream fields nothing read: {unread}")
    missing = _counts(report.missing_required) if report.missing_required else "none"
    lines.append(f"Offers missing a field members need: {missing}")
    lines.append(f"Offers skipped (no usable id): {len(report.skipped)}")
    for skipped in report.skipped:
        lines.append(f"  offer {skipped.offer_id or '?'}: {', '.join(skipped.field_paths)}")
    lines.append(f"Offers shown with fields left out: {len(report.degraded)}")
    for offer_id, paths in report.degraded:
        lines.append(f"  offer {offer_id}: {', '.join(paths)}")
    lines.append(f"Links and images dropped (not http/https): {len(report.dropped_urls)}")
    lines.append("")
    lines.append("Money:")
    lines.append(
        f"  {report.payout_only_events} events carry only payout (the publisher's USD revenue): "
        "members see their share of the offer's total_user_reward instead"
    )
    lines.append(
        f"  {len(report.unknown_step_rewards)} offers have steps whose member reward is unknown"
        + (f" ({_ids(report.unknown_step_rewards)})" if report.unknown_step_rewards else "")
    )
    lines.append(
        f"  {len(report.rewards_not_adding_up)} offers whose step rewards do not add up to "
        "total_user_reward"
        + (f" ({_ids(report.rewards_not_adding_up)})" if report.rewards_not_adding_up else "")
    )
    lines.append("")
    lines.append(
        "Verdict: every offer was read."
        if not report.doubtful
        else "Verdict: something above needs a look (exit 1)."
    )
    return "\n".join(lines)


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:10])
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


__all__ = [
    "EXIT_DOUBTFUL",
    "EXIT_FAILED",
    "EXIT_OK",
    "REQUIRED_OFFER_FIELDS",
    "DoctorReport",
    "PageCheck",
    "diagnose",
    "render_report",
]
