"""Answers the fake RevU has encoded, kept as bytes until the member's data changes.

Building a page of 500 generated offers (copying them, translating them into the dialect,
``json.dumps``) costs the fake about 14 ms of CPU; the same member asked the same question
again gets the same bytes, except for the per-request ``support_id``. So an answer is encoded
once, split around that number, and kept with the *revision* of the member's data it was built
from: a request takes the kept halves and writes its own ``support_id`` between them. Any
change of the member (an advance, new offers, a reset, regenerated data) gives it a new
revision, so a kept answer of an older revision is never served.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

#: Bytes of kept answers a fake holds at most; the least recently served go first.
KEPT_ANSWER_BYTES = 32 * 1024 * 1024

# The envelope's "support_id" is a number set to this while encoding, then cut out.
_MARK = '"support_id": 0'


@dataclass(frozen=True, slots=True)
class EncodedAnswer:
    """A 200 answer's JSON body without its ``support_id`` value: what comes before, after."""

    head: bytes
    tail: bytes

    def body(self, support_id: int) -> bytes:
        """The whole body, with ``support_id`` written in."""
        return b"".join((self.head, str(support_id).encode(), self.tail))

    @property
    def size(self) -> int:
        """Bytes kept."""
        return len(self.head) + len(self.tail)


def encode_answer(envelope: dict[str, Any]) -> EncodedAnswer:
    """``envelope`` (a success answer with a ``support_id`` key) encoded as ``json.dumps``
    does, split around the ``support_id`` value.

    The envelope's keys before ``support_id`` hold fixed words and numbers, so the first
    ``"support_id": 0`` in the text is the envelope's own, never one inside an offer.
    """
    text = json.dumps(dict(envelope, support_id=0))
    head, found, tail = text.partition(_MARK)
    if not found:  # pragma: no cover - the envelope always has the key
        raise ValueError("the envelope has no support_id")
    return EncodedAnswer((head + _MARK[:-1]).encode(), tail.encode())


class KeptAnswers:
    """Encoded answers by question, each valid for one revision of the member's data.

    Holds at most ``budget`` bytes (least recently served forgotten first). Not thread-safe:
    the fake uses it holding its own lock.
    """

    def __init__(self, budget: int = KEPT_ANSWER_BYTES) -> None:
        self._budget = budget
        self._answers: OrderedDict[Hashable, tuple[int, EncodedAnswer]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, question: Hashable, revision: int) -> EncodedAnswer | None:
        """The answer kept for ``question`` if it was built from ``revision``, else ``None``."""
        kept = self._answers.get(question)
        if kept is None or kept[0] != revision:
            return None
        self._answers.move_to_end(question)
        return kept[1]

    def put(self, question: Hashable, revision: int, answer: EncodedAnswer) -> None:
        """Keep ``answer`` to ``question``, built from ``revision`` of the member's data."""
        old = self._answers.pop(question, None)
        if old is not None:
            self._size -= old[1].size
        if answer.size > self._budget:
            return
        self._answers[question] = (revision, answer)
        self._size += answer.size
        while self._size > self._budget:
            _, (_, dropped) = self._answers.popitem(last=False)
            self._size -= dropped.size

    def clear(self) -> None:
        """Forget every kept answer."""
        self._answers.clear()
        self._size = 0


__all__ = ["KEPT_ANSWER_BYTES", "EncodedAnswer", "KeptAnswers", "encode_answer"]
