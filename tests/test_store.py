"""One upstream walk per member: snapshots, single-flight, the reuse window and ``revu.refresh``.

Real parts: the kit talks to the fake RevU over loopback HTTP; concurrent visitors are threads,
each with its own test client. Overlap is made certain, not hoped for: the fake holds its answer
until every visitor is inside the store, and only then lets it go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from revu_widgets import RevUClient, RevUWidgets
from revu_widgets.errors import ConfigurationError
from revu_widgets.fake import FAKE_API_KEY, FakeRevU
from revu_widgets.snapshots import (
    SnapshotFormatError,
    decode_progress,
    encode_progress,
    fingerprint,
)
from revu_widgets.upstream_http import page_digest

from .concurrency import (
    MEMBER,
    gated_fake_revu,
    held_upstream,
    run_together,
    upstream_walks,
    waiting_or_walking,
)
from .conftest import HostFactory, header_user

gated = gated_fake_revu  # these tests' fake_revu can hold its answers


def host_with_page(make_host: HostFactory, **config: Any) -> Flask:
    """The host site, users named by the X-Test-User header, plus a host page built on
    ``revu.progress()``."""
    app = make_host(signed_in=header_user, REVU_SUPPORT_TOKEN="t" * 40, **config)
    revu: RevUWidgets = app.extensions["test_revu"]

    @app.get("/host-page")
    def host_page() -> str:
        return f"{len(revu.progress().offers)} offers"

    return app


def as_user(app: Flask, user_id: str) -> Callable[[str], Any]:
    client: FlaskClient = app.test_client()

    def get(url: str) -> Any:
        return client.get(url, headers={"X-Test-User": user_id})

    return get


@pytest.mark.parametrize("seconds", [5, 0])
def test_concurrent_requests_on_every_route_share_one_walk(
    make_host: HostFactory, fake_revu: FakeRevU, seconds: int
) -> None:
    app = host_with_page(make_host, REVU_CACHE_SECONDS=seconds)
    offer_id = fake_revu.offers_for(MEMBER)[0]["offer_id"]
    member, staff = as_user(app, MEMBER), as_user(app, "staff-kim")
    routes: list[Callable[[], Any]] = [
        lambda: member("/rewards/"),
        lambda: member(f"/rewards/offers/{offer_id}"),
        lambda: member("/rewards/api/progress"),
        lambda: member(f"/rewards/api/offers/{offer_id}"),
        lambda: member("/host-page"),
        lambda: staff(f"/rewards/support/users/{MEMBER}"),
        lambda: app.test_client().get(
            f"/rewards/support/api/users/{MEMBER}", headers={"Authorization": "Bearer " + "t" * 40}
        ),
    ]
    responses = run_together(routes * 2, fake_revu)

    assert [r.status_code for r in responses] == [200] * 14
    assert upstream_walks(fake_revu) == 1
    assert f"{len(fake_revu.offers_for(MEMBER))} offers" in responses[4].get_data(as_text=True)


def test_a_snapshot_serves_its_member_within_the_window(
    make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    get = as_user(host_with_page(make_host, REVU_CACHE_SECONDS=60), MEMBER)
    for url in ("/rewards/", "/rewards/api/progress", "/host-page", "/rewards/?status=pending"):
        assert get(url).status_code == 200
    assert upstream_walks(fake_revu) == 1


def test_a_snapshot_expires_after_the_window(make_host: HostFactory, fake_revu: FakeRevU) -> None:
    get = as_user(host_with_page(make_host, REVU_CACHE_SECONDS=0.2), MEMBER)
    assert get("/rewards/").status_code == 200
    time.sleep(0.3)
    assert get("/rewards/").status_code == 200
    assert upstream_walks(fake_revu) == 2


def test_without_reuse_every_request_after_a_walk_walks_again(
    make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    get = as_user(host_with_page(make_host, REVU_CACHE_SECONDS=0), MEMBER)
    for _ in range(3):
        assert get("/rewards/api/progress").status_code == 200
    assert upstream_walks(fake_revu) == 3


def test_members_do_not_share_snapshots(make_host: HostFactory, fake_revu: FakeRevU) -> None:
    app = host_with_page(make_host, REVU_CACHE_SECONDS=60)
    alex, sam = as_user(app, MEMBER), as_user(app, "new-3")
    assert (
        alex("/rewards/api/progress").get_json()["total"]
        != sam("/rewards/api/progress").get_json()["total"]
    )
    assert upstream_walks(fake_revu, MEMBER) == upstream_walks(fake_revu, "new-3") == 1


def test_refresh_ends_the_window_and_the_change_is_shown(
    make_host: HostFactory, fake_revu: FakeRevU
) -> None:
    app = host_with_page(make_host, REVU_CACHE_SECONDS=60)
    get = as_user(app, MEMBER)
    pending = next(o for o in fake_revu.offers_for(MEMBER) if o["reward_status"] == 4)
    url = f"/rewards/api/offers/{pending['offer_id']}"
    assert get(url).get_json()["offer"]["status"] == "pending"

    fake_revu.advance(MEMBER, offer_id=pending["offer_id"])
    assert get(url).get_json()["offer"]["status"] == "pending"  # still the snapshot
    with app.app_context():
        app.extensions["test_revu"].refresh(MEMBER)
    assert get(url).get_json()["offer"]["status"] == "credited"
    assert upstream_walks(fake_revu) == 2


def test_a_failed_walk_is_shared_and_not_kept(make_host: HostFactory, fake_revu: FakeRevU) -> None:
    app = host_with_page(make_host, REVU_CACHE_SECONDS=60)
    get = as_user(app, MEMBER)
    fake_revu.add_fault("status", count=1, status=503)
    responses = run_together([lambda: get("/rewards/api/progress")] * 12, fake_revu)
    assert [r.status_code for r in responses] == [503] * 12
    assert upstream_walks(fake_revu) == 1
    assert get("/rewards/api/progress").status_code == 200  # the failure was not kept
    assert upstream_walks(fake_revu) == 2


def test_a_refresh_during_a_walk_is_not_lost(make_host: HostFactory, fake_revu: FakeRevU) -> None:
    app = host_with_page(make_host, REVU_CACHE_SECONDS=60)
    get = as_user(app, MEMBER)
    result: list[Any] = []
    with held_upstream(fake_revu):
        early = threading.Thread(target=lambda: result.append(get("/rewards/api/progress")))
        early.start()
        while not waiting_or_walking(early):
            time.sleep(0.01)
        with app.app_context():
            app.extensions["test_revu"].refresh(MEMBER)
    early.join(30)
    assert result[0].status_code == 200
    # The walk that began before the postback is not kept: the next reader walks again.
    assert get("/rewards/api/progress").status_code == 200
    assert upstream_walks(fake_revu) == 2


@pytest.mark.parametrize("user_id", [MEMBER, "heavy-7", "new-3"])
def test_a_snapshot_survives_its_json_form_unchanged(fake_revu_server: Any, user_id: str) -> None:
    client = RevUClient(FAKE_API_KEY, fake_revu_server.url)
    progress = client.get_all_progress(user_id)
    assert decode_progress(encode_progress(progress)) == progress


@pytest.mark.parametrize(
    "stored",
    [None, [], {"format": 999, "progress": {}}, {"format": 1, "progress": {"offers": "x"}}],
)
def test_stored_data_that_is_not_a_snapshot_is_refused(stored: object) -> None:
    with pytest.raises(SnapshotFormatError):
        decode_progress(stored)


def test_the_fingerprint_moves_with_progress_not_with_the_clock(fake_revu_server: Any) -> None:
    client = RevUClient(FAKE_API_KEY, fake_revu_server.url)
    first = client.get_all_progress(MEMBER)
    again = client.get_all_progress(MEMBER)
    assert first.offers[0].as_of != again.offers[0].as_of
    assert fingerprint(first) == fingerprint(again)
    fake_revu_server.app.advance(MEMBER)
    assert fingerprint(client.get_all_progress(MEMBER)) != fingerprint(first)


@pytest.mark.parametrize(
    "config",
    [
        {"REVU_CACHE_URL": "memcached://127.0.0.1:11211"},
        {"REVU_CACHE_URL": ""},
        {"REVU_CACHE_SECONDS": -1},
        {"REVU_CACHE_SECONDS": "5"},
        {"REVU_MAX_PAGES": 0},
        {"REVU_MAX_CONCURRENT_REQUESTS": 0},
    ],
)
def test_a_wrong_store_setting_fails_at_start_with_a_clear_message(
    make_host: HostFactory, config: dict[str, Any]
) -> None:
    with pytest.raises(ConfigurationError) as failure:
        make_host(**config)
    assert next(iter(config)) in str(failure.value)


def test_the_fingerprint_sees_steps_of_offers_read_only_for_the_summary(
    fake_revu_server: Any,
) -> None:
    client = RevUClient(FAKE_API_KEY, fake_revu_server.url)
    first = client.get_all_progress(MEMBER, complete=False)
    again = client.get_all_progress(MEMBER, complete=False)
    assert first.support_id != again.support_id
    assert fingerprint(first) == fingerprint(again)
    fake_revu_server.app.advance(MEMBER)
    assert fingerprint(client.get_all_progress(MEMBER, complete=False)) != fingerprint(first)


def test_a_page_digest_leaves_out_the_support_reference_only() -> None:
    body = b'{"support_id": "ref-1", "offers": [{"offer_id": 7, "events": [{"status": ""}]}]}'
    same = body.replace(b"ref-1", b"ref-2")
    step_done = body.replace(b'""', b'"Completed"')
    assert page_digest(body, "ref-1") == page_digest(same, "ref-2")
    assert page_digest(body, "ref-1") != page_digest(step_done, "ref-1")
    assert page_digest(body, None) != page_digest(same, None)
