"""Import: canonical state YAML for customers that already exist, so a team can adopt the tool.

``read_for_import`` resolves the requested customers (ids, or ``TYPE=VALUE`` lookups), reads them, and
collects warnings: victims (merged-away accounts: skipped), campaign accounts (skipped), unknown ids
(skipped), customers that are not ACTIVE, and identifiers shared with other accounts. ``render_state``
writes the same format ``state/`` uses (``reconciler/desired/__init__.py``), with a stable key order: id,
identifiers (profiles sorted, types in ``manage.identifiers`` order), cards (sorted by number). Only the
managed identifier types are written; cards (number, series code, status label) when ``manage.cards``,
leaving out EXPIRED/DELETED cards (apply never touches those). The command then plans what it wrote and
fails unless the plan is empty.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.config import Config
from reconciler.errors import ApiError, MergedCustomerError, NotFoundError, ReconcilerError, UsageError
from reconciler.mask import mask_value
from reconciler.model import (
    DEAD_CARD_STATUSES,
    Identifier,
    LiveCustomer,
    LiveReader,
    Progress,
    is_card_type,
    no_progress,
)
from reconciler.reads import chunk_size, gather_counted, read_customers
from reconciler.schemas import modeline
from reconciler.yaml.scalars import resolves_to_non_string

MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Imported:
    """The customers to write, and what the user should be warned about."""

    customers: tuple[LiveCustomer, ...]
    warnings: tuple[str, ...]


def parse_lookup(text: str) -> Identifier:
    """``TYPE=VALUE`` as an Identifier; a UsageError otherwise."""
    kind, sep, value = text.partition("=")
    if not (sep and kind.strip() and value.strip()):
        raise UsageError(f"--lookup {text!r}: expected TYPE=VALUE, e.g. mobile=919876543210")
    return Identifier(kind.strip(), value.strip())


def parse_request_file(path: Path) -> tuple[list[int], list[Identifier]]:
    """A file of customer ids and ``TYPE=VALUE`` lines (``#`` comments, blank lines ignored)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"--from-file {path}: {exc.strerror or exc}") from exc
    ids, lookups = [], []
    for number, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        if text.isascii() and text.isdigit():
            if not 0 < int(text) <= MAX_ID:
                raise UsageError(f"{path}:{number}: customer id {text} is out of range (1 to {MAX_ID})")
            ids.append(int(text))
        elif "=" in text:
            lookups.append(parse_lookup(text))
        else:
            raise UsageError(f"{path}:{number}: expected a customer id or TYPE=VALUE, got {text!r}")
    return ids, lookups


async def _resolve_lookups(
    reader: LiveReader, lookups: Sequence[Identifier], warnings: list[str], progress: Progress
) -> list[int]:
    holders = await gather_counted("lookups", [reader.find_identifier_holder(i) for i in lookups], progress)
    ids = []
    for ident, holder in zip(lookups, holders, strict=True):
        shown = f"{ident.type} {mask_value(ident.type, ident.value)}"
        if holder is None:
            warnings.append(f"{shown}: no customer holds it; skipped")
        elif holder.victim:
            warnings.append(f"{shown}: held by {holder.victim_text()}; skipped")
        elif holder.unknown or not holder.customer_id:
            warnings.append(f"{shown}: who holds it is unclear ({holder.unknown or 'unnamed'}); skipped")
        else:
            ids.append(holder.customer_id)
    return ids


def _usable(cid: int, live: LiveCustomer | ApiError, warnings: list[str]) -> LiveCustomer | None:
    if isinstance(live, MergedCustomerError):
        warnings.append(f"customer {cid} is a merge victim (merged into another account); skipped")
    elif isinstance(live, NotFoundError):
        warnings.append(f"customer {cid} does not exist; skipped")
    elif isinstance(live, ApiError):
        raise live
    elif live.campaign:
        warnings.append(f"customer {cid} is a campaign (non-registered) account; skipped")
    else:
        if live.status != "ACTIVE":
            warnings.append(f"customer {cid} has status {live.status}: the API rejects changes to it")
        return live
    return None


def managed_identifiers(customer: LiveCustomer, config: Config) -> list[tuple[str, Identifier]]:
    """``(profile, identifier)`` of every managed, non-card identifier the customer holds."""
    managed = set(config.manage.identifiers)
    return [
        (str(p.key), i)
        for p in customer.profiles
        for i in p.identifiers
        if i.type in managed and not is_card_type(i.type)
    ]


async def _shared(
    reader: LiveReader, customers: Sequence[LiveCustomer], config: Config, progress: Progress
) -> list[str]:
    """Identifiers another account also answers to (found by lookup, or on two imported customers)."""
    owners: dict[Identifier, set[int]] = defaultdict(set)
    for c in customers:
        for _, ident in managed_identifiers(c, config):
            owners[ident].add(c.id)
    idents = sorted(owners)
    reads = [reader.find_identifier_holder(i) for i in idents]
    holders = await gather_counted("shared identifiers", reads, progress)
    out = []
    for ident, holder in zip(idents, holders, strict=True):
        others = set(owners[ident])
        if holder is not None and holder.customer_id and holder.customer_id not in others:
            others.add(holder.customer_id)
        if len(others) > 1:
            ids = ", ".join(map(str, sorted(others)))
            out.append(f"{ident.type} {mask_value(ident.type, ident.value)} is shared by customers {ids}")
    return out


async def read_for_import(
    reader: LiveReader,
    ids: Sequence[int],
    lookups: Sequence[Identifier],
    config: Config,
    progress: Progress = no_progress,
) -> Imported:
    """Resolve, read and check the customers to import."""
    warnings: list[str] = []
    wanted = list(dict.fromkeys([*ids, *await _resolve_lookups(reader, lookups, warnings, progress)]))
    read = await read_customers(reader, wanted, progress, size=chunk_size(config))
    customers = [c for cid in wanted if (c := _usable(cid, read[cid], warnings)) is not None]
    warnings += await _shared(reader, customers, config, progress)
    return Imported(tuple(sorted(customers, key=lambda c: c.id)), tuple(warnings))


def customer_data(customer: LiveCustomer, config: Config) -> dict[str, Any]:
    """One customer in the state format, keys in canonical order."""
    order = {t: n for n, t in enumerate(config.manage.identifiers)}
    profiles: dict[str, dict[str, str]] = {}
    for profile, ident in sorted(managed_identifiers(customer, config), key=lambda x: x[0]):
        profiles.setdefault(profile, {}).setdefault(ident.type, ident.value)
    data: dict[str, Any] = {"id": customer.id}
    if profiles:
        data["identifiers"] = {
            key: dict(sorted(values.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))
            for key, values in profiles.items()
        }
    if config.manage.cards:
        data["cards"] = [
            {"number": c.number, "series": c.series_code or c.series_id, "status": c.status_label}
            for c in sorted(customer.cards, key=lambda c: c.number)
            if c.status not in DEAD_CARD_STATUSES
        ]
    return data


class _Dumper(yaml.SafeDumper):
    """PyYAML's dumper quotes what YAML 1.1 reads as a non-string; this also quotes what YAML 1.2 does.

    The state reader resolves with the YAML 1.2 core schema, where ``09876543210``, ``12e4`` or ``0o777``
    are numbers; PyYAML (YAML 1.1) writes them plain. Quoting every string either version would resolve to
    something else makes the file read back to the same values in any reader.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if resolves_to_non_string(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump(data: Any) -> str:
    """``data`` as block-style YAML that the state reader reads back to the same values."""
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
    )


def render_state(customers: Sequence[LiveCustomer], config: Config, target: str, path: Path) -> str:
    """A state file declaring ``customers`` exactly as they are live, its modeline computed for ``path``."""
    text = dump({"customers": [customer_data(c, config) for c in customers]})
    header = modeline("state.schema.json", path, config.root)
    return f"{header}# Imported by `reconciler import` from {target}.\n{text}"


def write_state(
    imported: Imported, out: Path, *, per_customer: bool, config: Config, target: str
) -> list[Path]:
    """Write one file (``out``) or one file per customer (in directory ``out``); never overwrites."""
    if per_customer:
        files = {out / f"customer-{c.id}.yaml": [c] for c in imported.customers}
    else:
        files = {out: list(imported.customers)}
    existing = [p for p in files if p.exists()]
    if existing:
        raise ReconcilerError(f"{existing[0]} exists; import never overwrites (choose another --out)")
    for path, customers in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_state(customers, config, target, path), encoding="utf-8")
    return list(files)
