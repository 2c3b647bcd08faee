"""Reading a rendered page the way a browser would, to find anything injected into it.

:func:`audit` parses the HTML with the standard library's tokenizer (which unescapes entities
like a browser) and lists what an injection would leave behind: event-handler attributes,
links or images with a scheme other than http(s), scripts without the page's nonce, and tags
the kit never writes. :func:`skeleton` is the page's shape (each tag with its attribute names),
to compare a page full of hostile text with the same page full of plain text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: Attributes a browser follows or loads.
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "srcset", "poster", "background", "xlink:href", "data"}
)
#: Tags the kit never writes; one of them on a page means markup was injected.
FOREIGN_TAGS = frozenset(
    {"iframe", "frame", "object", "embed", "svg", "math", "base", "style", "applet"}
)
#: The forms the kit writes: its lists' search and page picker, sent back to the same list.
KIT_FORM_CLASSES = frozenset({"revu revu-tools", "revu-pager__jump"})
KIT_FORM_ACTION = "#revu-offers"
# Browsers drop these before reading a URL's scheme ("java\tscript:" is javascript:).
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")


@dataclass(slots=True)
class Audit:
    """What :func:`audit` found on one page."""

    tags: Counter[tuple[str, tuple[str, ...]]] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self, nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.result = Audit()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = tuple(sorted(name for name, _ in attrs))
        self.result.tags[tag, names] += 1
        problems = self.result.problems
        if tag in FOREIGN_TAGS:
            problems.append(f"<{tag}> on the page")
        if tag == "meta" and any(name == "http-equiv" for name, _ in attrs):
            problems.append("<meta http-equiv> on the page")
        values = dict(attrs)
        if tag == "form" and (
            values.get("class") not in KIT_FORM_CLASSES or values.get("action") != KIT_FORM_ACTION
        ):
            problems.append("<form> on the page")
        if tag == "script" and (self.nonce is None or values.get("nonce") != self.nonce):
            problems.append("a <script> without the page's nonce")
        for name, value in attrs:
            if name.startswith("on"):
                problems.append(f"event handler {name}= on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None:
                problem = unsafe_url(value)
                if problem:
                    problems.append(f"<{tag} {name}>: {problem}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def unsafe_url(value: str) -> str | None:
    """Why a link or image URL on a page is unsafe, or ``None`` when it is fine.

    Fine: http(s) URLs with a host, and the kit's own links (a path, query or fragment).
    """
    url = _IGNORED_IN_URLS.sub("", value)
    scheme = _SCHEME.match(url)
    if scheme:
        if scheme.group(1).lower() not in ("http", "https"):
            return f"scheme {scheme.group(1)!r}"
        if not re.match(r"^https?://[^/\\]", url, re.IGNORECASE):
            return "http(s) URL without a host"
        return None
    if url.startswith(("//", "\\\\", "/\\", "\\/")):
        return "a link to another site without a scheme"
    return None


def audit(html: str, nonce: str | None) -> Audit:
    """Parse ``html`` and list what looks injected (``nonce``: the page's CSP script nonce)."""
    reader = _Reader(nonce)
    reader.feed(html)
    reader.close()
    return reader.result


def csp_nonce(policy: str) -> str | None:
    """The script nonce in a Content-Security-Policy header."""
    match = re.search(r"'nonce-([^']+)'", policy)
    return match.group(1) if match else None


def skeleton(html: str) -> Counter[tuple[str, tuple[str, ...]]]:
    """Each tag with its attribute names, counted: the page's shape without its text."""
    return audit(html, None).tags
