"""The safety contract: apply writes exactly what was reviewed and never merges two accounts.

Racing applies (one lock per target; the holder read again at write time), lookalike values (the checksum
binds raw values, not their 24-bit masked form), no public masking key, and verification after writing.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.apply import STALE, ApplyResult, apply_plan
from reconciler.apply.journal import Journal
from reconciler.apply.lock import LOCK_DIR_ENV, lock_path
from reconciler.apply.verify import verify
from reconciler.capillary import CapillaryWriter
from reconciler.commands.apply import lock_key
from reconciler.commands.target import open_target
from reconciler.mask import MASK_KEY_ENV, mask_value
from reconciler.plan import GENERATE_CARD, MERGE, Plan
from reconciler.plan.live import make_plan
from reconciler.sandbox.server import SandboxServer
from reconciler.workspace import load_workspace
from tests.apply.held_proxy import GatedProxy
from tests.testing import REPO, Workspace, is_write, make_workspace
from tests.testing.variants import ALL, label

TOM, SID = 564854782, 564854846
SHARED = "shared.new@example.com"
DEADLINE = 300.0  # seconds: a safeguard against a hung subprocess, never an assertion on speed


def _tom(email: str) -> str:
    return f"""customers:
  - id: {TOM}
    identifiers:
      INSTORE:
        mobile: "919876543210"
        email: {email}
        externalId: EXT564854782
"""


def _sid(email: str | None) -> str:
    extra = f"\n        email: {email}" if email else ""
    return f"""customers:
  - id: {SID}
    identifiers:
      WECHAT:wechat-con1:
        wechat: oWx21ab003ec1
        mobile: "919876543259"{extra}
"""


def _victims(server: SandboxServer) -> set[int]:
    return {c["id"] for c in server.dump()["customers"] if c.get("mergedInto")}


def _holders_of(server: SandboxServer, value: str) -> set[int]:
    return {
        c["id"]
        for c in server.dump()["customers"]
        for p in c["profiles"]
        for i in p["identifiers"]
        if i["value"] == value
    }


def _writes(server: SandboxServer) -> list[dict[str, Any]]:
    return [e for e in server.request_log()["requests"] if is_write(e)]


def _plan_json(ws: Workspace) -> dict[str, Any]:
    done = ws.cli("plan", "--all", "--format", "json")
    assert done.returncode in (0, 3), done.stderr
    return dict(json.loads(done.stdout))


def _point_at(ws: Workspace, url: str) -> None:
    config = ws.root / "reconciler.yaml"
    text = config.read_text(encoding="utf-8").replace(ws.server.url, url)
    config.write_text(text.replace("timeout_seconds: 10", "timeout_seconds: 300"), encoding="utf-8")


def _first_to_end(procs: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        for proc in procs:
            if proc.poll() is not None:
                return proc
        time.sleep(0.05)
    raise AssertionError("no apply ended")


def _last_line_verifies(stdout: str) -> None:
    last = stdout.rstrip().splitlines()[-1]
    words = last.split()
    assert words[0] == "verified" and words[1] == words[3] and last.endswith("customers"), stdout


# ----- one apply per target ------------------------------------------------------------------------


@pytest.mark.slow
def test_two_applies_of_one_plan_started_together_write_once(demo_ws: Workspace) -> None:
    proxy = GatedProxy(demo_ws.server.port)
    try:
        _point_at(demo_ws, proxy.url)
        proxy.open()
        plan = _plan_json(demo_ws)
        proxy.shut()  # from here every request waits: the lock holder cannot finish before the other tries
        before = demo_ws.server.dump()
        demo_ws.server.clear_log()
        procs = [demo_ws.popen("apply", "--checksum", plan["checksum"]) for _ in range(2)]
        loser = _first_to_end(procs)
        winner = procs[1 - procs.index(loser)]
        _, err = loser.communicate()
        assert loser.returncode == 1, err
        assert len(err.strip().splitlines()) == 1 and f"pid {winner.pid} " in err, err
        proxy.open()
        out, err = winner.communicate(timeout=DEADLINE)
    finally:
        proxy.close()
    assert winner.returncode == 0, out + err
    _last_line_verifies(out)
    sent = Counter((e["method"], e["path"].split("?")[0]) for e in _writes(demo_ws.server))
    planned = Counter((c["method"], c["path"]) for c in plan["calls"])
    assert sent == planned  # each write once
    new_cards = {c["number"] for c in demo_ws.server.dump()["cards"]} - {c["number"] for c in before["cards"]}
    generates = sum(1 for c in plan["calls"] if c["op"] == GENERATE_CARD)
    created = sum(1 for c in plan["calls"] if c["op"] == "createCard")
    assert generates and len(new_cards) == generates + created  # no extra generated card


@pytest.mark.slow
def test_a_dead_applys_lock_is_taken_over_and_said_so(demo_ws: Workspace) -> None:
    space = load_workspace(demo_ws.root / "reconciler.yaml")
    path = lock_path(lock_key(space.config))
    code = (
        "import os, signal, sys; from pathlib import Path; from reconciler.apply.lock import target_lock\n"
        "with target_lock(Path(sys.argv[1]), 'x'):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    died = subprocess.run([sys.executable, "-c", code, str(path)], env=env, check=False, timeout=DEADLINE)
    assert died.returncode == -9 and json.loads(path.read_text())["pid"]
    done = demo_ws.cli("apply", "--auto-approve")
    assert done.returncode == 0, done.stderr
    assert "took over the lock of a dead apply" in done.stderr
    assert path.read_text() == ""  # released cleanly this time


# ----- the holder read again at write time ---------------------------------------------------------


async def _plan(ws: Workspace) -> Plan:
    space = load_workspace(ws.root / "reconciler.yaml")
    async with open_target(space.config) as reader:
        return await make_plan(reader, space.state.customers, space.state.by_id(), space.config, target="t")


async def _apply(ws: Workspace, plan: Plan) -> ApplyResult:
    space = load_workspace(ws.root / "reconciler.yaml")
    async with open_target(space.config, write=True) as writer:
        assert isinstance(writer, CapillaryWriter)
        journal = Journal(ws.root / "j.jsonl")
        try:
            return await apply_plan(plan, writer, space.state.by_id(), space.config, journal)
        finally:
            journal.close()


def _branches(tmp_path: Path, server: SandboxServer) -> tuple[Workspace, Workspace]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = make_workspace(tmp_path / "a", server, {"tom.yaml": _tom(SHARED)})
    b = make_workspace(tmp_path / "b", server, {"sid.yaml": _sid(SHARED)})
    return a, b


@pytest.mark.parametrize("variants", ALL, ids=label)
@pytest.mark.slow
def test_a_value_taken_between_plan_and_write_is_not_added(
    tmp_path: Path, demo_server: SandboxServer, variants: dict[str, str]
) -> None:
    """Two branches' applies, one after the other, under every combination of the API's variants."""
    demo_server.set_settings(**variants)
    a, b = _branches(tmp_path, demo_server)
    victims = _victims(demo_server)
    plan_a, plan_b = asyncio.run(_plan(a)), asyncio.run(_plan(b))
    for plan in (plan_a, plan_b):  # each plan alone is a plain add
        assert plan.calls and not plan.blocked and all(x.risk != MERGE for x in plan.actions)
    first = asyncio.run(_apply(a, plan_a))
    second = asyncio.run(_apply(b, plan_b))
    assert first.exit_code == 0 and first.verification.summary() == "verified 1 of 1 customers"
    (sid,) = second.customers
    assert (sid.status, second.exit_code) == (STALE, 5)
    assert f"now held by customer {TOM}" in sid.reason and SHARED not in sid.reason
    assert second.writes_sent == 0 and second.verification.summary() == "verified 0 of 0 customers"
    assert _victims(demo_server) == victims
    assert _holders_of(demo_server, SHARED) == {TOM}


@pytest.mark.parametrize("together", [False, True], ids=["one-after-the-other", "started-together"])
@pytest.mark.slow
def test_two_branches_adding_one_value_never_merge(
    tmp_path: Path, demo_server: SandboxServer, monkeypatch: pytest.MonkeyPatch, together: bool
) -> None:
    # Two checkouts on one machine share the user's lock directory by default: whatever the interleaving,
    # one applies and the other is refused by the lock (1), blocked by its re-plan (4) or stale (5).
    monkeypatch.delenv(LOCK_DIR_ENV, raising=False)
    a, b = _branches(tmp_path, demo_server)
    victims = _victims(demo_server)
    checksums = [_plan_json(ws)["checksum"] for ws in (a, b)]
    if together:
        procs = [ws.popen("apply", "--checksum", c) for ws, c in zip((a, b), checksums, strict=True)]
        codes = sorted(p.wait(timeout=DEADLINE) for p in procs)
    else:
        codes = sorted(
            ws.cli("apply", "--checksum", c).returncode for ws, c in zip((a, b), checksums, strict=True)
        )
    assert codes[0] == 0 and codes[1] in (1, 4, 5), codes
    assert _victims(demo_server) == victims
    assert len(_holders_of(demo_server, SHARED)) == 1


@pytest.mark.slow
def test_a_second_checkouts_apply_to_the_same_target_is_refused_while_the_first_runs(
    tmp_path: Path, demo_server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two checkouts (two branches, or two state repositories for one org) on one machine, with no
    ``RECONCILER_LOCK_DIR``: the second apply is refused with one line while the first holds the target,
    and the accounts are never merged."""
    monkeypatch.delenv(LOCK_DIR_ENV, raising=False)
    proxy = GatedProxy(demo_server.port)
    try:
        a, b = _branches(tmp_path, demo_server)
        for ws in (a, b):
            _point_at(ws, proxy.url)
        proxy.open()
        checksums = [_plan_json(ws)["checksum"] for ws in (a, b)]
        victims = _victims(demo_server)
        proxy.shut()  # the first apply cannot get past its re-plan until the second has tried
        first = a.popen("apply", "--checksum", checksums[0])
        path = lock_path(lock_key(load_workspace(a.root / "reconciler.yaml").config))
        while not (path.exists() and f'"pid": {first.pid}' in path.read_text()):
            assert first.poll() is None, first.communicate()
            time.sleep(0.01)  # waits for a condition: the first holds the lock
        second = b.cli("apply", "--checksum", checksums[1], timeout=DEADLINE)
        assert second.returncode == 1, second.stdout + second.stderr
        assert len(second.stderr.strip().splitlines()) == 1, second.stderr
        assert "another apply to" in second.stderr and f"pid {first.pid} " in second.stderr
        proxy.open()
        out, err = first.communicate(timeout=DEADLINE)
    finally:
        proxy.close()
    assert first.returncode == 0, out + err
    assert _victims(demo_server) == victims
    assert _holders_of(demo_server, SHARED) == {TOM}


# ----- lookalike values ----------------------------------------------------------------------------


def _lookalikes() -> tuple[str, str]:
    """Two emails with one masked form under the test key (a birthday search: ~5,000 HMACs)."""
    seen: dict[str, str] = {}
    n = 0
    while True:
        value = f"s{n}@example.com"
        masked = mask_value("email", value)
        if masked in seen:
            return seen[masked], value
        seen[masked] = value
        n += 1


@pytest.mark.slow
def test_a_lookalike_value_does_not_pass_as_the_reviewed_one(
    tmp_path: Path, demo_server: SandboxServer
) -> None:
    first, second = _lookalikes()
    assert first != second and mask_value("email", first) == mask_value("email", second)
    ws = make_workspace(tmp_path, demo_server, {"sid.yaml": _sid(first)})
    reviewed = _plan_json(ws)
    (tmp_path / "state" / "sid.yaml").write_text(_sid(second), encoding="utf-8")
    swapped = _plan_json(ws)
    assert {**swapped, "checksum": ""} == {**reviewed, "checksum": ""}  # a reviewer sees the same plan
    assert swapped["checksum"] != reviewed["checksum"]
    demo_server.clear_log()
    done = ws.cli("apply", "--checksum", reviewed["checksum"])
    assert done.returncode == 5, done.stdout + done.stderr
    assert _writes(demo_server) == []
    assert first not in done.stdout + done.stderr and second not in done.stdout + done.stderr


# ----- no public masking key -----------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "short-key"], ids=["unset", "empty", "short"])
@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.slow
def test_a_real_target_without_a_secret_masking_key_is_refused(
    demo_ws: Workspace, monkeypatch: pytest.MonkeyPatch, key: str | None, command: str
) -> None:
    if key is None:
        monkeypatch.delenv(MASK_KEY_ENV)
    else:
        monkeypatch.setenv(MASK_KEY_ENV, key)
    demo_ws.server.clear_log()
    args = ["--auto-approve"] if command == "apply" else []
    done = demo_ws.cli(command, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert MASK_KEY_ENV in line and "secrets.token_hex(32)" in line
    assert demo_ws.server.request_log()["requests"] == []  # refused before any request


@pytest.mark.slow
def test_the_embedded_sandbox_keeps_its_fixed_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASK_KEY_ENV)
    (tmp_path / "reconciler.yaml").write_text("api:\n  url: sandbox\n", encoding="utf-8")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "sid.yaml").write_text(_sid(None), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# ----- verify after write --------------------------------------------------------------------------


def test_verification_lists_what_live_state_no_longer_shows(
    tmp_path: Path, demo_server: SandboxServer
) -> None:
    ws = make_workspace(tmp_path, demo_server, {"sid.yaml": _sid(SHARED)})
    plan = asyncio.run(_plan(ws))
    result = asyncio.run(_apply(ws, plan))
    assert result.verification.summary() == "verified 1 of 1 customers"
    body = {"add": [], "remove": [{"type": "email", "value": SHARED}]}
    url = f"{demo_server.url}/v2/customers/{SID}/changeIdentifier?source=WECHAT&accountId=wechat-con1"
    assert httpx.post(url, json=body, headers=demo_server.basic_auth()).status_code == 200

    async def again() -> tuple[str, tuple[str, ...]]:
        space = load_workspace(ws.root / "reconciler.yaml")
        async with open_target(space.config) as reader:
            checked = await verify(plan, reader, result.customers, {})
        return checked.summary(), checked.divergences

    summary, divergences = asyncio.run(again())
    assert summary == "verified 0 of 1 customers"
    (line,) = divergences
    assert line.startswith(f"customer {SID}: add ") and "missing from WECHAT:wechat-con1" in line
    assert SHARED not in line
