"""What plan, apply, import and doctor load: reconciler.yaml, the state under state/, the scope, the rate.

Click-free (``tests/test_architecture.py`` checks it): the command options live in
``reconciler/commands/options.py`` and pass plain values here, so tests and benchmarks load a workspace
exactly as the commands do, without a command line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.config import CONFIG_FILE, Config, load_config
from reconciler.desired import collect, load_state, state_cache
from reconciler.errors import ConfigError, Problem, StateError, UsageError
from reconciler.mask import choose_mask_key
from reconciler.model import DesiredState
from reconciler.plan.scope import Scope, parse_shard, select_scope


@dataclass(frozen=True, slots=True)
class Workspace:
    config: Config
    state: DesiredState


@dataclass(frozen=True, slots=True)
class ScopeOptions:
    """Which customers a plan or apply covers, as the scope options say (``--all``, ``--changed-since``,
    ``--shard``, ``--customer``, ``--full-rate``); ``resolve_scope`` makes the ``Scope`` of them."""

    all: bool = False
    changed_since: str | None = None
    shard: str | None = None
    customers: tuple[int, ...] = ()
    full_rate: bool = False


def load_repository(config_path: Path) -> Config:
    """reconciler.yaml, which must exist: a command that writes (import) never falls back to the default
    target, the demo sandbox; outside a repository it says so (exit 2)."""
    if not config_path.is_file():
        raise UsageError(f"no {config_path} here: run in a reconciler repository or pass --config")
    config = load_config(config_path)
    choose_mask_key(sandbox=config.api.is_sandbox)
    return config


def find_state_dir(config: Config, config_path: Path) -> Path:
    """The state directory; a UsageError saying what is missing (validate, plan, apply share it)."""
    state_dir = config.root / config.state_dir
    if not state_dir.exists() and not config_path.is_file():
        raise UsageError(
            f"no {config_path} and no {config.state_dir}/ here: "
            "run in a reconciler repository or pass --config"
        )
    if not state_dir.exists():
        raise UsageError(f"{config.state_dir}/: no such directory (set state_dir in {config_path})")
    return state_dir


def load_config_checked(config_path: Path) -> tuple[Config, list[Problem]]:
    """reconciler.yaml, or, when it has located problems, the defaults (with its ``state_dir:`` if that
    one is usable) and those problems: the state can still be checked, and every problem said in one run."""
    try:
        return load_config(config_path), []
    except ConfigError as exc:
        if not exc.problems:
            raise
        path = config_path / CONFIG_FILE if config_path.is_dir() else config_path
        defaults = Config(root=path.resolve().parent, state_dir=exc.state_dir or "state")
        return defaults, list(exc.problems)


def load_workspace(config_path: Path) -> Workspace:
    """reconciler.yaml and every state file; a StateError lists every problem of both."""
    config, problems = load_config_checked(config_path)
    if problems:
        state_dir = config.root / config.state_dir
        found = collect([state_dir], root=config.root).problems if state_dir.is_dir() else []
        raise StateError(problems + found)
    choose_mask_key(sandbox=config.api.is_sandbox)
    state_dir = find_state_dir(config, config_path)
    # plan, apply and doctor read the state through the cache validate fills (reconciler/desired/cache.py)
    return Workspace(config, load_state([state_dir], root=config.root, cache=state_cache(config.root)))


def resolve_scope(ws: Workspace, options: ScopeOptions) -> Scope:
    """The scope the options name; ``--all`` and ``--changed-since`` exclude each other."""
    if options.all and options.changed_since:
        raise UsageError("--all and --changed-since exclude each other")
    return select_scope(
        ws.state,
        ws.config,
        changed_since=options.changed_since,
        shard=parse_shard(options.shard) if options.shard else None,
        selected=options.customers,
    )


def shard_rate(ws: Workspace, options: ScopeOptions) -> Workspace:
    """With ``--shard K/N``, the client runs at ``requests_per_minute / N``: N shards run at once (drift.yml),
    and together they must stay within the org's limit. ``--full-rate`` keeps the whole limit."""
    if options.shard is None or options.full_rate:
        return ws
    _, n = parse_shard(options.shard)
    api = replace(ws.config.api, requests_per_minute=max(1, ws.config.api.requests_per_minute // n))
    return Workspace(replace(ws.config, api=api), ws.state)
