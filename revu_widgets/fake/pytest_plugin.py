"""pytest fixtures for testing against the fake RevU.

Enable them in a ``conftest.py``::

    pytest_plugins = ["revu_widgets.fake.pytest_plugin"]

``fake_revu`` is a fresh :class:`~revu_widgets.fake.FakeRevU` per test (key
:data:`~revu_widgets.fake.FAKE_API_KEY`); ``fake_revu_server`` serves that same fake on a free
loopback port for the test and shuts it down afterwards, hanging requests included.

``fake_revu_dialect`` says which field names the fake answers with (RevU's documented ones by
default). Try a test in every dialect by parametrizing it::

    @pytest.mark.parametrize("fake_revu_dialect", DIALECTS)
    def test_history(fake_revu_server, fake_revu_dialect): ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .app import FakeRevU
from .dialects import DEFAULT_DIALECT
from .server import FakeServer, serve_in_thread


@pytest.fixture
def fake_revu_dialect() -> str:
    """The dialect ``fake_revu`` speaks (see :mod:`revu_widgets.fake.dialects`)."""
    return DEFAULT_DIALECT


@pytest.fixture
def fake_revu(fake_revu_dialect: str) -> Iterator[FakeRevU]:
    """A fresh fake RevU for one test; configure it (faults, offers) before requests arrive."""
    fake = FakeRevU(dialect=fake_revu_dialect)
    yield fake
    fake.release()


@pytest.fixture
def fake_revu_server(fake_revu: FakeRevU) -> Iterator[FakeServer]:
    """``fake_revu`` served on ``127.0.0.1``; ``.url`` is the base URL, ``.app`` the fake."""
    with serve_in_thread(fake_revu) as server:
        yield server
