""" "Report a problem": the claim form, the evidence bundle, and where a claim goes.

``GET /offers/<offer_id>/report`` shows the offer's claim clock and, while a claim is open, a
short form; ``POST`` files the claim. The evidence (:class:`~revu_widgets.claims.Claim`) is
built here from RevU's data, not typed by the member, and goes to the host's
``@revu.claim_handler`` (which returns a ticket reference), else to a prefilled link to
``REVU_SUPPORT_URL``, else it is shown to copy. Every claim, and every refused attempt, is one
line on the ``revu_widgets.audit`` logger.

The form is guarded by a token signed with the app's ``SECRET_KEY`` and bound to the member
and the offer, so another site cannot file claims in a member's name.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import current_app, render_template, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from . import claim_words, formatting, wording
from .blueprint import blueprint
from .claims import (
    Attachment,
    Claim,
    ClaimClock,
    ClaimReason,
    Problem,
    claim_clock,
    sniff_image,
)
from .client import OFFER_ID_RULE
from .errors import ConfigurationError
from .models import Offer, OfferState
from .state import current_kit, load_offer

if TYPE_CHECKING:
    from werkzeug.wrappers import Response as BaseResponse

log = logging.getLogger("revu_widgets")
#: The same audit trail as support lookups: one line per claim or refused attempt.
audit_log = logging.getLogger("revu_widgets.audit")

#: The hidden form field carrying the signed form token.
TOKEN_FIELD = "revu_token"  # noqa: S105 - a field name, not a secret
#: The shared rate limiter's scope for members' reports (``REVU_CLAIM_LIMIT``).
LIMIT_SCOPE = "claim-report"
#: How long a form stays valid after it was shown.
TOKEN_MAX_AGE = timedelta(hours=2)
#: Longest description a member can send.
MESSAGE_LIMIT = 2000
#: Longest ticket reference a handler's answer is shown with.
_TICKET_LIMIT = 100
#: Longest body put into a help-desk link (mail clients cut longer ones).
_LINK_BODY_LIMIT = 1800
_AUDIT_TEXT_LIMIT = 200
#: Form fields shown again when the form comes back with a problem to fix.
_ANSWER_FIELDS = ("problem", "step", "occurred_on", "message")


def offer_clock(user_id: str, offer: Offer) -> ClaimClock:
    """``offer``'s claim clock for ``user_id``, with the site's ledger when the host has one.

    The ledger is asked only about offers RevU credited something for: only those can lack it.
    """
    site_credited = (
        current_kit.widgets.site_credited(user_id, offer.offer_id)
        if offer.credited_amount
        else None
    )
    return claim_clock(offer, claim_words.claim_policy(), site_credited=site_credited)


def _serializer() -> URLSafeTimedSerializer:
    secret = current_app.secret_key
    if not secret:
        raise ConfigurationError(
            "revu-widgets needs the app's SECRET_KEY to protect the Report a problem form: "
            'set app.config["SECRET_KEY"] to a long random value.'
        )
    return URLSafeTimedSerializer(secret, salt="revu-widgets.claim-form")


def _member_digest(user_id: str) -> str:
    return hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def form_token(user_id: str, offer_id: int) -> str:
    """A token for this member's report form on this offer, signed with ``SECRET_KEY``."""
    return str(_serializer().dumps([_member_digest(user_id), offer_id]))


def token_is_valid(token: str | None, user_id: str, offer_id: int) -> bool:
    """Whether ``token`` was issued for this member and offer within :data:`TOKEN_MAX_AGE`."""
    if not token:
        return False
    try:
        data = _serializer().loads(token, max_age=int(TOKEN_MAX_AGE.total_seconds()))
    except BadData:
        return False
    if not isinstance(data, list) or len(data) != 2:
        return False
    member, offer = data
    return (
        isinstance(member, str)
        and hmac.compare_digest(member, _member_digest(user_id))
        and offer == offer_id
    )


# --- the evidence bundle ----------------------------------------------------------------------


def clean_message(raw: str) -> str:
    """The member's words: control characters out, lines kept, at most :data:`MESSAGE_LIMIT`."""
    lines = ["".join(ch for ch in line if ch.isprintable()).rstrip() for line in raw.splitlines()]
    text = "\n".join(lines).strip()
    return text[:MESSAGE_LIMIT]


def _ticket_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def build_claim(
    *,
    user_id: str,
    offer: Offer,
    support_id: str | None,
    clock: ClaimClock,
    problem: Problem,
    occurred_on: date | None,
    message: str,
    attachments: tuple[Attachment, ...],
    step_name: str | None = None,
) -> Claim:
    """The evidence bundle for one claim, with its plain-text ticket body."""
    gettext = formatting.gettext
    claim_id = "clm-" + secrets.token_hex(6)
    filed_at = datetime.now(UTC)
    occurred = (
        datetime(occurred_on.year, occurred_on.month, occurred_on.day, tzinfo=UTC)
        if (occurred_on)
        else None
    )
    subject = gettext(
        "Missing reward: %(name)s (offer %(id)s)",
        name=wording.one_line(offer.name),
        id=offer.offer_id,
    )
    lines = [
        subject,
        gettext("Claim %(id)s, filed %(when)s", id=claim_id, when=_ticket_stamp(filed_at)),
        gettext("What happened: %(value)s", value=claim_words.problem_label(problem)),
    ]
    if step_name:
        lines.append(gettext("Step: %(value)s", value=wording.one_line(step_name)))
    lines += [
        gettext("When: %(value)s", value=occurred_on.isoformat() if occurred_on else "-"),
        gettext("Verdict: %(value)s", value=claim_words.verdict_text(clock.reason)),
    ]
    if clock.shortfall is not None:
        lines.append(
            gettext(
                "Missing from the site's ledger: %(value)s",
                value=formatting.format_amount(clock.shortfall),
            )
        )
    lines.append(gettext("Member's words:"))
    # Indented, so the member's text cannot pass for one of the kit's own lines.
    lines += ["  " + line for line in (message or "-").splitlines()] or ["  -"]
    if attachments:
        lines.append(gettext("Attachments:"))
        lines += [f"  {a.filename} ({a.content_type}, {a.size:,} bytes)" for a in attachments]
    lines += [
        "",
        wording.claim_details(offer, user_id=user_id, support_id=support_id),
    ]
    return Claim(
        claim_id=claim_id,
        user_id=user_id,
        offer=offer,
        support_id=support_id,
        clock=clock,
        problem=problem,
        occurred_on=occurred,
        message=message,
        attachments=attachments,
        filed_at=filed_at,
        subject=subject,
        ticket_text="\n".join(lines),
    )


def support_link(url: str, claim: Claim) -> str:
    """``REVU_SUPPORT_URL`` prefilled with the claim: ``mailto:`` gets a subject and body; an
    https URL gets ``{subject}`` and ``{body}`` filled in where it has them."""
    body = claim.ticket_text
    if len(body) > _LINK_BODY_LIMIT:
        body = body[:_LINK_BODY_LIMIT] + "\n…"
    subject_q, body_q = quote(claim.subject, safe=""), quote(body, safe="")
    if url.lower().startswith("mailto:"):
        joiner = "&" if "?" in url else "?"
        return f"{url}{joiner}subject={subject_q}&body={body_q}"
    return url.replace("{subject}", subject_q).replace("{body}", body_q)


# --- the audit line ----------------------------------------------------------------------------


def audit_claim(
    *,
    user_id: str,
    offer_id: int,
    result: str,
    claim: Claim | None = None,
    route: str | None = None,
    ticket: str | None = None,
) -> None:
    """One line on ``revu_widgets.audit`` for a claim or a refused attempt.

    Texts from the member or the host's handler are written with ``repr``, so they cannot
    forge a second line; the record carries the fields as ``record.revu_audit`` too.
    """
    fields: dict[str, Any] = {
        "at": formatting.isoformat(datetime.now(UTC)),
        "claim_id": claim.claim_id if claim else None,
        "user_id": user_id[:_AUDIT_TEXT_LIMIT],
        "offer_id": offer_id,
        "verdict": claim.clock.reason.value if claim else None,
        "problem": claim.problem.value if claim else None,
        "route": route,
        "result": result,
        "ticket": ticket[:_AUDIT_TEXT_LIMIT] if ticket else None,
        "attachments": len(claim.attachments) if claim else 0,
    }
    audit_log.info(
        "claim at=%s claim_id=%s user_id=%r offer_id=%s verdict=%s problem=%s route=%s "
        "result=%s ticket=%r attachments=%s",
        fields["at"],
        fields["claim_id"] or "-",
        fields["user_id"],
        offer_id,
        fields["verdict"] or "-",
        fields["problem"] or "-",
        route or "-",
        result,
        fields["ticket"],
        fields["attachments"],
        extra={"revu_audit": fields},
    )


# --- the form ---------------------------------------------------------------------------------


class FormProblem(Exception):
    """A form answer the member must fix, with the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class FormAnswers:
    """What the member chose and typed, checked."""

    problem: Problem
    step_name: str | None
    occurred_on: date | None
    message: str
    attachments: tuple[Attachment, ...]


def _read_answers(
    form: Any, files: Any, clock: ClaimClock, offer: Offer, *, allow_files: bool
) -> FormAnswers:
    gettext = formatting.gettext
    try:
        problem = Problem(form.get("problem", ""))
    except ValueError:
        raise FormProblem(422, gettext("Choose what happened.")) from None
    if problem not in claim_words.problems_for(clock) and not (
        clock.is_dispute and problem is Problem.DISPUTE_REVERSAL
    ):
        raise FormProblem(422, gettext("Choose what happened."))
    if clock.is_dispute and form.get("dispute") != "yes":
        raise FormProblem(422, gettext("Tick the box to say you think the reversal is a mistake."))
    step_name = None
    raw_step = form.get("step", "")
    if raw_step:
        if not raw_step.isdigit() or int(raw_step) >= len(offer.steps):
            raise FormProblem(422, gettext("Choose one of the offer's steps."))
        step_name = offer.steps[int(raw_step)].name
    occurred_on = None
    raw_day = form.get("occurred_on", "").strip()
    if raw_day:
        try:
            occurred_on = date.fromisoformat(raw_day)
        except ValueError:
            raise FormProblem(422, gettext("Give the date as year-month-day.")) from None
        # A day ahead at most: the member's own calendar may already be on tomorrow.
        if occurred_on > (datetime.now(UTC) + timedelta(days=1)).date():
            raise FormProblem(422, gettext("The date cannot be in the future."))
    message = clean_message(form.get("message", ""))
    attachments = _read_attachments(files, allow_files=allow_files)
    return FormAnswers(problem, step_name, occurred_on, message, attachments)


def _read_attachments(files: Any, *, allow_files: bool) -> tuple[Attachment, ...]:
    gettext = formatting.gettext
    uploads = [f for f in files.getlist("attachments") if f and f.filename]
    if not uploads:
        return ()
    if not allow_files:
        raise FormProblem(422, gettext("Attachments cannot be sent from this form."))
    max_files = int(current_app.config["REVU_CLAIM_MAX_FILES"])
    max_bytes = int(current_app.config["REVU_CLAIM_MAX_FILE_BYTES"])
    if len(uploads) > max_files:
        raise FormProblem(
            413,
            formatting.ngettext(
                "Attach at most %(num)d image.", "Attach at most %(num)d images.", max_files
            ),
        )
    found = []
    for number, upload in enumerate(uploads, start=1):
        data = upload.stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise FormProblem(
                413,
                gettext(
                    "%(name)s is too large: images can be up to %(size)s each.",
                    name=wording.one_line(upload.filename)[:80],
                    size=_size_text(max_bytes),
                ),
            )
        kind = sniff_image(data)
        if kind is None:
            raise FormProblem(
                415,
                gettext(
                    "%(name)s is not an image: attach screenshots or photos "
                    "(PNG, JPEG, GIF or WebP).",
                    name=wording.one_line(upload.filename)[:80],
                ),
            )
        name = secure_filename(upload.filename)[:100] or f"image-{number}"
        found.append(Attachment(name, kind, data))
    return tuple(found)


def _size_text(size: int) -> str:
    megabytes = Decimal(size) / (1024 * 1024)
    return formatting.gettext(
        "%(num)s MB", num=formatting.format_number(megabytes.quantize(Decimal("0.1")))
    )


@blueprint.route(f"/offers/{OFFER_ID_RULE}/report", methods=["GET", "POST"])
def report_offer(offer_id: int) -> BaseResponse | tuple[str, int] | str:
    """``GET``: the claim clock and the form; ``POST``: file the member's claim."""
    user_id = current_kit.widgets.current_user_id()
    if request.method == "POST":
        return _file(user_id, offer_id)
    offer, support_id = load_offer(user_id, offer_id)
    clock = offer_clock(user_id, offer)
    return _form_page(user_id, offer, support_id, clock)


def _delivery_mode() -> str:
    if current_kit.widgets.has_claim_handler:
        return "handler"
    if current_app.config.get("REVU_SUPPORT_URL"):
        return "url"
    return "copy"


def _form_page(
    user_id: str,
    offer: Offer,
    support_id: str | None,
    clock: ClaimClock,
    *,
    error: str | None = None,
    status: int = 200,
    answers: Mapping[str, str] | None = None,
) -> tuple[str, int]:
    mode = _delivery_mode()
    body = render_template(
        "revu_widgets/report.html",
        offer=offer,
        clock=clock,
        clock_text=claim_words.clock_text(clock, offer),
        support_id=support_id,
        problems=[(p.value, claim_words.problem_label(p)) for p in claim_words.problems_for(clock)]
        if not clock.is_dispute
        else [
            (Problem.DISPUTE_REVERSAL.value, claim_words.problem_label(Problem.DISPUTE_REVERSAL))
        ],
        steps=[(i, s.name) for i, s in enumerate(offer.steps)],
        suggested_step=_suggested_step(offer),
        token=form_token(user_id, offer.offer_id),
        token_field=TOKEN_FIELD,
        mode=mode,
        max_files=int(current_app.config["REVU_CLAIM_MAX_FILES"]) if mode == "handler" else 0,
        max_size=_size_text(int(current_app.config["REVU_CLAIM_MAX_FILE_BYTES"])),
        message_limit=MESSAGE_LIMIT,
        today=datetime.now(UTC).date().isoformat(),
        default_day=(offer.last_activity_at or offer.as_of).astimezone(UTC).date().isoformat(),
        answers=answers or {},
        error=error,
        detail_url=url_for("revu_widgets.offer_detail", offer_id=offer.offer_id),
    )
    return body, status


def _suggested_step(offer: Offer) -> int | None:
    """The step a member most likely means: the first one not recorded as done."""
    if offer.state is not OfferState.IN_PROGRESS and offer.state is not OfferState.EXPIRED:
        return None
    return next((i for i, s in enumerate(offer.steps) if not s.is_done), None)


def _file(user_id: str, offer_id: int) -> BaseResponse | tuple[str, int] | str:
    max_files = int(current_app.config["REVU_CLAIM_MAX_FILES"])
    max_bytes = int(current_app.config["REVU_CLAIM_MAX_FILE_BYTES"])
    # The whole request: every image at its largest, plus the form's text.
    request.max_content_length = max_files * max_bytes + 64 * 1024
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        audit_claim(user_id=user_id, offer_id=offer_id, result="too_large")
        return _refused(
            413,
            formatting.gettext("The images are too large together. Send fewer or smaller ones."),
            offer_id,
        )
    if not token_is_valid(form.get(TOKEN_FIELD), user_id, offer_id):
        audit_claim(user_id=user_id, offer_id=offer_id, result="bad_token")
        return _refused(
            400,
            formatting.gettext(
                "This form has expired or did not come from this site. Open it again and send "
                "it from there."
            ),
            offer_id,
        )
    limiter, rule = current_kit.limiter, str(current_app.config["REVU_CLAIM_LIMIT"])
    throttled = limiter.peek(rule, LIMIT_SCOPE, user_id)
    if not throttled.allowed:
        audit_claim(user_id=user_id, offer_id=offer_id, result="rate_limited")
        body, status = _refused(
            429,
            formatting.gettext(
                "You have sent several reports in a short time. Please try again later; "
                "your earlier reports have reached us."
            ),
            offer_id,
        )
        return current_app.response_class(
            body, status=status, headers={"Retry-After": str(throttled.retry_after)}
        )
    offer, support_id = load_offer(user_id, offer_id)
    clock = offer_clock(user_id, offer)
    if not clock.is_open:
        audit_claim(user_id=user_id, offer_id=offer_id, result=f"refused_{clock.phase.value}")
        return _form_page(
            user_id,
            offer,
            support_id,
            clock,
            status=409,
            error=formatting.gettext("A report about this offer cannot be sent now."),
        )
    try:
        answers = _read_answers(
            form,
            files,
            clock,
            offer,
            allow_files=_delivery_mode() == "handler" and max_files > 0,
        )
    except FormProblem as problem:
        audit_claim(user_id=user_id, offer_id=offer_id, result=f"invalid_{problem.status}")
        return _form_page(
            user_id,
            offer,
            support_id,
            clock,
            status=problem.status,
            error=problem.message,
            answers={k: str(form.get(k, "")) for k in _ANSWER_FIELDS},
        )
    # Only reports that go somewhere count: fixing a form answer costs nothing.
    limiter.hit(rule, LIMIT_SCOPE, user_id)
    claim = build_claim(
        user_id=user_id,
        offer=offer,
        support_id=support_id,
        clock=clock,
        problem=answers.problem,
        occurred_on=answers.occurred_on,
        message=answers.message,
        attachments=answers.attachments,
        step_name=answers.step_name,
    )
    return _deliver(claim)


def _deliver(claim: Claim) -> tuple[str, int]:
    mode = _delivery_mode()
    ticket = None
    status = 200
    failed = False
    if current_kit.widgets.has_claim_handler:
        try:
            answer = current_kit.widgets.send_claim(claim)
        except Exception:
            # The host's help desk is down or its code failed: the member still gets the text.
            log.exception("claim_handler failed for claim %s", claim.claim_id)
            failed = True
            status = 502
            mode = "url" if current_app.config.get("REVU_SUPPORT_URL") else "copy"
        else:
            ticket = wording.one_line(str(answer))[:_TICKET_LIMIT] if answer is not None else None
    url = current_app.config.get("REVU_SUPPORT_URL")
    link = support_link(str(url), claim) if mode == "url" and url else None
    audit_claim(
        user_id=claim.user_id,
        offer_id=claim.offer.offer_id,
        result="handler_failed" if failed else ("filed" if mode == "handler" else "shown"),
        claim=claim,
        route=mode,
        ticket=ticket,
    )
    body = render_template(
        "revu_widgets/report_sent.html",
        offer=claim.offer,
        claim=claim,
        mode=mode,
        failed=failed,
        ticket=ticket,
        link=link,
        link_is_mail=bool(link and link.lower().startswith("mailto:")),
        site_problem=claim.clock.reason is ClaimReason.SITE_MISSING_CREDIT,
        detail_url=url_for("revu_widgets.offer_detail", offer_id=claim.offer.offer_id),
    )
    return body, status


def _refused(status: int, message: str, offer_id: int) -> tuple[str, int]:
    return (
        render_template(
            "revu_widgets/report_refused.html",
            status_code=status,
            message=message,
            form_url=url_for("revu_widgets.report_offer", offer_id=offer_id),
            detail_url=url_for("revu_widgets.offer_detail", offer_id=offer_id),
        ),
        status,
    )


__all__ = [
    "LIMIT_SCOPE",
    "MESSAGE_LIMIT",
    "TOKEN_FIELD",
    "audit_claim",
    "build_claim",
    "clean_message",
    "form_token",
    "offer_clock",
    "report_offer",
    "support_link",
    "token_is_valid",
]
