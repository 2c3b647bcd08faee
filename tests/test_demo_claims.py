"""PointPanda's claims loop: a member reports a problem, the claims desk keeps it, staff read it."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .demo_site import demo_on_fake, reset_fake, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    with demo_on_fake({"TESTING": True, "SECRET_KEY": "test-secret"}) as demo:
        yield demo


@pytest.fixture(autouse=True)
def fresh_fake(app: Flask) -> None:
    reset_fake(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def offers(client: FlaskClient) -> list[dict[str, Any]]:
    body = client.get("/rewards/api/progress").get_json()
    assert body is not None
    result: list[dict[str, Any]] = body["offers"]
    return result


def report(client: FlaskClient, offer_id: int, problem: str, **extra: Any) -> Any:
    form = client.get(f"/rewards/offers/{offer_id}/report").get_data(as_text=True)
    token = re.search(r'name="revu_token" value="([^"]+)"', form)
    assert token, "no report form"
    return client.post(
        f"/rewards/offers/{offer_id}/report",
        data={"revu_token": token.group(1), "problem": problem, **extra},
        content_type="multipart/form-data",
    )


def test_one_lost_postback_per_member_is_pointpandas_own_problem(client: FlaskClient) -> None:
    sign_in(client, "alex-42")

    verdicts = [o["claim"]["reason"] for o in offers(client)]

    assert verdicts.count("site_missing_credit") == 1
    assert "pending_within_window" in verdicts
    assert "credited" in verdicts


def test_a_members_report_reaches_the_claims_desk_for_staff(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(client, "alex-42")
    overdue = next(o for o in offers(client) if o["claim"]["reason"] == "pending_overdue")

    sent = report(
        client,
        overdue["offer_id"],
        "not_credited",
        message="Waited long enough",
        attachments=[(io.BytesIO(PNG), "receipt.png")],
    )

    assert sent.status_code == 200
    reference = re.search(r"PP-\d+", sent.get_data(as_text=True))
    assert reference

    staff = app.test_client()
    sign_in(staff, "staff-kim")
    desk = staff.get("/staff/claims").get_data(as_text=True)
    assert reference.group(0) in desk
    assert overdue["name"] in desk
    assert "Waited long enough" in desk
    image = staff.get(f"/staff/claims/{reference.group(0)}/images/0")
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert image.data == PNG
    assert staff.get(f"/staff/claims/{reference.group(0)}/images/1").status_code == 404


def test_the_lost_postback_report_tells_the_member_pointpanda_will_fix_it(
    client: FlaskClient,
) -> None:
    sign_in(client, "alex-42")
    lost = next(o for o in offers(client) if o["claim"]["reason"] == "site_missing_credit")

    sent = report(client, lost["offer_id"], "missing_from_balance")

    assert sent.status_code == 200
    assert "This one is on our side" in sent.get_data(as_text=True)


@pytest.mark.parametrize(("user_id", "status"), [(None, 401), ("alex-42", 403)])
def test_the_claims_desk_is_for_staff_only(
    client: FlaskClient, user_id: str | None, status: int
) -> None:
    if user_id:
        sign_in(client, user_id)

    assert client.get("/staff/claims").status_code == status
    assert client.get("/staff/claims/PP-1001/images/0").status_code == status
