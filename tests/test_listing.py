"""The status words and page numbers of the kit's lists, at their edges (``revu_widgets.listing``).

Each test pins one limit exactly where it is: the last page number accepted and the first one
refused, the page that has a "Previous" link and the one that has no "Next", the URL that drops
its default arguments and the one that keeps them.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask

from revu_widgets import listing
from revu_widgets.errors import InvalidRequestError
from revu_widgets.models import ProgressSummary, RewardStatus


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/list", "items", lambda: "")
    app.add_url_rule("/users/<user_id>", "user", lambda user_id: "")
    return app


def page_of(app: Flask, query: str) -> int:
    with app.test_request_context(f"/list?{query}"):
        return listing.page_arg()


@pytest.mark.parametrize(
    ("query", "page"), [("", 1), ("page=1", 1), ("page=2", 2), ("page=999999", 999999)]
)
def test_page_numbers_up_to_six_digits_are_read(app: Flask, query: str, page: int) -> None:
    assert page_of(app, query) == page


@pytest.mark.parametrize(
    "raw", ["0", "000000", "1000000", "0000001", "", "-1", "+1", " 1", "1 ", "\u00b2", "1.0"]
)
def test_other_page_numbers_are_refused(app: Flask, raw: str) -> None:
    with pytest.raises(InvalidRequestError, match="whole number from 1"):
        page_of(app, f"page={raw}")


def test_a_leading_zero_within_six_digits_is_still_a_page(app: Flask) -> None:
    assert page_of(app, "page=000002") == 2


@pytest.mark.parametrize("word", listing.STATUS_WORDS)
def test_every_status_word_is_read_as_its_filter(app: Flask, word: str) -> None:
    with app.test_request_context(f"/list?status={word}"):
        assert listing.status_arg() == (word, listing.STATUS_FILTERS[word])


def test_no_status_word_means_all(app: Flask) -> None:
    with app.test_request_context("/list"):
        assert listing.status_arg() == ("all", None)


@pytest.mark.parametrize("word", ["ALL", "expired", "overdue ", "", "reversed_or_expired"])
def test_other_status_words_are_refused_with_the_choices(app: Flask, word: str) -> None:
    with (
        app.test_request_context("/list", query_string={"status": word}),
        pytest.raises(InvalidRequestError, match="all, in_progress, pending, credited, reversed"),
    ):
        listing.status_arg()


def test_parse_status_word_for_the_cli() -> None:
    assert listing.parse_status_word(None) is None
    assert listing.parse_status_word("all") is None
    assert listing.parse_status_word("pending") is RewardStatus.PENDING
    with pytest.raises(ValueError, match="unknown status 'lost': choose one of all, in_progress"):
        listing.parse_status_word("lost")


def test_the_status_words_are_in_tab_order() -> None:
    assert listing.STATUS_WORDS == ("all", "in_progress", "pending", "credited", "reversed")


@pytest.mark.parametrize(
    ("args", "url"),
    [
        (listing.ListArgs(), "/list#revu-offers"),
        (listing.ListArgs(page=2), "/list?page=2#revu-offers"),
        (listing.ListArgs(status="pending"), "/list?status=pending#revu-offers"),
        (listing.ListArgs(status="pending", page=3), "/list?status=pending&page=3#revu-offers"),
        (listing.ListArgs(sort="amount", query="x"), "/list?sort=amount&q=x#revu-offers"),
    ],
)
def test_list_urls_leave_out_only_the_default_arguments(
    app: Flask, args: listing.ListArgs, url: str
) -> None:
    with app.test_request_context("/"):
        assert args.url("items") == url


def page_url(number: int) -> str:
    return f"/p{number}"


@pytest.mark.parametrize(
    ("count", "page", "shown", "pages", "prev_url", "next_url"),
    [
        (0, 1, [], 1, None, None),
        (1, 1, [0], 1, None, None),
        (3, 1, [0, 1, 2], 1, None, None),
        (4, 1, [0, 1, 2], 2, None, "/p2"),
        (4, 2, [3], 2, "/p1", None),
        (6, 2, [3, 4, 5], 2, "/p1", None),
        (9, 2, [3, 4, 5], 3, "/p1", "/p3"),
        (9, 3, [6, 7, 8], 3, "/p2", None),
    ],
)
def test_pages_have_previous_after_the_first_and_next_before_the_last(
    count: int,
    page: int,
    shown: list[int],
    pages: int,
    prev_url: str | None,
    next_url: str | None,
) -> None:
    items = list(range(count))
    on_page, where = listing.paginate(items, page, 3, page_url)
    assert list(on_page) == shown
    assert (where.page, where.pages, where.total) == (page, pages, count)
    assert (where.prev_url, where.next_url) == (prev_url, next_url)
    assert [link.number for link in where.links if link.current] == [page]


@pytest.mark.parametrize(("count", "page"), [(0, 2), (3, 2), (4, 3), (9, 4)])
def test_a_page_past_the_last_is_refused(count: int, page: int) -> None:
    pages = max(1, -(-count // 3))
    words = f"There is no page {page}: this list has {pages}"
    with pytest.raises(InvalidRequestError, match=words):
        listing.paginate(list(range(count)), page, 3, page_url)


def test_tabs_carry_each_count_label_url_and_the_current_one(app: Flask) -> None:
    summary = ProgressSummary(
        total=9,
        in_progress=1,
        pending=2,
        credited=3,
        reversed=1,
        expired=1,
        unknown=0,
        earned=Decimal(0),
        pending_amount=Decimal(0),
        lost=Decimal(0),
        remaining=Decimal(0),
        overdue=0,
        reversed_or_expired=1,
    )
    with app.test_request_context("/"):
        tabs = listing.status_tabs(summary, "pending", lambda word: f"/t/{word}")
    assert [(t.slug, t.count, t.url, t.current) for t in tabs] == [
        ("all", 9, "/t/all", False),
        ("in_progress", 1, "/t/in_progress", False),
        ("pending", 2, "/t/pending", True),
        ("credited", 3, "/t/credited", False),
        ("reversed", 3, "/t/reversed", False),
    ]
    assert [t.label for t in tabs] == [
        "All",
        "In progress",
        "Pending",
        "Credited",
        "Reversed & expired",
    ]
