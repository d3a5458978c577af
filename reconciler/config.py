"""``reconciler.yaml``: API endpoint, auth, limits, ownership and safety budgets (DESIGN.md 3).

Secrets never come from this file: credentials are read from the environment
(CAPILLARY_OAUTH_KEY / CAPILLARY_OAUTH_SECRET, or CAPILLARY_TILL / CAPILLARY_PASSWORD).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True, slots=True)
class Config:
    api: ApiConfig = field(default_factory=ApiConfig)
    default_source: str = "INSTORE"
    manage: ManageConfig = field(default_factory=ManageConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    state_dir: str = "state"
    root: Path = field(default_factory=Path.cwd)  # the directory reconciler.yaml lives in
