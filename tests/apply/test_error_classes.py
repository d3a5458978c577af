"""Apply's result says, per failure, whether running apply again can help (issue 14).

Permanent: every changeIdentifier refused with 8011 by the sandbox's fault plan (as an org refuses an account
it lacks); a second apply fails the same way. Transient: every changeIdentifier
answered 521 by the sandbox's fault plan; once the faults stop, the same command finishes the work.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import EXIT_BLOCKED, EXIT_OK, EXIT_PARTIAL
from reconciler.sandbox import demo_fixture
from reconciler.sandbox.server import SandboxServer
from tests.testing import is_write, make_workspace, serve

A, B = 9401, 9402
CHANGE_ROUTE = "POST /v2/customers/{id}/changeIdentifier"
STATE = f"""customers:
  - id: {A}
    identifiers:
      INSTORE: {{mobile: "919800004001", email: a@example.com}}
  - id: {B}
    identifiers:
      INSTORE: {{mobile: "919800004002"}}
      WECHAT:wechat-cn1: {{wechat: oWx-typo-1}}
"""
VALID_STATE = STATE.split("      WECHAT:")[0]


def _fixture(*, series: bool) -> dict[str, Any]:
    org = {k: v for k, v in demo_fixture().items() if k not in ("customers", "cards")}
    if not series:
        org["series"] = []
    customers = [
        {
            "id": cid,
            "firstName": f"C{cid}",
            "loyaltyType": "loyalty",
            "profiles": [
                {"source": "INSTORE", "accountId": "", "identifiers": [{"type": "mobile", "value": m}]}
            ],
        }
        for cid, m in ((A, "919800004001"), (B, "919800004002"))
    ]
    return {**org, "customers": customers, "cards": []}


@pytest.fixture
def blind_server() -> Iterator[SandboxServer]:
    """An org whose series list is empty: the plan cannot ask for its sources (no org id)."""
    server = serve(_fixture(series=False))
    yield server
    server.stop()


@pytest.fixture
def org_server() -> Iterator[SandboxServer]:
    server = serve(_fixture(series=True))
    yield server
    server.stop()


@pytest.mark.slow
def test_a_permanent_error_says_re_running_will_not_help(tmp_path: Path, org_server: SandboxServer) -> None:
    ws = make_workspace(tmp_path, org_server, {"c.yaml": VALID_STATE})
    # the org refuses every changeIdentifier with 8011, as it refuses an account it does not have
    org_server.set_faults({"seed": 1, "endpoints": {CHANGE_ROUTE: {"error_8011": 1.0}}})
    done = ws.cli("apply", "--auto-approve")
    assert done.returncode == EXIT_PARTIAL, done.stderr
    assert f"customer {A}: failed" in done.stdout and "8011" in done.stdout
    assert "[permanent: re-running will not help]" in done.stdout
    assert "re-running will not help): fix the state or the org first" in done.stdout
    assert "run apply again" not in done.stdout
    again = ws.cli("apply", "--auto-approve", "--format", "json")  # fails identically, and says so
    result = json.loads(again.stdout)
    assert again.returncode == EXIT_PARTIAL and result["rerun_helps"] is False
    failed = [c for c in result["customers"] if c["status"] == "failed"]
    assert [(c["id"], c["failure"]) for c in failed] == [(A, "permanent")]
    assert failed[0]["calls"][0]["failure"] == "permanent"


@pytest.mark.slow
def test_an_unknown_account_is_blocked_at_plan_even_when_the_org_hides_its_sources(
    tmp_path: Path, blind_server: SandboxServer
) -> None:
    """No series carries the org id, so the accounts are unknown: the holder lookup in the typo account
    answers 8011, so who holds the value is unclear and the plan blocks it: apply writes nothing."""
    ws = make_workspace(tmp_path, blind_server, {"c.yaml": STATE})
    done = ws.cli("apply", "--auto-approve")
    assert done.returncode == EXIT_BLOCKED, done.stdout + done.stderr
    assert "8011" in done.stdout
    assert not [e for e in blind_server.request_log()["requests"] if is_write(e)]


@pytest.mark.slow
def test_a_transient_error_says_re_run_and_re_running_finishes(
    tmp_path: Path, org_server: SandboxServer
) -> None:
    ws = make_workspace(tmp_path, org_server, {"c.yaml": VALID_STATE})
    org_server.set_faults({"seed": 1, "endpoints": {CHANGE_ROUTE: {"error_521": 1.0}}})
    done = ws.cli("apply", "--auto-approve")
    assert done.returncode == EXIT_PARTIAL, done.stderr
    assert f"customer {A}: failed" in done.stdout and "[transient: re-run]" in done.stdout
    assert "run apply again to finish" in done.stdout
    org_server.set_faults({})
    org_server.clear_log()
    finished = ws.cli("apply", "--auto-approve")
    assert finished.returncode == EXIT_OK, finished.stdout + finished.stderr
    assert len([e for e in org_server.request_log()["requests"] if is_write(e)]) == 1
