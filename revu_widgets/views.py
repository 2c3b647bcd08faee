"""The kit's blueprint: the offer history and offer pages, their JSON twins, and error handling.

Data flows one way: request -> the host's ``user_id_loader`` -> :class:`RevUClient` (which
validates through the schemas) -> models -> template. The user id never comes from the request.
"""

from __future__ import annotations

import logging
import math
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from . import listing, presentation, report
from .errors import (
    BadPayloadError,
    ConfigurationError,
    NotSignedInError,
    OfferNotFoundError,
    RateLimitedError,
    RevUError,
)
from .extension import full_offers, kit_state, member_progress
from .models import Offer, ProgressPage, SkippedOffer, UserProgress
from .support import register_support_views

if TYPE_CHECKING:
    from werkzeug.wrappers import Response as BaseResponse

    from .extension import RevUWidgets

log = logging.getLogger("revu_widgets")


def create_blueprint(
    widgets: RevUWidgets, *, template_folder: str, static_folder: str
) -> Blueprint:
    """Build the ``revu_widgets`` blueprint bound to one :class:`RevUWidgets` instance."""
    bp = Blueprint(
        "revu_widgets",
        __name__,
        template_folder=template_folder,
        static_folder=static_folder,
        # Distinct from the host's /static, so registering without a prefix still works.
        static_url_path="/revu-static",
    )

    @bp.before_request
    def _start() -> None:
        g.revu_request_id = secrets.token_hex(6)
        g.revu_csp_nonce = secrets.token_urlsafe(16)

    @bp.after_request
    def _secure(response: Response) -> Response:
        return _add_security_headers(response)

    @bp.context_processor
    def _page_context() -> dict[str, Any]:
        return {
            "csp_nonce": getattr(g, "revu_csp_nonce", ""),
            "currency": current_app.config["REVU_CURRENCY_NAME"],
            "revu_base_template": current_app.config["REVU_BASE_TEMPLATE"],
            "revu_prefix_url": url_for("revu_widgets.history"),
        }

    @bp.errorhandler(RevUError)
    def _revu_error(exc: RevUError) -> BaseResponse:
        return _error_response(exc)

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> BaseResponse:
        # Werkzeug's own errors (a non-numeric offer id, a wrong method) in the kit's voice.
        return _error_response(exc)

    @bp.get("/")
    def history() -> BaseResponse | str:
        user_id = widgets.current_user_id()
        slug, status = listing.status_arg()
        page = listing.page_arg()
        # The snapshot reads every offer only as far as the counts, totals and order need;
        # the offers on this page are read in full.
        progress = member_progress(user_id)

        def history_url(word: str, number: int) -> str:
            return listing.list_url("revu_widgets.history", word, number)

        listed, pagination = listing.paginate(
            progress.filtered(status),
            page,
            int(current_app.config["REVU_PAGE_SIZE"]),
            lambda number: history_url(slug, number),
        )
        offers = full_offers(listed)
        _report_skipped(progress.skipped)
        return render_template(
            "revu_widgets/history.html",
            progress=progress,
            summary=progress.summary,
            offers=offers,
            tabs=listing.status_tabs(progress.summary, slug, lambda word: history_url(word, 1)),
            status_slug=slug,
            pagination=pagination,
            detail_url_pattern=_detail_url_pattern(),
            report_url_pattern=_report_url_pattern(),
            skipped=progress.skipped,
        )

    @bp.get("/offers/<int:offer_id>")
    def offer_detail(offer_id: int) -> str:
        user_id = widgets.current_user_id()
        # Read before the snapshot, so a postback landing meanwhile still shows as a change.
        version = kit_state().store.version(user_id)
        offer, support_id = _load_offer(user_id, offer_id)
        claim = (
            presentation.claim_details(offer, user_id=user_id, support_id=support_id)
            if offer.needs_claim_details
            else None
        )
        return render_template(
            "revu_widgets/detail.html",
            offer=offer,
            user_id=user_id,
            support_id=support_id,
            api_url=url_for("revu_widgets.api_offer", offer_id=offer_id),
            refresh_seconds=int(current_app.config["REVU_REFRESH_SECONDS"]),
            version_url=url_for("revu_widgets.api_version"),
            version=version,
            check_seconds=float(current_app.config["REVU_LIVE_CHECK_SECONDS"]),
            claim_text=claim,
            claim_clock=report.offer_clock(widgets, user_id, offer),
            report_url=url_for("revu_widgets.report_offer", offer_id=offer_id),
        )

    @bp.get("/api/progress")
    def api_progress() -> Response:
        user_id = widgets.current_user_id()
        slug, status = listing.status_arg()
        page = listing.page_arg()
        progress = member_progress(user_id)
        page_size = int(current_app.config["REVU_PAGE_SIZE"])
        # Pages as the history's, so a long history is never one multi-megabyte answer.
        listed, pagination = listing.paginate(
            progress.filtered(status),
            page,
            page_size,
            lambda number: listing.list_url("revu_widgets.api_progress", slug, number),
        )
        offers = full_offers(listed)
        _report_skipped(progress.skipped)
        return _conditional(
            {
                "status": slug,
                "total": pagination.total,
                "page": pagination.page,
                "pages": pagination.pages,
                "page_size": page_size,
                "next_url": pagination.next_url,
                "prev_url": pagination.prev_url,
                "summary": presentation.summary_as_json(progress.summary),
                "counts": {
                    word: progress.summary.count_for(st)
                    for word, st in listing.STATUS_FILTERS.items()
                },
                "offers": [_offer_json(widgets, user_id, o) for o in offers],
                "skipped": [presentation.skipped_as_json(s) for s in progress.skipped],
                "truncated": progress.truncated,
                "support_id": progress.support_id,
            }
        )

    @bp.get("/api/offers/<int:offer_id>")
    def api_offer(offer_id: int) -> Response:
        user_id = widgets.current_user_id()
        offer, support_id = _load_offer(user_id, offer_id)
        offer_json = _offer_json(widgets, user_id, offer)
        return _conditional({"offer": offer_json, "support_id": support_id})

    @bp.get("/api/version")
    def api_version() -> Response:
        # What open offer pages poll: a stamp from the store, never an upstream call.
        user_id = widgets.current_user_id()
        return jsonify({"version": kit_state().store.version(user_id)})

    register_support_views(bp, widgets)
    report.register_report_views(bp, widgets, _load_offer)
    return bp


def _conditional(body: dict[str, Any]) -> Response:
    """``body`` as JSON with an ETag; ``If-None-Match`` naming it gets an empty 304."""
    response = jsonify(body)
    response.add_etag()
    response.make_conditional(request)
    return response


def _load_offer(user_id: str, offer_id: int) -> tuple[Offer, str | None]:
    """One offer of the member, from their snapshot (the offer page and its live refresh)."""
    progress = member_progress(user_id)
    page: UserProgress | ProgressPage = progress
    if progress.truncated and not any(o.offer_id == offer_id for o in progress.offers):
        # Beyond the page cap of the walk: ask RevU for this one offer.
        page = kit_state().client.get_progress(user_id, offer_id=offer_id, limit=1)
    skipped = tuple(s for s in page.skipped if s.offer_id == str(offer_id))
    _report_skipped(skipped)
    offer = next((o for o in page.offers if o.offer_id == offer_id), None)
    if offer is None and skipped:
        # RevU sent the offer but it failed validation: an upstream fault, not a missing offer.
        raise BadPayloadError(
            f"RevU answered for offer {offer_id}, but the offer's id could not be read.",
            reference=page.support_id,
        )
    if offer is None:
        raise OfferNotFoundError(
            presentation.gettext(
                "We could not find this offer in your history. It may be from another account, "
                "or RevU has not recorded any progress on it yet."
            ),
            reference=page.support_id,
        )
    return full_offers((offer,))[0], page.support_id


def _offer_json(widgets: RevUWidgets, user_id: str, offer: Offer) -> dict[str, Any]:
    data = presentation.offer_as_json(offer)
    clock = report.offer_clock(widgets, user_id, offer)
    data["claim"] = report.clock_as_json(clock, offer)
    data["claim"]["report_url"] = (
        url_for("revu_widgets.report_offer", offer_id=offer.offer_id) if clock.is_open else None
    )
    return data


def _report_url_pattern() -> str:
    return url_for("revu_widgets.report_offer", offer_id=0).replace("/0/", "/{offer_id}/")


def _detail_url_pattern() -> str:
    # A real URL with a placeholder id, so macros can build links without request context.
    return url_for("revu_widgets.offer_detail", offer_id=0).removesuffix("0") + "{offer_id}"


def _report_skipped(skipped: tuple[SkippedOffer, ...]) -> None:
    for item in skipped:
        log.warning(
            "RevU offer skipped: failed validation (request %s, offer %s, fields %s)",
            g.get("revu_request_id"),
            item.offer_id,
            ", ".join(item.field_paths),
        )


#: Endpoints that answer in JSON, errors included.
JSON_ENDPOINTS = frozenset(
    {
        "revu_widgets.api_progress",
        "revu_widgets.api_offer",
        "revu_widgets.api_version",
        "revu_widgets.support_api_user",
    }
)


def _wants_json() -> bool:
    return request.endpoint in JSON_ENDPOINTS


def _error_response(exc: RevUError | HTTPException) -> BaseResponse:
    if isinstance(exc, ConfigurationError):
        # The host's mistake, not the visitor's: fail loudly in the host's logs and error page.
        raise exc
    if isinstance(exc, NotSignedInError) and not _wants_json():
        login_url = current_app.config["REVU_LOGIN_URL"]
        if login_url:
            return redirect(f"{login_url}?{urlencode({'next': request.full_path.rstrip('?')})}")
    request_id = g.get("revu_request_id") or secrets.token_hex(6)
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        title, message = presentation.http_error_text(status)
        code = "not_found" if status == 404 else "http_error"
        reference = request_id
        retry_after = None
    else:
        status = exc.http_status
        title, message = presentation.error_text(
            exc, for_staff=str(request.endpoint).startswith("revu_widgets.support")
        )
        code = exc.code
        reference = exc.reference or request_id
        retry_after = getattr(exc, "retry_after", None)
        level = logging.WARNING if status >= 500 else logging.INFO
        log.log(
            level,
            "revu-widgets answered %s (%s) for %s %s, request %s, reference %s",
            status,
            exc.code,
            request.method,
            request.path,
            request_id,
            reference,
        )
    if _wants_json():
        body: dict[str, Any] = {"error": {"code": code, "message": message, "reference": reference}}
        if retry_after is not None:
            body["error"]["retry_after"] = retry_after
        response = jsonify(body)
        response.status_code = status
    else:
        response = current_app.response_class(
            render_template(
                "revu_widgets/error.html",
                status_code=status,
                error_title=title,
                error_message=message,
                reference=reference,
                retry_after=math.ceil(retry_after) if retry_after else None,
            ),
            status=status,
        )
    if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
        response.headers["Retry-After"] = str(math.ceil(exc.retry_after))
    response.headers["X-Request-Id"] = request_id
    return response


def _add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Cache-Control"] = "private, no-store"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    policy = current_app.config["REVU_CONTENT_SECURITY_POLICY"]
    if policy and "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = policy.replace("{nonce}", g.get("revu_csp_nonce", ""))
    return response
