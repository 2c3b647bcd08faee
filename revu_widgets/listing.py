"""Status tabs and pages of the kit's offer lists (the member's history and the support lookup).

One place for the status words a URL or the CLI accepts, how ``?status=`` and ``?page=`` are
read, and how the tabs and page links are built.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import request, url_for

from . import presentation
from .errors import InvalidRequestError
from .models import ProgressSummary, RewardStatus

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

_DEFAULT_ARGS = {("status", "all"), ("page", 1)}
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
class Pagination:
    """Where the current page of a list sits, with links to its neighbours."""

    page: int
    pages: int
    total: int
    prev_url: str | None
    next_url: str | None


def parse_status_word(word: str | None) -> RewardStatus | None:
    """The status for a filter word (``None`` / ``"all"`` = every status).

    Raises :class:`ValueError` with the accepted words for anything else.
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
    if word not in STATUS_FILTERS:
        raise InvalidRequestError(
            presentation.gettext(
                "Unknown status filter: choose one of %(choices)s.",
                choices=", ".join(STATUS_WORDS),
            )
        )
    return word, STATUS_FILTERS[word]


def page_arg() -> int:
    """``?page=`` of the current request, from 1 (400 for anything else)."""
    raw = request.args.get("page", "1")
    # ASCII digits only: str.isdigit() also takes "²" or "①", which int() refuses.
    if not _PAGE_NUMBER.fullmatch(raw) or int(raw) < 1:
        raise InvalidRequestError(
            presentation.gettext("The page number must be a whole number from 1.")
        )
    return int(raw)


def list_url(endpoint: str, status: str, page: int, **values: Any) -> str:
    """The URL of one page of one tab, without the default ``status=all`` / ``page=1``."""
    query: dict[str, Any] = {
        k: v for k, v in (("status", status), ("page", page)) if (k, v) not in _DEFAULT_ARGS
    }
    return url_for(endpoint, **values, **query)


def status_tabs(summary: ProgressSummary, current: str, url: Callable[[str], str]) -> list[Tab]:
    """Every status tab with its count; ``url(word)`` gives the tab's first page."""
    return [
        Tab(
            slug=word,
            label=presentation.tab_label(word),
            count=summary.count_for(status),
            url=url(word),
            current=word == current,
        )
        for word, status in STATUS_FILTERS.items()
    ]


def paginate(
    items: Sequence[T], page: int, page_size: int, url: Callable[[int], str]
) -> tuple[Sequence[T], Pagination]:
    """The items on ``page`` and where that page sits; 400 for a page past the end."""
    pages = max(1, math.ceil(len(items) / page_size))
    if page > pages:
        raise InvalidRequestError(
            presentation.gettext(
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
    )


__all__ = [
    "STATUS_FILTERS",
    "STATUS_WORDS",
    "Pagination",
    "Tab",
    "list_url",
    "page_arg",
    "paginate",
    "parse_status_word",
    "status_arg",
    "status_tabs",
]
