"""RevU's names for the kit's fields: which upstream name supplies each field of each object.

:data:`DOCUMENTED_NAMES` lists every name RevU uses across its documented APIs;
:class:`Vocabulary` resolves raw upstream objects with them, and a publisher adds names with
``REVU_FIELD_ALIASES`` (:meth:`Vocabulary.extended`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, Literal

ObjectKind = Literal["envelope", "offer", "event"]
_KINDS: Final[tuple[ObjectKind, ...]] = ("envelope", "offer", "event")

#: Every upstream name the kit reads, per object and kit field, most specific first. The kit's
#: field names are the names Get Progress is documented or assumed to use; the others come from
#: RevU's sibling APIs (see the README's "Upstream contract"). ``a[].b`` reads ``b`` from the
#: first object in list ``a`` that has it.
DOCUMENTED_NAMES: Final[Mapping[ObjectKind, Mapping[str, tuple[str, ...]]]] = {
    "envelope": {
        "status": ("status",),
        "total": ("total",),
        "offers": ("offers",),
        "offset": ("offset",),
        "limit": ("limit",),
        "support_id": ("support_id",),
        "publisher_id": ("publisher_id", "affiliate_id"),
        "wall_id": ("wall_id",),
    },
    "offer": {
        "offer_id": ("offer_id", "cid", "id"),
        "name": ("name", "offer_name"),
        "headline": ("headline",),
        "description": ("description",),
        "requirements": ("requirements",),
        "terms": ("terms", "extra_terms"),
        "category": ("category",),
        "image_url": ("image_url", "creatives[].url"),
        "click_url": ("click_url", "click_url_base", "offer_url"),
        "reward_status": ("reward_status",),
        "in_progress": ("in_progress",),
        "user_completed": ("user_completed",),
        "total_user_reward": ("total_user_reward", "currency_award"),
        "payout": ("payout",),
        "reporting": ("reporting",),
        "started_at": ("started_at",),
        "updated_at": ("updated_at",),
        "completed_at": ("completed_at",),
        "credited_at": ("credited_at",),
        "expires_at": ("expires_at",),
        "reason": ("reason",),
        "events": ("events",),
    },
    "event": {
        "event_id": ("event_id", "id"),
        "name": ("name",),
        "user_reward": ("user_reward",),
        "payout": ("payout",),
        "status": ("status",),
        "completed_at": ("completed_at",),
        "credited_at": ("credited_at",),
        "reversed_at": ("reversed_at",),
        "reason": ("reason",),
    },
}

# Fields holding a member's reward: no alias may point them at RevU's USD ``payout``.
_MEMBER_MONEY: Final = frozenset({("offer", "total_user_reward"), ("event", "user_reward")})
_USD_NAMES: Final = frozenset({"payout"})
_NAME_PATTERN = re.compile(r"[A-Za-z0-9_$@-]{1,64}(?:\[\]\.[A-Za-z0-9_$@-]{1,64})?")


def _read_name(data: Mapping[str, Any], name: str) -> Any:
    """The value ``data`` holds under one upstream name (``a[].b`` looks into list ``a``)."""
    if "[]." not in name:
        return data.get(name)
    outer, inner = name.split("[].", 1)
    items = data.get(outer)
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and item.get(inner) is not None:
                return item[inner]
    return None


def _top_key(name: str) -> str:
    return name.split("[].", 1)[0]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Which upstream names supply each of the kit's fields, per object kind.

    :data:`DOCUMENTED_VOCABULARY` is every name RevU uses across its documented APIs;
    :meth:`extended` adds a publisher's own (``REVU_FIELD_ALIASES``).
    """

    names: Mapping[ObjectKind, Mapping[str, tuple[str, ...]]]

    def fields_of(self, kind: ObjectKind) -> tuple[str, ...]:
        """The kit's field names for one object kind."""
        return tuple(self.names[kind])

    def resolve(
        self, kind: ObjectKind, data: Mapping[str, Any], wanted: Collection[str] | None = None
    ) -> dict[str, Any]:
        """``{kit field: value}`` from raw upstream data; the first name holding a value wins.

        ``wanted`` limits the fields read (a schema loaded with ``only=``).
        """
        resolved: dict[str, Any] = {}
        kind_names = self.names[kind]
        get = data.get
        for field_name in kind_names if wanted is None else wanted:
            for name in kind_names[field_name]:
                # Most names are plain keys: read them without a call per name.
                value = _read_name(data, name) if "[]." in name else get(name)
                if value is not None:
                    resolved[field_name] = value
                    break
        return resolved

    def sources(self, kind: ObjectKind, data: Mapping[str, Any]) -> dict[str, str]:
        """``{kit field: the upstream name that supplied it}`` for raw upstream data."""
        found: dict[str, str] = {}
        for field_name, names in self.names[kind].items():
            for name in names:
                if _read_name(data, name) is not None:
                    found[field_name] = name
                    break
        return found

    def top_keys(self, kind: ObjectKind) -> frozenset[str]:
        """The upstream keys something reads (``a`` for ``a[].b``)."""
        return frozenset(_top_key(n) for names in self.names[kind].values() for n in names)

    def keys_of(self, kind: ObjectKind, field_name: str) -> tuple[str, ...]:
        """The upstream keys that can supply one kit field."""
        return tuple(_top_key(n) for n in self.names[kind][field_name])

    def extended(self, aliases: object) -> Vocabulary:
        """This vocabulary with a publisher's extra names read first.

        ``aliases`` maps ``"offer.name"``-style keys (``envelope.``, ``offer.`` or ``event.``
        and one of the kit's field names) to one upstream name or a list of them. Raises
        ``ValueError`` with a message listing the valid keys when the shape is wrong.
        """
        if aliases is None:
            return self
        if not isinstance(aliases, Mapping):
            raise ValueError(
                "must be a dict such as {'offer.name': ['title']}; valid keys: "
                + self._valid_keys()
            )
        names = {kind: dict(self.names[kind]) for kind in _KINDS}
        for key, value in aliases.items():
            kind, _, field_name = key.partition(".") if isinstance(key, str) else ("", "", "")
            if kind not in names or field_name not in names[kind]:
                raise ValueError(f"has an unknown key {key!r}; valid keys: {self._valid_keys()}")
            extra = [value] if isinstance(value, str) else value
            if not (
                isinstance(extra, list | tuple)
                and extra
                and all(isinstance(n, str) and _NAME_PATTERN.fullmatch(n) for n in extra)
            ):
                raise ValueError(
                    f"{key!r} must name one upstream field or a list of them, such as "
                    "'title' or ['title', 'offerTitle'] (letters, digits, _ $ @ -, and "
                    "'list[].field' for a field of the first item of a list)"
                )
            if (kind, field_name) in _MEMBER_MONEY and _USD_NAMES.intersection(extra):
                raise ValueError(
                    f"{key!r} cannot read 'payout': that is RevU's word for the publisher's "
                    "revenue in US dollars, never a member's reward"
                )
            current = names[kind][field_name]
            names[kind][field_name] = tuple(dict.fromkeys([*extra, *current]))
        return Vocabulary(names)

    def _valid_keys(self) -> str:
        return ", ".join(
            f"{kind}.{field_name}" for kind in _KINDS for field_name in self.names[kind]
        )


#: The names RevU documents across its APIs; what the kit reads unless told more.
DOCUMENTED_VOCABULARY: Final = Vocabulary(DOCUMENTED_NAMES)

#: The vocabulary of the parse under way (set by the entry points for one answer).
VOCABULARY_IN_USE: ContextVar[Vocabulary] = ContextVar(
    "revu_widgets_vocabulary", default=DOCUMENTED_VOCABULARY
)


__all__ = ["DOCUMENTED_NAMES", "DOCUMENTED_VOCABULARY", "ObjectKind", "Vocabulary"]
