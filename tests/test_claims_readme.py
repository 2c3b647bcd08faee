"""The manual's help-desk claim handler, run as printed against a Freshdesk stand-in on loopback."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.wrappers import Request, Response

from .conftest import HostFactory, sign_in
from .known_offers import known_offers
from .servers import serve_wsgi

CLAIMS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "claims.md"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def claims_page_block(marker: str) -> str:
    """The Python block right after ``<!-- marker -->`` on the manual's claims page."""
    text = CLAIMS_PAGE.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\n```python\n(.*?)```", text, re.S)
    assert found, f"docs/claims.md has no python block after <!-- {marker} -->"
    return found.group(1)


@dataclass
class HelpDesk:
    """A stand-in for Freshdesk's ticket API: records each request, answers as told."""

    url: str = ""
    status: int = 201
    received: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        # Uploads are spooled to temporary files: close them with the request.
        with request:
            self.received.append(
                {
                    "path": request.path,
                    "auth": request.authorization,
                    "form": request.form.to_dict(flat=False),
                    "files": [
                        (upload.filename, upload.mimetype, upload.read())
                        for upload in request.files.getlist("attachments[]")
                    ],
                }
            )
        body = '{"id": 4821}' if self.status == 201 else '{"errors": []}'
        return Response(body, self.status, content_type="application/json")(environ, start_response)


@pytest.fixture
def help_desk() -> Iterator[HelpDesk]:
    desk = HelpDesk()
    with serve_wsgi(desk) as url:
        desk.url = url
        yield desk


@pytest.fixture
def app(make_host: HostFactory, fake_revu: Any, help_desk: HelpDesk) -> Flask:
    fake_revu.set_offers("alex-5", known_offers())
    app = make_host(FRESHDESK_URL=help_desk.url, FRESHDESK_API_KEY="fd-key")
    namespace = {
        "revu": app.extensions["test_revu"],
        "app": app,
        "email_of": lambda user_id: f"{user_id}@members.example.com",
    }
    exec(compile(claims_page_block("claim-handler-helpdesk"), "docs/claims.md", "exec"), namespace)
    return app


def report(app: Flask) -> Any:
    client = sign_in(app.test_client(), "alex-5")
    form = client.get("/rewards/offers/51003/report").text
    token = re.search(r'name="revu_token" value="([^"]+)"', form)
    assert token
    return client.post(
        "/rewards/offers/51003/report",
        data={
            "revu_token": token.group(1),
            "problem": "not_credited",
            "message": "Trial kept <7 days>",
            "attachments": [(io.BytesIO(PNG), "receipt.png")],
        },
        content_type="multipart/form-data",
    )


def test_readme_handler_opens_a_ticket_with_the_evidence_and_images(
    app: Flask, help_desk: HelpDesk
) -> None:
    response = report(app)

    assert response.status_code == 200
    assert "#4821" in response.text
    (sent,) = help_desk.received
    assert sent["path"] == "/api/v2/tickets"
    assert (sent["auth"].username, sent["auth"].password) == ("fd-key", "X")
    form = sent["form"]
    assert form["email"] == ["alex-5@members.example.com"]
    assert form["subject"] == ["Missing reward: StreamBox free trial (offer 51003)"]
    assert form["tags[]"] == ["revu-claim", "pending_overdue"]
    assert "Trial kept &lt;7 days&gt;" in form["description"][0]
    assert "RevU support reference" in form["description"][0]
    assert sent["files"] == [("receipt.png", "image/png", PNG)]


def test_a_help_desk_failure_leaves_the_member_the_bundle(app: Flask, help_desk: HelpDesk) -> None:
    help_desk.status = 500

    response = report(app)

    assert response.status_code == 502
    assert "Offer claim details" in response.text
    assert len(help_desk.received) == 1
