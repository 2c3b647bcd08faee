"""The OpenAPI 3.1 documents of the member and support APIs: valid, one vocabulary, and true.

The documents are checked three ways: against the OpenAPI 3.1 meta-schema; against each other
(the components both APIs share are word for word the same); and against the running kit, by
validating real answers and by letting schemathesis fuzz both APIs over real HTTP with every
check on (a bounded, derandomised number of examples, so the run takes the same time and finds
the same cases every time).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import schemathesis
import yaml
from flask import Flask, redirect, request, session
from openapi_spec_validator import validate as validate_openapi
from werkzeug.wrappers import Response

from revu_widgets import RevUWidgets
from revu_widgets.fake import FAKE_API_KEY, FakeRevU
from revu_widgets.fake.server import serve_in_thread

from .known_offers import credited_offer, known_offers
from .servers import serve_wsgi

DOCS = Path(__file__).resolve().parent.parent / "docs"
MEMBER_DOC = DOCS / "member-api.openapi.yaml"
SUPPORT_DOC = DOCS / "support-api.openapi.yaml"
SUPPORT_TOKEN = "openapi-test-support-token-0123456789"
MEMBER = "alex-42"
#: Examples per operation and phase: enough to reach every enum value and the id edge cases,
#: few enough that the run costs seconds, and the same ones every run (derandomised).
MAX_EXAMPLES = 20
#: Components both documents define: they must be the same, word for word.
SHARED = ("Status", "State", "Counts", "NextAction", "Skipped", "Triage", "SuggestedAction")
SHARED_TOO = ("ClaimClock", "Error")


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def validate(document: dict[str, Any], name: str, instance: object) -> None:
    """Validate ``instance`` against ``#/components/schemas/<name>`` of ``document``."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(instance)


@pytest.mark.parametrize("path", [MEMBER_DOC, SUPPORT_DOC], ids=["member", "support"])
def test_each_document_is_valid_openapi_3_1(path: Path) -> None:
    document = load(path)
    assert document["openapi"].startswith("3.1")
    validate_openapi(document)


def test_both_apis_share_one_vocabulary() -> None:
    member = load(MEMBER_DOC)["components"]["schemas"]
    support = load(SUPPORT_DOC)["components"]["schemas"]
    for name in (*SHARED, *SHARED_TOO):
        assert member[name] == support[name], name
    # The same names for the same counts, totals and offer fields.
    assert set(member["Totals"]["required"]) == set(support["Amounts"]["required"])
    member_offer = set(member["Offer"]["properties"])
    support_offer = set(support["Offer"]["properties"])
    # Support-only: the triage, and the publisher's revenue (staff only, never in member JSON).
    support_only = {"claim", "triage", "suggested_next_action", "publisher_revenue"}
    assert support_offer - support_only <= member_offer
    assert "publisher_revenue" not in member_offer
    for offer in (member["Offer"], support["Offer"]):
        assert offer["properties"]["next_action"] == {"$ref": "#/components/schemas/NextAction"}
        assert offer["properties"]["status"] == {"$ref": "#/components/schemas/Status"}


# -- a host site on loopback, signed in as a member, over real HTTP ---------------------------


def host_app(fake_url: str) -> Flask:
    """A publisher's site: its own session sign-in, the kit, the support API on."""
    app = Flask("openapi_host")
    app.config.update(
        SECRET_KEY="openapi-test-secret",
        REVU_API_KEY=FAKE_API_KEY,
        REVU_BASE_URL=fake_url,
        REVU_SUPPORT_TOKEN=SUPPORT_TOKEN,
        # Fuzzing sends wrong tokens on purpose: they must not throttle the right one.
        REVU_SUPPORT_TOKEN_LIMIT="100000/minute",
        REVU_MAX_RETRIES=0,
        REVU_CACHE_SECONDS=60,
    )
    revu = RevUWidgets(app)

    @revu.user_id_loader
    def signed_in() -> str | None:
        user: str | None = session.get("user")
        return user

    @app.get("/login")
    def login() -> Response:
        session["user"] = request.args["user"]
        return redirect("/rewards/")

    return app


@pytest.fixture(scope="module")
def live_host() -> Iterator[tuple[str, FakeRevU]]:
    """The host site and the fake RevU behind it, each on a loopback port, for the module."""
    fake = FakeRevU()
    fake.set_offers(MEMBER, [*known_offers(), credited_offer()])
    with serve_in_thread(fake) as upstream:
        try:
            with serve_wsgi(host_app(upstream.url)) as url:
                yield url, fake
        finally:
            fake.release()


@pytest.fixture(scope="module")
def member_cookies(live_host: tuple[str, FakeRevU]) -> dict[str, str]:
    """The host site's session cookie, signed in as the member (as a browser would hold it)."""
    url, _ = live_host
    with requests.Session() as http:
        signed = http.get(f"{url}/login", params={"user": MEMBER}, timeout=10)
        assert signed.status_code == 200
        return {"session": http.cookies["session"]}


def test_real_answers_match_the_documents(
    live_host: tuple[str, FakeRevU], member_cookies: dict[str, str]
) -> None:
    url, _ = live_host
    member, support = load(MEMBER_DOC), load(SUPPORT_DOC)
    progress = requests.get(f"{url}/rewards/api/progress", cookies=member_cookies, timeout=10)
    validate(member, "Progress", progress.json())
    assert progress.json()["offers"]
    offer_id = progress.json()["offers"][0]["offer_id"]
    one = requests.get(
        f"{url}/rewards/api/offers/{offer_id}", cookies=member_cookies, timeout=10
    ).json()
    validate(member, "Offer", one["offer"])
    summary = requests.get(
        f"{url}/rewards/support/api/users/{MEMBER}",
        headers={"Authorization": f"Bearer {SUPPORT_TOKEN}"},
        timeout=10,
    ).json()
    validate(support, "MemberSummary", summary)
    # One vocabulary: the same counts and the same totals, in both answers.
    assert progress.json()["counts"] == summary["counts"]
    assert {k: v["amount"] for k, v in progress.json()["totals"].items()} == summary["totals"]
    error = requests.get(f"{url}/rewards/api/nope", timeout=10).json()
    validate(member, "Error", error)


# -- schemathesis over real HTTP: every check, bounded examples --------------------------------


def fuzzed(path: Path, *, page_past_the_end: bool = False) -> Any:
    """The document as schemathesis reads it, with a bounded, derandomised example count."""
    schema = schemathesis.openapi.from_path(path)
    schema.config.update(request_timeout=30)
    # The documents' examples and hypothesis-driven fuzzing, in positive and negative modes.
    # The coverage phase is left out: it enumerates strings for the user id's pattern (printable,
    # not blank, no dot segment) by rejection, which takes minutes for what fuzzing does in ms.
    schema.config.phases.update(phases=["examples", "fuzzing"])
    if page_past_the_end:
        # A page number past the member's last page is a documented 400 that no schema can
        # express (it depends on the data); every other rejection of valid input still fails.
        acceptance = schema.config.checks.positive_data_acceptance
        acceptance.expected_statuses = [*acceptance.expected_statuses, "400"]
    # The tests send the credentials themselves (the member's cookie, the bearer token).
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES, deterministic=True, with_security_parameters=False
    )
    return schema


MEMBER_API = fuzzed(MEMBER_DOC, page_past_the_end=True)
SUPPORT_API = fuzzed(SUPPORT_DOC)


@pytest.mark.slow
@MEMBER_API.parametrize()
def test_member_api_conforms_to_its_document(
    case: Any, live_host: tuple[str, FakeRevU], member_cookies: dict[str, str]
) -> None:
    url, _ = live_host
    case.call_and_validate(base_url=f"{url}/rewards", cookies=member_cookies)


@pytest.mark.slow
@SUPPORT_API.parametrize()
def test_support_api_conforms_to_its_document(case: Any, live_host: tuple[str, FakeRevU]) -> None:
    url, _ = live_host
    case.call_and_validate(
        base_url=f"{url}/rewards", headers={"Authorization": f"Bearer {SUPPORT_TOKEN}"}
    )
