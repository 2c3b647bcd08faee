"""The member's pages: the offer history and offer pages, and their JSON twins.

Data flows one way: request -> the host's ``user_id_loader`` -> :class:`RevUClient` (which
validates through the schemas) -> models -> template. The user id never comes from the request.
The routes join the kit's :data:`~revu_widgets.blueprint.blueprint`, read the kit through
:data:`~revu_widgets.state.current_kit`, and leave errors to the blueprint's handlers.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, render_template, request, url_for

from . import claim_words, formatting, json_shapes, listing, report, wording
from .blueprint import blueprint
from .client import OFFER_ID_RULE
from .errors import InvalidRequestError
from .models import Offer
from .state import current_kit, full_offers, load_offer, member_progress, report_skipped


@blueprint.get("/")
def history() -> str:
    user_id = current_kit.widgets.current_user_id()
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
    report_skipped(progress.skipped)
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


@blueprint.get(f"/offers/{OFFER_ID_RULE}")
def offer_detail(offer_id: int) -> str:
    user_id = current_kit.widgets.current_user_id()
    # Read before the snapshot, so a postback landing meanwhile still shows as a change.
    version = current_kit.store.version(user_id)
    offer, support_id = load_offer(user_id, offer_id)
    # Written for every offer, shown only when it may be needed: the live refresh reveals
    # it when an offer turns pending or reversed.
    claim = wording.claim_details(offer, user_id=user_id, support_id=support_id)
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
        claim_clock=report.offer_clock(user_id, offer),
        report_url=url_for("revu_widgets.report_offer", offer_id=offer_id),
    )


@blueprint.get("/api/progress")
def api_progress() -> Response:
    user_id = current_kit.widgets.current_user_id()
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
    report_skipped(progress.skipped)
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
            "counts": json_shapes.summary_counts(progress.summary),
            "totals": json_shapes.totals_as_json(progress.summary),
            "currency": formatting.currency_name(),
            "offers": [_offer_json(user_id, o) for o in offers],
            "skipped": [json_shapes.skipped_as_json(s) for s in progress.skipped],
            "truncated": progress.truncated,
            "support_id": progress.support_id,
        }
    )


@blueprint.get(f"/api/offers/{OFFER_ID_RULE}")
def api_offer(offer_id: int) -> Response:
    user_id = current_kit.widgets.current_user_id()
    offer, support_id = load_offer(user_id, offer_id)
    offer_json = _offer_json(user_id, offer)
    # The offer page's claim details box follows the offer as it changes.
    offer_json["claim_details"] = wording.claim_details(
        offer, user_id=user_id, support_id=support_id
    )
    return _conditional({"offer": offer_json, "support_id": support_id})


@blueprint.get("/api/version")
def api_version() -> Response:
    # What open offer pages poll: a stamp from the store, never an upstream call.
    user_id = current_kit.widgets.current_user_id()
    return jsonify({"version": current_kit.store.version(user_id)})


def _conditional(body: dict[str, Any]) -> Response:
    """``body`` as JSON with an ETag; ``If-None-Match`` naming it gets an empty 304."""
    response = jsonify(body)
    response.add_etag()
    response.make_conditional(request)
    return response


def _offer_json(user_id: str, offer: Offer) -> dict[str, Any]:
    clock = report.offer_clock(user_id, offer)
    data = json_shapes.offer_as_json(offer, can_report=clock.is_open)
    data["claim"] = claim_words.clock_as_json(clock, offer)
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
