"""Helpers for tests of concurrent readers: a fake RevU that can hold its answers, and a way
to know, not guess, that every reader is walking or waiting before the fake lets go."""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from revu_widgets import client, redis_store, store
from revu_widgets.fake import FakeRevU

MEMBER = "alex-1"

_WAITING_OR_WALKING = {
    (Path(client.__file__).resolve(), "get_all_progress"),
    (Path(store.__file__).resolve(), "wait"),
    (Path(redis_store.__file__).resolve(), "_wait_for_owner"),
}


class GatedFake(FakeRevU):
    """The fake RevU, able to hold every request until let go (then answer them normally)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        self.gate.wait(30)
        return super().__call__(environ, start_response)


def _gated_fake() -> Iterator[GatedFake]:
    fake = GatedFake()
    yield fake
    fake.gate.set()
    fake.release()


#: Assign to a name in a test module to make its ``fake_revu`` the gated fake.
gated_fake_revu = pytest.fixture(_gated_fake, name="fake_revu")


@contextmanager
def held_upstream(fake: FakeRevU) -> Iterator[None]:
    """The fake answers nothing until the block ends (then everything it held at once)."""
    assert isinstance(fake, GatedFake)
    fake.gate.clear()
    try:
        yield
    finally:
        fake.gate.set()


def upstream_walks(fake: FakeRevU, user_id: str = MEMBER) -> int:
    """Walks started for ``user_id``: requests for the first page of the whole history."""
    return sum(
        1
        for r in fake.requests
        if r.user_id == user_id and r.query.get("offset") == "0" and "offer_id" not in r.query
    )


def _frames() -> dict[int, Any]:
    """``sys._current_frames()`` with the garbage collector off: on CPython 3.11 a collection
    that starts inside that call can run a finalizer that needs the lock the call holds, and
    the whole process hangs (seen under load, with many threads)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return sys._current_frames()
    finally:
        if enabled:
            gc.enable()


def waiting_or_walking(thread: threading.Thread) -> bool:
    """Whether ``thread`` is walking RevU, or waiting for another reader's walk."""
    frame = _frames().get(thread.ident or -1)
    while frame is not None:
        if (Path(frame.f_code.co_filename), frame.f_code.co_name) in _WAITING_OR_WALKING:
            return True
        frame = frame.f_back
    return False


def run_together(calls: list[Callable[[], Any]], fake: FakeRevU) -> list[Any]:
    """Run ``calls`` in threads while RevU is held; let it go once each call is walking or
    waiting for a walk, so their overlap is certain."""
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    with held_upstream(fake):
        for thread in threads:
            thread.start()
        give_up = time.monotonic() + 30
        while not all(waiting_or_walking(t) for t in threads):
            assert time.monotonic() < give_up, "the visitors never reached the store"
            time.sleep(0.01)
    for thread in threads:
        thread.join(30)
    return results
