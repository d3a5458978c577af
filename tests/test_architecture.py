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
CORE = (
    "reconciler.model",
    "reconciler.reads",
    "reconciler.mask",
    "reconciler.yaml",
    "reconciler.desired",
    "reconciler.plan",
)
OUTER = (
    "reconciler.render",
    "reconciler.commands",
    "reconciler.capillary",
    "reconciler.sandbox",
    "reconciler.simulate",
)
SIMULATE = "reconciler.simulate"
LOADER = (
    "reconciler.workspace"  # Workspace, loading config and state, the scope: shared by commands and tests
)


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


def imported_names(module: str) -> set[str]:
    """Every absolute name ``module`` imports (``import a.b`` -> ``a.b``; ``from a import b`` -> ``a.b``)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(MODULES[module].read_text()))
    return found


def imports_of(module: str) -> set[str]:
    """The reconciler modules ``module`` imports."""
    found = {m for name in imported_names(module) if (m := _resolve(name))}
    found.discard(module)
    return {m for m in found if m.startswith("reconciler")}


GRAPH = {module: imports_of(module) for module in MODULES}


def reached_from(module: str) -> set[str]:
    """``module`` and every reconciler module it imports, directly or through others."""
    seen = {module}
    todo = [module]
    while todo:
        for nxt in GRAPH.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


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


def test_the_workspace_loader_never_imports_click() -> None:
    """Loading reconciler.yaml, the state and the scope works without a command line (tests, benchmarks):
    the click options live in ``reconciler.commands.options``, never on the loader's import path."""
    users = sorted(m for m in reached_from(LOADER) if any(_is_click(n) for n in imported_names(m)))
    assert not users, f"{LOADER} reaches click through {', '.join(users)}"


def _is_click(name: str) -> bool:
    return name == "click" or name.startswith("click.")


def _exits(node: ast.Raise | ast.Call) -> bool:
    """``sys.exit(...)``, ``ctx.exit(...)``, ``ctx.abort()``, ``exit(...)`` or ``raise SystemExit``."""
    if isinstance(node, ast.Raise):
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return isinstance(exc, ast.Name) and exc.id == "SystemExit"
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in ("exit", "quit")
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.attr in ("exit", "abort")
    )


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("reconciler.commands")))
def test_commands_return_their_exit_code(module: str) -> None:
    """A command returns its exit code and raises ``ReconcilerError``; only cli.py's handler exits."""
    tree = ast.parse(MODULES[module].read_text())
    calls = (n for n in ast.walk(tree) if isinstance(n, ast.Raise | ast.Call))
    lines = sorted(n.lineno for n in calls if _exits(n))
    assert not lines, f"{module} exits by itself at line(s) {lines}"


def test_the_simulation_sits_above_apply_and_the_sandbox_and_below_the_commands() -> None:
    """The twin and its verdict have a room of their own: they use the apply path and the sandbox,
    the commands use them, and nothing but the commands does (apply, the sandbox and the core never)."""
    inside = sorted(m for m in MODULES if m.startswith(SIMULATE))
    reached = set().union(*(GRAPH[m] for m in inside))
    assert {"reconciler.apply", "reconciler.sandbox"} <= {
        m.rpartition(".")[0] or m for m in reached
    } | reached
    users = sorted(
        m for m in MODULES if not m.startswith(SIMULATE) and any(d.startswith(SIMULATE) for d in GRAPH[m])
    )
    assert users and all(m.startswith("reconciler.commands") for m in users), users
    upward = sorted(
        d for m in inside for d in GRAPH[m] if d.startswith(("reconciler.commands", "reconciler.cli"))
    )
    assert not upward, f"the simulation imports {upward}"


def test_the_walk_sees_real_imports() -> None:
    """The checks above are only as good as the graph: a known edge must be in it."""
    assert "reconciler.plan.diff" in GRAPH["reconciler.plan.risk"]
    assert "reconciler.capillary" in GRAPH["reconciler.commands.plan"]
    assert "click" in imported_names("reconciler.commands.options")
    assert "reconciler.desired" in reached_from(LOADER)
