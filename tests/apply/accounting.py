"""Checks shared by the chaos and kill tests: the journal against the sandbox's request log and dumps."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.testing import is_write, route_of

REFUSED = {429, 521}  # documented refusals: the client resends these itself; nothing was executed


def log_classes(log: dict[str, Any]) -> dict[str, Counter[str]]:
    """Write requests the sandbox saw, by route: answered ok, may have committed (no/5xx answer), refused."""
    out: dict[str, Counter[str]] = {"ok": Counter(), "unknown": Counter(), "failed": Counter()}
    for e in log["requests"]:
        if not is_write(e) or e["status"] in REFUSED:
            continue
        if e["dropped"] or e["status"] >= 500 or e["status"] == 461:
            out["unknown"][e["route"]] += 1
        elif 200 <= e["status"] < 300:
            out["ok"][e["route"]] += 1
        else:
            out["failed"][e["route"]] += 1
    return out


def journal_classes(events: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {"ok": Counter(), "unknown": Counter(), "failed": Counter()}
    for e in events:
        if e["event"] == "outcome":
            out[e["result"]][route_of(e["path"])] += 1
    return out


def assert_journal_accounts(log: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Every write the sandbox executed or may have executed has its outcome in the journal, by route."""
    assert journal_classes(events) == log_classes(log)
    unknown = {(e["call"], e["attempt"]) for e in events if e.get("result") == "unknown"}
    resolved = {(e["call"], e["attempt"]) for e in events if e["event"] == "resolved"}
    assert unknown == resolved  # every unknown outcome was settled by a re-read (or said it could not)


def assert_intents_cover(log: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """For a killed run: every write the sandbox received was announced by an intent line first."""
    sent = Counter(e["route"] for e in log["requests"] if is_write(e) and e["status"] not in REFUSED)
    intents = Counter(route_of(e["path"]) for e in events if e["event"] == "intent")
    for route, n in sent.items():
        assert intents[route] >= n, (route, intents[route], n)


def assert_untouched(before: dict[str, Any], after: dict[str, Any], ids: set[int]) -> None:
    """The customers ``ids`` and the cards they hold are byte-for-byte unchanged; no new merge anywhere."""
    b = {c["id"]: c for c in before["customers"]}
    a = {c["id"]: c for c in after["customers"]}
    for cid in ids:
        assert json.dumps(a[cid], sort_keys=True) == json.dumps(b[cid], sort_keys=True), cid
    cards_b = sorted(json.dumps(c, sort_keys=True) for c in before["cards"] if c.get("customerId") in ids)
    cards_a = sorted(json.dumps(c, sort_keys=True) for c in after["cards"] if c.get("customerId") in ids)
    assert cards_a == cards_b
    merged_b = {c["id"] for c in before["customers"] if c.get("mergedInto")}
    assert {c["id"] for c in after["customers"] if c.get("mergedInto")} == merged_b
