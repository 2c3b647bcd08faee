"""``flask revu progress``: a member's offers in the terminal, as a table or JSON."""

from __future__ import annotations

import json
import logging
import re
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from revu_widgets import RevUWidgets
from revu_widgets.fake import FAKE_API_KEY

NOW = datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def known_offers() -> list[dict[str, Any]]:
    """An in-progress offer (2 of 3 steps), an overdue pending one and a reversed one."""
    return [
        {
            "offer_id": 51001,
            "name": "Dragon Realms: reach level 25",
            "reward_status": 1,
            "in_progress": True,
            "total_user_reward": 4200,
            "updated_at": "2026-01-04T10:00:00Z",
            "events": [
                {"event_id": 1, "name": "Install", "user_reward": 50, "status": "credited"},
                {"event_id": 2, "name": "Level 10", "user_reward": 600, "status": "credited"},
                {"event_id": 3, "name": "Level 25", "user_reward": 3550, "status": ""},
            ],
        },
        {
            "offer_id": 51003,
            "name": "StreamBox free trial",
            "reward_status": 4,
            "user_completed": True,
            "total_user_reward": 2500,
            "reporting": "up to 30 days",
            "updated_at": _iso(NOW - timedelta(days=40)),
            "events": [
                {
                    "event_id": 1,
                    "name": "Start the free trial",
                    "user_reward": 2500,
                    "status": "pending",
                    "completed_at": _iso(NOW - timedelta(days=40)),
                }
            ],
        },
        {
            "offer_id": 51004,
            "name": "Cash Quest: deposit $10",
            "reward_status": 3,
            "user_completed": True,
            "total_user_reward": 5000,
            "reason": "Deposit charged back",
            "updated_at": _iso(NOW - timedelta(days=50)),
            "events": [
                {"event_id": 1, "name": "First deposit", "user_reward": 5000, "status": "revoked"}
            ],
        },
    ]


def make_app(base_url: str, api_key: str = FAKE_API_KEY) -> Flask:
    app = Flask(__name__)
    app.config.update(
        TESTING=True, REVU_API_KEY=api_key, REVU_BASE_URL=base_url, REVU_MAX_RETRIES=0
    )
    RevUWidgets(app)
    return app


@pytest.fixture
def runner(fake_revu_server: Any) -> FlaskCliRunner:
    return make_app(fake_revu_server.url).test_cli_runner()


def table_rows(output: str) -> dict[str, str]:
    """Table lines by offer id (the first column)."""
    rows = (re.match(r"(\d+)  ", line) for line in output.splitlines())
    return {match.group(1): match.string for match in rows if match}


def test_progress_prints_a_row_per_offer_with_totals(
    runner: FlaskCliRunner, fake_revu: Any
) -> None:
    fake_revu.set_offers("alex-42", known_offers())

    result = runner.invoke(args=["revu", "progress", "alex-42"])

    assert result.exit_code == 0, result.output
    rows = table_rows(result.output)
    assert set(rows) == {"51001", "51003", "51004"}
    assert "In progress" in rows["51001"]
    assert "2/3" in rows["51001"]
    assert "650/4,200" in rows["51001"]
    assert "2026-01-04 10:00" in rows["51001"]
    assert "OVERDUE" in rows["51003"]
    assert "OVERDUE" not in rows["51001"]
    assert "Reversed" in rows["51004"]
    assert "Earned 650, pending 2,500, reversed or expired 5,000 coins." in result.output
    assert "RevU support reference: " in result.output
    assert "RevU support reference: -" not in result.output


def test_status_option_narrows_the_table(runner: FlaskCliRunner, fake_revu: Any) -> None:
    fake_revu.set_offers("alex-42", known_offers())

    result = runner.invoke(args=["revu", "progress", "alex-42", "--status", "reversed"])

    assert result.exit_code == 0, result.output
    assert set(table_rows(result.output)) == {"51004"}


def test_json_output_is_the_support_api_shape(runner: FlaskCliRunner, fake_revu: Any) -> None:
    fake_revu.set_offers("alex-42", known_offers())

    result = runner.invoke(args=["revu", "progress", "alex-42", "--json"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["user_id"] == "alex-42"
    assert body["counts"]["total"] == 3
    assert body["counts"]["overdue"] == 1
    assert body["totals"] == {"earned": 650, "pending": 2500, "reversed": 5000, "remaining": 3550}
    assert {offer["offer_id"] for offer in body["offers"]} == {51001, 51003, 51004}


def test_heavy_member_json_has_every_offer(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["revu", "progress", "heavy-jo", "--json"])

    assert result.exit_code == 0
    assert len(json.loads(result.output)["offers"]) == 1200


def test_terminal_control_characters_in_names_are_neutralised(
    runner: FlaskCliRunner, fake_revu: Any
) -> None:
    offers = known_offers()[:1]
    offers[0]["name"] = "Evil\x1b[2J\x1b]0;owned\x07 offer\nfake row"
    fake_revu.set_offers("alex-42", offers)

    table = runner.invoke(args=["revu", "progress", "alex-42"])
    as_json = runner.invoke(args=["revu", "progress", "alex-42", "--json"])

    for result in (table, as_json):
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output
        assert "\x07" not in result.output
    assert "fake row" in table_rows(table.output)["51001"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alex-42", "--status", "lost"], "unknown status 'lost'"),
        (["banned-pat"], "[banned]"),
    ],
)
def test_failures_exit_non_zero_with_one_line(
    runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(args=["revu", "progress", *args])

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ")
    assert message in lines[0]


def test_a_refused_key_is_an_auth_error(fake_revu_server: Any) -> None:
    runner = make_app(fake_revu_server.url, api_key="X" * 20).test_cli_runner()

    result = runner.invoke(args=["revu", "progress", "alex-42"])

    assert result.exit_code == 1
    assert "[upstream_auth]" in result.output
    assert "X" * 20 not in result.output


def test_an_unreachable_upstream_is_reported(unused_port: int) -> None:
    runner = make_app(f"http://127.0.0.1:{unused_port}").test_cli_runner()

    result = runner.invoke(args=["revu", "progress", "alex-42"])

    assert result.exit_code == 1
    assert "[upstream_unavailable]" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_lookups_are_audited(
    runner: FlaskCliRunner, fake_revu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake_revu.set_offers("alex-42", known_offers())

    with caplog.at_level(logging.INFO, logger="revu_widgets.audit"):
        runner.invoke(args=["revu", "progress", "alex-42", "--status", "pending"])

    [record] = [r for r in caplog.records if r.name == "revu_widgets.audit"]
    assert record.revu_audit["channel"] == "cli"
    assert record.revu_audit["actor"].startswith("cli")
    assert record.revu_audit["status"] == "pending"
    assert record.revu_audit["offers"] == 1


def test_the_key_is_never_printed(
    runner: FlaskCliRunner, fake_revu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake_revu.set_offers("alex-42", known_offers())

    with caplog.at_level(logging.DEBUG):
        outputs = [
            runner.invoke(args=["revu", "progress", "alex-42"]).output,
            runner.invoke(args=["revu", "progress", "alex-42", "--json"]).output,
            runner.invoke(args=["revu", "progress", "banned-pat"]).output,
        ]

    assert all(FAKE_API_KEY not in output for output in outputs)
    assert FAKE_API_KEY not in caplog.text


def test_revu_group_is_added_once_per_app(fake_revu_server: Any) -> None:
    app = make_app(fake_revu_server.url)

    assert "revu" in app.cli.commands
    assert "progress" in app.cli.commands["revu"].commands  # type: ignore[attr-defined]


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
