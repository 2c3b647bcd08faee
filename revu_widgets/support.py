"""Support tools: the staff lookup pages and the JSON summary for support chatbots.

Staff pages (``/support/`` and ``/support/users/<user_id>``) are open only when the host's
``support_access_loader`` says yes; the chatbot API (``/support/api/users/<user_id>``) is a
machine route guarded by ``REVU_SUPPORT_TOKEN`` alone. Every lookup, from any of these and from
``flask revu progress``, is written to the ``revu_widgets.audit`` logger by
:func:`lookup_progress`, so one place answers "who looked at whose offers, and when".

Unlike the kit's other pages, here the user id comes from the request: it is the member a staff
person or a chatbot asks about, never the signed-in user.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from babel import numbers as babel_numbers
from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.routing import PathConverter

from . import claim_words, formatting, json_shapes, listing, report, wording
from .blueprint import blueprint, json_error
from .claims import ClaimClock
from .errors import ConfigurationError, InvalidRequestError, NotSignedInError, RevUError
from .models import Offer, OfferState, ProgressSummary, RewardStatus, UserProgress
from .state import current_kit, full_progress, member_progress, support_offers

if TYPE_CHECKING:
    from flask.sansio.blueprints import BlueprintSetupState
    from werkzeug.wrappers import Response as BaseResponse

#: The audit trail of support lookups. Route it to its own handler to keep it apart.
audit_log = logging.getLogger("revu_widgets.audit")

#: The realm named in the chatbot API's ``WWW-Authenticate`` challenge.
API_REALM = "revu-widgets support"

#: Offers per lookup page: a heavy member's 1,200 offers would make one page of megabytes.
SUPPORT_PAGE_SIZE = 100


# Ids are bounded upstream too; this only keeps one audit line from growing without limit.
_AUDIT_ID_LIMIT = 200


class SupportUserIdConverter(PathConverter):
    """A member id in the URL: any text, ``/`` included, even at the start.

    Werkzeug's ``path`` converter refuses a leading ``/``; with slash merging on, an id such as
    ``/abc`` would even redirect to the lookup of another member, ``abc``.
    """

    # Any character, newlines too: the client, not the router, decides which ids RevU can take.
    regex = r"[\s\S]+"
    # Werkzeug guesses from the regex whether a value spans segments; say so outright.
    part_isolating = False

    def to_url(self, value: Any) -> str:
        """Encode the whole id as one path segment, ``/`` included."""
        return quote(str(value), safe="")


#: Name the converter is registered under on the host's URL map.
CONVERTER_NAME = "revu_user_id"
#: The rate limiter's scope for failed support-token attempts.
THROTTLE_SCOPE = "support-token"


def lookup_progress(
    user_id: str,
    *,
    channel: str,
    actor: str | None,
    status: RewardStatus | None = None,
    full: bool = True,
) -> UserProgress:
    """A member's whole history for support (through the snapshot store), audited.

    ``channel`` says where the lookup came from (``"page"``, ``"api"``, ``"cli"``) and ``actor``
    who asked (the staff member's id, when known). Upstream errors are audited with their code
    and raised again, unchanged. With ``full=False`` the offers are read only as far as the
    counts, totals and order need (see :func:`~revu_widgets.state.member_progress`).
    """
    try:
        progress = member_progress(user_id)
    except RevUError as exc:
        audit(channel=channel, actor=actor, user_id=user_id, result=exc.code, status=status)
        raise
    audit(
        channel=channel,
        actor=actor,
        user_id=user_id,
        result="ok",
        status=status,
        offers=len(progress.filtered(status)),
    )
    if full:
        progress = full_progress(progress)
    if status is None:
        return progress
    offers = progress.filtered(status)
    return replace(progress, offers=offers, summary=ProgressSummary.from_offers(offers))


def audit(
    *,
    channel: str,
    actor: str | None,
    user_id: str,
    result: str,
    status: RewardStatus | None = None,
    offers: int | None = None,
) -> None:
    """Write one support lookup (or refused attempt) to the ``revu_widgets.audit`` logger.

    Ids are written with ``repr`` so a hostile id cannot forge a second log line. The record
    also carries the fields as ``record.revu_audit`` (a dict) for structured handlers.
    """
    at = formatting.isoformat(datetime.now(UTC))
    fields: dict[str, Any] = {
        "at": at,
        "channel": channel,
        "actor": actor,
        "user_id": user_id[:_AUDIT_ID_LIMIT],
        "status": status.value if status is not None else "all",
        "result": result,
        "offers": offers,
    }
    audit_log.info(
        "support lookup at=%s channel=%s actor=%r user_id=%r status=%s result=%s offers=%s",
        at,
        channel,
        fields["actor"],
        fields["user_id"],
        fields["status"],
        result,
        "-" if offers is None else offers,
        extra={"revu_audit": fields},
    )


def token_matches(presented: str | None, expected: str) -> bool:
    """Whether the presented bearer token is the configured one, in constant time.

    Both sides are hashed first, so the comparison does not even leak the token's length.
    """
    if not presented:
        return False
    return hmac.compare_digest(
        hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest(),
        hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest(),
    )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else ``None``."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


#: The ``include=`` word that adds the publisher's revenue to the support API's offers.
INCLUDE_REVENUE = "publisher_revenue"


def publisher_revenue_as_json(offer: Offer) -> dict[str, Any]:
    """RevU's ``payout`` for one offer and each of its steps: the publisher's revenue in US
    dollars, for staff only (never a member's amount); ``null`` where RevU sent none."""
    return {
        "currency": "USD",
        "offer": formatting.amount_number(offer.payout),
        "steps": [
            {
                "step_id": step.step_id,
                "name": step.name,
                "amount": formatting.amount_number(step.payout),
            }
            for step in offer.steps
        ],
    }


def publisher_revenue_text(offer: Offer) -> str:
    """The publisher's revenue for ``offer`` in words for the staff page: RevU's ``payout`` for
    the offer, then each step's that has one, in US dollars; empty when RevU sent none."""
    locale = str(formatting.current_locale())
    parts = [_usd_text(str(offer.payout), locale)] if offer.payout is not None else []
    parts += [
        f"{step.name} {_usd_text(str(step.payout), locale)}"
        if step.name
        else _usd_text(str(step.payout), locale)
        for step in offer.steps
        if step.payout is not None
    ]
    return " · ".join(parts)


# A page lists hundreds of step payouts sharing a few values: each is formatted once (per
# locale identifier, as in revu_widgets.formatting).
@functools.lru_cache(maxsize=256)
def _usd_text(amount: str, locale: str) -> str:
    return str(babel_numbers.format_currency(Decimal(amount), "USD", locale=locale))


def support_offer_as_json(
    offer: Offer, *, claim: ClaimClock | None = None, revenue: bool = False
) -> dict[str, Any]:
    """One offer, compact, in the words a support chatbot can repeat to the member.

    ``claim`` is the offer's claim clock (with the site's ledger when the host has one); by
    default it is worked out from RevU's data alone. ``revenue`` adds
    ``publisher_revenue`` (:func:`publisher_revenue_as_json`), which is never the member's.
    """
    clock = claim or claim_words.card_clock(offer)
    extra = {"publisher_revenue": publisher_revenue_as_json(offer)} if revenue else {}
    return {
        "offer_id": offer.offer_id,
        "name": offer.name,
        "status": offer.status.value,
        "state": offer.state.value,
        "state_label": wording.status_label(offer),
        "explanation": wording.explain(offer),
        "steps_done": offer.steps_done,
        "steps_total": offer.steps_total,
        "last_activity_at": formatting.isoformat(offer.last_activity_at),
        "expected_credit_at": formatting.isoformat(offer.expected_credit_at),
        "overdue": offer.is_overdue,
        "next_action": {
            "code": wording.next_action_code(offer),
            "text": wording.next_action(offer, can_report=clock.is_open),
        },
        "reversal_reason": (offer.reversal_reason if offer.state is OfferState.REVERSED else None),
        # The member's amounts only (never RevU's USD payout); null when RevU gave none.
        "rewards": {
            kind: formatting.amount_number(amount if offer.reward_known else None)
            for kind, amount in (
                ("possible", offer.possible),
                ("earned", offer.earned),
                ("pending", offer.pending),
                ("lost", offer.lost),
            )
        },
        "claim": claim_words.clock_as_json(clock, offer),
        "triage": clock.reason.value,
        "suggested_next_action": claim_words.suggested_action(clock),
        **extra,
    }


def support_summary_as_json(
    progress: UserProgress,
    *,
    status: RewardStatus | None = None,
    clock_for: Callable[[Offer], ClaimClock] | None = None,
    revenue: bool = False,
) -> dict[str, Any]:
    """A member's history as the chatbot API (and ``flask revu progress --json``) answers it.

    Counts and totals always cover the whole history in ``progress``; ``status`` narrows only
    the list of offers. ``clock_for`` gives each offer's claim clock (the API passes one that
    asks the site's ledger); by default it comes from RevU's data alone. ``revenue`` adds each
    offer's ``publisher_revenue`` (staff tools only: a chatbot talking to members leaves it
    out).
    """
    summary = progress.summary
    offers = progress.filtered(status)
    return {
        "user_id": progress.user_id,
        "support_id": progress.support_id,
        "generated_at": formatting.isoformat(datetime.now(UTC)),
        "currency": formatting.currency_name(),
        "status_filter": status.value if status is not None else "all",
        "counts": json_shapes.summary_counts(summary),
        "totals": {
            name: formatting.amount_number(amount)
            for name, amount in json_shapes.summary_totals(summary).items()
        },
        "offers": [
            support_offer_as_json(
                offer, claim=clock_for(offer) if clock_for else None, revenue=revenue
            )
            for offer in offers
        ],
        "skipped": [json_shapes.skipped_as_json(item) for item in progress.skipped],
        "truncated": progress.truncated,
    }


def _install_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault(CONVERTER_NAME, SupportUserIdConverter)


blueprint.record_once(_install_converter)
_USER_RULE = f"<{CONVERTER_NAME}:user_id>"


@blueprint.get("/support/")
def support_search() -> BaseResponse | str:
    _require_support_access(user_id=None)
    user_id = request.args.get("user_id", "").strip()
    offer_id = request.args.get("offer_id", "").strip().removeprefix("#")
    if user_id:
        # The staff member's own input, sent back as one path segment. With an offer id the
        # lookup opens on that offer alone, its steps and claim summary expanded.
        if offer_id:
            return redirect(
                listing.ListArgs(query=offer_id[: listing.QUERY_LIMIT]).url(
                    "revu_widgets.support_user",
                    anchor=f"revu-offer-{offer_id}" if offer_id.isdigit() else None,
                    user_id=user_id,
                ),
                code=303,
            )
        return redirect(url_for("revu_widgets.support_user", user_id=user_id), code=303)
    return render_template("revu_widgets/support/search.html")


@blueprint.get(f"/support/users/{_USER_RULE}", merge_slashes=False)
def support_user(user_id: str) -> str:
    widgets = current_kit.widgets
    actor = _current_actor()
    _require_support_access(user_id=user_id, actor=actor)
    args, notice = listing.list_args()
    progress = lookup_progress(user_id, channel="page", actor=actor, full=False)

    def list_url(list_args: listing.ListArgs, anchor: str = listing.LIST_ANCHOR) -> str:
        return list_args.url("revu_widgets.support_user", anchor=anchor, user_id=user_id)

    listed, pagination = listing.paginate(
        listing.select_offers(progress.offers, args),
        args.page,
        SUPPORT_PAGE_SIZE,
        lambda number: list_url(args.with_(page=number)),
    )
    # Only the offers on this page are read further, with what their cards show.
    offers = support_offers(listed)
    # Overdue credits are listed on every page, each linked to the page that shows it.
    in_usual_order = listing.select_offers(progress.offers, listing.ListArgs())
    overdue = [
        (
            offer,
            list_url(
                listing.ListArgs(page=index // SUPPORT_PAGE_SIZE + 1),
                anchor=f"revu-offer-{offer.offer_id}",
            ),
        )
        for index, offer in enumerate(in_usual_order)
        if offer.is_overdue
    ]
    return render_template(
        "revu_widgets/support/user.html",
        user_id=user_id,
        # Who the id is on this site, when the host can say: catches a mistyped id.
        member=widgets.resolve_member(user_id) if widgets.has_member_resolver else None,
        has_member_resolver=widgets.has_member_resolver,
        progress=progress,
        summary=progress.summary,
        offers=offers,
        first_number=(args.page - 1) * SUPPORT_PAGE_SIZE + 1,
        overdue=overdue,
        tabs=listing.status_tabs(
            progress.summary,
            args.status,
            lambda word: list_url(args.with_(status=word, page=1)),
        ),
        list_args=args,
        clear_search_url=list_url(args.with_(query="", page=1)),
        notice=notice,
        pagination=pagination,
        sort_orders=[(word, listing.sort_label(word)) for word in listing.SORT_ORDERS],
        support_id=progress.support_id,
        looked_up_at=datetime.now(UTC),
        search_url=url_for("revu_widgets.support_search"),
        claim_details=_claim_details_for(user_id, progress.support_id),
        claim_clock=lambda offer: report.offer_clock(user_id, offer),
        publisher_revenue=publisher_revenue_text,
    )


@blueprint.get(f"/support/api/users/{_USER_RULE}", merge_slashes=False)
def support_api_user(user_id: str) -> BaseResponse:
    expected = current_app.config.get("REVU_SUPPORT_TOKEN")
    if not expected:
        abort(404)
    # Failed attempts are counted per client address on every worker and host; once over
    # the limit, even the right token waits, so guessing learns nothing.
    limiter, rule = current_kit.limiter, current_app.config["REVU_SUPPORT_TOKEN_LIMIT"]
    address = request.remote_addr or "unknown"
    throttled = limiter.peek(rule, THROTTLE_SCOPE, address)
    if not throttled.allowed:
        audit(channel="api", actor=None, user_id=user_id, result="throttled")
        return _too_many_attempts(throttled.retry_after)
    presented = bearer_token(request.headers.get("Authorization"))
    if not token_matches(presented, str(expected)):
        audit(channel="api", actor=None, user_id=user_id, result="unauthorized")
        limiter.hit(rule, THROTTLE_SCOPE, address)
        return _unauthorized(invalid=presented is not None)
    _slug, status = listing.status_arg()
    revenue = _include_arg()
    progress = lookup_progress(user_id, channel="api", actor="support-token")
    return jsonify(
        support_summary_as_json(
            progress,
            status=status,
            clock_for=lambda offer: report.offer_clock(user_id, offer),
            revenue=revenue,
        )
    )


def _include_arg() -> bool:
    """Whether ``?include=publisher_revenue`` asks for the publisher's revenue (400 for any
    other word: a typo must not silently leave it out)."""
    words = [w for w in request.args.get("include", "").split(",") if w.strip()]
    unknown = [w for w in words if w.strip() != INCLUDE_REVENUE]
    if unknown:
        raise InvalidRequestError(
            formatting.gettext(
                "Unknown include: the only one is %(choices)s.", choices=INCLUDE_REVENUE
            )
        )
    return bool(words)


def _current_actor() -> str | None:
    try:
        return current_kit.widgets.current_user_id()
    except (NotSignedInError, ConfigurationError):
        return None


def _require_support_access(*, user_id: str | None, actor: str | None = None) -> None:
    allowed = current_kit.widgets.has_support_access()
    if allowed is None:
        # No loader: the host never turned the support views on, so they do not exist.
        abort(404)
    if not allowed:
        if user_id is not None:
            audit(channel="page", actor=actor, user_id=user_id, result="forbidden")
        abort(403)


def _claim_details_for(user_id: str, support_id: str | None) -> Callable[[Offer], str]:
    def claim(offer: Offer) -> str:
        return wording.claim_details(offer, user_id=user_id, support_id=support_id)

    return claim


def _too_many_attempts(retry_after: int) -> Response:
    return json_error(
        429,
        "too_many_attempts",
        "Too many wrong support tokens from this address: try again later.",
        retry_after=retry_after,
    )


def _unauthorized(*, invalid: bool) -> Response:
    response = json_error(
        401,
        "unauthorized",
        "Send the support token as 'Authorization: Bearer <REVU_SUPPORT_TOKEN>'.",
    )
    challenge = f'Bearer realm="{API_REALM}"'
    if invalid:
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    return response


__all__ = [
    "API_REALM",
    "CONVERTER_NAME",
    "INCLUDE_REVENUE",
    "SUPPORT_PAGE_SIZE",
    "SupportUserIdConverter",
    "audit",
    "audit_log",
    "bearer_token",
    "lookup_progress",
    "publisher_revenue_as_json",
    "publisher_revenue_text",
    "support_offer_as_json",
    "support_summary_as_json",
    "token_matches",
]
