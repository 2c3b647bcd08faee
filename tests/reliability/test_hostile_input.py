"""Hostile upstream text and URLs, hostile user ids and base URLs: nothing runs, nothing escapes.

Upstream data is fed through the fake RevU (``set_offers``) and read back through the kit's
pages over loopback. A page full of hostile text must have exactly the shape of the same page
full of plain text, and no link, image or script a browser would run.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from revu_widgets.errors import ConfigurationError
from revu_widgets.fake import FakeRevU

from .conftest import HostBuilder
from .hosts import SECRET_FRAGMENTS, SUPPORT_TOKEN, build_host, signed_in
from .html_audit import audit, csp_nonce, skeleton

MEMBER = "alex-1"

XSS_TEXT = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<a href="javascript:alert(1)">claim</a>',
    "javascript:alert(1)",
    '" onmouseover="alert(1)" x="',
    "' autofocus onfocus='alert(1)' x='",
    "<style>*{display:none}</style>",
    "<!-- <div> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<form action=https://evil.example><button>Claim</button></form>",
    "`${alert(1)}`",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)"\n>',
]
TEMPLATE_INJECTION = [
    "{{7*7191}}",
    "{% for x in range(3) %}looped{% endfor %}",
    "{{ config }}",
    "{{ self.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "${7*7191}",
    "#{7*7191}",
    "%(name)s %(num)d %s",
    "{0.__class__} {offer_id}",
]
UNICODE_TRICKS = [
    "Free \u202egnp.exe",
    "Zero\u200bwidth\u200cjoin\u200dhere",
    "\ufeffbyte order mark",
    "\u2066isolated\u2069 \u2067rtl\u2069",
    "null\x00byte and \x1b[31mterminal red",
    "line\u2028separator",
]
#: Characters that must never reach a page or a JSON answer.
HIDDEN_CHARS = [
    "\u202e",
    "\u200b",
    "\u200c",
    "\u200d",
    "\ufeff",
    "\u2066",
    "\u2067",
    "\x00",
    "\x1b",
]
PAYLOADS = XSS_TEXT + TEMPLATE_INJECTION + UNICODE_TRICKS

TEXT_FIELDS = ("name", "headline", "description", "requirements", "terms", "category", "reason")
EVENT_TEXT_FIELDS = ("name", "reason")

BAD_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "javascript&colon;alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://files.example/offer.png",
    "chrome://settings",
    "about:blank",
    "blob:https://evil.example/uuid",
    "intent://scan/#Intent;scheme=zxing;end",
    "mailto:someone@evil.example",
    "//evil.example/x.png",
    "\\\\evil.example\\x.png",
    "/relative/path",
    "https://",
    "http:evil.example",
    "https:\\\\evil.example",
    "https://user:pw@evil.example/",
    'https://evil.example/"><script>alert(1)</script>',
    "https://evil.example/' onerror='alert(1)",
    "https://evil.example/\u202egnp.exe",
]


def hostile_offer(template: dict[str, Any], offer_id: int, text: str) -> dict[str, Any]:
    """``template`` with every text field, step name, step reason and one step status = ``text``."""
    offer = copy.deepcopy(template)
    offer["offer_id"] = offer_id
    for name in TEXT_FIELDS:
        offer[name] = text
    offer["extra_terms"] = text
    offer["reporting"] = text
    for event in offer["events"]:
        for name in EVENT_TEXT_FIELDS:
            event[name] = text
    if len(offer["events"]) > 1:
        # An unknown status word is shown as such ("Unknown (...)"): hostile there too.
        offer["events"][-1]["status"] = text
    return offer


def offers_with(fake: FakeRevU, texts: list[str]) -> list[dict[str, Any]]:
    templates = fake.offers_for(MEMBER)
    return [
        hostile_offer(templates[i % len(templates)], 700_000 + i, text)
        for i, text in enumerate(texts)
    ]


def page(client: FlaskClient, url: str, **kwargs: Any) -> tuple[str, str | None]:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True), csp_nonce(
        response.headers.get("Content-Security-Policy", "")
    )


@pytest.fixture
def host(make_kit_host: HostBuilder) -> Flask:
    # Every offer on one history page, so each page is checked whole.
    return make_kit_host(REVU_PAGE_SIZE=200)


def assert_same_shape_and_nothing_injected(
    hostile: tuple[str, str | None], plain: tuple[str, str | None], where: str
) -> None:
    found = audit(*hostile)
    assert not found.problems, f"{where}: {found.problems}"
    assert found.tags == skeleton(plain[0]), f"{where}: the page changed shape"
    for char in HIDDEN_CHARS:
        assert char not in hostile[0], f"{where}: {char!r} reached the page"
    assert "50337" not in hostile[0], f"{where}: a template expression was evaluated"
    assert "looped" not in hostile[0].replace("%}looped{%", ""), f"{where}: a template ran"


def test_hostile_text_in_every_field_is_shown_as_text_on_every_page(
    host: Flask, fake_revu: FakeRevU
) -> None:
    hostile = offers_with(fake_revu, PAYLOADS)
    plain = offers_with(fake_revu, [f"Plain words {i}" for i in range(len(PAYLOADS))])
    member = signed_in(host, MEMBER)
    staff = signed_in(host, "staff-1")
    pages = [("/rewards/", member), (f"/rewards/support/users/{MEMBER}", staff)]
    pages += [(f"/rewards/offers/{o['offer_id']}", member) for o in hostile]
    for url, client in pages:
        fake_revu.set_offers(MEMBER, plain)
        plain_page = page(client, url)
        fake_revu.set_offers(MEMBER, hostile)
        hostile_page = page(client, url)
        assert_same_shape_and_nothing_injected(hostile_page, plain_page, url)
    # The text is shown, not dropped: escaped markup and the literal template expression.
    history = page(member, "/rewards/")[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in history
    assert "{{7*7191}}" in history
    assert "&amp;lt;script&amp;gt;" in history  # already-escaped text is not unescaped


def test_hostile_text_reaches_json_as_plain_strings_without_hidden_characters(
    host: Flask, fake_revu: FakeRevU
) -> None:
    fake_revu.set_offers(MEMBER, offers_with(fake_revu, PAYLOADS))
    member = signed_in(host, MEMBER)
    answers = [member.get("/rewards/api/progress")]
    answers += [member.get(f"/rewards/api/offers/{700_000 + i}") for i in range(len(PAYLOADS))]
    answers.append(
        host.test_client().get(
            f"/rewards/support/api/users/{MEMBER}",
            headers={"Authorization": f"Bearer {SUPPORT_TOKEN}"},
        )
    )
    for response in answers:
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        text = response.get_data(as_text=True)
        decoded = json.dumps(response.get_json(), ensure_ascii=False)
        for char in HIDDEN_CHARS:
            assert char not in decoded
        assert "50337" not in text
    names = {o["name"] for o in answers[0].get_json()["offers"]}
    assert "<script>alert(1)</script>" in names
    assert "{{7*7191}}" in names


@pytest.fixture
def reusing_host(make_kit_host: HostBuilder) -> Flask:
    # The upstream data is set once, before the first page: every page may share one reading
    # of the history instead of asking the fake again for each of its offer pages.
    return make_kit_host(REVU_PAGE_SIZE=200, REVU_CACHE_SECONDS=300)


@pytest.mark.parametrize("url", BAD_URLS, ids=range(len(BAD_URLS)))
def test_links_and_images_are_only_ever_http_or_https(
    reusing_host: Flask, fake_revu: FakeRevU, url: str
) -> None:
    host = reusing_host
    templates = fake_revu.offers_for(MEMBER)
    offers = []
    for i, template in enumerate(templates):
        offer = dict(template, image_url=url, click_url=url)
        offers.append(offer)
        # The same offer again, hostile link but a valid image, and the other way round.
        offers.append(dict(template, offer_id=800_000 + i, click_url=url))
        offers.append(dict(template, offer_id=900_000 + i, image_url=url))
    fake_revu.set_offers(MEMBER, offers)
    member = signed_in(host, MEMBER)
    urls = ["/rewards/", *(f"/rewards/offers/{o['offer_id']}" for o in offers)]
    for page_url in urls:
        found = audit(*page(member, page_url))
        assert not found.problems, f"{page_url}: {found.problems}"
    staff_page = page(signed_in(host, "staff-1"), f"/rewards/support/users/{MEMBER}")
    assert not audit(*staff_page).problems
    for offer in member.get("/rewards/api/progress").get_json()["offers"]:
        for value in (offer.get("image_url"), offer.get("click_url")):
            assert value is None or value.lower().startswith(("https://", "http://"))


HOSTILE_USER_IDS = [
    "a/b",
    "../admin",
    "../../_fake/reset",
    "..",
    ".",
    "./x",
    "x?limit=500&offset=9",
    "x#fragment",
    "100%",
    "%2e%2e",
    "%2F",
    "a%2Fb",
    "a b",
    "a+b",
    "a;b=c",
    "a\\b",
    "<script>alert(1)</script>",
    "' or 1=1 --",
    "\u00e9l\u00e8ve",
    "\u7528\u6237",
    "a\u202eb",
    "a\nb",
    "a\x00b",
    "x" * 255,
    "x" * 256,
    "x" * 5000,
]


@pytest.mark.parametrize("user_id", HOSTILE_USER_IDS, ids=range(len(HOSTILE_USER_IDS)))
def test_user_id_from_the_host_stays_one_path_segment_or_is_refused(
    host: Flask, fake_revu: FakeRevU, user_id: str
) -> None:
    client = signed_in(host, user_id)
    offer_id = int(fake_revu.offers_for("any-user")[0]["offer_id"])
    fake_revu.reset()
    answers = [
        client.get(url)
        for url in (
            "/rewards/",
            "/rewards/api/progress",
            f"/rewards/offers/{offer_id}",
            f"/rewards/api/offers/{offer_id}",
        )
    ]
    for response in answers:
        assert response.status_code in (200, 400, 404), response.status_code
        if response.mimetype == "text/html":
            nonce = csp_nonce(response.headers.get("Content-Security-Policy", ""))
            assert not audit(response.get_data(as_text=True), nonce).problems
    expected_path = f"/api/v1/users/{quote(user_id, safe='')}/getprogress"
    for record in fake_revu.requests:
        assert record.path == expected_path
        assert record.user_id == user_id
        assert set(record.query) <= {"limit", "offset", "offer_id"}
    refused = [r.status_code == 400 for r in answers]
    # Refused means refused before anything was sent; accepted means every route asked.
    assert all(refused) == (fake_revu.requests == []), [r.status_code for r in answers]
    assert fake_revu.offers_for(MEMBER)  # the fake's control routes were never reached


@pytest.mark.parametrize("user_id", HOSTILE_USER_IDS[:18], ids=range(18))
def test_support_lookup_id_from_the_url_stays_one_path_segment(
    host: Flask, fake_revu: FakeRevU, user_id: str
) -> None:
    staff = signed_in(host, "staff-1")
    bot = host.test_client()
    segment = quote(user_id, safe="")
    page_answer = staff.get(f"/rewards/support/users/{segment}")
    api_answer = bot.get(
        f"/rewards/support/api/users/{segment}",
        headers={"Authorization": f"Bearer {SUPPORT_TOKEN}"},
    )
    for response in (page_answer, api_answer):
        assert response.status_code in (200, 400), response.status_code
    html = page_answer.get_data(as_text=True)
    nonce = csp_nonce(page_answer.headers.get("Content-Security-Policy", ""))
    assert not audit(html, nonce).problems
    for record in fake_revu.requests:
        assert record.path == f"/api/v1/users/{segment}/getprogress"
        assert record.user_id == user_id


REFUSED_BASE_URLS = [
    "http://publishers.revenueuniverse.com",
    "http://example.com",
    "http://10.0.0.5",
    "http://192.168.1.1:8080",
    "http://172.16.0.1",
    "http://169.254.169.254/latest/meta-data",
    "http://[fd00::1]",
    "http://[::ffff:10.0.0.1]",
    "http://127.0.0.1.nip.io",
    "http://localhost.evil.example",
    "http://0x7f000001.evil.example",
    "ftp://127.0.0.1",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "//publishers.revenueuniverse.com",
    "publishers.revenueuniverse.com",
    "https://",
    "https://user:pass@publishers.revenueuniverse.com",
    "https://publishers.revenueuniverse.com?api_key=x",
    "https://publishers.revenueuniverse.com#x",
    "https://publishers.revenueuniverse.com:99999",
    "",
]


@pytest.mark.parametrize("base_url", REFUSED_BASE_URLS, ids=range(len(REFUSED_BASE_URLS)))
def test_base_url_that_is_not_https_or_loopback_is_refused_at_setup(base_url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build_host(base_url)
    message = str(caught.value)
    assert "REVU_BASE_URL" in message
    assert not any(fragment in message for fragment in SECRET_FRAGMENTS)


def test_base_url_path_is_kept_and_a_user_id_that_would_climb_out_is_refused(
    make_kit_host: HostBuilder, fake_revu: FakeRevU
) -> None:
    base = make_kit_host().config["REVU_BASE_URL"]
    app = build_host(base + "/proxy")
    climber = signed_in(app, "../../../_fake/reset").get("/rewards/api/progress")
    assert climber.status_code == 400
    assert climber.get_json()["error"]["code"] == "invalid_request"
    assert fake_revu.requests == []
    signed_in(app, "a/b..c").get("/rewards/api/progress")
    assert [r.path for r in fake_revu.requests] == ["/proxy/api/v1/users/a%2Fb..c/getprogress"]
