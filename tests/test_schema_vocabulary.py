"""The vocabulary's own methods, called directly (``schemas/vocabulary.py``).

What ``flask revu doctor`` reports (which upstream name supplied a field, which keys the kit
reads) and the messages a publisher reads when ``REVU_FIELD_ALIASES`` is wrong, each whole.
"""

from __future__ import annotations

import re

import pytest

from revu_widgets.schemas import DOCUMENTED_VOCABULARY, Vocabulary

VALID_KEYS = (
    "envelope.status, envelope.total, envelope.offers, envelope.offset, envelope.limit, "
    "envelope.support_id, envelope.publisher_id, envelope.wall_id, "
    "offer.offer_id, offer.name, offer.headline, offer.description, offer.requirements, "
    "offer.terms, offer.category, offer.image_url, offer.click_url, offer.reward_status, "
    "offer.in_progress, offer.user_completed, offer.total_user_reward, offer.payout, "
    "offer.reporting, offer.started_at, offer.updated_at, offer.completed_at, "
    "offer.credited_at, offer.expires_at, offer.reason, offer.events, "
    "event.event_id, event.name, event.user_reward, event.payout, event.status, "
    "event.completed_at, event.credited_at, event.reversed_at, event.reason"
)
NAME_RULE = (
    " must name one upstream field or a list of them, such as 'title' or "
    "['title', 'offerTitle'] (letters, digits, _ $ @ -, and 'list[].field' for a field of "
    "the first item of a list)"
)


def assert_refused(
    aliases: object, message: str, vocabulary: Vocabulary = DOCUMENTED_VOCABULARY
) -> None:
    """``aliases`` are refused with exactly ``message``."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        vocabulary.extended(aliases)


def test_fields_of_lists_the_kit_fields_in_order() -> None:
    assert DOCUMENTED_VOCABULARY.fields_of("event") == (
        "event_id",
        "name",
        "user_reward",
        "payout",
        "status",
        "completed_at",
        "credited_at",
        "reversed_at",
        "reason",
    )


def test_sources_name_the_upstream_key_that_supplied_each_field() -> None:
    raw = {
        "cid": 7,
        "id": 8,
        "offer_name": "Quest",
        "name": None,
        "creatives": [{"type": "icon"}, {"url": "https://cdn.example/7.png"}],
        "status_text": "ignored",
    }
    assert DOCUMENTED_VOCABULARY.sources("offer", raw) == {
        "offer_id": "cid",
        "name": "offer_name",
        "image_url": "creatives[].url",
    }
    assert DOCUMENTED_VOCABULARY.sources("offer", {}) == {}


def test_a_list_name_reads_the_first_item_that_has_the_field() -> None:
    vocabulary = DOCUMENTED_VOCABULARY.extended({"offer.name": "titles[].text"})
    raw = {"titles": ["plain", {"text": None}, {"text": "Second"}, {"text": "Third"}]}
    assert vocabulary.resolve("offer", raw)["name"] == "Second"
    assert vocabulary.sources("offer", raw) == {"name": "titles[].text"}
    assert vocabulary.resolve("offer", {"titles": {"text": "not a list"}}) == {}


def test_top_keys_are_every_upstream_key_read_for_a_kind() -> None:
    assert DOCUMENTED_VOCABULARY.top_keys("envelope") == {
        "status",
        "total",
        "offers",
        "offset",
        "limit",
        "support_id",
        "publisher_id",
        "affiliate_id",
        "wall_id",
    }
    offer_keys = DOCUMENTED_VOCABULARY.top_keys("offer")
    # A list name counts as the list's own key.
    assert "creatives" in offer_keys
    assert "creatives[].url" not in offer_keys
    assert {"cid", "id", "offer_id", "currency_award"} <= offer_keys


def test_keys_of_one_field() -> None:
    assert DOCUMENTED_VOCABULARY.keys_of("offer", "image_url") == ("image_url", "creatives")


def test_resolve_reads_only_the_wanted_fields() -> None:
    raw = {"offer_id": 3, "name": "Quest", "headline": "Win"}
    assert DOCUMENTED_VOCABULARY.resolve("offer", raw, ("offer_id", "name")) == {
        "offer_id": 3,
        "name": "Quest",
    }


# -- REVU_FIELD_ALIASES ----------------------------------------------------------------------


def test_an_alias_is_read_before_the_documented_names() -> None:
    vocabulary = DOCUMENTED_VOCABULARY.extended({"offer.name": "title", "event.name": ["n", "x"]})
    assert vocabulary.names["offer"]["name"] == ("title", "name", "offer_name")
    assert vocabulary.names["event"]["name"] == ("n", "x", "name")
    # A name listed again keeps its first place only.
    again = vocabulary.extended({"offer.name": ["offer_name", "title"]})
    assert again.names["offer"]["name"] == ("offer_name", "title", "name")
    # The documented vocabulary itself is left as it was.
    assert DOCUMENTED_VOCABULARY.names["offer"]["name"] == ("name", "offer_name")


def test_no_aliases_is_the_same_vocabulary() -> None:
    assert DOCUMENTED_VOCABULARY.extended(None) is DOCUMENTED_VOCABULARY


def test_a_members_reward_may_have_aliases_and_other_fields_may_read_payout() -> None:
    vocabulary = DOCUMENTED_VOCABULARY.extended(
        {"offer.total_user_reward": ["reward"], "offer.payout": ["payout", "usd"]}
    )
    assert vocabulary.names["offer"]["total_user_reward"][0] == "reward"
    assert vocabulary.names["offer"]["payout"] == ("payout", "usd")


def test_aliases_that_are_not_a_dict_are_refused_listing_every_valid_key() -> None:
    assert_refused(
        ["offer.name"],
        "must be a dict such as {'offer.name': ['title']}; valid keys: " + VALID_KEYS,
    )


@pytest.mark.parametrize("key", ["offer.title", "name", "offer", "offer.name.x", 5, ("offer",)])
def test_unknown_keys_are_refused_listing_every_valid_key(key: object) -> None:
    assert_refused({key: ["x"]}, f"has an unknown key {key!r}; valid keys: {VALID_KEYS}")


@pytest.mark.parametrize("names", [5, [], ["has space"], ["a[].b[].c"], ["x" * 65], [None]])
def test_names_that_are_not_upstream_names_are_refused(names: object) -> None:
    assert_refused({"event.reason": names}, "'event.reason'" + NAME_RULE)


def test_names_at_the_length_limit_are_accepted() -> None:
    vocabulary = DOCUMENTED_VOCABULARY.extended({"event.reason": ["x" * 64, "a[].b"]})
    assert vocabulary.names["event"]["reason"][:2] == ("x" * 64, "a[].b")


@pytest.mark.parametrize("field", ["event.user_reward", "offer.total_user_reward"])
def test_a_members_reward_cannot_read_the_usd_payout(field: str) -> None:
    assert_refused(
        {field: ["bonus", "payout"]},
        f"{field!r} cannot read 'payout': that is RevU's word for the publisher's revenue in "
        "US dollars, never a member's reward",
    )


def test_a_vocabulary_lists_only_its_own_keys() -> None:
    vocabulary = Vocabulary({"envelope": {}, "offer": {"name": ("title",)}, "event": {}})
    assert vocabulary.resolve("offer", {"title": "T"}) == {"name": "T"}
    assert_refused(
        {"offer.x": "y"}, "has an unknown key 'offer.x'; valid keys: offer.name", vocabulary
    )
