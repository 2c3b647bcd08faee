"""``flask revu progress``: a member's offers in the terminal, as a table or JSON."""

from __future__ import annotations

import json
import logging
import re
import socket
from typing import Any

import pytest
from flask.testing import FlaskCliRunner

from revu_widgets.fake import FAKE_API_KEY

from .conftest import HostFactory
from .dialects import every_dialect
from .known_offers import known_offers


@pytest.fixture
def runner(make_host: HostFactory) -> FlaskCliRunner:
    return make_host().test_cli_runner()


def table_rows(output: str) -> dict[str, str]:
    """Table lines by offer id (the first column)."""
    rows = (re.match(r"(\d+)  ", line) for line in output.splitlines())
    return {match.group(1): match.string for match in rows if match}


@every_dialect
def test_progress_prints_a_row_per_offer_with_totals(
    runner: FlaskCliRunner, fake_revu: Any
) -> None:
    offers = known_offers()
    # A fixed last activity, so the time the table prints is known.
    offers[0]["updated_at"] = "2026-01-04T10:00:00Z"
    fake_revu.set_offers("alex-42", offers)

    result = runner.invoke(args=["revu", "progress", "alex-42"])

    assert result.exit_code == 0, result.output
    rows = table_rows(result.output)
    assert set(rows) == {"51001", "51003", "51004"}
    assert "In progress" in rows["51001"]
    assert "2/3" in rows["51001"]
    # reward_status decides: nothing of an offer in progress counts as earned yet.
    assert "0/4,200" in rows["51001"]
    assert "2026-01-04 10:00" in rows["51001"]
    # The times' zone is named once, in the header.
    assert "LAST ACTIVITY (UTC)  EXPECTED CREDIT (UTC)" in result.output
    assert "OVERDUE" in rows["51003"]
    assert "OVERDUE" not in rows["51001"]
    assert "Reversed" in rows["51004"]
    assert "Earned 0, pending 2,500, reversed or expired 5,000 coins." in result.output
    assert "RevU support reference: " in result.output
    assert "RevU support reference: -" not in result.output


@every_dialect
def test_status_option_narrows_the_table(runner: FlaskCliRunner, fake_revu: Any) -> None:
    fake_revu.set_offers("alex-42", known_offers())

    result = runner.invoke(args=["revu", "progress", "alex-42", "--status", "reversed"])

    assert result.exit_code == 0, result.output
    assert set(table_rows(result.output)) == {"51004"}


@every_dialect
def test_json_output_is_the_support_api_shape(runner: FlaskCliRunner, fake_revu: Any) -> None:
    fake_revu.set_offers("alex-42", known_offers())

    result = runner.invoke(args=["revu", "progress", "alex-42", "--json"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["user_id"] == "alex-42"
    assert body["counts"]["total"] == 3
    assert body["counts"]["overdue"] == 1
    assert body["totals"] == {"earned": 0, "pending": 2500, "lost": 5000, "remaining": 4200}
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
        (["banned-pat"], "[user_banned]"),
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


def test_a_refused_key_is_an_auth_error(make_host: HostFactory) -> None:
    runner = make_host(REVU_API_KEY="X" * 20).test_cli_runner()

    result = runner.invoke(args=["revu", "progress", "alex-42"])

    assert result.exit_code == 1
    assert "[upstream_auth]" in result.output
    assert "X" * 20 not in result.output


def test_an_unreachable_upstream_is_reported(make_host: HostFactory, unused_port: int) -> None:
    runner = make_host(REVU_BASE_URL=f"http://127.0.0.1:{unused_port}").test_cli_runner()

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


def test_revu_group_is_added_once_per_app(make_host: HostFactory) -> None:
    app = make_host()

    assert "revu" in app.cli.commands
    assert "progress" in app.cli.commands["revu"].commands  # type: ignore[attr-defined]


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
