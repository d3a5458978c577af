"""Apply's result says, per failure, whether running apply again can help (issue 14).

Permanent: the accountId typo of the issue, on an org whose accounts the plan cannot learn (no series carries
the org id and reconciler.yaml has no ``sources:``), so apply meets 8011. Transient: every changeIdentifier
answered 521 by the sandbox's fault plan; once the faults stop, the same command finishes the work.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import EXIT_OK, EXIT_PARTIAL
from reconciler.sandbox import demo_fixture
from reconciler.sandbox.server import SandboxServer

from .conftest import is_write, make_workspace, serve

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


def test_a_permanent_error_says_re_running_will_not_help(tmp_path: Path, blind_server: SandboxServer) -> None:
    ws = make_workspace(tmp_path, blind_server, {"c.yaml": STATE})
    done = ws.cli("apply", "--auto-approve")
    assert done.returncode == EXIT_PARTIAL, done.stderr
    assert f"customer {B}: failed" in done.stdout and "8011" in done.stdout
    assert "[permanent: re-running will not help]" in done.stdout
    assert "re-running will not help): fix the state or the org first" in done.stdout
    assert "run apply again" not in done.stdout
    again = ws.cli("apply", "--auto-approve", "--format", "json")  # fails identically, and says so
    result = json.loads(again.stdout)
    assert again.returncode == EXIT_PARTIAL and result["rerun_helps"] is False
    failed = [c for c in result["customers"] if c["status"] == "failed"]
    assert [(c["id"], c["failure"]) for c in failed] == [(B, "permanent")]
    assert failed[0]["calls"][0]["failure"] == "permanent"


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
