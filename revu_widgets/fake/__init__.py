"""A fake RevU Get Progress API: the demo's offline upstream and a tool for tests.

::

    from revu_widgets.fake import FAKE_API_KEY, FakeRevU, serve_in_thread

    fake = FakeRevU()
    with serve_in_thread(fake) as server:
        app.config.update(REVU_BASE_URL=server.url, REVU_API_KEY=FAKE_API_KEY)
        fake.add_fault("status", status=503)  # the next request fails
        ...

``python -m revu_widgets.fake --port 8765`` serves it from a terminal, and the pytest plugin
``revu_widgets.fake.pytest_plugin`` provides the ``fake_revu`` and ``fake_revu_server`` fixtures.
"""

from __future__ import annotations

from .app import FAKE_API_KEY, FAKE_PUBLISHER_ID, FAKE_WALL_ID, FakeRevU, RecordedRequest
from .data import BANNED_PREFIX, HEAVY_OFFER_COUNT, HEAVY_PREFIX, NEW_PREFIX
from .dialects import DEFAULT_DIALECT, DIALECTS
from .faults import ENVELOPE_VARIANTS, FAULT_DEFAULTS, FAULT_KINDS, Fault
from .server import FakeServer, serve_in_thread

__all__ = [
    "BANNED_PREFIX",
    "DEFAULT_DIALECT",
    "DIALECTS",
    "ENVELOPE_VARIANTS",
    "FAKE_API_KEY",
    "FAKE_PUBLISHER_ID",
    "FAKE_WALL_ID",
    "FAULT_DEFAULTS",
    "FAULT_KINDS",
    "HEAVY_OFFER_COUNT",
    "HEAVY_PREFIX",
    "NEW_PREFIX",
    "FakeRevU",
    "FakeServer",
    "Fault",
    "RecordedRequest",
    "serve_in_thread",
]
