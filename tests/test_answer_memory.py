"""An answer that is the last one with a new support reference is not decoded again.

RevU puts a new ``support_id`` in every answer, so an unchanged history never comes back as
the same bytes. The client decodes an answer's top level key by key, noting where the
reference sits, and reads the next answer to the same question from the last one when the text
around the reference is the same. These tests hold both readers to what ``json.loads`` gives.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revu_widgets import RevUClient
from revu_widgets.fake import FAKE_API_KEY
from revu_widgets.fake.server import FakeServer
from revu_widgets.upstream_http import AnswerMemory, decode_answer

REFERENCE = ("support_id",)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
envelopes = st.dictionaries(
    st.sampled_from(["status", "total", "offers", "offset", "wall_id", "x"]) | st.text(max_size=8),
    json_values,
    max_size=6,
)
layouts = st.sampled_from([{}, {"indent": 1}, {"separators": (",", ":")}, {"ensure_ascii": False}])


def dumps(value: Any, layout: dict[str, Any]) -> bytes:
    return json.dumps(value, **layout).encode()


@settings(max_examples=60, deadline=None)
@given(envelopes, json_values, layouts)
def test_an_answer_decodes_as_json_loads_does(
    envelope: dict[str, Any], reference: Any, layout: dict[str, Any]
) -> None:
    body = dumps({**envelope, "support_id": reference}, layout)
    answer = decode_answer(body, REFERENCE)
    assert answer is not None
    assert answer.payload == json.loads(body)
    ((key, start, end),) = answer.references
    assert key == "support_id"
    assert json.loads(answer.text[start:end]) == reference


@settings(max_examples=60, deadline=None)
@given(envelopes, envelopes, json_values, json_values, layouts)
def test_an_answer_read_from_the_last_one_is_what_json_loads_gives(
    envelope: dict[str, Any],
    other: dict[str, Any],
    first_reference: Any,
    second_reference: Any,
    layout: dict[str, Any],
) -> None:
    first = decode_answer(dumps({**envelope, "support_id": first_reference}, layout), REFERENCE)
    assert first is not None
    # The same answer with a new reference is read from the last one ...
    same = dumps({**envelope, "support_id": second_reference}, layout)
    again = first.again(same)
    assert again is not None
    assert again.payload == json.loads(same)
    # ... and anything else is either refused or read right.
    changed = dumps({**other, "support_id": second_reference}, layout)
    read = first.again(changed)
    assert read is None or read.payload == json.loads(changed)


@pytest.mark.parametrize(
    "body",
    [
        b'{"support_id": "r", "total": 2,}',
        b'{"support_id": "r" "total": 2}',
        b'{"support_id" "r"}',
        b'{support_id: "r"}',
        b'{1: "r"}',
        b'{"support_id": "r"} {}',
        b'{"support_id": "r"',
        b'{"support_id": }',
        b"{",
        b"",
        b"<html>Bad gateway</html>",
        b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"support_id": "\xff"}',
    ],
)
def test_what_json_loads_refuses_is_not_an_answer(body: bytes) -> None:
    with pytest.raises((ValueError, RecursionError)):
        json.loads(body)
    assert decode_answer(body, REFERENCE) is None


@pytest.mark.parametrize(
    "body",
    [
        b'  {"support_id": "r", "total": 2}\n',
        b'{"support_id": "a", "total": 1, "support_id": "b"}',
        b"{}",
        b"[1, 2]",
        b'"text"',
        b"\xef\xbb\xbf" + b'{"support_id": "bom"}',
        '{"support_id": "ü"}'.encode("utf-16"),
    ],
)
def test_odd_but_valid_json_decodes_as_json_loads_does(body: bytes) -> None:
    answer = decode_answer(body, REFERENCE)
    assert answer is not None
    assert answer.payload == json.loads(body)


def test_a_repeated_reference_key_reads_its_last_value_again() -> None:
    first = decode_answer(b'{"support_id": "a", "total": 1, "support_id": "b"}', REFERENCE)
    assert first is not None
    again = first.again(b'{"support_id": "c", "total": 1, "support_id": "d"}')
    assert again is not None
    assert again.payload == {"support_id": "d", "total": 1}


@pytest.mark.parametrize(
    "changed",
    [
        b'{"status": "success", "support_id": "ref-2", "total": 3, "offers": [1, 2]}',
        b'{"status": "success", "support_id": "ref-2", "total": 2, "offers": [1, 3]}',
        b'{"status": "success", "support_id": "ref-2" , "total": 2, "offers": [1, 2]}',
        b'{"status": "success", "support_id": "ref-2", "total": 2, "offers": [1, 2]} ',
        b'{"status": "success", "support_id": ["ref-2", 2], "offers": [1, 2]}',
    ],
)
def test_a_change_beside_the_reference_is_not_read_from_the_last_answer(changed: bytes) -> None:
    first = decode_answer(
        b'{"status": "success", "support_id": "ref-1", "total": 2, "offers": [1, 2]}', REFERENCE
    )
    assert first is not None
    assert first.again(changed) is None


def test_the_memory_keeps_the_last_answer_per_question_within_its_room() -> None:
    def body(reference: str, size: int) -> bytes:
        return json.dumps({"support_id": reference, "offers": ["x" * 8] * size}).encode()

    # Three questions, each named with the size of its answer.
    first = {
        name: decode_answer(body("r1", int(name[1])), REFERENCE) for name in ("a2", "b2", "c3")
    }
    # Room for any two of the three answers, not for all three.
    room = sum(len(a.text) for a in first.values() if a is not None) - 1
    memory = AnswerMemory(characters=room)

    def ask(name: str) -> str | None:
        known = memory.again((name, ()), body("r2", int(name[1])))
        return None if known is None else known[0]

    for name, answer in first.items():
        assert ask(name) is None
        assert answer is not None
        memory.keep((name, ()), f"digest-{name}", answer)
        assert ask(name) == f"digest-{name}"
        assert memory.again((name, ()), body("r2", 1)) is None  # another answer
    assert ask("a2") is None  # the least recently kept went
    assert ask("b2") == "digest-b2"
    assert ask("c3") == "digest-c3"


def test_a_history_read_again_has_each_answers_new_reference(
    fake_revu_server: FakeServer,
) -> None:
    client = RevUClient(FAKE_API_KEY, fake_revu_server.url, max_retries=0, deadline=10)
    try:
        first = client.get_progress("alex-7", limit=5)
        again = client.get_progress("alex-7", limit=5)
        fake_revu_server.app.advance("alex-7")
        changed = client.get_progress("alex-7", limit=5)
    finally:
        client.close()
    assert again.support_id not in (None, first.support_id)
    assert again.digest == first.digest
    assert again.offers == tuple(o.at(again.offers[0].as_of) for o in first.offers)
    assert changed.digest != first.digest
    assert changed.support_id not in (again.support_id, first.support_id)
