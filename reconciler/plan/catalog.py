"""The org's vocabulary as the plan checks and uses it: sources and accounts, card series, status labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.model import MULTI_ACCOUNT_SOURCES, CardLabel, ProfileKey, Series


@dataclass(frozen=True, slots=True)
class Catalog:
    """Series and labels: which exist, which are usable, and the default label of a status."""

    series: Sequence[Series]
    labels: Sequence[CardLabel]
    sources: Mapping[str, frozenset[str]] | None = None  # None: the org's sources are not known

    def profile_problem(self, key: ProfileKey) -> str:
        """A problem if the org has no such source, or (multi-account sources) no such accountId."""
        if self.sources is None:
            return ""
        if key.source not in self.sources:
            return f"unknown source {key.source} (the org's sources: {', '.join(sorted(self.sources))})"
        accounts = self.sources[key.source]
        if key.source in MULTI_ACCOUNT_SOURCES and key.account_id not in accounts:
            known = ", ".join(f"{key.source}:{a}" for a in sorted(accounts) if a) or "none"
            return (
                f"unknown account {key} (the org's {key.source} accounts: {known}); the API would answer 8011"
            )
        return ""

    def find_series(self, ref: int | str | None) -> tuple[Series | None, str]:
        """The series given by id (int) or code (str), and a problem if it cannot take cards."""
        found = next((s for s in self.series if (s.id if isinstance(ref, int) else s.code) == ref), None)
        if found is None:
            return None, f"unknown card series {ref}"
        if not found.active:
            return found, f"card series {found.code} is inactive"
        return found, ""

    def label_problem(self, label: str | None) -> str:
        """A problem if ``label`` is not one of the org's card labels (unchecked when labels are unknown)."""
        if self.labels and label is not None and all(lb.label != label for lb in self.labels):
            return f"unknown card status label {label}"
        return ""

    def default_label(self, status: str) -> str:
        """The default label of a card status (the status name itself if the org has none)."""
        found = [lb for lb in self.labels if lb.status == status]
        best = next((lb for lb in found if lb.default), found[0] if found else None)
        return best.label if best else status

    def not_issued(self) -> str:
        """The label a delink, create or generate sends."""
        return self.default_label("NOT_ISSUED")

    def link_label(self, label: str | None) -> str:
        """The label a link sends: the declared one if it is an ACTIVE label, else ACTIVE's default."""
        if any(lb.label == label and lb.status == "ACTIVE" for lb in self.labels):
            return label or "ACTIVE"
        return self.default_label("ACTIVE")
