"""A postback handled by one app instance updates an offer page served by another, live.

Two instances of a host site (two workers, or two hosts) share one Redis and one fake RevU; the
member's offer page is open on the first, ``revu.refresh`` is called on the second, and the page
shows the change without a reload. The interval poll is set far away (60 s) and snapshots last
60 s, so only the version check can bring the change in time.
"""

from __future__ import annotations

import pytest
from flask import request
from playwright.sync_api import Browser, expect

from revu_widgets.fake import FakeRevU

from ..conftest import HostFactory
from ..redis_server import RedisServer
from ..servers import serve_wsgi

pytestmark = pytest.mark.browser

MEMBER = "alex-1"
#: Well under the 60 s interval poll these hosts are given, so only the version check (every
#: 0.5 s) can show the postback in time; generous beyond that, as a loaded machine is slow.
SHOWN_WITHIN_MS = 20_000


def member_from_cookie() -> str | None:
    return request.cookies.get("member")


def test_refresh_on_one_instance_updates_a_page_open_on_another(
    browser: Browser, make_host: HostFactory, redis_server: RedisServer, fake_revu: FakeRevU
) -> None:
    config = {
        "REVU_CACHE_URL": redis_server.url,
        "REVU_CACHE_SECONDS": 60,
        "REVU_REFRESH_SECONDS": 60,
        "REVU_LIVE_CHECK_SECONDS": 0.5,
    }
    first = make_host(signed_in=member_from_cookie, **config)
    second = make_host(signed_in=member_from_cookie, **config)
    pending = next(o for o in fake_revu.offers_for(MEMBER) if o["reward_status"] == 4)

    with serve_wsgi(first) as first_url:
        context = browser.new_context()
        try:
            context.add_cookies([{"name": "member", "value": MEMBER, "url": first_url}])
            page = context.new_page()
            page.goto(f"{first_url}/rewards/offers/{pending['offer_id']}")
            badge = page.locator(".revu-detail__head [data-revu-field=state_label]")
            expect(badge).to_contain_text("Pending credit")
            page.evaluate("window.sameDocument = 'still here'")

            fake_revu.advance(MEMBER, offer_id=pending["offer_id"])
            with second.app_context():
                second.extensions["test_revu"].refresh(MEMBER)  # the postback, elsewhere

            expect(badge).to_contain_text("Credited", timeout=SHOWN_WITHIN_MS)
            assert page.evaluate("window.sameDocument") == "still here"
        finally:
            context.close()


def test_the_interval_poll_asks_with_the_etag_and_takes_a_304(
    browser: Browser, make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    app = make_host(signed_in=member_from_cookie, REVU_REFRESH_SECONDS=2, REVU_CACHE_SECONDS=60)
    offer_id = fake_revu.offers_for(MEMBER)[0]["offer_id"]
    with serve_wsgi(app) as url:
        context = browser.new_context()
        try:
            context.add_cookies([{"name": "member", "value": MEMBER, "url": url}])
            page = context.new_page()
            offer_json = f"/rewards/api/offers/{offer_id}"
            with page.expect_response(lambda r: r.url.endswith(offer_json)) as first:
                page.goto(f"{url}/rewards/offers/{offer_id}")
            assert first.value.status == 200
            with page.expect_response(
                lambda r: r.url.endswith(offer_json), timeout=15_000
            ) as second:
                pass
            assert second.value.status == 304
            assert second.value.request.headers["if-none-match"] == first.value.headers["etag"]
        finally:
            context.close()
