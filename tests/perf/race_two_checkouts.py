"""Two-writer races on one machine (issue 20): two checkouts of different state repositories apply, at
randomized offsets, an add of the same email to two customers in different sources (Tom in INSTORE, Sid in
WECHAT:wechat-con1), while every changeIdentifier takes a random latency up to ``--max-latency`` seconds.
Either order merges the two accounts if both writes go out. Nothing sets RECONCILER_LOCK_DIR: the checkouts
share the default per-user lock directory.

Counts, over ``--races`` races: merges (victims after the race that were not before), the value's holders
(must be 1), and how the second apply ended: refused by the lock (exit 1, one line), blocked by its re-plan
(4), stale at its holder check (5), or anything else (a failure of this script's premise). Asserts nothing
and is not part of the test suite (minutes, not seconds): the figures go in the issue note.

Run: ``python tests/perf/race_two_checkouts.py [--races 200] [--max-latency 2.0] [--seed 20]``.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from reconciler.sandbox.server import SandboxServer  # noqa: E402

TOM, SID = 564854782, 564854846
SHARED = "race.shared@example.com"
STATES = {
    "tom": f"""customers:
  - id: {TOM}
    identifiers:
      INSTORE:
        mobile: "919876543210"
        email: {SHARED}
        externalId: EXT564854782
""",
    "sid": f"""customers:
  - id: {SID}
    identifiers:
      WECHAT:wechat-con1:
        wechat: oWx21ab003ec1
        mobile: "919876543259"
        email: {SHARED}
""",
}


def checkout(root: Path, url: str, name: str) -> Path:
    """A state repository of its own: reconciler.yaml at ``url`` and one state file."""
    root.mkdir(parents=True)
    (root / "state").mkdir()
    (root / "state" / f"{name}.yaml").write_text(STATES[name], encoding="utf-8")
    (root / "reconciler.yaml").write_text(
        f"api:\n  url: {url}\n  auth: basic\n  timeout_seconds: 30\n"
        "manage:\n  identifiers: [mobile, email, externalId, wechat]\n  cards: true\n",
        encoding="utf-8",
    )
    return root


def victims(server: SandboxServer) -> set[int]:
    return {c["id"] for c in server.dump()["customers"] if c.get("mergedInto")}


def holders(server: SandboxServer) -> set[int]:
    dumped = server.dump()["customers"]
    return {c["id"] for c in dumped for p in c["profiles"] for i in p["identifiers"] if i["value"] == SHARED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=200)
    parser.add_argument("--max-latency", type=float, default=2.0, help="seconds, per changeIdentifier")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="race-"))
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "XDG_STATE_HOME": str(work / "state-home"),  # this run's own per-user directory
        "RECONCILER_MASK_KEY": "race-two-checkouts-mask-key-0001",
    }
    env.pop("RECONCILER_LOCK_DIR", None)
    ends: Counter[str] = Counter()
    merges = multi_held = 0
    started = time.monotonic()
    with SandboxServer(seed="demo") as server:
        for n in range(args.races):
            server.reset()
            server.seed("demo")
            latency = rng.uniform(0, args.max_latency) * 1000
            route = "POST /v2/customers/{id}/changeIdentifier"
            server.set_faults({"seed": n, "endpoints": {route: {"latency_ms": latency}}})
            before = victims(server)
            a = checkout(work / f"{n}" / "a", server.url, "tom")
            b = checkout(work / f"{n}" / "b", server.url, "sid")
            first, second = (a, b) if rng.random() < 0.5 else (b, a)
            offset = rng.uniform(0, latency / 1000 + 0.5)  # within the first apply, mostly
            cmd = [sys.executable, "-m", "reconciler", "apply", "--auto-approve"]
            kw = {"env": env, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
            p1 = subprocess.Popen(cmd, cwd=first, **kw)  # type: ignore[call-overload]
            time.sleep(offset)
            p2 = subprocess.Popen(cmd, cwd=second, **kw)  # type: ignore[call-overload]
            results = [(p, *p.communicate(timeout=300)) for p in (p1, p2)]
            codes = sorted(p.returncode for p, _, _ in results)
            merged = victims(server) - before
            merges += bool(merged)
            multi_held += len(holders(server)) != 1
            if codes[0] != 0:
                ends["no apply succeeded"] += 1
                continue
            loser = next(r for r in results if r[0].returncode == codes[1])
            lines = len(loser[2].strip().splitlines())
            if codes[1] not in (4, 5) and lines != 1:  # not one line: show what it said
                print(f"race {n + 1}: the second apply exited {codes[1]} saying:\n{loser[2]}", flush=True)
            if codes[1] == 1:
                ends[
                    "refused by the lock (exit 1, one line)" if lines == 1 else f"exit 1, {lines} lines"
                ] += 1
            else:
                ends[
                    {4: "blocked by its re-plan (4)", 5: "stale at its holder check (5)"}.get(
                        codes[1], f"exit {codes[1]}"
                    )
                ] += 1
            print(f"race {n + 1}: latency {latency:.0f} ms, offset {offset:.2f} s, codes {codes}", flush=True)
    seconds = time.monotonic() - started
    print(
        f"races: {args.races} in {seconds:.0f} s; merges: {merges}; "
        f"value held by other than one customer: {multi_held}"
    )
    for end, count in sorted(ends.items()):
        print(f"  second apply {end}: {count}")


if __name__ == "__main__":
    main()
