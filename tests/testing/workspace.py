"""The one test workspace: a directory with ``reconciler.yaml`` pointing at a sandbox and state files.

It is planned in-process (``plan``, ``plan_cli``, through the same glue the command uses) or run as the CLI
in a real subprocess (``cli``, ``popen``, ``checksum``). ``Workspace(root, server)`` writes an OAuth config
a plan test overrides section by section (``configure``); ``make_workspace`` writes the apply tests'
config (Basic auth, no binding rate limit or budget) and their state files.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.commands.plan import compute_plan
from reconciler.plan import Plan
from reconciler.sandbox.server import SandboxServer
from reconciler.workspace import ScopeOptions, load_workspace, resolve_scope
from tests.testing.seed import seed_fixture

REPO = Path(__file__).resolve().parents[2]


class Workspace:
    """A directory with reconciler.yaml pointing at ``server`` and state files written by the test."""

    def __init__(self, root: Path, server: SandboxServer, **sections: Mapping[str, Any]) -> None:
        self.root = root
        self.server = server
        (root / "state").mkdir(parents=True, exist_ok=True)
        self._write_config(None, sections)

    @property
    def config_path(self) -> Path:
        return self.root / "reconciler.yaml"

    def configure(self, url: str | None = None, **sections: Mapping[str, Any]) -> None:
        """Write reconciler.yaml: the server's url, OAuth, and any overridden sections."""
        self._write_config(url, sections)

    def _write_config(self, url: str | None, sections: Mapping[str, Mapping[str, Any]]) -> None:
        config: dict[str, Any] = {
            "api": {"url": url or self.server.url, "auth": "oauth", "concurrency": 16},
            "manage": {"identifiers": ["mobile", "email", "externalId"], "cards": True},
            "state_dir": "state",
        }
        for name, values in sections.items():
            config[name] = {**config.get(name, {}), **values}
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    def write_state(self, customers: Sequence[Mapping[str, Any]], name: str = "customers.yaml") -> Path:
        """One state file declaring ``customers``."""
        path = self.root / "state" / name
        path.write_text(yaml.safe_dump({"customers": list(customers)}, sort_keys=False), encoding="utf-8")
        return path

    def write_files(self, state: Mapping[str, str]) -> None:
        """State files by name, as text."""
        for name, text in state.items():
            (self.root / "state" / name).write_text(text, encoding="utf-8")

    def seed(
        self,
        customers: Iterable[dict[str, Any]],
        cards: Iterable[dict[str, Any]] = (),
        *,
        max_active: int | None = None,
    ) -> None:
        """Reset the sandbox to the demo org with these customers and cards (``max_active``: every series'
        maxActiveCardsPerCustomer instead of the demo's 1); forget the request log."""
        fixture = seed_fixture(customers, cards)
        for series in fixture["series"] if max_active is not None else ():
            series["maxActiveCardsPerCustomer"] = max_active
        self.server.reset()
        self.server.seed(fixture)
        self.server.clear_log()

    # In-process.

    def plan_cli(self, *args: str) -> Result:
        """``reconciler plan --config ... ARGS`` in-process; stdout and stderr kept apart."""
        return CliRunner().invoke(main, ["plan", "--config", str(self.config_path), *args])

    def plan(
        self, *, changed_since: str | None = None, shard: str | None = None, force: bool = False
    ) -> Plan:
        """The Plan object, through the same glue the command uses."""
        ws = load_workspace(self.config_path)
        scope = resolve_scope(ws, ScopeOptions(changed_since=changed_since, shard=shard))
        return asyncio.run(compute_plan(ws, scope, force=force, progress=False))

    def requests(self) -> list[dict[str, Any]]:
        """The sandbox's logged requests (admin calls excluded)."""
        return list(self.server.request_log()["requests"])

    # As a subprocess.

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``reconciler ARGS`` in the workspace as a real subprocess."""
        return subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "NO_COLOR": "1"},
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "reconciler", *args],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def checksum(self) -> str:
        """The checksum ``reconciler plan --all`` prints."""
        done = self.cli("plan", "--all")
        assert done.returncode in (0, 3), done.stderr
        found = re.search(r"Checksum: ([0-9a-f]{64})", done.stdout)
        assert found, done.stdout
        return found.group(1)


# The apply tests' target: Basic auth, every identifier type managed, no binding limit or budget.
APPLY_MANAGE = {"identifiers": ["mobile", "email", "externalId", "wechat"], "cards": True}
APPLY_SAFETY = {"max_removals": 100000, "max_removal_ratio": 1.0}


def make_workspace(
    root: Path,
    server: SandboxServer,
    state: Mapping[str, str],
    *,
    safety: Mapping[str, Any] | None = None,
    **api: Any,
) -> Workspace:
    """reconciler.yaml pointing at ``server`` (the apply tests' settings, ``api`` overriding them, ``safety``
    added to theirs) and the given state files."""
    settings = {
        "auth": "basic",
        "concurrency": 8,
        "requests_per_minute": 100000,
        "timeout_seconds": 10,
        **api,
    }
    ws = Workspace(root, server, api=settings, manage=APPLY_MANAGE, safety={**APPLY_SAFETY, **(safety or {})})
    ws.write_files(state)
    return ws


def demo_state() -> dict[str, str]:
    """The repository's demo state, with Lydia's merge (blocked by design) taken out."""
    out = {p.name: p.read_text(encoding="utf-8") for p in (REPO / "state").glob("*.yaml")}
    out["bennets.yaml"] = out["bennets.yaml"].replace("919876543343", "919876543399")
    return out
