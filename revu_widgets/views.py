"""The kit's blueprint: the offer history and offer pages, their JSON twins, and error handling.

Data flows one way: request -> the host's ``user_id_loader`` -> :class:`RevUClient` (which
validates through the schemas) -> models -> template. The user id never comes from the request.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import secrets
from stat import S_ISREG
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

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
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.security import safe_join

from . import listing, presentation, report
from .client import OFFER_ID_RULE
from .csp import policy_with_report_uri, register_csp_report
from .errors import (
    BadPayloadError,
    ConfigurationError,
    InvalidRequestError,
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

R = TypeVar("R", bound="BaseResponse")


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
        if request.endpoint == "revu_widgets.static":
            return _static_cache_headers(response, bp.static_folder)
        return _add_security_headers(response)

    @bp.url_defaults
    def _versioned_static(endpoint: str, values: dict[str, Any]) -> None:
        # The kit's assets are linked with their content hash (``?v=``), so browsers may keep
        # them for a year and still fetch a changed file at once.
        if endpoint == "revu_widgets.static" and "v" not in values and bp.static_folder:
            version = static_version(bp.static_folder, values.get("filename"))
            if version is not None:
                values["v"] = version

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
        # Werkzeug's own errors raised inside the kit's views, in the kit's voice.
        return _error_response(exc)

    @bp.before_app_request
    def _api_routing_error() -> BaseResponse | None:
        # A URL under the kit's JSON APIs that matches no route (``/api/nope``,
        # ``/api/offers/abc``, ``POST /api/progress``) never reaches the blueprint, so its
        # error handlers and headers do not apply: answer here, in JSON, not the host's HTML.
        exc = request.routing_exception
        if not isinstance(exc, NotFound | MethodNotAllowed) or not _under_kit_api(request.path):
            return None
        return _add_security_headers(_error_response(exc, as_json=True))

    @bp.get("/")
    def history() -> BaseResponse | str:
        user_id = widgets.current_user_id()
        args, notice = listing.list_args()
        # The snapshot reads every offer only as far as the counts, totals and order need;
        # the offers on this page are read in full.
        progress = member_progress(user_id)
        page_size = int(current_app.config["REVU_PAGE_SIZE"])
        listed, pagination = listing.paginate(
            listing.select_offers(progress.offers, args),
            args.page,
            page_size,
            lambda number: args.with_(page=number).url("revu_widgets.history"),
        )
        offers = full_offers(listed)
        _report_skipped(progress.skipped)
        return render_template(
            "revu_widgets/history.html",
            # Named at the top with their dates, so read in full like the cards.
            overdue_offers=full_offers(o for o in progress.offers if o.is_overdue),
            progress=progress,
            summary=progress.summary,
            offers=offers,
            tabs=listing.status_tabs(
                progress.summary,
                args.status,
                lambda word: args.with_(status=word, page=1).url("revu_widgets.history"),
            ),
            list_args=args,
            overdue_url=args.with_(status=listing.OVERDUE, page=1, query="").url(
                "revu_widgets.history"
            ),
            clear_search_url=args.with_(query="", page=1).url("revu_widgets.history"),
            status_slug=args.status,
            notice=notice,
            pagination=pagination,
            page_size=page_size,
            sort_orders=[(word, listing.sort_label(word)) for word in listing.SORT_ORDERS],
            detail_url_pattern=_detail_url_pattern(args),
            report_url_pattern=_report_url_pattern(),
            skipped=progress.skipped,
            offerwall_url=current_app.config["REVU_OFFERWALL_URL"],
        )

    @bp.get(f"/offers/{OFFER_ID_RULE}")
    def offer_detail(offer_id: int) -> str:
        user_id = widgets.current_user_id()
        # Read before the snapshot, so a postback landing meanwhile still shows as a change.
        version = kit_state().store.version(user_id)
        offer, support_id = _load_offer(user_id, offer_id)
        # Written for every offer, shown only when it may be needed: the live refresh reveals
        # it when an offer turns pending or reversed.
        claim = presentation.claim_details(offer, user_id=user_id, support_id=support_id)
        return render_template(
            "revu_widgets/detail.html",
            offer=offer,
            back_url=_back_to_list_url(offer_id),
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
            lambda number: listing.ListArgs(status=slug, page=number).url(
                "revu_widgets.api_progress", anchor=None
            ),
        )
        offers = full_offers(listed)
        _report_skipped(progress.skipped)
        return _conditional(
            {
                "status_filter": slug,
                "total": pagination.total,
                "page": pagination.page,
                "pages": pagination.pages,
                "page_size": page_size,
                "next_url": pagination.next_url,
                "prev_url": pagination.prev_url,
                # The same names as the support API: counts per state over the whole history,
                # and reward totals (here with their words, for the member's own pages).
                "counts": presentation.summary_counts(progress.summary),
                "totals": presentation.totals_as_json(progress.summary),
                "currency": presentation.currency_name(),
                "offers": [_offer_json(widgets, user_id, o) for o in offers],
                "skipped": [presentation.skipped_as_json(s) for s in progress.skipped],
                "truncated": progress.truncated,
                "support_id": progress.support_id,
            }
        )

    @bp.get(f"/api/offers/{OFFER_ID_RULE}")
    def api_offer(offer_id: int) -> Response:
        user_id = widgets.current_user_id()
        offer, support_id = _load_offer(user_id, offer_id)
        offer_json = _offer_json(widgets, user_id, offer)
        # The offer page's claim details box follows the offer as it changes.
        offer_json["claim_details"] = presentation.claim_details(
            offer, user_id=user_id, support_id=support_id
        )
        return _conditional({"offer": offer_json, "support_id": support_id})

    @bp.get("/api/version")
    def api_version() -> Response:
        # What open offer pages poll: a stamp from the store, never an upstream call.
        user_id = widgets.current_user_id()
        return jsonify({"version": kit_state().store.version(user_id)})

    register_support_views(bp, widgets)
    report.register_report_views(bp, widgets, _load_offer)
    register_csp_report(bp)
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
    clock = report.offer_clock(widgets, user_id, offer)
    data = presentation.offer_as_json(offer, can_report=clock.is_open)
    data["claim"] = report.clock_as_json(clock, offer)
    data["claim"]["report_url"] = (
        url_for("revu_widgets.report_offer", offer_id=offer.offer_id) if clock.is_open else None
    )
    return data


def _report_url_pattern() -> str:
    return url_for("revu_widgets.report_offer", offer_id=0).replace("/0/", "/{offer_id}/")


def _back_to_list_url(offer_id: int) -> str:
    # The link back keeps the tab, page, order and search the member came from, and lands on
    # the card they opened; arguments it cannot read lead back to the plain list instead.
    try:
        args, _notice = listing.list_args()
    except InvalidRequestError:
        args = listing.ListArgs()
    return args.url("revu_widgets.history", anchor=f"revu-offer-{offer_id}")


def _detail_url_pattern(args: listing.ListArgs | None = None) -> str:
    # A real URL with a placeholder id, so macros can build links without request context.
    # The list's tab, page, order and search ride along, so the offer page's back link
    # returns to the same place in the list.
    url = url_for(
        "revu_widgets.offer_detail",
        offer_id=0,
        **(args.query_values() if args is not None else {}),
    )
    path, sep, query = url.partition("?")
    return path.removesuffix("0") + "{offer_id}" + sep + query


def _report_skipped(skipped: tuple[SkippedOffer, ...]) -> None:
    for item in skipped:
        # repr: the id and paths come from upstream, and a newline or an escape sequence in
        # them must not forge or rewrite log lines.
        log.warning(
            "RevU offer skipped: failed validation (request %s, offer %r, fields %r)",
            g.get("revu_request_id"),
            item.offer_id,
            ", ".join(item.field_paths),
        )


#: The ``code`` of JSON errors for plain HTTP errors (others are ``http_error``).
_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}

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


def _under_kit_api(path: str) -> bool:
    """Whether ``path`` is under the kit's member or support JSON API, wherever it is mounted."""
    member_api = url_for("revu_widgets.api_progress").removesuffix("progress")
    support_api = url_for("revu_widgets.support_search") + "api/"
    return path.startswith((member_api, support_api))


def _error_response(exc: RevUError | HTTPException, *, as_json: bool | None = None) -> BaseResponse:
    if isinstance(exc, ConfigurationError):
        # The host's mistake, not the visitor's: fail loudly in the host's logs and error page.
        raise exc
    if as_json is None:
        as_json = _wants_json()
    if isinstance(exc, NotSignedInError) and not as_json:
        login_url = current_app.config["REVU_LOGIN_URL"]
        if login_url:
            return redirect(_with_next(str(login_url), request.full_path.rstrip("?")))
    request_id = g.get("revu_request_id") or secrets.token_hex(6)
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        title, message = presentation.http_error_text(status)
        code = _HTTP_ERROR_CODES.get(status, "http_error")
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
            _loggable_path(),
            request_id,
            reference,
        )
    if as_json:
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
                # Where a refused visitor can still go: the site itself, not the kit's pages.
                site_url=request.script_root + "/",
            ),
            status=status,
        )
    if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
        response.headers["Retry-After"] = str(math.ceil(exc.retry_after))
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    response.headers["X-Request-Id"] = request_id
    return response


def _with_next(login_url: str, target: str) -> str:
    """``login_url`` with ``next=target`` in its query, beside any parameters it already has."""
    parts = urlsplit(login_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "next"]
    query.append(("next", target))
    return urlunsplit(parts._replace(query=urlencode(query)))


#: How long a browser may keep a versioned static file (a year: its URL changes with it).
STATIC_MAX_AGE = 365 * 24 * 3600


def static_version(folder: str, filename: object) -> str | None:
    """A short content hash of a file in ``folder``, or ``None`` when there is no such file."""
    if not isinstance(filename, str):
        return None
    path = safe_join(folder, filename)
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    if not S_ISREG(stat.st_mode):
        return None
    return _file_hash(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _file_hash(path: str, mtime_ns: int, size: int) -> str:
    # Keyed by modification time and size, so an edited file gets a new hash without a restart.
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:12]


def _static_cache_headers(response: R, folder: str | None) -> R:
    """Year-long caching for a static file asked for by its current version, else revalidation.

    Static files are the same for everyone, so they need neither ``no-store`` nor the pages'
    policy; an old or missing ``?v=`` must not pin a stale file for a year.
    """
    version = request.args.get("v")
    current = static_version(folder, (request.view_args or {}).get("filename")) if folder else None
    if version is not None and version == current:
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


#: Characters a path may carry as they are (RFC 3986 ``pchar`` and ``/``); others are encoded.
_PATH_SAFE = "/:@!$&'()*+,;=~"


def _loggable_path() -> str:
    """The request path percent-encoded again, so no newline or escape reaches the log."""
    return quote(request.path, safe=_PATH_SAFE)


def _add_security_headers(response: R) -> R:
    headers = response.headers
    headers["Cache-Control"] = "private, no-store"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    policy = current_app.config["REVU_CONTENT_SECURITY_POLICY"]
    if policy and "Content-Security-Policy" not in headers:
        if current_app.debug:
            policy = policy_with_report_uri(policy)
        headers["Content-Security-Policy"] = policy.replace("{nonce}", g.get("revu_csp_nonce", ""))
    return response
