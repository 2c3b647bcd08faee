"""Snapshots in Redis: app instances sharing one Redis share one walk and one refresh, and Redis
trouble (killed, frozen, a lock owner killed mid-walk) never turns into an error page.

Real parts: Debian's redis-server on a free loopback port (tests/redis_server.py), the fake RevU
over loopback HTTP, and separate Flask apps standing for separate workers or hosts.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask import Flask

from revu_widgets.fake import FakeRevU
from revu_widgets.fake.server import FakeServer

from .concurrency import (
    MEMBER,
    gated_fake_revu,
    held_upstream,
    run_together,
    upstream_walks,
)
from .conftest import HostFactory, header_user
from .redis_server import RedisServer

gated = gated_fake_revu  # these tests' fake_revu can hold its answers


def instance(make_host: HostFactory, redis_server: RedisServer, **config: Any) -> Flask:
    """One app instance (a worker, or a host) on the shared Redis."""
    config.setdefault("REVU_CACHE_SECONDS", 60)
    return make_host(signed_in=header_user, REVU_CACHE_URL=redis_server.url, **config)


def getter(app: Flask, user_id: str = MEMBER) -> Callable[[str], Any]:
    client = app.test_client()
    return lambda url: client.get(url, headers={"X-Test-User": user_id})


def refresh(app: Flask, user_id: str = MEMBER) -> None:
    with app.app_context():
        app.extensions["test_revu"].refresh(user_id)


@pytest.mark.parametrize("seconds", [60, 0])
def test_two_instances_on_one_redis_share_one_walk(
    make_host: HostFactory, redis_server: RedisServer, fake_revu: FakeRevU, seconds: int
) -> None:
    first = instance(make_host, redis_server, REVU_CACHE_SECONDS=seconds)
    second = instance(make_host, redis_server, REVU_CACHE_SECONDS=seconds)
    calls = [getter(app) for app in (first, second) for _ in range(7)]
    responses = run_together(
        [lambda get=get: get("/rewards/api/progress") for get in calls], fake_revu
    )

    assert [r.status_code for r in responses] == [200] * 14
    assert len({json.dumps(r.get_json(), sort_keys=True) for r in responses}) == 1
    assert upstream_walks(fake_revu) == 1


def test_a_refresh_on_one_instance_ends_the_snapshot_on_the_other(
    make_host: HostFactory, redis_server: RedisServer, fake_revu: FakeRevU
) -> None:
    first, second = instance(make_host, redis_server), instance(make_host, redis_server)
    pending = next(o for o in fake_revu.offers_for(MEMBER) if o["reward_status"] == 4)
    url = f"/rewards/api/offers/{pending['offer_id']}"
    assert getter(first)(url).get_json()["offer"]["status"] == "pending"
    assert getter(second)(url).get_json()["offer"]["status"] == "pending"
    assert upstream_walks(fake_revu) == 1

    fake_revu.advance(MEMBER, offer_id=pending["offer_id"])
    refresh(first)  # the postback reached the first instance only
    assert getter(second)(url).get_json()["offer"]["status"] == "credited"
    assert getter(first)(url).get_json()["offer"]["status"] == "credited"
    assert upstream_walks(fake_revu) == 2


def test_keys_hide_member_ids_and_values_are_json(
    make_host: HostFactory, redis_server: RedisServer
) -> None:
    app = instance(make_host, redis_server)
    assert getter(app)("/rewards/api/progress").status_code == 200
    db = redis.Redis.from_url(redis_server.url)
    keys = [k.decode() for k in db.keys("*")]
    assert keys
    assert all(k.startswith("revu:") for k in keys)
    assert not any(MEMBER in k for k in keys)
    values = {k.split(":")[2]: db.get(k) or b"" for k in keys}
    assert json.loads(values["snap"])["token"]
    assert json.loads(values["data"])["progress"]["offers"]  # data, never pickle
    assert values["ver"].isalnum()


def test_redis_killed_mid_run_pages_come_straight_from_revu_with_one_log_line(
    make_host: HostFactory,
    redis_server: RedisServer,
    fake_revu: FakeRevU,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = instance(make_host, redis_server)
    get = getter(app)
    assert get("/rewards/").status_code == 200
    redis_server.kill()
    with caplog.at_level(logging.WARNING, logger="revu_widgets"):
        statuses = [get(url).status_code for url in ["/rewards/", "/rewards/api/progress"] * 3]
        refresh(app)  # a postback while Redis is down is not an error either
    assert statuses == [200] * 6
    assert upstream_walks(fake_revu) >= 2  # served from RevU, not from a snapshot
    down = [r for r in caplog.records if "cannot use REVU_CACHE_URL" in r.getMessage()]
    assert len(down) == 1


def test_a_frozen_redis_does_not_hold_pages(
    make_host: HostFactory, redis_server: RedisServer, fake_revu: FakeRevU
) -> None:
    app = instance(make_host, redis_server)
    get = getter(app)
    assert get("/rewards/").status_code == 200
    redis_server.pause()
    try:
        assert [get("/rewards/api/progress").status_code for _ in range(3)] == [200] * 3
    finally:
        redis_server.resume()


OWNER = textwrap.dedent(
    """
    import sys
    from flask import Flask
    from revu_widgets import RevUWidgets
    from revu_widgets.state import member_progress
    from revu_widgets.fake import FAKE_API_KEY

    app = Flask("owner")
    app.config.update(REVU_API_KEY=FAKE_API_KEY, REVU_BASE_URL=sys.argv[1],
                      REVU_CACHE_URL=sys.argv[2], REVU_CACHE_SECONDS=60,
                      REVU_TIMEOUT=(2, 30), REVU_DEADLINE=30, REVU_MAX_RETRIES=0)
    RevUWidgets(app)
    with app.app_context():
        member_progress(sys.argv[3])
    """
)


def test_a_lock_owner_killed_mid_walk_blocks_no_one(
    make_host: HostFactory,
    redis_server: RedisServer,
    fake_revu: FakeRevU,
    fake_revu_server: FakeServer,
) -> None:
    db = redis.Redis.from_url(redis_server.url)
    with held_upstream(fake_revu):
        owner = subprocess.Popen(
            [sys.executable, "-c", OWNER, fake_revu_server.url, redis_server.url, MEMBER]
        )
        give_up = time.monotonic() + 30
        while not db.keys("revu:v1:lock:*"):
            assert owner.poll() is None, "the owner process ended before taking the lock"
            assert time.monotonic() < give_up, "the owner process never took the lock"
            time.sleep(0.02)
        owner.kill()  # mid-walk: its lock stays behind, unextended
        owner.wait(10)
    assert db.keys("revu:v1:lock:*")

    response = getter(instance(make_host, redis_server))("/rewards/api/progress")
    assert response.status_code == 200
    assert response.get_json()["total"] == len(fake_revu.offers_for(MEMBER))


def test_failed_support_tokens_are_counted_across_instances(
    make_host: HostFactory, redis_server: RedisServer
) -> None:
    token = "s" * 40
    apps = [
        instance(
            make_host, redis_server, REVU_SUPPORT_TOKEN=token, REVU_SUPPORT_TOKEN_LIMIT="3/hour"
        )
        for _ in range(2)
    ]
    clients = [app.test_client() for app in apps]
    url = f"/rewards/support/api/users/{MEMBER}"
    wrong = {"Authorization": "Bearer wrong"}
    assert [clients[i % 2].get(url, headers=wrong).status_code for i in range(3)] == [401] * 3
    throttled = clients[1].get(url, headers=wrong)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0


def test_without_redis_server_the_tests_fail_with_an_install_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr("os.path.exists", lambda path: False)
    with pytest.raises(pytest.fail.Exception) as failure:
        RedisServer()
    assert "apt-get install redis-server" in str(failure.value)


def test_the_throttle_lets_attempts_through_while_redis_is_down(
    make_host: HostFactory, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = "s" * 40
    app = instance(make_host, redis_server, REVU_SUPPORT_TOKEN=token)
    client = app.test_client()
    url = f"/rewards/support/api/users/{MEMBER}"
    redis_server.kill()
    with caplog.at_level(logging.WARNING, logger="revu_widgets.limiter"):
        wrong = [client.get(url, headers={"Authorization": "Bearer no"}) for _ in range(3)]
        right = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert [r.status_code for r in wrong] == [401] * 3
    assert right.status_code == 200
    assert sum("rate limiter cannot reach" in r.getMessage() for r in caplog.records) == 1
