"""The house's shape, checked: the import graph has no cycle, and the pure core never reaches outwards.

The core (``model``, ``mask``, ``yaml``, ``desired``, ``plan``) decides what to change from data it is given;
it never imports the API client, the sandbox, the renderers or the command layer. Imports are read from
the source with ``ast`` (every import, at any depth, except those under ``if TYPE_CHECKING:``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"
CORE = ("reconciler.model", "reconciler.mask", "reconciler.yaml", "reconciler.desired", "reconciler.plan")
OUTER = ("reconciler.render", "reconciler.commands", "reconciler.capillary", "reconciler.sandbox")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The module an import names (``from a.b import c`` may name module ``a.b.c`` or a name in ``a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports_of(module: str) -> set[str]:
    """The reconciler modules ``module`` imports."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                found.update(filter(None, (_resolve(a.name) for a in child.names)))
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    target = _resolve(f"{child.module}.{alias.name}")
                    if target:
                        found.add(target)
            visit(child)

    visit(ast.parse(MODULES[module].read_text()))
    found.discard(module)
    return {m for m in found if m.startswith("reconciler")}


GRAPH = {module: imports_of(module) for module in MODULES}


def _cycle_from(start: str) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def walk(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(GRAPH.get(node, ())):
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done and (cycle := walk(nxt)):
                return cycle
        on_path.discard(path.pop())
        done.add(node)
        return None

    return walk(start)


def test_the_import_graph_has_no_cycle() -> None:
    cycles = [c for m in sorted(GRAPH) if (c := _cycle_from(m))]
    assert not cycles, "import cycle: " + " -> ".join(cycles[0])


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(CORE)))
def test_the_core_never_imports_the_outer_layers(module: str) -> None:
    outward = sorted(m for m in GRAPH[module] if m.startswith(OUTER))
    assert not outward, f"{module} imports {', '.join(outward)}"


def test_the_walk_sees_real_imports() -> None:
    """The checks above are only as good as the graph: a known edge must be in it."""
    assert "reconciler.plan.diff" in GRAPH["reconciler.plan.risk"]
    assert "reconciler.capillary" in GRAPH["reconciler.commands.plan"]
