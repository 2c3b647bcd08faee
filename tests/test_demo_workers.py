"""The demo under a real multi-process server: ``gunicorn -w 2 'demo_app:create_app()'``.

Sign-in, browsing and simulated progress must work whichever worker answers: the workers share
one secret (the instance folder) and replay each other's simulated progress onto their fakes.
gunicorn's sync workers take one connection each and close it, so requests spread over both.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .redis_server import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ROUNDS = 12


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REVU_API_KEY", "REVU_BASE_URL")}
    env["DEMO_INSTANCE_PATH"] = str(tmp_path / "instance")
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "--workers", "2",
                "--bind", f"127.0.0.1:{port}",
                "demo_app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        give_up = time.monotonic() + 120
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if requests.get(url + "/sign-in", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                # Not listening yet, or a worker still importing on a busy machine.
                pass
            assert time.monotonic() < give_up, "gunicorn did not start the demo"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def signed_in(url: str, user_id: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(url + "/sign-in", timeout=30).text
    match = TOKEN.search(form)
    assert match
    response = browser.post(
        url + "/sign-in",
        data={"csrf_token": match.group(1), "user_id": user_id},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:300]
    assert response.headers["Location"].endswith("/dashboard")
    return browser


def offer_state(browser: requests.Session, url: str, offer_id: int) -> tuple[Any, ...]:
    response = browser.get(f"{url}/rewards/api/offers/{offer_id}", timeout=30)
    assert response.status_code == 200
    offer = response.json()["offer"]
    return offer["state"], offer["steps_done"], tuple(s["status"] for s in offer["steps"])


def test_sign_in_browse_and_simulate_progress_across_two_workers(demo_url: str) -> None:
    members = [signed_in(demo_url, "alex-42") for _ in range(ROUNDS)]
    for browser in members:
        for page in ("/dashboard", "/rewards/", "/rewards/api/progress"):
            response = browser.get(demo_url + page, allow_redirects=False, timeout=30)
            assert response.status_code == 200, f"{page}: {response.status_code}"

    alex = members[0]
    offers = alex.get(demo_url + "/rewards/api/progress", timeout=30).json()["offers"]
    offer_id = next(o["offer_id"] for o in offers if o["state"] == "in_progress")
    before = offer_state(alex, demo_url, offer_id)
    page = alex.get(f"{demo_url}/rewards/offers/{offer_id}", timeout=30).text
    match = TOKEN.search(page)
    assert match
    moved = alex.post(
        demo_url + "/simulate-progress",
        data={"csrf_token": match.group(1), "offer_id": str(offer_id)},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert moved.status_code == 200, moved.text[:300]

    seen = {offer_state(browser, demo_url, offer_id) for browser in members}
    assert len(seen) == 1, seen  # every worker serves the same progress
    assert seen != {before}
    for browser in members:
        browser.close()
