"""The house's shape, checked: import-linter's contracts (``[tool.importlinter]`` in pyproject.toml: the core
never reaches outwards, the layers, the simulation's room, no cycle between siblings), and one rule no
import graph shows: a command returns its exit code, only ``cli.py`` exits.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reconciler"
LINT_IMPORTS = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())",
]


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LINT_IMPORTS, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )


def test_the_import_contracts_are_kept() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "5 kept, 0 broken" in done.stdout, done.stdout[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("plan/diff.py", "import reconciler.capillary", "The core never imports"),
        ("workspace.py", "import click", "never reaches click"),
        ("apply/verify.py", "import reconciler.simulate", "Only the commands use the simulation"),
        ("model.py", "import reconciler.plan", "No cycle"),
    ],
)
def test_a_planted_import_breaks_its_contract(tmp_path: Path, module: str, planted: str, broken: str) -> None:
    """The contracts can fail: a copy of the package with one import planted breaks the named one."""
    shutil.copytree(PACKAGE, tmp_path / "reconciler", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "reconciler" / module
    target.write_text(target.read_text() + f"\n{planted}  # planted\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    line = next(line for line in done.stdout.splitlines() if broken in line)
    assert "BROKEN" in done.stdout[done.stdout.index(line) :].split("\n\n")[0], done.stdout[-2000:]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


COMMANDS = {_module_name(p): p for p in (PACKAGE / "commands").rglob("*.py")}


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


@pytest.mark.parametrize("module", sorted(COMMANDS))
def test_commands_return_their_exit_code(module: str) -> None:
    """A command returns its exit code and raises ``ReconcilerError``; only cli.py's handler exits."""
    tree = ast.parse(COMMANDS[module].read_text())
    calls = (n for n in ast.walk(tree) if isinstance(n, ast.Raise | ast.Call))
    lines = sorted(n.lineno for n in calls if _exits(n))
    assert not lines, f"{module} exits by itself at line(s) {lines}"


def test_no_test_imports_a_conftest() -> None:
    """Fixtures come from conftests by name; helpers and types from modules (tests/testing, a folder's)."""
    found = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in (ROOT / "tests").rglob("*.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if line.startswith(("from tests.", "from .")) and "conftest import" in line
    ]
    assert not found, "imports from a conftest: " + ", ".join(found)
