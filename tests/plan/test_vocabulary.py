"""Plan checks the org's vocabulary: a source or accountId the org lacks is blocked at plan (issue 14).

The demo org has INSTORE and WECHAT:wechat-con1 / wechat-con2 (its sources endpoint says so); a typo such as
``WECHAT:wechat-cn1`` would be refused by apply with 8011 after other customers' writes went out.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.errors import EXIT_BLOCKED
from tests.plan.org import declared
from tests.testing import Workspace, live_customer, writes
from tests.testing.seed import base_org

A, B = 9301, 9302
TYPO = "wechat-cn1"


def _seed(ws: Workspace, *, sources_api: bool = True) -> None:
    ws.server.reset()
    ws.server.seed(
        {**base_org(), "customers": [live_customer(A, {"mobile": "919800003001"}), live_customer(B)]}
    )
    ws.server.set_settings(org_sources_access=sources_api)  # False: a key without the org access group
    ws.server.clear_log()


def _typo_state(ws: Workspace) -> None:
    ws.write_state(
        [
            declared(A, {"mobile": "919800003001", "email": "a@example.com"}),  # a plain add
            declared(B, {}, wechat={TYPO: {"mobile": "919800003002"}}),
        ]
    )


@pytest.mark.slow
def test_an_unknown_account_is_blocked_with_the_known_accounts(ws: Workspace) -> None:
    _seed(ws)
    _typo_state(ws)
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED, result.output
    assert f"unknown account WECHAT:{TYPO}" in result.stdout
    assert "WECHAT:wechat-con1, WECHAT:wechat-con2" in result.stdout
    plan = ws.plan()
    blocked = [a for a in plan.actions if a.blocked]
    assert [(a.customer_id, str(a.profile)) for a in blocked] == [(B, f"WECHAT:{TYPO}")]
    assert "8011" in blocked[0].reason


def test_apply_of_a_plan_with_an_unknown_account_writes_nothing(ws: Workspace) -> None:
    _seed(ws)
    _typo_state(ws)
    shown = ws.plan_cli("--all")
    checksum = re.search(r"Checksum: ([0-9a-f]{64})", shown.stdout)
    approval = ["--checksum", checksum.group(1)] if checksum else ["--auto-approve"]
    args = ["apply", "--config", str(ws.config_path), *approval]
    applied = CliRunner().invoke(main, args)
    assert applied.exit_code == EXIT_BLOCKED, applied.output
    assert writes(ws.requests()) == []


def test_an_unknown_source_is_blocked(ws: Workspace) -> None:
    _seed(ws)
    ws.write_state([{"id": A, "identifiers": {"LINE:acme-line": {"line": "U123"}}}])
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED, result.output
    assert "unknown source LINE (the org's sources: INSTORE, WECHAT)" in result.stdout


def test_the_config_sources_list_is_used_when_the_api_does_not_tell(ws: Workspace) -> None:
    _seed(ws, sources_api=False)
    _typo_state(ws)
    # Nothing tells the accounts: the vocabulary is unchecked, and no holder can be ruled out, so every
    # add is blocked with what to configure (never "nobody holds it").
    unchecked = ws.plan_cli()
    assert unchecked.exit_code == EXIT_BLOCKED and "unknown account" not in unchecked.stdout
    assert (
        unchecked.stdout.count("list every source and account in sources: in reconciler.yaml") == 2
    )  # two adds
    text = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(text + "sources: [INSTORE, 'WECHAT:wechat-con1']\n", encoding="utf-8")
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED, result.output
    assert f"unknown account WECHAT:{TYPO} (the org's WECHAT accounts: WECHAT:wechat-con1)" in result.stdout


def test_a_malformed_sources_entry_is_one_located_line(ws: Workspace) -> None:
    text = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(text + "sources: ['wechat con1']\n", encoding="utf-8")
    result = ws.plan_cli()
    assert result.exit_code == 1
    assert re.search(r"reconciler\.yaml:\d+:\d+: sources\.0: 'wechat con1' is not valid", result.output)
