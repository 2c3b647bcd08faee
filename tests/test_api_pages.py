"""``/api/progress`` in pages of ``REVU_PAGE_SIZE``, like the history, never one huge answer."""

from __future__ import annotations

from typing import Any

from flask import Flask

from revu_widgets.fake import FakeRevU

from .conftest import HostFactory, header_user
from .dialects import every_dialect

HEAVY = "heavy-7"


def api(app: Flask, query: str = "") -> dict[str, Any]:
    response = app.test_client().get(
        f"/rewards/api/progress{query}", headers={"X-Test-User": HEAVY}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def test_a_long_history_comes_in_pages_that_together_hold_every_offer(
    make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    app = make_host(signed_in=header_user, REVU_PAGE_SIZE=100, REVU_CACHE_SECONDS=60)
    first = api(app)
    every = len(fake_revu.offers_for(HEAVY))
    assert first["total"] == every
    assert first["page"] == 1
    assert first["page_size"] == 100
    assert first["pages"] == -(-every // 100)
    assert len(first["offers"]) == 100
    assert first["prev_url"] is None
    assert first["next_url"] == "/rewards/api/progress?page=2"

    seen = [o["offer_id"] for o in first["offers"]]
    for number in range(2, first["pages"] + 1):
        seen += [o["offer_id"] for o in api(app, f"?page={number}")["offers"]]
    assert sorted(seen) == sorted(o["offer_id"] for o in fake_revu.offers_for(HEAVY))
    walks = [r for r in fake_revu.requests if r.query.get("offset") == "0"]
    assert len(walks) == 1  # every page read the same snapshot


@every_dialect
def test_pages_follow_the_status_filter(make_host: HostFactory) -> None:
    app = make_host(signed_in=header_user, REVU_PAGE_SIZE=10)
    body = api(app, "?status=credited&page=2")
    assert body["status_filter"] == "credited"
    assert all(o["status"] == "credited" for o in body["offers"])
    assert body["prev_url"] == "/rewards/api/progress?status=credited"


def test_a_page_past_the_end_is_a_400(make_host: HostFactory) -> None:
    app = make_host(signed_in=header_user)
    response = app.test_client().get(
        "/rewards/api/progress?page=9999", headers={"X-Test-User": HEAVY}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"
