"""Page weight: the kit's CSS and JS gzipped, the hosts a rendered page asks for, blocking scripts.

Run by hand: ``.venv/bin/python bench/bench_weight.py``.

Renders the history, offer and support pages of the fake's active member, then lists every URL
the HTML would make a browser fetch (``src``, ``href`` of stylesheets, icons and preloads,
``srcset``, ``url(...)`` in style attributes) and every ``<script>`` without ``defer``/``async``.
"""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from apps import ACTIVE_USER, kit_app

from revu_widgets.fake import FakeRevU, serve_in_thread

STATIC = Path(__file__).resolve().parent.parent / "static" / "revu_widgets"
#: The target: kit CSS + JS together, gzipped.
TARGET_BYTES = 8 * 1024
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")


class _Fetches(HTMLParser):
    """Collects what a browser would fetch while loading the page, and blocking scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.blocking_scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        names = {name for name, _ in attrs}
        deferred = {"defer", "async"} & names or values.get("type") == "module"
        if tag == "script" and not deferred:
            self.blocking_scripts.append(values.get("src") or "(inline)")
        if "src" in values:
            self.urls.append(values["src"])
        if tag == "link" and values.get("rel", "") in {"stylesheet", "icon", "preload"}:
            self.urls.append(values.get("href", ""))
        for candidate in values.get("srcset", "").split(","):
            if candidate.strip():
                self.urls.append(candidate.split()[0])
        self.urls.extend(_CSS_URL.findall(values.get("style", "")))


def main() -> None:
    """Print the gzipped sizes and what each page fetches from where."""
    total = 0
    for name in ("revu.css", "revu.js"):
        raw = (STATIC / name).read_bytes()
        packed = len(gzip.compress(raw, compresslevel=9))
        total += packed
        print(f"{name:10} {len(raw) / 1024:6.1f} KiB raw  {packed / 1024:5.2f} KiB gzipped")
    verdict = "met" if total <= TARGET_BYTES else "MISSED"
    print(f"together   {total / 1024:5.2f} KiB gzipped (target < 8 KiB: {verdict})")

    with serve_in_thread(FakeRevU()) as server:
        client = kit_app(server.url).test_client()
        headers = {"X-Bench-User": ACTIVE_USER}
        # The offers' own images, as upstream sent them (the fake serves them itself).
        offers = client.get("/rewards/api/progress", headers=headers).get_json()["offers"]
        image_hosts = {urlsplit(o["image_url"]).hostname for o in offers if o["image_url"]}
        for label, url in (
            ("history", "/rewards/"),
            ("offer", f"/rewards/offers/{offers[0]['offer_id']}"),
            ("support", f"/rewards/support/users/{ACTIVE_USER}"),
        ):
            response = client.get(url, headers=headers)
            parser = _Fetches()
            parser.feed(response.get_data(as_text=True))
            hosts = {urlsplit(u).hostname for u in parser.urls} - {None}
            foreign = sorted(h for h in hosts if h not in image_hosts)
            print(
                f"{label:8} {response.status_code}  {len(parser.urls):3d} fetches  "
                f"other hosts: {', '.join(sorted(hosts)) or 'none'}  "
                f"(not offer images: {', '.join(foreign) or 'none'})  "
                f"blocking scripts: {', '.join(parser.blocking_scripts) or 'none'}"
            )


if __name__ == "__main__":
    main()
