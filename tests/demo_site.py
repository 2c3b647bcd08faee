"""The demo site on its embedded fake RevU, as the demo and browser tests start it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask

from demo_app import create_app


@contextmanager
def demo_on_fake(config: dict[str, Any]) -> Iterator[Flask]:
    """``create_app(config)`` on the embedded fake RevU; the fake's server stops on exit."""
    with pytest.MonkeyPatch.context() as env:
        # The demo talks to the real RevU when a key is in the environment; tests never do.
        env.delenv("REVU_API_KEY", raising=False)
        env.delenv("REVU_BASE_URL", raising=False)
        app = create_app(config)
    try:
        yield app
    finally:
        server = getattr(app.extensions["revu_widgets"], "fake_server", None)
        if server is not None:
            server.shutdown()
