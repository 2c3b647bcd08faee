"""Sphinx directives that build reference tables from the code, so the manual cannot drift.

- ``revu-config``: the configuration table. Defaults come from ``DEFAULT_CONFIG``; the page
  gives each key's meaning. A key in the dict without a meaning, or a meaning for a key the
  dict does not have, fails the build.
- ``revu-routes``: the kit's routes as the blueprint registers them (path, methods,
  endpoint), each with the page's words for it; an undocumented or unknown endpoint fails.
- ``revu-macro NAME``: one macro's signature read from the kit's templates with Jinja's own
  parser, and its ``:param name:`` lines, which must name exactly the macro's parameters; a
  public macro no page documents fails the build.

The parsing helpers are plain functions, shared with the test suite (``tests/test_docs.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"

_ENTRY = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)\s*$")
_PARAM = re.compile(r"^:param (?P<name>\w+):")


class DocsDriftError(ValueError):
    """The manual and the code disagree (a key, a route or a parameter is missing or extra)."""


def parse_entries(lines: Iterable[str]) -> dict[str, str]:
    """``NAME`` on its own line, then its indented description: ``{name: description}``."""
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in lines:
        line = raw.rstrip()
        match = _ENTRY.match(line)
        if match and not raw.startswith((" ", "\t")):
            name = match["name"]
            if name in entries:
                raise DocsDriftError(f"{name} is described twice")
            current = entries[name] = []
        elif line.strip():
            if current is None:
                raise DocsDriftError(f"text before the first name: {line.strip()!r}")
            current.append(line.strip())
    return {name: " ".join(words) for name, words in entries.items()}


def check_same(what: str, code: Iterable[str], documented: Iterable[str]) -> None:
    """Raise :class:`DocsDriftError` unless both name the same things."""
    code_set, doc_set = set(code), set(documented)
    problems = []
    if missing := sorted(code_set - doc_set):
        problems.append(f"not documented: {', '.join(missing)}")
    if unknown := sorted(doc_set - code_set):
        problems.append(f"documented but not in the code: {', '.join(unknown)}")
    if problems:
        raise DocsDriftError(f"{what}: " + "; ".join(problems))


def format_default(value: Any) -> str:
    """A default as a reader types it (``None`` reads "none": the key is unset)."""
    if value is None:
        return "none"
    return f"`{value!r}`"


@dataclass(frozen=True)
class Route:
    """One URL rule of the kit's blueprint."""

    path: str
    methods: tuple[str, ...]
    endpoint: str


def kit_routes() -> list[Route]:
    """Every rule the ``revu_widgets`` blueprint adds, on an app with the default prefix."""
    from flask import Flask

    from revu_widgets import RevUWidgets

    app = Flask("revu_docs")
    # Routes do not depend on the key; the support API exists only with a token.
    app.config.update(REVU_API_KEY="docs-build", REVU_SUPPORT_TOKEN="d" * 40)
    RevUWidgets(app)
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("revu_widgets.") or rule.endpoint.endswith(".static"):
            continue
        methods = tuple(sorted(m for m in rule.methods or () if m not in {"HEAD", "OPTIONS"}))
        # "<int(min=1, max=...):offer_id>" reads "<offer_id>": the converter is not the reader's.
        path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"<\1>", rule.rule)
        routes.append(Route(path, methods, rule.endpoint.removeprefix("revu_widgets.")))
    return sorted(routes, key=lambda r: (r.path, r.methods))


@dataclass(frozen=True)
class MacroParam:
    """One parameter of a Jinja macro, with its default as written in the template."""

    name: str
    default: str | None


@dataclass(frozen=True)
class Macro:
    """A macro of the kit's templates: where a host imports it from, and its parameters."""

    name: str
    template: str
    params: tuple[MacroParam, ...]


def kit_macros(root: Path = TEMPLATES) -> dict[str, Macro]:
    """Every macro in the kit's templates, read by Jinja's parser (not a regex)."""
    from jinja2 import Environment
    from jinja2 import nodes as jinja_nodes

    env = Environment(autoescape=True)
    macros = {}
    for path in sorted((root / "revu_widgets").rglob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for macro in tree.find_all(jinja_nodes.Macro):
            defaults: list[Any] = [None] * (len(macro.args) - len(macro.defaults))
            defaults += [_literal(node) for node in macro.defaults]
            params = tuple(
                MacroParam(arg.name, default)
                for arg, default in zip(macro.args, defaults, strict=True)
            )
            template = path.relative_to(root).as_posix()
            macros[macro.name] = Macro(macro.name, template, params)
    return macros


def _literal(node: Any) -> str:
    from jinja2 import nodes as jinja_nodes

    if isinstance(node, jinja_nodes.Const):
        return repr(node.value)
    return node.__class__.__name__


def is_public(macro: Macro) -> bool:
    """Hosts import it: neither its name nor its template's starts with an underscore."""
    return not macro.name.startswith("_") and not macro.template.rsplit("/", 1)[-1].startswith("_")


def public_macros(root: Path = TEMPLATES) -> dict[str, tuple[MacroParam, ...]]:
    """The macros a host imports, with their parameters (see :func:`is_public`)."""
    return {name: m.params for name, m in kit_macros(root).items() if is_public(m)}


def signature_text(name: str, params: Iterable[MacroParam]) -> str:
    """``offer_card(offer, detail_url=None, ...)``."""
    parts = [p.name if p.default is None else f"{p.name}={p.default}" for p in params]
    return f"{name}({', '.join(parts)})"


def documented_params(lines: Iterable[str]) -> list[str]:
    """The names of the ``:param name:`` lines in a macro's description."""
    return [m["name"] for line in lines if (m := _PARAM.match(line.strip()))]


def directive_blocks(text: str, directive: str) -> Iterator[tuple[str, list[str]]]:
    """``(argument, body lines)`` of each fenced ``{directive}`` block in a MyST page."""
    fence = re.compile(r"^(?P<fence>`{3,}|:{3,})\{" + re.escape(directive) + r"\}(?P<arg>.*)$")
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = fence.match(lines[index])
        index += 1
        if not match:
            continue
        body = []
        while index < len(lines) and lines[index].rstrip() != match["fence"]:
            body.append(lines[index])
            index += 1
        index += 1
        yield match["arg"].strip(), body


class _MarkdownDirective(SphinxDirective):
    """A directive that writes MyST Markdown and parses it in place."""

    def parse_markdown(self, text: str) -> list[nodes.Node]:
        container = nodes.container()
        source = self.get_source_info()[0] or "revu_docs"
        lines = StringList(text.splitlines(), source=source)
        self.state.nested_parse(lines, self.content_offset, container)
        return list(container.children)


class ConfigDirective(_MarkdownDirective):
    """The configuration table, defaults taken from ``DEFAULT_CONFIG``."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        from revu_widgets.extension import DEFAULT_CONFIG

        meanings = parse_entries(self.content)
        try:
            check_same("configuration keys", DEFAULT_CONFIG, meanings)
        except DocsDriftError as exc:
            raise self.error(str(exc)) from None
        rows = [
            f"* - `{key}`\n  - {format_default(default)}\n  - {meanings[key]}"
            for key, default in DEFAULT_CONFIG.items()
        ]
        table = ":::{list-table}\n:header-rows: 1\n:widths: 25 20 55\n\n"
        table += "* - key\n  - default\n  - meaning\n" + "\n".join(rows) + "\n:::\n"
        return self.parse_markdown(table)


class RoutesDirective(_MarkdownDirective):
    """The kit's routes as registered, with the page's description of each endpoint."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        meanings = parse_entries(self.content)
        routes = kit_routes()
        try:
            check_same("routes (by endpoint)", {r.endpoint for r in routes}, meanings)
        except DocsDriftError as exc:
            raise self.error(str(exc)) from None
        rows = [
            f"* - `{' '.join(r.methods)} {r.path}`\n  - `{r.endpoint}`\n  - {meanings[r.endpoint]}"
            for r in routes
        ]
        table = ":::{list-table}\n:header-rows: 1\n:widths: 35 20 45\n\n"
        table += "* - route\n  - endpoint\n  - what\n" + "\n".join(rows) + "\n:::\n"
        return self.parse_markdown(table)


class MacroDirective(_MarkdownDirective):
    """One macro: its signature from the template and the page's ``:param:`` lines."""

    has_content = True
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        macros = kit_macros()
        if name not in macros or not is_public(macros[name]):
            raise self.error(f"the kit's templates have no public macro {name!r}")
        params = macros[name].params
        try:
            check_same(
                f"parameters of {name}",
                [p.name for p in params],
                documented_params(self.content),
            )
        except DocsDriftError as exc:
            raise self.error(str(exc)) from None
        body = f"Import it from `{macros[name].template}`.\n\n" + "\n".join(self.content)
        # A blank first line: MyST would read leading ":param x:" lines as directive options.
        text = f"````{{py:function}} {signature_text(name, params)}\n\n{body}\n````\n"
        return self.parse_markdown(text)


def _documented_macros(env: Any) -> dict[str, set[str]]:
    """``{docname: macro names}`` for the macros documented so far (kept in the environment)."""
    if not hasattr(env, "revu_macros"):
        env.revu_macros = {}
    found: dict[str, set[str]] = env.revu_macros
    return found


class _RecordingMacroDirective(MacroDirective):
    def run(self) -> list[nodes.Node]:
        _documented_macros(self.env).setdefault(self.env.docname, set()).add(self.arguments[0])
        return super().run()


def _purge(app: Sphinx, env: Any, docname: str) -> None:
    _documented_macros(env).pop(docname, None)


def _merge(app: Sphinx, env: Any, docnames: Any, other: Any) -> None:
    for docname in docnames:
        if docname in _documented_macros(other):
            _documented_macros(env)[docname] = _documented_macros(other)[docname]


def _check_every_macro_documented(app: Sphinx, env: Any) -> None:
    documented = set().union(*_documented_macros(env).values())
    if missing := sorted(set(public_macros()) - documented):
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "the kit's templates have macros the manual does not document: %s", ", ".join(missing)
        )


def setup(app: Sphinx) -> Mapping[str, Any]:
    """Register the directives (Sphinx calls this for ``extensions = ["revu_docs"]``)."""
    app.add_directive("revu-config", ConfigDirective)
    app.add_directive("revu-routes", RoutesDirective)
    app.add_directive("revu-macro", _RecordingMacroDirective)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check_every_macro_documented)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
