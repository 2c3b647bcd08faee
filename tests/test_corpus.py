"""Every answer in the corpus of RevU-documented shapes is read completely, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from revu_widgets.client import RevUClient
from revu_widgets.fake import FAKE_API_KEY, FakeRevU, FakeServer

from .revu_corpus import CORPUS


@pytest.fixture
def client(fake_revu_server: FakeServer) -> Iterator[RevUClient]:
    revu = RevUClient(FAKE_API_KEY, base_url=fake_revu_server.url, deadline=10.0)
    yield revu
    revu.close()


@pytest.mark.parametrize("name", CORPUS)
def test_documented_shapes_are_read_without_loss(
    client: RevUClient, fake_revu: FakeRevU, name: str
) -> None:
    answer: dict[str, Any] = CORPUS[name]
    fake_revu.set_offers(name, answer["offers"])
    progress = client.get_all_progress(name)
    assert not progress.skipped
    [offer] = progress.offers
    assert offer.degraded == ()
    assert offer.name_given
    assert offer.click_url is not None
    assert offer.total_reward is not None
    # The publisher's USD payout never becomes a member amount.
    assert all(step.reward != step.payout for step in offer.steps if step.payout)
