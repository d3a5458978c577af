"""What an apply did: per call, per customer, and overall, with the exit code it earns
(docs/architecture.md 5.11 and 11).

Customer statuses: ``applied`` (every call ran), ``stale`` (its live facts changed since the plan, or it
depends on a stale customer: nothing was sent for it), ``failed`` (a write failed or its outcome could not
be settled, or it depends on such a call; the calls before it may have been applied).

Exit codes: 0 all applied; 5 some customers stale and none failed; 6 some failed, **or any incident**, or
a written customer whose re-read diverges from what the plan promised (``verify.py``).
An incident is a merge code (8050/8051/8053/8066/8067, in warnings or in errors) or a ``createdId`` other than
the customer written, on a call the plan did not mark as an allowed merge:
the reviewed plan did not show it, so the run cannot report success, and 6 ("partial") is the code that
tells the workflow that live state is not what was reviewed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from reconciler.errors import EXIT_OK, EXIT_PARTIAL, EXIT_STALE, TRANSIENT, Failure
from reconciler.plan import Op


class Status(StrEnum):
    """The fate of a call or a customer in an apply."""

    APPLIED = "applied"
    STALE = "stale"  # its live state moved since the plan: nothing sent for it
    FAILED = "failed"
    SKIPPED = "skipped"  # not sent: an earlier call of its customer did not apply


APPLIED, STALE, FAILED, SKIPPED = Status


class Verdict(StrEnum):
    """What re-reading says of a write whose outcome is unknown (``resolve.took_effect``)."""

    DONE = "done"  # it is visible: applied
    NOT_DONE = "not_done"  # provably not: nothing it would change has changed, so it may be sent again
    UNKNOWN = "unknown"  # cannot tell: part of it is visible, the read failed, or a generate
    MERGED = "merged"  # the customer is now a merge victim: the add took effect, with a merge

    @property
    def applied(self) -> bool | str | None:
        """The journal's ``applied`` field: true, false, null (cannot tell) or ``"merged"``."""
        return _APPLIED[self]


_APPLIED: dict[Verdict, bool | str | None] = {
    Verdict.DONE: True,
    Verdict.NOT_DONE: False,
    Verdict.UNKNOWN: None,
    Verdict.MERGED: "merged",
}
CUSTOMER_STATUSES = (APPLIED, STALE, FAILED)


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """The fate of one planned call."""

    call_id: str
    customer_id: int
    op: Op
    status: Status
    detail: str = ""  # why it failed or was skipped; how an unknown outcome was resolved
    sends: int = 0  # how many times it was sent
    warnings: tuple[int, ...] = ()
    merged: bool = False
    failure: Failure | None = None  # a failed call: TRANSIENT (re-running can help) or PERMANENT
    # applied, and the write's own answer said so (a 2xx, no merge): verification may take it as read
    answered: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "call": self.call_id,
            "op": self.op,
            "status": self.status,
            "detail": self.detail,
            "sends": self.sends,
            "warnings": list(self.warnings),
            "failure": self.failure,
        }


@dataclass(frozen=True, slots=True)
class GeneratedCard:
    """A card number generated at apply time, masked: the customer it was linked for and its series."""

    customer_id: int
    series: int | None
    masked: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"customer_id": self.customer_id, "series": self.series, "card": self.masked}


@dataclass(frozen=True, slots=True)
class CustomerResult:
    """One customer of the plan: its status, the reason, and its calls' outcomes."""

    id: int
    status: Status
    reason: str
    calls: tuple[CallOutcome, ...]
    failure: Failure | None = None  # a failed customer: TRANSIENT or PERMANENT

    @property
    def applied_calls(self) -> int:
        return sum(1 for c in self.calls if c.status == APPLIED)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "failure": self.failure,
            "calls": [c.to_dict() for c in self.calls],
        }


@dataclass(frozen=True, slots=True)
class Verification:
    """How many written customers matched the plan's promise on re-reading, and each divergence."""

    verified: int = 0
    written: int = 0
    divergences: tuple[str, ...] = ()
    reread: int = 0  # of ``written``, customers re-read; the rest were verified by their writes' answers

    def summary(self) -> str:
        """``verified N of M customers``: the line every result ends with."""
        return f"verified {self.verified} of {self.written} customers"

    def how(self) -> str:
        """How the written customers were verified, for the line before the summary."""
        answered = self.written - self.reread
        if not answered:
            return f"{self.reread} re-read" if self.reread else ""
        return f"{self.reread} re-read, {answered} by their writes' answers (2xx, no merge)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "verified": self.verified,
            "written": self.written,
            "reread": self.reread,
            "divergences": list(self.divergences),
        }


@dataclass(frozen=True)
class ApplyResult:
    """The whole run."""

    target: str
    checksum: str
    customers: tuple[CustomerResult, ...]
    incidents: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # things a reader should know that are not failures
    journal: str = ""
    seconds: float = 0.0
    verification: Verification = Verification()
    generated: tuple[GeneratedCard, ...] = ()  # masked numbers of the cards generated at apply time

    @cached_property
    def counts(self) -> dict[str, int]:
        found = Counter(c.status for c in self.customers)
        return {s: found.get(s, 0) for s in CUSTOMER_STATUSES}

    @property
    def writes_sent(self) -> int:
        return sum(o.sends for c in self.customers for o in c.calls)

    @property
    def rerun_helps(self) -> bool:
        """True when every failure is transient: running apply again (a fresh plan) can finish the work."""
        failed = [c for c in self.customers if c.status == FAILED]
        return bool(failed) and all(c.failure == TRANSIENT for c in failed)

    @property
    def exit_code(self) -> int:
        """6 on any failure, incident or divergence; else 5 if anything was stale; else 0."""
        if self.incidents or self.counts[FAILED] or self.verification.divergences:
            return EXIT_PARTIAL
        return EXIT_STALE if self.counts[STALE] else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``format_version`` 1); values never appear, only ids and codes."""
        return {
            "format_version": 1,
            "target": self.target,
            "checksum": self.checksum,
            "exit_code": self.exit_code,
            "incidents": list(self.incidents),
            "notes": list(self.notes),
            "summary": {**self.counts, "customers": len(self.customers), "writes_sent": self.writes_sent},
            "rerun_helps": self.rerun_helps,
            "journal": self.journal,
            "seconds": round(self.seconds, 3),
            "verification": self.verification.to_dict(),
            "customers": [c.to_dict() for c in self.customers],
            "generated_cards": [g.to_dict() for g in self.generated],
        }
