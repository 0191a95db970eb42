"""The import graph holds the house's layering: the core imports no domain or shell module, domain packages
import no shell module, the shell is imported by nobody below it, and no module imports itself round a cycle.
Every import counts, top-level or inside a function; only ``if TYPE_CHECKING:`` blocks are left out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("casebook", "policies", "access", "library", "lifecycle", "review", "redaction", "notifications", "flows")
CORE, DOMAIN, ASSEMBLY, SHELL = 0, 1, 2, 3
NAMES = {CORE: "core", DOMAIN: "domain", ASSEMBLY: "assembly", SHELL: "shell"}


def layer(module: str) -> int:
    top = module.split(".")[0]
    if module == "casebook.core" or module.startswith("casebook.core.") or top == "policies":
        return CORE
    if top in ("access", "library", "lifecycle", "review", "redaction", "notifications"):
        return DOMAIN
    if module == "casebook.assembly" or top == "flows":
        return ASSEMBLY
    return SHELL   # casebook.cli, casebook.web, demo, simulate, models, store, migrations


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, known: set[str]) -> set[str]:
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] in PACKAGES)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in PACKAGES:
            for a in node.names:   # "from pkg import mod" names a module when one exists
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in known else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "versions" not in p.parts]
    known = {_module_name(p) for p in files}
    graph = {}
    for p in files:
        name = _module_name(p)
        graph[name] = {m for m in _imports(ast.parse(p.read_text(encoding="utf-8")), known) if m != name}
    return graph


GRAPH = _graph()


def test_graph_sees_every_package() -> None:
    assert {m.split(".")[0] for m in GRAPH} == set(PACKAGES)
    assert "casebook.core.context" in GRAPH["lifecycle.service"]   # the graph is not empty by accident


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_module_imports_a_layer_above_its_own(module: str) -> None:
    mine = layer(module)
    above = sorted(m for m in GRAPH[module] if layer(m) > mine)
    assert not above, f"{module} ({NAMES[mine]}) imports {above}"


def test_layering_rule_catches_a_shell_import() -> None:
    """The rule itself can fail: a core module importing the web shell is reported."""
    tree = ast.parse("def f():\n    from casebook.web import pages\n")
    imported = _imports(tree, set(GRAPH))
    assert any(layer(m) > CORE for m in imported)


def test_no_import_cycles() -> None:
    def cycles_from(graph: dict[str, set[str]]) -> list[list[str]]:
        found, state, stack = [], {}, []

        def dfs(node: str) -> None:
            state[node] = 1
            stack.append(node)
            for nxt in sorted(graph.get(node, ())):
                if nxt not in graph:
                    continue
                if state.get(nxt) == 1:
                    found.append(stack[stack.index(nxt):] + [nxt])
                elif nxt not in state:
                    dfs(nxt)
            stack.pop()
            state[node] = 2

        for node in sorted(graph):
            if node not in state:
                dfs(node)
        return found

    # packages import their own submodules from __init__; a package's __init__ importing a child is not a cycle
    graph = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in GRAPH.items()}
    assert cycles_from({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert cycles_from(graph) == []
