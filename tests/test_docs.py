"""The manual and the README say what the code does, and their examples run as written.

- Every config key in ``DEFAULT_CONFIG`` is described on the configuration page, and nothing
  else is; every route of the blueprint is on the routes page; every public macro is on the
  macro page with exactly its parameters (the Sphinx build checks the same, with the same code).
- Every ``python`` block of the README and of each docs page runs, in page order, in one
  namespace per page (a block starting ``# NAME.py`` starts a file of its own), as a reader
  would paste them, in a fresh folder where the page's named templates (a block starting
  ``{# templates/NAME.html #}``) are written first. No
  ``REVU_API_KEY`` is in the environment, so the examples run offline against the built-in fake.
- The integration examples then serve real pages: the ten lines inside the host's layout, the
  Flask-Login variant with its ``LoginManager``, the blueprint registered by hand.
- Every macro example on the macro page renders against the fake's data.
- Every relative link in the README points at a file that exists.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask, render_template_string

from revu_widgets.extension import DEFAULT_CONFIG

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
README = REPO / "README.md"
PAGES = sorted(p for p in DOCS.glob("*.md") if p.name != "fault-matrix.md")

_FENCE = re.compile(
    r"^(?P<fence>`{3,})(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=fence)\s*$", re.M | re.S
)
#: A Python block that starts with ``# NAME.py`` is a file of its own: a fresh namespace.
_NEW_FILE = re.compile(r"\A# [\w/]+\.py\n")
_NAMED_TEMPLATE = re.compile(r"\A\{#\s*(?P<path>templates/[\w./-]+\.html)\s*#\}\n")


def docs_extension() -> ModuleType:
    """``docs/_ext/revu_docs.py``: the directives' parsers, shared with the Sphinx build."""
    spec = importlib.util.spec_from_file_location("revu_docs", DOCS / "_ext" / "revu_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("revu_docs", module)
    spec.loader.exec_module(module)
    return module


revu_docs = docs_extension()


@dataclass
class Block:
    """One fenced block of a Markdown page."""

    language: str
    body: str
    line: int


def fenced_blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [
        Block(m["info"].strip().split(" ")[0], m["body"], text.count("\n", 0, m.start()) + 1)
        for m in _FENCE.finditer(text)
    ]


def python_blocks(path: Path) -> list[Block]:
    return [b for b in fenced_blocks(path) if b.language == "python"]


# --- the reference tables ---------------------------------------------------------------------


def directive_body(page: str, directive: str) -> list[str]:
    (body,) = [b for _arg, b in revu_docs.directive_blocks((DOCS / page).read_text(), directive)]
    return body


def test_every_config_key_is_documented_and_nothing_else() -> None:
    documented = revu_docs.parse_entries(directive_body("configuration.md", "revu-config"))
    revu_docs.check_same("configuration keys", DEFAULT_CONFIG, documented)
    assert all(len(meaning) > 20 for meaning in documented.values()), documented


def test_every_route_is_documented() -> None:
    documented = revu_docs.parse_entries(directive_body("routes.md", "revu-routes"))
    routes = revu_docs.kit_routes()
    revu_docs.check_same("routes", {r.endpoint for r in routes}, documented)
    assert ("/rewards/", "history") in {(r.path, r.endpoint) for r in routes}


def test_every_public_macro_is_documented_with_exactly_its_parameters() -> None:
    text = (DOCS / "macros.md").read_text(encoding="utf-8")
    documented = {
        name: revu_docs.documented_params(body)
        for name, body in revu_docs.directive_blocks(text, "revu-macro")
    }
    signatures = revu_docs.public_macros()
    assert set(documented) == set(signatures)
    for name, params in signatures.items():
        assert documented[name] == [p.name for p in params], f"{name}: parameters drifted"


def test_macro_signatures_come_from_the_template() -> None:
    signatures = revu_docs.public_macros()
    card = {p.name: p.default for p in signatures["offer_card"]}
    assert card["offer"] is None
    assert card["show_continue"] == "True"
    assert revu_docs.signature_text("reward", signatures["reward"]).startswith(
        "reward(amount, kind='earned'"
    )


#: A call or a signature of a macro as the manual and the README write it: ``name(args)`` with
#: at most one level of nested parentheses in the arguments (``url_for(...)``).
_MACRO_CALL = re.compile(r"\b(?P<name>\w+)\((?P<args>[^()]*(?:\([^()]*\)[^()]*)*)\)")


def documented_macro_calls() -> list[tuple[str, str, str]]:
    """``(file, macro, argument text)`` for each public macro named with brackets in the docs."""
    public = revu_docs.public_macros()
    return [
        (path.name, match["name"], match["args"])
        for path in [README, *PAGES]
        for match in _MACRO_CALL.finditer(path.read_text(encoding="utf-8"))
        if match["name"] in public
    ]


def test_documented_macro_calls_were_found() -> None:
    # Guards the test below: a pattern that matched nothing would check nothing.
    calls = documented_macro_calls()
    assert ("macros.md", "reward", 'offer.possible, kind="possible"') in calls
    assert any(name == "claim_clock" and "compact" in args for _, name, args in calls)


def test_every_documented_macro_call_and_signature_matches_the_definition() -> None:
    """What the manual and the README write of a macro's parameters is what the macro takes.

    A call passes no more positional arguments than the macro has and only keywords it knows;
    a signature written out by hand (``name(a, b=None)``: the parameter names, then defaults)
    is exactly the template's, defaults included.
    """
    signatures = revu_docs.public_macros()
    for where, name, args in documented_macro_calls():
        params = [p.name for p in signatures[name]]
        # Jinja's call syntax is Python's, so Python's parser reads it.
        call = ast.parse(f"f({args})", mode="eval").body
        assert isinstance(call, ast.Call), f"{where}: {name}({args}) is not a call"
        assert len(call.args) <= len(params), f"{where}: {name}({args}): too many arguments"
        unknown = {k.arg for k in call.keywords} - set(params)
        assert not unknown, f"{where}: {name}({args}): {name} has no {sorted(unknown)}"
        positional = [a.id if isinstance(a, ast.Name) else None for a in call.args]
        written_out = (
            call.keywords
            and positional == params[: len(positional)]
            and all(isinstance(k.value, ast.Constant) for k in call.keywords)
        )
        if written_out:
            assert f"{name}({args})" == revu_docs.signature_text(name, signatures[name]), where


def test_macros_html_imports_every_public_macro(make_host: Callable[..., Flask]) -> None:
    # Hosts import every widget from one file, whichever family file defines it.
    app = make_host()
    with app.app_context():
        module = app.jinja_env.get_template("revu_widgets/macros.html").module
    public = revu_docs.public_macros()
    missing = [name for name in public if not callable(getattr(module, name, None))]
    assert not missing, f"revu_widgets/macros.html does not import {missing}"


def test_drift_is_reported_by_name() -> None:
    with pytest.raises(revu_docs.DocsDriftError, match="not documented: REVU_NEW"):
        revu_docs.check_same("keys", {"REVU_A", "REVU_NEW"}, {"REVU_A": "x"})
    with pytest.raises(revu_docs.DocsDriftError, match="not in the code: REVU_GONE"):
        revu_docs.check_same("keys", {"REVU_A"}, {"REVU_A": "x", "REVU_GONE": "y"})


# --- every Python example runs ------------------------------------------------------------------


@dataclass
class PageRun:
    """What running a page's blocks left: the namespace after each block."""

    snapshots: list[dict[str, Any]] = field(default_factory=list)

    def after(self, index: int) -> dict[str, Any]:
        return self.snapshots[index]


def _shutdown_fakes(run: PageRun) -> None:
    seen: set[int] = set()
    for snapshot in run.snapshots:
        for value in snapshot.values():
            if isinstance(value, Flask) and id(value) not in seen:
                seen.add(id(value))
                state = value.extensions.get("revu_widgets")
                server = getattr(state, "fake_server", None)
                if server is not None:
                    server.shutdown()


@pytest.fixture
def run_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Path], PageRun]]:
    """Run a page's Python blocks in order, offline, in a fresh folder with its templates."""
    runs: list[PageRun] = []
    monkeypatch.delenv("REVU_API_KEY", raising=False)
    monkeypatch.delenv("REVU_BASE_URL", raising=False)
    monkeypatch.delenv("REVU_CACHE_URL", raising=False)
    monkeypatch.chdir(tmp_path)

    def run(path: Path) -> PageRun:
        for block in fenced_blocks(path):
            named = _NAMED_TEMPLATE.match(block.body)
            if named:
                target = tmp_path / named["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.body[named.end() :], encoding="utf-8")
        result = PageRun()
        runs.append(result)
        namespace: dict[str, Any] = {"__name__": "docs_example"}
        for block in python_blocks(path):
            if _NEW_FILE.match(block.body):
                namespace = {"__name__": "docs_example"}
            code = compile(block.body, f"{path.name}:{block.line}", "exec")
            # The page's own example, exactly as a reader would paste it.
            exec(code, namespace)
            result.snapshots.append(dict(namespace))
        return result

    yield run
    for result in runs:
        _shutdown_fakes(result)


PAGES_WITH_PYTHON = [p for p in [README, *PAGES] if python_blocks(p)]


@pytest.mark.parametrize("path", PAGES_WITH_PYTHON, ids=lambda p: p.name)
def test_every_python_block_runs_as_written(
    path: Path, run_page: Callable[[Path], PageRun]
) -> None:
    run = run_page(path)
    assert len(run.snapshots) == len(python_blocks(path))


def test_the_docs_have_python_examples_to_run() -> None:
    names = {p.name for p in PAGES_WITH_PYTHON}
    assert {"quickstart.md", "client.md", "fake.md", "support.md", "freshness.md"} <= names


def sign_in_by_session(app: Flask, user_id: str) -> Any:
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user_id
    return client


def test_quickstart_ten_lines_serve_the_history_inside_the_hosts_layout(
    run_page: Callable[[Path], PageRun],
) -> None:
    run = run_page(DOCS / "quickstart.md")
    app = run.after(0)["app"]
    assert app.config["REVU_USE_FAKE"] is True
    response = sign_in_by_session(app, "alex-42").get("/rewards/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<header class="site-header">My site</header>' in html
    assert 'class="revu-card' in html or "revu-card" in html
    # The layout's inline style carries the nonce the kit's CSP allows.
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce is not None
    assert f'<style nonce="{nonce.group(1)}">' in html
    signed_out = app.test_client().get("/rewards/")
    assert signed_out.status_code == 401


def test_quickstart_flask_login_variant_signs_members_and_staff_in(
    run_page: Callable[[Path], PageRun],
) -> None:
    from flask_login import FlaskLoginClient

    run = run_page(DOCS / "quickstart.md")
    namespace = run.after(1)
    app, user = namespace["app"], namespace["User"]
    assert "login_manager" in app.extensions or hasattr(app, "login_manager")
    app.test_client_class = FlaskLoginClient
    member = app.test_client(user=user("alex-42"))
    assert member.get("/rewards/").status_code == 200
    assert member.get("/rewards/support/").status_code == 403
    staff = app.test_client(user=user("staff-kim", is_staff=True))
    assert staff.get("/rewards/support/users/alex-42").status_code == 200
    assert app.test_client().get("/rewards/").status_code == 401


def test_quickstart_blueprint_registered_by_hand_and_dashboard(
    run_page: Callable[[Path], PageRun],
) -> None:
    from flask_login import FlaskLoginClient

    run = run_page(DOCS / "quickstart.md")
    factory_app = run.after(3)["factory_app"]
    assert sign_in_by_session(factory_app, "alex-42").get("/my-offers/").status_code == 200
    assert factory_app.test_client().get("/rewards/").status_code == 404
    namespace = run.after(2)
    app = namespace["app"]
    app.test_client_class = FlaskLoginClient
    dashboard = app.test_client(user=namespace["User"]("alex-42")).get("/dashboard")
    assert dashboard.status_code == 200
    assert "revu-summary" in dashboard.get_data(as_text=True)


def test_fake_page_test_examples_pass_against_a_real_fake(
    run_page: Callable[[Path], PageRun],
) -> None:
    from revu_widgets.fake import FakeRevU, serve_in_thread

    namespace = run_page(DOCS / "fake.md").snapshots[-1]
    fake = FakeRevU()
    with serve_in_thread(fake) as server:
        namespace["test_my_offers_page_survives_a_revu_outage"](server, fake)
        fake.reset()
        namespace["test_offer_shows_my_own_data"](server, fake)


def test_freshness_postback_example_refuses_strangers_and_answers_revu(
    run_page: Callable[[Path], PageRun],
) -> None:
    namespace = run_page(DOCS / "freshness.md").snapshots[-1]
    app = namespace["app"]
    client = app.test_client()
    assert client.get("/revu/postback?userid=alex-42&key=wrong").status_code == 403
    answer = client.get("/revu/postback?userid=alex-42&key=dev only: change me")
    assert answer.get_data(as_text=True) == "OK"


# --- macro examples -------------------------------------------------------------------------------


def macro_examples() -> dict[str, str]:
    """The macro page's Jinja examples (more than one line), keyed by the macro they import."""
    examples = {}
    for block in fenced_blocks(DOCS / "macros.md"):
        match = re.match(r'\{% from "revu_widgets/[\w/]+\.html" import (\w+)', block.body)
        if block.language == "jinja" and match and "\n" in block.body.strip():
            examples[match.group(1)] = block.body
    return examples


def example_offer(progress: Any) -> Any:
    """The offer the examples show: the in-progress one with the most steps."""
    in_progress = [o for o in progress.offers if o.state.value == "in_progress"] or progress.offers
    return max(in_progress, key=lambda o: (len(o.steps), o.steps_done, -o.offer_id))


def test_every_macro_has_an_example() -> None:
    assert set(macro_examples()) == set(revu_docs.public_macros())


@pytest.mark.parametrize("name", sorted(revu_docs.public_macros()))
def test_macro_example_renders_against_the_fake(name: str, make_host: Callable[..., Flask]) -> None:
    from revu_widgets.state import full_progress, member_progress

    app = make_host()
    with app.test_request_context("/"):
        progress = full_progress(member_progress("alex-42"))
        offer = example_offer(progress)
        html = render_template_string(
            macro_examples()[name], progress=progress, offer=offer, csp_nonce="n0nce"
        )
    assert 'class="revu' in html
    assert "Traceback" not in html


def test_sphinx_sources_are_all_reached() -> None:
    # Every page is in a toctree (Sphinx warns otherwise, and the build runs with -W).
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([a-z][\w-]*)$", index, re.M))
    hidden = {"README-load"}
    assert {p.stem for p in PAGES} - {"index"} - hidden <= listed


def test_no_page_needs_an_api_key() -> None:
    for path in [README, *PAGES]:
        for block in python_blocks(path):
            assert 'os.environ["REVU_API_KEY"]' not in block.body, f"{path.name}:{block.line}"


# --- the README -------------------------------------------------------------------------------


def test_readme_is_a_short_newcomer_page() -> None:
    assert len(README.read_bytes()) <= 8 * 1024


def test_readme_ten_lines_run_offline_inside_the_hosts_layout(
    run_page: Callable[[Path], PageRun],
) -> None:
    run = run_page(README)
    app = run.after(0)["app"]
    assert app.config["REVU_USE_FAKE"] is True
    response = sign_in_by_session(app, "alex-42").get("/rewards/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<header class="site-header">My site</header>' in html
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce is not None
    assert f'<style nonce="{nonce.group(1)}">' in html


def test_readme_ten_lines_are_the_quickstarts() -> None:
    quickstart = python_blocks(DOCS / "quickstart.md")[0].body
    assert [b.body for b in python_blocks(README)] == [quickstart]
    layout = [b.body for b in fenced_blocks(DOCS / "quickstart.md") if b.language == "html+jinja"]
    assert [b.body for b in fenced_blocks(README) if b.language == "html+jinja"] == layout


def test_readme_links_resolve_into_the_docs() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    relative = [link for link in links if "://" not in link and not link.startswith("mailto:")]
    missing = [link for link in relative if not (REPO / link).is_file()]
    assert not missing, f"README links to missing files: {missing}"
    pages = {link for link in relative if link.startswith("docs/") and link.endswith(".md")}
    # Every page of the manual is one click from the README.
    assert pages == {
        f"docs/{p.name}" for p in PAGES if p.stem not in {"index", "README-load", "contributing"}
    }
