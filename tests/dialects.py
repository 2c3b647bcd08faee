"""Run a test once per vocabulary the fake RevU speaks (see :mod:`revu_widgets.fake.dialects`).

Tests that read the fake's generated members through a page, the JSON, the support views or the
CLI carry ``@every_dialect``: the same member must read the same way whichever names RevU uses.
Tests about faults, headers or routing, and tests that set their own offers (sent as given),
do not depend on the names and run once.
"""

from __future__ import annotations

import pytest

from revu_widgets.fake import DIALECTS

every_dialect = pytest.mark.parametrize("fake_revu_dialect", DIALECTS)
