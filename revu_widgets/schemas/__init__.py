"""RevU's Get Progress vocabulary, validated into the project's models.

This module is the only code that knows RevU's field names. It turns the decoded JSON of one
Get Progress answer into a :class:`~revu_widgets.models.ProgressPage`, through marshmallow's
documented extension points only: custom fields implement ``_deserialize``, RevU's names are
resolved in a ``@pre_load`` hook, models are built in a ``@post_load`` hook.

* The envelope (``status``, ``total``, ``offers`` ...) must be right, or the whole answer is
  refused with :class:`~revu_widgets.errors.BadPayloadError`.
* RevU uses several names for some fields across its APIs (``offer_id`` / ``cid`` / ``id``,
  ``name`` / ``offer_name`` ...). :data:`DOCUMENTED_VOCABULARY` lists every name the kit reads;
  a publisher adds names with ``REVU_FIELD_ALIASES`` (:meth:`Vocabulary.extended`).
* Each offer is validated on its own. It is skipped (and reported as a
  :class:`~revu_widgets.models.SkippedOffer`) only when it has no usable id; any other bad
  field is left out of that offer (listed in ``Offer.degraded``), so the member still sees it.
* ``payout`` is the publisher's revenue in US dollars, never a member's reward: it is kept
  apart (``Offer.payout``, ``Step.payout``) and only used to split the offer's member reward
  between its steps (:func:`~revu_widgets.models.split_reward_by_payouts`).
* Unknown fields are ignored and unknown status words are kept as such.

Upstream data is treated as hostile. The limits below keep one answer cheap to process and
safe to render:

* text is stripped of control and bidirectional-override characters and cut to
  :data:`MAX_NAME_LENGTH` (names), :data:`MAX_SHORT_TEXT_LENGTH` (headline, category,
  reporting, status words) or :data:`MAX_LONG_TEXT_LENGTH` (description, requirements, terms,
  reasons) characters, ending with an ellipsis when cut;
* links and images are kept only when they are absolute ``http``/``https`` URLs with a host, no
  credentials, no whitespace or control characters and at most :data:`MAX_URL_LENGTH`
  characters; anything else is dropped and listed in ``ProgressPage.dropped_urls``;
* an offer with more than :data:`MAX_STEPS_PER_OFFER` steps loses its steps, and an answer with
  more than :data:`MAX_OFFERS_PER_PAGE` offers is refused (RevU's own page size stops at 500);
* amounts are finite, non-negative and below :data:`MAX_REWARD`; timestamps fall between 1970
  and 2100; identifiers are bounded integers or short strings.

Pages that need only part of every offer (the tab counts and totals of a long history) load a
subset with :data:`SUMMARY_FIELDS` (marshmallow's ``only=``); what the member sees on screen is
loaded in full (:func:`complete_offers`, which reads only the fields the summary left out), what
a support card shows with :data:`SUPPORT_FIELDS` (:func:`read_for_support`).

The package is split by job: :mod:`~revu_widgets.schemas.vocabulary` (RevU's names),
:mod:`~revu_widgets.schemas.fields` (the fields and their limits),
:mod:`~revu_widgets.schemas.offers` (the schemas and the subsets pages read) and this module
(the entry points, and how a bad field is left out of its offer).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from marshmallow import ValidationError

from ..errors import BadPayloadError
from ..models import Offer, ProgressPage, SkippedOffer
from .fields import (
    MAX_CREDIT_WINDOW,
    MAX_ID_LENGTH,
    MAX_LONG_TEXT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_OFFERS_PER_PAGE,
    MAX_REWARD,
    MAX_SHORT_TEXT_LENGTH,
    MAX_STEPS_PER_OFFER,
    MAX_URL_LENGTH,
    is_safe_url,
    parse_credit_window,
    parse_timestamp,
    read_label,
    step_status_from_word,
)
from .offers import (
    AS_OF,
    DETAIL_FIELDS,
    READ_BEFORE,
    STEP_FACTS,
    SUMMARY_FIELDS,
    SUPPORT_FIELDS,
    EnvelopeSchema,
    OfferSchema,
    ReadBefore,
    StepSchema,
    summary_values,
)
from .vocabulary import (
    DOCUMENTED_NAMES,
    DOCUMENTED_VOCABULARY,
    VOCABULARY_IN_USE,
    ObjectKind,
    Vocabulary,
)

# -- errors and degradation ----------------------------------------------------------------------


def _flatten(messages: Any, prefix: str) -> Iterator[str]:
    """Dotted paths of a marshmallow error tree; values never appear in them."""
    if isinstance(messages, dict):
        for key, nested in messages.items():
            if key == "_schema":
                yield prefix or "payload"
            else:
                yield from _flatten(nested, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix or "payload"


def field_paths(error: ValidationError, prefix: str = "") -> tuple[str, ...]:
    """The sorted, distinct dotted paths where ``error`` failed, under ``prefix``."""
    return tuple(sorted(set(_flatten(error.messages, prefix))))


def _without_keys(data: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    drop = set(keys)
    return {k: v for k, v in data.items() if k not in drop}


def _without_bad_events(events: list[Any], messages: Mapping[Any, Any]) -> list[Any]:
    vocabulary = VOCABULARY_IN_USE.get()
    kept: list[Any] = []
    for index, raw in enumerate(events):
        problems = messages.get(index)
        if problems is None:
            kept.append(raw)
        elif isinstance(problems, dict) and "_schema" not in problems:
            bad = [k for name in problems for k in vocabulary.keys_of("event", name)]
            kept.append(_without_keys(raw, bad))
        # An event that is not an object at all is left out.
    return kept


def _without_bad_fields(raw: dict[str, Any], messages: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` without the upstream keys that supplied the fields named in ``messages``."""
    vocabulary = VOCABULARY_IN_USE.get()
    result = dict(raw)
    for name, problems in messages.items():
        keys = vocabulary.keys_of("offer", name)
        if name == "events" and isinstance(problems, dict):
            source = next((k for k in keys if isinstance(result.get(k), list | tuple)), None)
            if source is not None:
                result[source] = _without_bad_events(list(result[source]), problems)
                continue
        for key in keys:
            result.pop(key, None)
    return result


def _offer_id_failed(messages: object) -> bool:
    return not isinstance(messages, dict) or "_schema" in messages or "offer_id" in messages


# -- entry points ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def offer_schema(only: tuple[str, ...] | None = None, *, many: bool = False) -> OfferSchema:
    """A shared :class:`OfferSchema` (schemas are reusable; building one costs time)."""
    return OfferSchema(only=only, many=many)


_ENVELOPE_SCHEMA: Final = EnvelopeSchema()


def load_offer(
    raw: object, *, only: Sequence[str] | None = None
) -> tuple[Offer | None, tuple[str, ...]]:
    """Validate one raw offer, leaving out any field that fails.

    Returns ``(offer, degraded paths)``; the offer is ``None`` when it has no usable id (or is
    not an object), and the paths then say why. Paths are relative to the offer.
    """
    schema = offer_schema(tuple(only) if only is not None else None)
    degraded: list[str] = []
    data = raw
    # Each pass leaves out what failed; the fields left are valid or absent, so a second pass
    # normally succeeds. Nested failures (a step inside a step list) may need one more.
    for _ in range(3):
        try:
            offer: Offer = schema.load(data)  # type: ignore[arg-type]
        except ValidationError as error:
            paths = field_paths(error)
            if _offer_id_failed(error.messages) or not isinstance(data, dict):
                return None, paths
            degraded.extend(paths)
            data = _without_bad_fields(data, error.messages)  # type: ignore[arg-type]
            continue
        if degraded:
            offer = dataclasses.replace(offer, degraded=tuple(sorted(set(degraded))))
        return offer, tuple(sorted(set(degraded)))
    return None, tuple(sorted(set(degraded)))


def parse_offer(
    raw: object,
    *,
    now: datetime | None = None,
    vocabulary: Vocabulary = DOCUMENTED_VOCABULARY,
) -> Offer:
    """Validate one raw offer; raises marshmallow's ``ValidationError`` when it has no usable id.

    Other bad fields are left out (``Offer.degraded`` lists them).
    """
    as_of = AS_OF.set(now or datetime.now(UTC))
    names = VOCABULARY_IN_USE.set(vocabulary)
    try:
        offer, paths = load_offer(raw)
    finally:
        VOCABULARY_IN_USE.reset(names)
        AS_OF.reset(as_of)
    if offer is None:
        raise ValidationError({path: ["Not usable."] for path in paths})
    return offer


def complete_offer(offer: Offer, vocabulary: Vocabulary = DOCUMENTED_VOCABULARY) -> Offer:
    """``offer`` read in full, when it was read with only its summary fields.

    See :func:`complete_offers`.
    """
    return complete_offers((offer,), vocabulary)[0]


def complete_offers(
    offers: Iterable[Offer], vocabulary: Vocabulary = DOCUMENTED_VOCABULARY
) -> tuple[Offer, ...]:
    """``offers``, each read in full when it was read with only its summary fields.

    Only the fields the summary left out are read (the summary's are valid already), all the
    offers in one load. The moment each was read against (``as_of``) is kept, so its derived
    fields agree.
    """
    return _read_again(offers, DETAIL_FIELDS, complete=True, vocabulary=vocabulary)


def read_for_support(
    offers: Iterable[Offer], vocabulary: Vocabulary = DOCUMENTED_VOCABULARY
) -> tuple[Offer, ...]:
    """``offers`` read with what a support card shows (:data:`SUPPORT_FIELDS`).

    Like :func:`complete_offers`, only the fields their summary left out are read, less those
    only a member's own pages show; the offers stay incomplete (read in full when a page
    needs the rest).
    """
    return _read_again(offers, SUPPORT_FIELDS, complete=False, vocabulary=vocabulary)


def read_step_facts(
    offers: Iterable[Offer], vocabulary: Vocabulary = DOCUMENTED_VOCABULARY
) -> tuple[Offer, ...]:
    """``offers`` read in part with their steps' statuses, times and rewards added.

    For offers whose summary fields cannot decide their state, order or totals
    (``Offer.summary_without_steps`` False): after this they can, and they are still read in
    full (:func:`complete_offers`) when shown.
    """
    return _read_again(offers, STEP_FACTS, complete=False, vocabulary=vocabulary)


def _read_again(
    offers: Iterable[Offer], only: tuple[str, ...], *, complete: bool, vocabulary: Vocabulary
) -> tuple[Offer, ...]:
    listed = tuple(offers)
    # Offers of one walk were read against one moment per upstream page: one load per moment.
    # What was read before is matched by offer id, so an id met again (offers of two members
    # passed together) goes to a load of its own.
    waiting: dict[tuple[datetime, int], list[Offer]] = {}
    met: dict[tuple[datetime, int], int] = {}
    for offer in listed:
        if not offer.complete and offer.source is not None:
            seen = (offer.as_of, offer.offer_id)
            met[seen] = met.get(seen, -1) + 1
            waiting.setdefault((offer.as_of, met[seen]), []).append(offer)
    if not waiting:
        return listed
    read: dict[int, Offer] = {}
    names = VOCABULARY_IN_USE.set(vocabulary)
    try:
        for (as_of, _again), group in waiting.items():
            moment = AS_OF.set(as_of)
            before = READ_BEFORE.set(
                ReadBefore({o.offer_id: summary_values(o) for o in group}, complete)
            )
            try:
                raw = [o.source for o in group]
                for index, _raw, again, _paths in _load_offers(raw, only):
                    # The id read before is still readable: the same data gave it.
                    if again is not None:
                        earlier = group[index]
                        if earlier.degraded:
                            degraded = tuple(sorted({*earlier.degraded, *again.degraded}))
                            again = dataclasses.replace(again, degraded=degraded)
                        read[id(earlier)] = again
            finally:
                READ_BEFORE.reset(before)
                AS_OF.reset(moment)
    finally:
        VOCABULARY_IN_USE.reset(names)
    return tuple(read.get(id(offer), offer) for offer in listed)


def raw_offer_id(raw: object, vocabulary: Vocabulary = DOCUMENTED_VOCABULARY) -> str | None:
    """An offer's id as a short string, read from raw upstream data when it can be found."""
    if not isinstance(raw, Mapping):
        return None
    return read_label(vocabulary.resolve("offer", raw, ("offer_id",)).get("offer_id"))


_MAX_ERROR_CODE: Final = 64


def raw_error_code(payload: object) -> str | None:
    """RevU's error code from a decoded error body, upper-cased, or ``None``.

    RevU does not document one error shape; these are read: ``{"code": ...}``,
    ``{"status": "error", "code": ..., "message": ...}``, ``{"error": {"code": ...}}`` and
    ``{"error": "CODE"}``.
    """
    if not isinstance(payload, Mapping):
        return None
    error = payload.get("error")
    for candidate in (
        payload.get("code"),
        error.get("code") if isinstance(error, Mapping) else error,
    ):
        if isinstance(candidate, str) and candidate.isascii():
            code = candidate.strip().upper()
            if code and len(code) <= _MAX_ERROR_CODE and code.replace("_", "").isalnum():
                return code
    return None


def raw_support_id(payload: object) -> str | None:
    """RevU's ``support_id`` from a raw answer (success or error body), when readable."""
    if not isinstance(payload, Mapping):
        return None
    return read_label(payload.get("support_id"))


def _load_offers(
    raw_offers: list[Any], only: tuple[str, ...] | None
) -> Iterator[tuple[int, Any, Offer | None, tuple[str, ...]]]:
    """``(index, raw, offer or None, degraded paths)`` for every raw offer."""
    # The usual answer is valid through and through: one many=True load reads it. When
    # anything in it fails, every offer is read alone so only the bad fields are left out.
    try:
        offers: list[Offer] = offer_schema(only, many=True).load(raw_offers)
    except ValidationError:
        for index, raw in enumerate(raw_offers):
            offer, paths = load_offer(raw, only=only)
            yield index, raw, offer, paths
        return
    for index, (raw, offer) in enumerate(zip(raw_offers, offers, strict=True)):
        yield index, raw, offer, ()


_URL_FIELDS: Final = ("image_url", "click_url")


def read_envelope(
    payload: object, *, vocabulary: Vocabulary = DOCUMENTED_VOCABULARY
) -> dict[str, Any]:
    """The outside of one decoded Get Progress answer, validated (its ``offers`` left raw).

    Raises :class:`~revu_widgets.errors.BadPayloadError` (with dotted ``field_paths``, never
    values) when it is wrong.
    """
    names = VOCABULARY_IN_USE.set(vocabulary)
    try:
        envelope: dict[str, Any] = _ENVELOPE_SCHEMA.load(payload)  # type: ignore[arg-type]
    except ValidationError as error:
        paths = field_paths(error)
        raise BadPayloadError(
            "RevU's Get Progress answer did not have the expected shape (problem at: "
            f"{', '.join(paths)}). Try again later; if it keeps happening, contact RevU "
            "support and quote the reference.",
            field_paths=paths,
            reference=raw_support_id(payload),
        ) from None
    finally:
        VOCABULARY_IN_USE.reset(names)
    return envelope


def parse_progress_page(
    payload: object,
    *,
    now: datetime | None = None,
    offset: int = 0,
    limit: int | None = None,
    vocabulary: Vocabulary = DOCUMENTED_VOCABULARY,
    only: Collection[str] | None = None,
    envelope: Mapping[str, Any] | None = None,
) -> ProgressPage:
    """Validate one decoded Get Progress answer into a :class:`ProgressPage`.

    ``now`` is the moment derived fields (overdue, expected credit) are computed against.
    ``offset`` and ``limit`` are what the request asked for; they fill in when the envelope
    leaves them out. ``vocabulary`` says which upstream names are read. ``only`` reads just
    those offer fields (e.g. :data:`SUMMARY_FIELDS`); the offers are then marked incomplete.
    ``envelope`` is what :func:`read_envelope` already read from ``payload``, if it did.

    Raises :class:`~revu_widgets.errors.BadPayloadError` (with dotted ``field_paths``, never
    values) when the envelope is wrong. Offers without a usable id are skipped; other bad
    fields are left out of their offer.
    """
    if envelope is None:
        envelope = read_envelope(payload, vocabulary=vocabulary)
    names = VOCABULARY_IN_USE.set(vocabulary)
    as_of = AS_OF.set(now or datetime.now(UTC))
    try:
        raw_offers: list[Any] = envelope["offers"]
        offers: list[Offer] = []
        skipped: list[SkippedOffer] = []
        dropped: list[tuple[int, str]] = []
        subset = tuple(only) if only is not None else None
        for index, raw, offer, paths in _load_offers(raw_offers, subset):
            prefix = f"offers.{index}"
            if offer is None:
                skipped.append(
                    SkippedOffer(
                        index=index,
                        offer_id=raw_offer_id(raw, vocabulary),
                        field_paths=tuple(
                            f"{prefix}.{p}" if p != "payload" else prefix for p in paths
                        ),
                    )
                )
                continue
            offers.append(offer)
            dropped.extend((offer.offer_id, f) for f in _URL_FIELDS if f in paths)
    finally:
        AS_OF.reset(as_of)
        VOCABULARY_IN_USE.reset(names)

    return ProgressPage(
        offers=tuple(offers),
        total=envelope["total"],
        offset=_or(envelope.get("offset"), offset),
        limit=_or(envelope.get("limit"), limit if limit is not None else len(raw_offers)),
        support_id=envelope.get("support_id"),
        publisher_id=envelope.get("publisher_id"),
        wall_id=envelope.get("wall_id"),
        skipped=tuple(skipped),
        dropped_urls=tuple(dropped),
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


__all__ = [
    "DOCUMENTED_NAMES",
    "DOCUMENTED_VOCABULARY",
    "MAX_CREDIT_WINDOW",
    "MAX_ID_LENGTH",
    "MAX_LONG_TEXT_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_OFFERS_PER_PAGE",
    "MAX_REWARD",
    "MAX_SHORT_TEXT_LENGTH",
    "MAX_STEPS_PER_OFFER",
    "MAX_URL_LENGTH",
    "SUMMARY_FIELDS",
    "SUPPORT_FIELDS",
    "EnvelopeSchema",
    "ObjectKind",
    "OfferSchema",
    "StepSchema",
    "Vocabulary",
    "complete_offer",
    "complete_offers",
    "field_paths",
    "is_safe_url",
    "load_offer",
    "offer_schema",
    "parse_credit_window",
    "parse_offer",
    "parse_progress_page",
    "parse_timestamp",
    "raw_error_code",
    "raw_offer_id",
    "raw_support_id",
    "read_envelope",
    "read_for_support",
    "read_step_facts",
    "step_status_from_word",
]
