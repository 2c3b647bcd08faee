"""The marshmallow schemas: one RevU object each (envelope, offer, event), RevU's names resolved
in a ``@pre_load`` hook, the project's models built in a ``@post_load`` hook.

Also the subsets of an offer that pages read (marshmallow ``only=``): :data:`SUMMARY_FIELDS` for
the counts, totals and order of a long history, the rest when an offer is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from marshmallow import EXCLUDE, Schema, fields, post_load, pre_load

from ..models import Offer, RewardStatus, Step, StepStatus, split_reward_by_payouts
from .fields import (
    MAX_LONG_TEXT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_OFFERS_PER_PAGE,
    MAX_SHORT_TEXT_LENGTH,
    MAX_STEPS_PER_OFFER,
    Amount,
    Count,
    Flag,
    HttpUrl,
    Label,
    OfferId,
    RewardStatusField,
    StepStatusField,
    Text,
    Timestamp,
    parse_credit_window,
)
from .vocabulary import VOCABULARY_IN_USE, ObjectKind

# The moment derived fields (overdue, expected credit) are computed against, set per parse;
# marshmallow 4 passes context through context variables rather than ``Schema.context``.
AS_OF: ContextVar[datetime | None] = ContextVar("revu_widgets_as_of", default=None)


@dataclass(frozen=True, slots=True)
class ReadBefore:
    """What an earlier, partial read of some offers already validated (by offer id), so a
    second read of the same offers checks only the fields it adds."""

    values: Mapping[int, Mapping[str, Any]]
    #: Whether the two reads together cover every field (the offers are then complete).
    complete: bool


READ_BEFORE: ContextVar[ReadBefore | None] = ContextVar("revu_widgets_read_before", default=None)


class _VocabularySchema(Schema):
    """A schema for one kind of RevU object: RevU's names become the kit's field names first."""

    class Meta:
        # RevU adds fields at any time; only the names in the vocabulary are read.
        unknown = EXCLUDE

    kind: ObjectKind

    @pre_load
    def _resolve_names(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data  # marshmallow refuses it with its own "Invalid input type."
        return VOCABULARY_IN_USE.get().resolve(self.kind, data, self.load_fields)


class StepSchema(_VocabularySchema):
    """One RevU "event" (a step of an offer) -> :class:`~revu_widgets.models.Step`.

    ``user_reward`` is the member's reward for the step, in the publisher's currency; ``payout``
    is the publisher's revenue in USD and is kept apart. Status words are read by
    :func:`step_status_from_word`.
    """

    kind = "event"

    event_id = Label()
    name = Text(max_length=MAX_NAME_LENGTH)
    user_reward = Amount()
    payout = Amount()
    status = StepStatusField()
    completed_at = Timestamp()
    credited_at = Timestamp()
    reversed_at = Timestamp()
    reason = Text(max_length=MAX_LONG_TEXT_LENGTH)

    @post_load
    def _make_step(self, data: dict[str, Any], **kwargs: Any) -> Step:
        status, label = data.get("status") or (StepStatus.NOT_STARTED, "")
        return Step(
            name=data.get("name") or "",
            status=status,
            status_label=label,
            step_id=data.get("event_id"),
            reward=data.get("user_reward"),
            payout=data.get("payout"),
            completed_at=data.get("completed_at"),
            credited_at=data.get("credited_at"),
            reversed_at=data.get("reversed_at"),
            reason=data.get("reason"),
        )


class Steps(fields.Nested):
    """An offer's ``events``: a list bounded before any step is read; null means no steps."""

    default_error_messages = {"too_many": "Too many steps."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(StepSchema, many=True, allow_none=True, load_default=(), **kwargs)

    def _deserialize(
        self,
        value: Any,
        attr: str | None,
        data: Mapping[str, Any] | None,
        partial: bool | Sequence[str] | AbstractSet[str] | None = None,
        **kwargs: Any,
    ) -> tuple[Step, ...]:
        if not isinstance(value, list | tuple):
            raise self.make_error("type")
        if len(value) > MAX_STEPS_PER_OFFER:
            raise self.make_error("too_many")
        return tuple(super()._deserialize(list(value), attr, data, partial, **kwargs))


class OfferSchema(_VocabularySchema):
    """One RevU offer -> :class:`~revu_widgets.models.Offer`.

    Only ``offer_id`` is required. A missing name reads as "Offer <id>". ``payout`` is the
    publisher's revenue in USD (``Offer.payout``); when steps carry only payouts, the offer's
    ``total_user_reward`` is split between them in proportion
    (:func:`~revu_widgets.models.split_reward_by_payouts`).
    """

    kind = "offer"

    offer_id = OfferId(required=True)
    name = Text(max_length=MAX_NAME_LENGTH)
    headline = Text(max_length=MAX_SHORT_TEXT_LENGTH)
    description = Text(max_length=MAX_LONG_TEXT_LENGTH)
    requirements = Text(max_length=MAX_LONG_TEXT_LENGTH)
    terms = Text(max_length=MAX_LONG_TEXT_LENGTH)
    category = Text(max_length=MAX_SHORT_TEXT_LENGTH)
    image_url = HttpUrl()
    click_url = HttpUrl()
    reward_status = RewardStatusField()
    in_progress = Flag()
    user_completed = Flag()
    total_user_reward = Amount()
    payout = Amount()
    reporting = Text(max_length=MAX_SHORT_TEXT_LENGTH)
    started_at = Timestamp()
    updated_at = Timestamp()
    completed_at = Timestamp()
    credited_at = Timestamp()
    expires_at = Timestamp()
    reason = Text(max_length=MAX_LONG_TEXT_LENGTH)
    events = Steps()

    @post_load(pass_original=True)
    def _make_offer(self, data: dict[str, Any], original: Any, **kwargs: Any) -> Offer:
        offer_id: int = data["offer_id"]
        complete = self.only is None
        before = READ_BEFORE.get()
        if before is not None and offer_id in before.values:
            data = {**before.values[offer_id], **data}
            complete = before.complete
        get = data.get
        total = get("total_user_reward")
        reporting = get("reporting")
        return Offer(
            offer_id=offer_id,
            name=get("name") or f"Offer {offer_id}",
            status=get("reward_status") or RewardStatus.UNKNOWN,
            steps=split_reward_by_payouts(get("events") or (), total),
            headline=get("headline"),
            description=get("description"),
            requirements=get("requirements"),
            terms=get("terms"),
            category=get("category"),
            image_url=get("image_url"),
            click_url=get("click_url"),
            in_progress=bool(get("in_progress")),
            user_completed=bool(get("user_completed")),
            total_reward=total,
            payout=get("payout"),
            reporting=reporting,
            credit_window=parse_credit_window(reporting),
            started_at=get("started_at"),
            updated_at=get("updated_at"),
            completed_at=get("completed_at"),
            credited_at=get("credited_at"),
            expires_at=get("expires_at"),
            reason=get("reason"),
            as_of=AS_OF.get() or datetime.now(UTC),
            name_given=bool(get("name")),
            complete=complete,
            # What an offer read in part is read from again in full, when it is shown.
            source=None if complete else original,
        )


class Success(fields.Field[str]):
    """The envelope's ``status``: must say ``success``."""

    default_error_messages = {"invalid": "Status is not success."}  # noqa: RUF012

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        if isinstance(value, str) and value.strip().lower() == "success":
            return "success"
        raise self.make_error("invalid")


class OfferList(fields.Field[list[Any]]):
    """The envelope's ``offers``: a bounded list, left raw so each offer is validated alone."""

    default_error_messages = {  # noqa: RUF012
        "invalid": "Not a list.",
        "too_many": "Too many offers.",
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> list[Any]:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        if len(value) > MAX_OFFERS_PER_PAGE:
            raise self.make_error("too_many")
        return value


class EnvelopeSchema(_VocabularySchema):
    """The outside of a Get Progress answer; ``offers`` stays raw for :class:`OfferSchema`."""

    kind = "envelope"

    status = Success(required=True)
    total = Count(required=True)
    offers = OfferList(required=True)
    offset = Count(allow_none=True)
    limit = Count(allow_none=True)
    support_id = Label()
    publisher_id = Label()
    wall_id = Label()


#: What the tab counts, totals, history order and overdue count read from every offer of a
#: long history (marshmallow ``only=``): the offer's own fields, no steps. The offers on
#: screen are read in full (:func:`complete_offer`); see ``Offer.summary_without_steps``.
SUMMARY_FIELDS: Final = (
    "offer_id",
    "name",
    "reward_status",
    "user_completed",
    "total_user_reward",
    "reporting",
    "updated_at",
    "completed_at",
    "expires_at",
)


# The rest of an offer, read when it is shown: its id (to match it with what was read before)
# and every field the summary leaves out.
DETAIL_FIELDS: Final = (
    "offer_id",
    *(name for name in OfferSchema._declared_fields if name not in SUMMARY_FIELDS),
)

#: What a support card shows of an offer beyond its summary fields: the publisher's revenue,
#: when the offer started and was credited, RevU's reason, and every step without its id; not
#: what only a member's own pages show (headline, texts, category, image, link). A support
#: page reads its offers on screen with these (:func:`read_for_support`), not in full.
SUPPORT_FIELDS: Final = (
    "offer_id",
    "payout",
    "started_at",
    "credited_at",
    "reason",
    *(f"events.{name}" for name in StepSchema._declared_fields if name != "event_id"),
)

# What decides the state, order and totals of an offer its summary fields cannot place (status 3
# saying nothing about reversed or expired, no updated_at, no total): its steps' statuses, times
# and rewards (marshmallow ``Nested(only=...)`` through a dotted ``only``), not their words.
STEP_FACTS: Final = (
    "offer_id",
    "events.status",
    "events.completed_at",
    "events.credited_at",
    "events.reversed_at",
    "events.user_reward",
    "events.payout",
)


def summary_values(offer: Offer) -> dict[str, Any]:
    """The summary fields an offer was read with, as the schema's post_load received them."""
    values: dict[str, Any] = {
        "offer_id": offer.offer_id,
        "reward_status": offer.status,
        "user_completed": offer.user_completed,
        "total_user_reward": offer.total_reward,
        "reporting": offer.reporting,
        "updated_at": offer.updated_at,
        "completed_at": offer.completed_at,
        "expires_at": offer.expires_at,
    }
    if offer.name_given:
        values["name"] = offer.name
    return values
