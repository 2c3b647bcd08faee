"""``flask revu ...``: the support view in a terminal, and a check of the upstream contract.

``flask revu progress USER_ID [--status S] [--json]`` prints a member's offers as a table (or as
the support API's JSON), using the application's configured client. Every lookup is audited like
the support pages. Failures end in one clear line and a non-zero exit status.

``flask revu doctor USER_ID [--json] [--all]`` reads what the configured RevU sends for a member
and reports what the kit understood of it (see :mod:`revu_widgets.doctor`): exit 0 when every
offer was read, 1 when something was skipped, left out or doubtful, 2 when the upstream call or
the configuration failed. The API key is never printed.
"""

from __future__ import annotations

import getpass
import json
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import click
from flask import current_app
from flask.cli import AppGroup

from . import formatting, wording
from .client import MAX_PAGE_SIZE
from .doctor import EXIT_FAILED, diagnose, render_report
from .errors import RevUError
from .listing import STATUS_WORDS, parse_status_word
from .models import Offer, UserProgress
from .schemas import parse_progress_page
from .state import kit_state
from .support import lookup_progress, support_summary_as_json

#: The ``flask revu`` command group; :meth:`RevUWidgets.init_app` adds it to the app's CLI.
revu_cli = AppGroup("revu", help="RevU offer progress: support tools.")

# Column widths keep a row on one line of a wide terminal; long names are shortened.
_NAME_WIDTH = 36


@revu_cli.command("progress")
@click.argument("user_id")
@click.option(
    "--status",
    "status_word",
    default="all",
    show_default=True,
    metavar="|".join(STATUS_WORDS),
    help="Only offers with this status (reversed includes expired).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the support API's shape).")
def progress_command(user_id: str, status_word: str, as_json: bool) -> None:
    """Show USER_ID's offers: status, steps, reward, last activity and expected credit."""
    try:
        status = parse_status_word(status_word)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        progress = lookup_progress(user_id, channel="cli", actor=_terminal_user(), status=status)
    except RevUError as exc:
        raise click.ClickException(_error_line(exc)) from None
    if as_json:
        click.echo(json.dumps(support_summary_as_json(progress, status=status), indent=2))
        return
    click.echo(render_table(progress))


@revu_cli.command("doctor")
@click.argument("user_id")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--all", "walk_all", is_flag=True, help="Read every page, not only the first.")
@click.pass_context
def doctor_command(ctx: click.Context, user_id: str, as_json: bool, walk_all: bool) -> None:
    """Check what RevU sends for USER_ID against what the kit reads.

    Exit 0: every offer was read; 1: something was skipped, left out or doubtful; 2: the
    upstream call or the configuration failed.
    """
    try:
        client = kit_state().client
        answers = [(0, client.get_raw_progress(user_id))]
        if walk_all:
            total = parse_progress_page(answers[0][1].payload, vocabulary=client.vocabulary).total
            cap = int(current_app.config["REVU_MAX_PAGES"]) * MAX_PAGE_SIZE
            offset = MAX_PAGE_SIZE
            while offset < min(total, cap):
                answers.append((offset, client.get_raw_progress(user_id, offset=offset)))
                offset += MAX_PAGE_SIZE
        report = diagnose(user_id, answers, client.vocabulary)
    except RevUError as exc:
        click.echo(f"revu doctor: {_error_line(exc)}", err=True)
        ctx.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        click.echo(render_report(report, client.vocabulary))
    ctx.exit(report.exit_code)


def render_table(progress: UserProgress) -> str:
    """A member's offers as a plain-text table with a totals line (what the CLI prints)."""
    header = (
        "OFFER",
        "NAME",
        "STATUS",
        "STEPS",
        "EARNED/TOTAL",
        # The terminal's times are UTC whatever the machine's zone: the header says so.
        "LAST ACTIVITY (UTC)",
        "EXPECTED CREDIT (UTC)",
    )
    rows = [_row(offer) for offer in progress.offers]
    lines = [f"Offers of {_terminal_safe(progress.user_id)}"]
    if rows:
        lines.extend(_columns([header, *rows]))
    else:
        lines.append("No offers.")
    summary = progress.summary
    lines.append("")
    lines.append(
        f"{summary.total} offers: {summary.in_progress} in progress, {summary.pending} pending "
        f"({summary.overdue} overdue), {summary.credited} credited, {summary.reversed} reversed, "
        f"{summary.expired} expired, {summary.reversed_or_expired} reversed or expired."
    )
    lines.append(
        f"Earned {_amount(summary.earned)}, pending {_amount(summary.pending_amount)}, "
        f"reversed or expired {_amount(summary.lost)} {formatting.currency_name()}."
    )
    reference = _terminal_safe(progress.support_id) if progress.support_id else "-"
    lines.append(f"RevU support reference: {reference}")
    if progress.skipped:
        ids = ", ".join(_terminal_safe(s.offer_id or "?") for s in progress.skipped)
        lines.append(f"{len(progress.skipped)} offers could not be read (ids {ids}).")
    if progress.truncated:
        lines.append("More offers exist than one lookup fetches: the oldest are left out.")
    return "\n".join(lines)


def _row(offer: Offer) -> tuple[str, ...]:
    expected = _time(offer.expected_credit_at)
    if offer.is_overdue:
        expected += " OVERDUE"
    return (
        str(offer.offer_id),
        _shorten(_terminal_safe(offer.name), _NAME_WIDTH),
        wording.status_label(offer),
        f"{offer.steps_done}/{offer.steps_total}",
        f"{_amount(offer.earned)}/{_amount(offer.possible)}",
        _time(offer.last_activity_at),
        expected,
    )


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _terminal_safe(text: str) -> str:
    # Upstream text is hostile: escape sequences could rewrite the terminal, newlines forge rows.
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    return " ".join(cleaned.split())


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _amount(value: Decimal) -> str:
    number = formatting.amount_number(value)
    return "-" if number is None else f"{number:,}"


def _time(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _terminal_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        # A container without a passwd entry for the uid: still say it came from the terminal.
        return "cli"


def _error_line(exc: RevUError) -> str:
    line = f"{exc.message} [{exc.code}]"
    if exc.reference:
        line += f" (RevU reference {exc.reference})"
    return " ".join(line.split())


__all__ = ["progress_command", "render_table", "revu_cli"]
