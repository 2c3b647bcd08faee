"""On a phone every page fits the screen and loads without a console error or failed request."""

from __future__ import annotations

import pytest

from .conftest import TOUR_MEMBERS, ContextFactory, LiveSite, PageProblems, sign_in, tour, visit

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
#: The narrowest screen the kit supports.
SMALL_PHONE = {"width": 320, "height": 640}


@pytest.mark.parametrize(
    ("user_id", "screen"),
    [
        *((user_id, PHONE) for user_id in TOUR_MEMBERS),
        ("alex-42", SMALL_PHONE),
        ("staff-kim", SMALL_PHONE),
    ],
)
def test_every_page_fits_a_phone_and_loads_cleanly(
    make_context: ContextFactory, site: LiveSite, user_id: str, screen: dict[str, int]
) -> None:
    # No bypass_csp: a script or style the pages' own policy refuses is an error too.
    context = make_context(viewport=screen, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems = PageProblems().watch(page)
    sign_in(page, site, user_id)
    too_wide = {}
    for stop in tour(page, site, user_id):
        visit(page, site, stop)
        if stop.status >= 400:
            # The error page itself answers with its status, on purpose.
            problems.allow(stop.status, site(stop.path))
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll > client:
            culprits = page.evaluate(
                """width => Array.from(document.querySelectorAll('body *'))
                  .filter(e => e.getBoundingClientRect().right > width + 0.5)
                  .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className)""",
                client,
            )
            too_wide[stop.label] = (scroll, client, culprits)
    assert client <= screen["width"]
    assert too_wide == {}
    page.goto(site("/"))  # whatever the last page was still loading has finished
    assert problems.unexpected() == []
