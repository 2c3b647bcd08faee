"""The status words and page numbers of the kit's lists, at their edges (``revu_widgets.listing``).

Each test pins one limit exactly where it is: the last page number accepted and the first one
refused, the page that has a "Previous" link and the one that has no "Next", the URL that drops
its default arguments and the one that keeps them.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask

from revu_widgets import listing
from revu_widgets.errors import InvalidRequestError
from revu_widgets.models import Offer, OfferState, ProgressSummary, RewardStatus

from .test_presentation import T0, make_offer


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
    with pytest.raises(
        InvalidRequestError, match=r"^The page number must be a whole number from 1\.$"
    ):
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
        pytest.raises(
            InvalidRequestError,
            match=r"^Unknown status filter: choose one of all, in_progress, pending, credited, "
            r"reversed\.$",
        ),
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
    words = f"^There is no page {page}: this list has {pages}\\.$"
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


# -- what a list shows: tab, search and order ---------------------------------------------------


def offers_for_selection() -> list[Offer]:
    """Five offers: in progress, pending on time, pending overdue, credited, pending undated."""
    on_time = make_offer(
        OfferState.PENDING, offer_id=2, name="Stream Box", total_reward=Decimal(900)
    )
    late = make_offer(
        OfferState.PENDING,
        offer_id=3,
        name="Card Saga",
        as_of=T0 + timedelta(days=60),
        total_reward=Decimal(100),
    )
    undated = make_offer(
        OfferState.PENDING, offer_id=5, name="Quiz", credit_window=None, reporting=None
    )
    return [
        make_offer(OfferState.IN_PROGRESS, offer_id=1, name="Dragon Realms"),
        on_time,
        late,
        make_offer(OfferState.CREDITED, offer_id=123, name="Survey", total_reward=Decimal(300)),
        undated,
    ]


def ids(offers: list[Offer]) -> list[int]:
    return [offer.offer_id for offer in offers]


def test_the_usual_order_keeps_revus_order_with_overdue_credits_first() -> None:
    offers = offers_for_selection()
    assert [o.is_overdue for o in offers] == [False, False, True, False, False]
    assert ids(listing.select_offers(offers, listing.ListArgs())) == [3, 1, 2, 123, 5]


def test_a_tab_lists_only_its_status_and_overdue_only_late_credits() -> None:
    offers = offers_for_selection()
    assert ids(listing.select_offers(offers, listing.ListArgs(status="pending"))) == [3, 2, 5]
    assert ids(listing.select_offers(offers, listing.ListArgs(status="credited"))) == [123]
    assert ids(listing.select_offers(offers, listing.ListArgs(status="overdue"))) == [3]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("saga", [3]),
        ("CARD", [3]),
        ("#123", [123]),
        ("12", []),
        ("1", [1]),
        ("", [3, 1, 2, 123, 5]),
        ("r", [1, 2, 3, 123]),
    ],
)
def test_search_matches_a_whole_id_or_any_part_of_a_name(query: str, expected: list[int]) -> None:
    args = listing.ListArgs(query=query)
    chosen = listing.select_offers(offers_for_selection(), args)
    assert sorted(ids(chosen)) == sorted(expected)


def test_orders_by_expected_date_undated_last_and_by_amount_largest_first() -> None:
    offers = offers_for_selection()
    by_date = ids(listing.select_offers(offers, listing.ListArgs(sort="expected")))
    dated = [o.offer_id for o in offers if o.expected_credit_at is not None]
    assert by_date[: len(dated)] == sorted(
        dated, key=lambda i: next(o for o in offers if o.offer_id == i).expected_credit_at
    )
    assert set(by_date[len(dated) :]) == {o.offer_id for o in offers} - set(dated)
    by_amount = listing.select_offers(offers, listing.ListArgs(sort="amount"))
    amounts = [o.possible for o in by_amount]
    assert amounts == sorted(amounts, reverse=True)
    assert amounts[0] > amounts[-1]


@pytest.mark.parametrize(
    ("word", "label"),
    [
        ("activity", "Last activity"),
        ("expected", "Expected credit date"),
        ("amount", "Amount"),
        ("nonsense", "Last activity"),
    ],
)
def test_each_order_has_its_words(app: Flask, word: str, label: str) -> None:
    with app.test_request_context("/"):
        assert listing.sort_label(word) == label


def test_list_args_read_tab_order_search_and_page(app: Flask) -> None:
    query = "status=overdue&sort=amount&q=%20%20Card%20%20Saga%20&page=2"
    with app.test_request_context(f"/list?{query}"):
        args, notice = listing.list_args()
    assert args == listing.ListArgs(status="overdue", page=2, sort="amount", query="Card Saga")
    assert notice is None
    assert args.with_(page=3) == listing.ListArgs(
        status="overdue", page=3, sort="amount", query="Card Saga"
    )


def test_list_args_fall_back_with_a_notice_and_cut_long_searches(app: Flask) -> None:
    long_query = "x" * (listing.QUERY_LIMIT + 50)
    with app.test_request_context(f"/list?status=lost&sort=random&q={long_query}"):
        args, notice = listing.list_args()
    assert (args.status, args.sort) == ("all", "activity")
    assert args.query == "x" * listing.QUERY_LIMIT
    assert notice is not None
    assert "That filter does not exist" in notice
    assert "That order does not exist" in notice
    with app.test_request_context("/list?status=overdue"):
        args, notice = listing.list_args(tabs=["all", "pending"])
    assert (args.status, notice) == (
        "all",
        "That filter does not exist, so all your offers are shown.",
    )


def test_the_overdue_tab_follows_all_only_while_something_is_overdue(app: Flask) -> None:
    late = ProgressSummary.from_offers(offers_for_selection())
    on_time = ProgressSummary.from_offers(offers_for_selection()[:2])
    with app.test_request_context("/"):
        with_late = listing.status_tabs(late, "all", lambda word: f"/t/{word}")
        without = listing.status_tabs(on_time, "all", lambda word: f"/t/{word}")
        chosen = listing.status_tabs(on_time, "overdue", lambda word: f"/t/{word}")
    assert [(t.slug, t.count, t.url, t.current) for t in with_late[:2]] == [
        ("all", 5, "/t/all", True),
        ("overdue", 1, "/t/overdue", False),
    ]
    assert "overdue" not in [t.slug for t in without]
    assert [(t.slug, t.count, t.current) for t in chosen[:2]] == [
        ("all", 2, False),
        ("overdue", 0, True),
    ]


@pytest.mark.parametrize(
    ("page", "pages", "numbers"),
    [
        (1, 1, [1]),
        (1, 4, [1, 2, 3, 4]),
        (1, 9, [1, 2, 3, None, 9]),
        (5, 9, [1, None, 3, 4, 5, 6, 7, None, 9]),
        (9, 9, [1, None, 7, 8, 9]),
        (4, 9, [1, 2, 3, 4, 5, 6, None, 9]),
    ],
)
def test_the_page_picker_shows_the_ends_the_neighbours_and_gaps(
    page: int, pages: int, numbers: list[int | None]
) -> None:
    _, where = listing.paginate(list(range(pages * 2)), page, 2, page_url)
    assert [link.number for link in where.links] == numbers
    assert [link.url for link in where.links] == [None if n is None else f"/p{n}" for n in numbers]
    assert [link.number for link in where.links if link.current] == [page]


def test_no_list_arguments_are_the_defaults_without_a_notice(app: Flask) -> None:
    with app.test_request_context("/list"):
        assert listing.list_args() == (listing.ListArgs(), None)


def test_both_fallback_notices_are_given_whole(app: Flask) -> None:
    with app.test_request_context("/list?status=lost&sort=random"):
        _, notice = listing.list_args()
    assert notice == (
        "That filter does not exist, so all your offers are shown. "
        "That order does not exist: offers are in the usual order."
    )


def test_list_urls_keep_the_endpoints_own_values(app: Flask) -> None:
    with app.test_request_context("/"):
        url = listing.ListArgs(page=2).url("user", user_id="kim-1")
    assert url == "/users/kim-1?page=2#revu-offers"


def test_expected_date_order_puts_the_sooner_credit_first() -> None:
    sooner = make_offer(OfferState.PENDING, offer_id=7, completed_at=T0)
    later = make_offer(OfferState.PENDING, offer_id=8, completed_at=T0 + timedelta(days=3))
    assert sooner.expected_credit_at is not None
    assert later.expected_credit_at is not None
    assert sooner.expected_credit_at < later.expected_credit_at
    chosen = listing.select_offers([later, sooner], listing.ListArgs(sort="expected"))
    assert [o.offer_id for o in chosen] == [7, 8]


def test_the_overdue_tab_has_its_own_label(app: Flask) -> None:
    late = ProgressSummary.from_offers(offers_for_selection())
    with app.test_request_context("/"):
        tabs = listing.status_tabs(late, "all", lambda word: f"/t/{word}")
    assert [t.label for t in tabs[:3]] == ["All", "Overdue", "In progress"]
