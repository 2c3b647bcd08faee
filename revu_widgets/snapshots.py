"""Member snapshots as plain JSON data, so they can be shared between processes and hosts.

A snapshot is a validated :class:`~revu_widgets.models.UserProgress`. It is written as JSON built
from the models' own dataclass fields (never pickle: a shared store must hold data, not code),
and read back through the same type hints, so a field added to a model is carried without
touching this module. Derived fields (``init=False``) and the summary are recomputed on reading,
exactly as when RevU's answer was first validated.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .models import ProgressSummary, UserProgress

#: Bump when the encoding changes in a way older readers cannot read.
FORMAT_VERSION = 1


class SnapshotFormatError(ValueError):
    """Stored data that is not a snapshot this version can read (treated as absent)."""


def encode_progress(progress: UserProgress) -> dict[str, Any]:
    """``progress`` as JSON-ready data (the summary is left out: it is derived)."""
    data = _encode(progress)
    assert isinstance(data, dict)
    data.pop("summary", None)
    return {"format": FORMAT_VERSION, "progress": data}


def decode_progress(data: object) -> UserProgress:
    """The :class:`UserProgress` that :func:`encode_progress` wrote; raises
    :class:`SnapshotFormatError` for anything else."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        raise SnapshotFormatError("not a snapshot of this format")
    fields = data.get("progress")
    if not isinstance(fields, dict):
        raise SnapshotFormatError("snapshot without progress")
    try:
        offers = _decode(_hints(UserProgress)["offers"], fields["offers"])
        progress: UserProgress = _decode_dataclass(
            UserProgress,
            fields,
            offers=offers,
            summary=ProgressSummary.from_offers(offers),
        )
    except (TypeError, ValueError, ArithmeticError, KeyError) as exc:
        raise SnapshotFormatError(f"snapshot could not be read: {exc}") from None
    return progress


def to_json(progress: UserProgress) -> str:
    """The snapshot's JSON text, compact."""
    return json.dumps(encode_progress(progress), separators=(",", ":"))


def fingerprint(progress: UserProgress) -> str:
    """A short fingerprint of how far a member's offers have got, the same in every process.

    It hashes the digests of the upstream answers the progress was read from (their bodies as
    received, RevU's per-request reference left out), so two walks that got the same answers
    agree whenever they were read, and a version stamp built on it moves when anything in an
    offer or its steps did, read in full or not, without walking the offers again.
    """
    text = f"{progress.pages_digest}|{len(progress.skipped)}|{progress.truncated}"
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _encode(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        # An offer's raw upstream object (``Offer.source``): decoded JSON already.
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a snapshot")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _decode_dataclass(cls: type[Any], data: object, **decoded: Any) -> Any:
    """``cls`` from its stored fields; ``decoded`` gives fields already built."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} must be an object")
    hints = _hints(cls)
    kwargs = {
        f.name: _decode(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)
        if f.init and f.name in data and f.name not in decoded
    }
    return cls(**kwargs, **decoded)


def _decode(kind: Any, value: object) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        (inner,) = [option for option in options if option is not type(None)]
        return _decode(inner, value)
    if origin is tuple:
        if not isinstance(value, list):
            raise TypeError("a list was expected")
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in value)
        if len(args) != len(value):
            raise TypeError("a list of another length was expected")
        return tuple(_decode(arg, item) for arg, item in zip(args, value, strict=True))
    if dataclasses.is_dataclass(kind):
        return _decode_dataclass(kind, value)  # type: ignore[arg-type]
    if origin in (Mapping, dict):
        if not isinstance(value, dict):
            raise TypeError("an object was expected")
        return value
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    return _decode_scalar(kind, value)


def _decode_scalar(kind: Any, value: object) -> Any:
    if kind is Decimal and isinstance(value, str):
        return Decimal(value)
    if kind is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind is timedelta and isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if kind is bool and isinstance(value, bool):
        return value
    if kind in (int, float) and isinstance(value, int | float) and not isinstance(value, bool):
        return kind(value)
    if kind is str and isinstance(value, str):
        return value
    raise TypeError(f"a {getattr(kind, '__name__', kind)} was expected")
