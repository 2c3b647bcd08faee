"""The package's shape: imports point down the layers (no cycles) and sit at the top of modules.

The imports are read from the source (``ast``), not from a running interpreter, so a cycle that
happens to import fine today (thanks to an import placed inside a function) is still caught.
Imports under ``if TYPE_CHECKING:`` are for annotations only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "revu_widgets"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in ``tree`` except those under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            found.extend(i for n in node.orelse for i in _imports(ast.Module([n], [])))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        found.extend(_imports(node))
    return found


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package's own modules that ``node`` (in ``module``) imports."""
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    else:
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        if node.level:
            base_parts = package.split(".")
            base_parts = base_parts[: len(base_parts) - (node.level - 1)]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        # ``from . import views`` imports a module; ``from .views import blueprint`` a name of
        # the module; ``from . import __version__`` a name of the package itself.
        submodules = {f"{base}.{alias.name}" for alias in node.names}
        names = submodules if node.module is None and submodules <= set(MODULES) else {base}
        names |= submodules
    return {name for name in names if name in MODULES and name != module}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[module] = {t for node in _imports(tree) for t in _targets(module, node)}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One import path around each cycle found (depth-first search)."""
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycles.append([*path[path.index(module) :], module])
            return
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    return cycles


def test_the_graph_sees_the_imports_it_should() -> None:
    # Guards the test itself: a parser that found no edges would find no cycles either.
    graph = _graph()
    assert "revu_widgets.state" in graph["revu_widgets.views"]
    assert "revu_widgets.blueprint" in graph["revu_widgets.support"]
    assert "revu_widgets.client" in graph["revu_widgets.fake.__main__"]
    assert "revu_widgets.extension" in graph["revu_widgets"]
    # Imports only for annotations are not edges.
    assert "revu_widgets.extension" not in graph["revu_widgets.state"]


def test_cycle_finder_reports_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]


def test_no_import_cycle_among_the_package_modules() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_every_import_is_at_the_top_of_its_module() -> None:
    late = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(node) for node in tree.body}
        for node in tree.body:
            if isinstance(node, ast.Try):
                # An optional dependency: ``try: import x`` / ``except ImportError``.
                top.update(id(n) for n in node.body)
        late.extend(f"{module}:{node.lineno}" for node in _imports(tree) if id(node) not in top)
    assert not late, f"imports inside functions or blocks: {late}"


#: A module longer than this does more than one job: split it by job.
MAX_MODULE_LINES = 950


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        module: lines
        for module, path in MODULES.items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"
