"""Chaos: a population with changes of every kind, applied through a sandbox that fails often.

Faults on every endpoint, all from the sandbox's seeded fault plan: 10% HTTP 500, 5% 521, 5% 429 (as the
rate limit answers), 2% connection dropped after the write committed, 2% dropped before the handler ran.
After at most two runs, live equals desired; no merge; undeclared customers unchanged; each run's journal
accounts for every write the sandbox executed. 500 customers per seed, the issue's size (about 10 s a seed;
RECONCILER_CHAOS_N sets another size).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.apply.journal import read_journal
from tests.apply import population
from tests.apply.accounting import assert_journal_accounts, assert_untouched
from tests.apply.conftest import assert_verified_json, make_workspace, serve
from tests.variants import FEW, label

N = int(os.environ.get("RECONCILER_CHAOS_N", "500"))
FAULTS = {
    "*": {
        "error_500": 0.10,
        "error_521": 0.05,
        "error_429": 0.05,
        "drop_after_commit": 0.02,
        "drop_before": 0.02,
        "retry_after": 0,  # the client's own backoff paces the retries
    }
}


@pytest.mark.parametrize("seed", [11, 22, 33])
def test_chaos_converges_in_two_runs_with_a_truthful_journal(tmp_path: Path, seed: int) -> None:
    _chaos(tmp_path, seed, N, {})


@pytest.mark.parametrize("variants", FEW, ids=label)
def test_chaos_converges_under_each_api_variant(tmp_path: Path, variants: dict[str, str]) -> None:
    """A few combinations of the documented API variants, with a small population."""
    _chaos(tmp_path, 44, 80, variants)


def _chaos(tmp_path: Path, seed: int, n: int, variants: dict[str, str]) -> None:
    server = serve(population.fixture(n, n // 10))
    server.set_settings(**variants)
    try:
        ws = make_workspace(tmp_path, server, {"population.yaml": population.state_yaml(n)})
        before = server.dump()
        server.set_faults({"seed": seed, "endpoints": FAULTS})
        codes = []
        for run in (1, 2):
            server.clear_log()
            journal = f"run{run}.jsonl"
            done = ws.cli("apply", "--auto-approve", "--journal", journal, "--format", "json", timeout=300)
            assert done.returncode in (0, 6), done.stderr[-2000:]
            codes.append(done.returncode)
            result = json.loads(done.stdout)
            assert not result["incidents"]
            assert_verified_json(result)
            events = read_journal(tmp_path / journal)
            assert_journal_accounts(server.request_log(), events)
            if run == 1:  # the faults really hit writes, and were settled by re-reading
                assert any(e["event"] == "resolved" for e in events)
            if done.returncode == 0:
                break
        server.set_faults({})
        final = ws.cli("plan", "--all", "--detailed-exitcode")
        assert final.returncode == 0, (codes, final.stdout[-3000:])
        assert_untouched(before, server.dump(), population.undeclared_ids(n, n // 10))
    finally:
        server.stop()
