"""What risk assessment works from and what it has recorded so far (``reconciler.plan.risk``'s base).

The inputs: the changes, the holder of each identifier and card the diff adds, the org's catalog and every
declared customer. The record: the actions made so far, and which remove or delink releases which value
for which customer (a move waits for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.model import DesiredCustomer, Holder, Identifier, LiveCard, ProfileKey
from reconciler.plan.catalog import Catalog
from reconciler.plan.diff import ADD, DELINK, GENERATE, LINK, REMOVE, Change, Changes, CustomerChanges, Kind
from reconciler.plan.document import BLOCKED, CONFLICT, Action, Risk


@dataclass
class Ledger:
    """The inputs of an assessment, the actions it has made, and the releases indexed by value."""

    changes: Changes
    holders: Mapping[Identifier, Holder | None]
    card_holders: Mapping[str, LiveCard | None]
    catalog: Catalog
    all_declared: Mapping[int, DesiredCustomer]
    actions: list[Action] = field(default_factory=list)
    _id_releases: dict[tuple[Identifier, int], str] = field(default_factory=dict)
    _card_releases: dict[tuple[str, int], str] = field(default_factory=dict)
    _placeholders: dict[str, str] = field(default_factory=dict)  # "rN" -> the remove/delink action id
    # value -> the customers this plan adds it to, and in which profile
    _adders: dict[Identifier | str, dict[int, ProfileKey]] = field(default_factory=dict)

    def _index_releases(self) -> None:
        """Index each add or link by its value, and each remove or delink by the placeholder ``rN``."""
        n = 0
        for cc in self.changes.customers:
            for ch in cc.changes:
                n += 1
                if ch.kind in (ADD, LINK) and ch.value is not None and not cc.error:
                    key = Identifier(ch.type, ch.value) if ch.kind == ADD else ch.value
                    self._adders.setdefault(key, {})[cc.id] = ch.profile
                if ch.kind == REMOVE and ch.value is not None:
                    self._id_releases[(Identifier(ch.type, ch.value), cc.id)] = f"r{n}"
                elif ch.kind == DELINK and ch.value is not None:
                    self._card_releases[(ch.value, cc.id)] = f"r{n}"

    def _add(
        self,
        cc: CustomerChanges,
        ch: Change,
        kind: Kind,
        risk: Risk,
        reason: str,
        *,
        block: bool = False,
        series: int | str | None = None,
        label: str | None = None,
        holder: int | None = None,
        depends_on: tuple[str, ...] = (),
    ) -> str:
        """Record the action ``kind`` of ``ch``; its id. Blocked: a blocked or conflict risk, ``block`` (a
        merge not allowed), a customer that cannot change, a profile the org lacks. Series, label: ch's."""
        action_id = f"a{len(self.actions) + 1}"
        blocked = risk in (BLOCKED, CONFLICT) or block
        unknown = self.catalog.profile_problem(ch.profile) if kind not in (REMOVE, DELINK) else ""
        if cc.error or unknown:
            risk, blocked, reason = BLOCKED, True, cc.error or unknown
        action = Action(
            action_id,
            cc.id,
            kind,
            ch.profile,
            ch.type,
            ch.value if kind != GENERATE else None,
            risk,
            blocked,
            reason,
            ch.loc,
            series=ch.series if series is None else series,
            label=ch.label if label is None else label,
            holder=holder,
            depends_on=depends_on,
        )
        self.actions.append(action)
        return action_id

    @staticmethod
    def _held_card(cc: CustomerChanges | None, number: str) -> LiveCard | None:
        """The live card ``number`` of customer ``cc``, if it holds it."""
        if cc is None or cc.live is None:
            return None
        return next((c for c in cc.live.cards if c.number == number), None)

    def _label_status(self, label: str | None) -> str:
        """The card status a label stands for (the label itself if the org has no such label)."""
        found = next((lb for lb in self.catalog.labels if lb.label == label), None)
        return found.status if found else (label or "")
