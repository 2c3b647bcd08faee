"""axe-core finds nothing serious on any page, in light and dark, for every kind of member."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from .conftest import TOUR_MEMBERS, ContextFactory, LiveSite, sign_in, tour, visit

pytestmark = pytest.mark.browser

BLOCKING = frozenset({"serious", "critical"})
_AXE = Axe()  # axe-core bundled with the package: nothing is fetched
SCHEMES = ("light", "dark")


def blocking_violations(page: Page) -> list[str]:
    """axe's serious and critical findings on ``page``, one readable line per element."""
    # axe-core is some 570 kB of script: one copy per document serves every run on it.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_AXE.axe_script)
    results: Any = page.evaluate("axe.run({resultTypes: ['violations']})")
    found = []
    for violation in results["violations"]:
        if violation["impact"] in BLOCKING:
            for node in violation["nodes"]:
                found.append(
                    f"{violation['id']} ({violation['impact']}): {node['target']} "
                    f"{node.get('failureSummary', '')}".replace("\n", " ")
                )
    return found


def check_both_schemes(page: Page, label: str, report: dict[str, list[str]]) -> None:
    """axe on the page as it stands, in light colours and then dark, switched in place.

    Switching the media feature recolours the page without loading it again. The page's
    context should ask for reduced motion, so no colour is caught halfway through a
    transition. The scheme must really apply (the dark run checks dark colours); findings go
    to ``report`` under ``"label (scheme)"``.
    """
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        luminance = background_luminance(page)
        assert (luminance < 0.1) if scheme == "dark" else (luminance > 0.7), (label, luminance)
        found = blocking_violations(page)
        if found:
            report[f"{label} ({scheme})"] = found


def background_luminance(page: Page) -> float:
    """Relative luminance (0 black .. 1 white) of the page's main background."""
    rgb: Any = page.evaluate(
        """() => {
          const main = document.querySelector('main');
          for (const el of [main, document.body, document.documentElement]) {
            const colour = getComputedStyle(el).backgroundColor;
            const parts = colour.match(/[\\d.]+/g).map(Number);
            if (parts.length < 4 || parts[3] > 0) return parts.slice(0, 3);
          }
          return [255, 255, 255];
        }"""
    )

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(float(v)) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("user_id", TOUR_MEMBERS)
def test_every_page_has_no_serious_axe_violation_in_light_or_dark(
    make_context: ContextFactory, site: LiveSite, user_id: str
) -> None:
    # axe is injected as a script; the kit's nonce-based policy would rightly refuse it.
    context = make_context(bypass_csp=True, reduced_motion="reduce")
    page = context.new_page()
    sign_in(page, site, user_id)
    report: dict[str, list[str]] = {}
    for stop in tour(page, site, user_id):
        visit(page, site, stop)
        check_both_schemes(page, stop.label, report)
    assert report == {}
