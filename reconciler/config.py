"""``reconciler.yaml``: API endpoint, auth, limits, ownership and safety budgets (docs/architecture.md 3.1).

Secrets never come from this file: credentials are read from the environment
(CAPILLARY_OAUTH_KEY / CAPILLARY_OAUTH_SECRET, or CAPILLARY_TILL / CAPILLARY_PASSWORD).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from reconciler.errors import ConfigError, Problem
from reconciler.yaml import YMap, display_name, position, read_yaml

SANDBOX = "sandbox"


@dataclass(frozen=True, slots=True)
class ApiConfig:
    url: str = SANDBOX  # "sandbox" = the embedded sandbox; else an http(s) base URL
    auth: str = "oauth"  # oauth | basic
    requests_per_minute: int = 1000
    concurrency: int = 16
    timeout_seconds: float = 30.0
    bulk_read: bool = False  # read customers with POST /v2/bulk/getCustomers batches
    bulk_batch_size: int = 100
    sandbox_db: str = ".reconciler/sandbox.db"  # where the embedded sandbox keeps its state

    @property
    def is_sandbox(self) -> bool:
        return self.url == SANDBOX


@dataclass(frozen=True, slots=True)
class ManageConfig:
    identifiers: tuple[str, ...] = ("mobile", "email", "externalId")
    cards: bool = True


@dataclass(frozen=True, slots=True)
class SafetyConfig:
    max_removals: int = 50
    max_removal_ratio: float = 0.3
    ratio_applies_from: int = 10  # the ratio is applied when a plan touches at least this many live items
    max_calls: int | None = None  # most API calls the apply may spend (the plan's estimate); None: no limit
    # how apply verifies written customers: "auto" re-reads every one with bulk reads on, else only those
    # whose writes' answers leave the outcome open; "reread" re-reads every one; "answers" only those
    verify: str = "auto"


@dataclass(frozen=True, slots=True)
class Config:
    api: ApiConfig = field(default_factory=ApiConfig)
    default_source: str = "INSTORE"
    manage: ManageConfig = field(default_factory=ManageConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    state_dir: str = "state"
    sources: tuple[str, ...] = ()  # SOURCE or SOURCE:accountId; used when the API does not list them
    simulate: bool = True  # plan runs its calls on a twin of the org (reconciler.simulate)
    root: Path = field(default_factory=Path.cwd)  # the directory reconciler.yaml lives in

    @property
    def rereads_written(self) -> bool:
        """Whether apply re-reads every customer it wrote (``safety.verify``), not only those whose writes'
        answers leave the outcome open: ``reread``, or ``auto`` with bulk reads (a request per batch)."""
        verify = self.safety.verify
        return verify == "reread" or (verify == "auto" and self.api.bulk_read)


CONFIG_FILE = "reconciler.yaml"
_SCHEMA = Path(__file__).parent / "schemas" / "config.schema.json"


def load_config(path: Path | None = None) -> Config:
    """Read reconciler.yaml (``./reconciler.yaml`` by default; a missing file means defaults)."""
    path = path if path is not None else Path(CONFIG_FILE)
    if not path.exists():
        return Config(root=path.resolve().parent)
    if path.is_dir():
        path = path / CONFIG_FILE
        if not path.exists():
            return Config(root=path.resolve().parent)
    data = _read(path)
    root = path.resolve().parent
    return Config(
        api=ApiConfig(**data.get("api", {})),
        default_source=data.get("default_source", "INSTORE"),
        manage=_manage(data.get("manage", {})),
        safety=SafetyConfig(**data.get("safety", {})),
        state_dir=data.get("state_dir", "state"),
        sources=tuple(data.get("sources", ())),
        simulate=bool(data.get("simulate", True)),
        root=root,
    )


def _manage(data: dict[str, Any]) -> ManageConfig:
    if "identifiers" in data:
        data = {**data, "identifiers": tuple(data["identifiers"])}
    return ManageConfig(**data)


def _read(path: Path) -> dict[str, Any]:
    name = display_name(path)
    parsed = read_yaml(path, name)
    problems = list(parsed.problems)
    data = parsed.data if parsed.data is not None else {}
    if not problems:
        validator = jsonschema.Draft202012Validator(json.loads(_SCHEMA.read_text()))
        for error in validator.iter_errors(data):
            problems.append(_problem(name, data, error))
    if problems:
        problems.sort(key=lambda p: (p.line, p.col))
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        state_dir = data.get("state_dir") if isinstance(data, dict) else None
        usable = state_dir if isinstance(state_dir, str) and state_dir else None
        raise ConfigError(f"{problems[0]}{more}", tuple(problems), usable)
    return dict(data)


def _problem(name: str, data: Any, error: jsonschema.ValidationError) -> Problem:
    path = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "top level"
    line, col = position(data, path)
    node = error.instance
    if error.validator == "additionalProperties" and isinstance(node, YMap):
        allowed = error.schema.get("properties", {})
        extra = next(k for k in node if k not in allowed)
        line, col = node.key_pos[extra]
        return Problem(name, line, col, f"unknown key '{extra}' in {where} (allowed: {', '.join(allowed)})")
    if error.validator == "pattern" and error.schema.get("description"):  # the description says what fits
        secret = any(c in str(node) for c in "@?#")  # userinfo, a query or a fragment may carry a credential
        shown = "(value not shown: it may hold a secret)" if secret else repr(node)
        return Problem(name, line, col, f"{where}: {shown} is not valid: {error.schema['description']}")
    return Problem(name, line, col, f"{where}: {error.message}")
