"""Fixtures for the reliability tests, and the guard that watches every one of them for the key.

The fake RevU here accepts only :data:`~tests.reliability.hosts.SECRET_API_KEY`, and every host
site sends it. While each test runs, :func:`key_watch` keeps every response the Flask test
client returns (body and headers), every log record any logger emits (message, arguments and
formatted traceback) and every kit exception created (its text, repr and formatted chain); at
the end of the test it fails the test if any of them holds the key or a 12-character piece of
it. The terminal summary says how much was scanned over the whole run (:mod:`.scan_totals`).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from revu_widgets.errors import RevUError
from revu_widgets.fake import FakeRevU
from revu_widgets.fake.server import FakeServer

from .hosts import SECRET_API_KEY, SECRET_FRAGMENTS, build_host, signed_in
from .scan_totals import TOTALS


def leaked(text: str) -> bool:
    """Whether ``text`` holds the key or a 12-character piece of it."""
    return any(fragment in text for fragment in SECRET_FRAGMENTS)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        # format() also renders exc_info and stack_info, so tracebacks are scanned too.
        self.records.append(self.format(record) + repr(record.args) + repr(record.__dict__))


class KeyWatch:
    """What one test produced that must never hold the key, and the check over all of it."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.errors: list[RevUError] = []
        self.capture = _Capture()

    def keep_response(self, response: Any) -> None:
        """Keep a test client response's body and headers."""
        if response.is_streamed and response.direct_passthrough:
            # The kit's static files: shipped with the package, not generated per request.
            body = ""
        else:
            body = response.get_data(as_text=True)
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        where = f"response {response.status_code} {response.request.path}"
        self.texts.append((where, body + headers))
        TOTALS.responses += 1

    def findings(self) -> list[str]:
        """Where the key was found so far (empty when nowhere)."""
        texts = list(self.texts)
        texts.extend(("log record", record) for record in self.capture.records)
        for error in self.errors:
            rendered = "".join(traceback.format_exception(error))
            texts.append((f"exception {type(error).__name__}", f"{error}\n{error!r}\n{rendered}"))
            texts.append((f"exception {type(error).__name__} attributes", repr(vars(error))))
        return [where for where, text in texts if leaked(text)]

    def forget(self) -> None:
        """Drop what was kept so far (after a test planted the key on purpose)."""
        self.texts.clear()
        self.errors.clear()
        self.capture.records.clear()


@pytest.fixture(autouse=True)
def key_watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyWatch]:
    """Fail the test if the API key shows up in a response, a log record or a kit exception."""
    watch = KeyWatch()
    original_open = FlaskClient.open

    def open_and_keep(self: FlaskClient, *args: Any, **kwargs: Any) -> Any:
        response = original_open(self, *args, **kwargs)
        watch.keep_response(response)
        return response

    monkeypatch.setattr(FlaskClient, "open", open_and_keep)
    original_init = RevUError.__init__

    def init_and_keep(self: RevUError, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        watch.errors.append(self)

    monkeypatch.setattr(RevUError, "__init__", init_and_keep)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(watch.capture)
    root.setLevel(logging.DEBUG)
    try:
        yield watch
    finally:
        root.removeHandler(watch.capture)
        root.setLevel(old_level)
    TOTALS.log_records += len(watch.capture.records)
    TOTALS.exceptions += len(watch.errors)
    found = watch.findings()
    TOTALS.leaks.extend(found)
    assert not found, f"the API key leaked into: {', '.join(found)}"


@pytest.fixture
def fake_revu() -> Iterator[FakeRevU]:
    """The fake RevU, accepting only the reliability tests' distinctive key."""
    fake = FakeRevU(api_key=SECRET_API_KEY)
    yield fake
    fake.release()


HostBuilder = Callable[..., Flask]


@pytest.fixture
def make_kit_host(fake_revu_server: FakeServer) -> HostBuilder:
    """Build the host site on the served fake; keyword arguments override its config."""

    def factory(**config: Any) -> Flask:
        return build_host(fake_revu_server.url, **config)

    return factory


@pytest.fixture
def kit_host(make_kit_host: HostBuilder) -> Flask:
    """The host site with the kit at ``/rewards`` on the fake, with small timeouts."""
    return make_kit_host()


@pytest.fixture
def alex(kit_host: Flask) -> FlaskClient:
    """A browser signed in as a member with offers in every status."""
    return signed_in(kit_host, "alex-1")
