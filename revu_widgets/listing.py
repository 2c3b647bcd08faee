"""Status tabs and pages of the kit's offer lists (the member's history and the support lookup).

One place for the status words a URL or the CLI accepts, how ``?status=``, ``?page=``,
``?sort=`` and ``?q=`` are read, which offers a list shows in which order, and how the tabs
and page links are built. Every control is a plain link or GET form: lists work without
JavaScript.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from flask import request, url_for

from . import formatting, wording
from .errors import InvalidRequestError
from .models import Offer, ProgressSummary, RewardStatus

T = TypeVar("T")

#: The status filters, in tab order: the word in URLs and the CLI -> the status (None = all).
STATUS_FILTERS: dict[str, RewardStatus | None] = {
    "all": None,
    "in_progress": RewardStatus.IN_PROGRESS,
    "pending": RewardStatus.PENDING,
    "credited": RewardStatus.CREDITED,
    "reversed": RewardStatus.REVERSED,
}
STATUS_WORDS: tuple[str, ...] = tuple(STATUS_FILTERS)

#: The lists' own filter beside RevU's states: pending offers past their expected credit date.
OVERDUE = "overdue"

#: How a list can be ordered: the word in URLs -> its label. The first is the default.
SORT_ORDERS: dict[str, str] = {
    "activity": formatting.N_("Last activity"),
    "expected": formatting.N_("Expected credit date"),
    "amount": formatting.N_("Amount"),
}

#: Longest search text kept: a name or an offer id, never a paragraph.
QUERY_LIMIT = 100

#: How many numbered page links the pager shows on each side of the current page.
_PAGER_SPAN = 2

#: Where tab, pager and search links land: the list's heading (focus goes there too).
LIST_ANCHOR = "revu-offers"

_PAGE_NUMBER = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True, slots=True)
class Tab:
    """One status tab as the templates read it."""

    slug: str
    label: str
    count: int
    url: str
    current: bool


@dataclass(frozen=True, slots=True)
class PageLink:
    """One entry of the page picker: a numbered page, or a gap (``number`` is ``None``)."""

    number: int | None
    url: str | None
    current: bool = False


@dataclass(frozen=True, slots=True)
class Pagination:
    """Where the current page of a list sits, with links to its neighbours and a page picker."""

    page: int
    pages: int
    total: int
    prev_url: str | None
    next_url: str | None
    #: First, last and nearby pages, with gaps: ``1 … 4 5 [6] 7 8 … 60``.
    links: tuple[PageLink, ...] = ()


@dataclass(frozen=True, slots=True)
class ListArgs:
    """What a list shows, as read from the request: tab, page, order and search text."""

    status: str = "all"
    page: int = 1
    sort: str = "activity"
    query: str = ""

    def query_values(self) -> dict[str, Any]:
        """The URL query for these arguments, leaving out the defaults."""
        values: dict[str, Any] = {"status": self.status, "page": self.page, "sort": self.sort}
        values["q"] = self.query
        return {k: v for k, v in values.items() if v != _DEFAULTS[k]}

    def url(self, endpoint: str, *, anchor: str | None = LIST_ANCHOR, **values: Any) -> str:
        """The list's URL for these arguments, landing on the list (or on ``anchor``)."""
        return url_for(endpoint, **values, **self.query_values(), _anchor=anchor)

    def with_(self, **changes: Any) -> ListArgs:
        """A copy with ``changes`` (for the links to other tabs, pages and orders)."""
        return replace(self, **changes)


_DEFAULTS: dict[str, Any] = {"status": "all", "page": 1, "sort": "activity", "q": ""}


def parse_status_word(word: str | None) -> RewardStatus | None:
    """The status for a filter word; ``None`` or ``"all"`` is every status (``None``).

    The one reader of status words: the URLs' ``?status=``, the CLI's ``--status`` and
    ``revu.progress(status=...)``. Raises :class:`ValueError` with the accepted words for others.
    """
    if word is None:
        return None
    try:
        return STATUS_FILTERS[word]
    except KeyError:
        raise ValueError(
            f"unknown status {word!r}: choose one of {', '.join(STATUS_WORDS)}"
        ) from None


def status_arg() -> tuple[str, RewardStatus | None]:
    """``?status=`` of the current request: the word and its status (400 for others)."""
    word = request.args.get("status", "all")
    try:
        return word, parse_status_word(word)
    except ValueError:
        raise InvalidRequestError(
            formatting.gettext(
                "Unknown status filter: choose one of %(choices)s.",
                choices=", ".join(STATUS_WORDS),
            )
        ) from None


def list_args(*, tabs: Sequence[str] | None = None) -> tuple[ListArgs, str | None]:
    """The list arguments of the current request, and a notice when one was not understood.

    An unknown tab or order falls back to the default with a notice in plain words (a page a
    member reached from an old link still shows their offers); a bad page number is a 400.
    """
    notices = []
    words = tuple(tabs) if tabs is not None else (*STATUS_WORDS, OVERDUE)
    status = request.args.get("status", "all")
    if status not in words:
        status = "all"
        notices.append(
            formatting.gettext("That filter does not exist, so all your offers are shown.")
        )
    sort = request.args.get("sort", "activity")
    if sort not in SORT_ORDERS:
        sort = "activity"
        notices.append(
            formatting.gettext("That order does not exist: offers are in the usual order.")
        )
    query = " ".join(request.args.get("q", "").split())[:QUERY_LIMIT]
    args = ListArgs(status=status, page=page_arg(), sort=sort, query=query)
    return args, " ".join(notices) or None


def select_offers(offers: Sequence[Offer], args: ListArgs) -> list[Offer]:
    """The offers a list shows for ``args``: its tab, its search, in its order.

    The usual order (RevU's activity order) puts overdue credits first, so the offer a member
    most needs to act on is at the top of "All".
    """
    status = None if args.status == OVERDUE else STATUS_FILTERS.get(args.status)
    needle = args.query.casefold().removeprefix("#").strip()
    chosen = [
        offer
        for offer in offers
        if (status is None or offer.status is status)
        and (args.status != OVERDUE or offer.is_overdue)
        and (not needle or _matches(offer, needle))
    ]
    return sorted(chosen, key=_SORT_KEYS[args.sort])


def _matches(offer: Offer, needle: str) -> bool:
    # An id is matched whole (offer 12 is not offer 123); a name anywhere, in any case.
    return needle == str(offer.offer_id) or needle in offer.name.casefold()


def _by_activity(offer: Offer) -> bool:
    return not offer.is_overdue


def _by_expected_date(offer: Offer) -> tuple[bool, float]:
    expected = offer.expected_credit_at
    return (expected is None, expected.timestamp() if expected is not None else 0.0)


def _by_amount(offer: Offer) -> Any:
    return -offer.possible


_SORT_KEYS: dict[str, Callable[[Offer], Any]] = {
    "activity": _by_activity,
    "expected": _by_expected_date,
    "amount": _by_amount,
}


def sort_label(word: str) -> str:
    """The words for an order (``?sort=``)."""
    return formatting.gettext(SORT_ORDERS.get(word, SORT_ORDERS["activity"]))


def page_arg() -> int:
    """``?page=`` of the current request, from 1 (400 for anything else)."""
    raw = request.args.get("page", "1")
    # ASCII digits only: str.isdigit() also takes "²" or "①", which int() refuses.
    if not _PAGE_NUMBER.fullmatch(raw) or int(raw) < 1:
        raise InvalidRequestError(
            formatting.gettext("The page number must be a whole number from 1.")
        )
    return int(raw)


def status_tabs(summary: ProgressSummary, current: str, url: Callable[[str], str]) -> list[Tab]:
    """Every status tab with its count; ``url(word)`` gives the tab's first page.

    The Overdue tab follows All while any credit is overdue (or it is the current tab).
    """
    tabs = [
        Tab(
            slug=word,
            label=wording.tab_label(word),
            count=summary.count_for(status),
            url=url(word),
            current=word == current,
        )
        for word, status in STATUS_FILTERS.items()
    ]
    if summary.overdue or current == OVERDUE:
        tabs.insert(
            1,
            Tab(
                slug=OVERDUE,
                label=wording.tab_label(OVERDUE),
                count=summary.overdue,
                url=url(OVERDUE),
                current=current == OVERDUE,
            ),
        )
    return tabs


def paginate(
    items: Sequence[T], page: int, page_size: int, url: Callable[[int], str]
) -> tuple[Sequence[T], Pagination]:
    """The items on ``page`` and where that page sits; 400 for a page past the end."""
    pages = max(1, math.ceil(len(items) / page_size))
    if page > pages:
        raise InvalidRequestError(
            formatting.gettext(
                "There is no page %(page)s: this list has %(pages)s.", page=page, pages=pages
            )
        )
    start = (page - 1) * page_size
    return items[start : start + page_size], Pagination(
        page=page,
        pages=pages,
        total=len(items),
        prev_url=url(page - 1) if page > 1 else None,
        next_url=url(page + 1) if page < pages else None,
        links=_page_links(page, pages, url),
    )


def _page_links(page: int, pages: int, url: Callable[[int], str]) -> tuple[PageLink, ...]:
    near = range(max(1, page - _PAGER_SPAN), min(pages, page + _PAGER_SPAN) + 1)
    numbers = sorted({1, pages, *near})
    links: list[PageLink] = []
    for number in numbers:
        if links and links[-1].number is not None and number - links[-1].number > 1:
            links.append(PageLink(None, None))
        links.append(PageLink(number, url(number), current=number == page))
    return tuple(links)


__all__ = [
    "LIST_ANCHOR",
    "OVERDUE",
    "SORT_ORDERS",
    "STATUS_FILTERS",
    "STATUS_WORDS",
    "ListArgs",
    "PageLink",
    "Pagination",
    "Tab",
    "list_args",
    "page_arg",
    "paginate",
    "parse_status_word",
    "select_offers",
    "sort_label",
    "status_arg",
    "status_tabs",
]
