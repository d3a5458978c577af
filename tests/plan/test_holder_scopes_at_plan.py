"""The holder check covers every source scope the org has, or blocks (issue 20, 1).

A lookup in ``source=ALL`` does not search multi-account sources when the org requires ``accountId`` (the
sandbox's default), so the plan looks the value up in every account of every multi-account source: those the
org's sources API lists (the org id comes with the card series or, in an org with none, the labels), else
those ``sources:`` in reconciler.yaml names. When neither tells them, no holder can be ruled out: every add
is blocked with one line naming what to configure, and no lookup is sent.
"""

from __future__ import annotations

import pytest

from reconciler.capillary import SCOPES_UNKNOWN
from reconciler.errors import EXIT_BLOCKED
from tests.plan.org import declared
from tests.testing import Workspace, live_customer
from tests.testing.seed import base_org

A, HOLDER = 9501, 9502
EMAIL = "shared@example.com"
FACEBOOK = [{"source": "FACEBOOK", "accounts": ["fbpage-7", "fbpage-8"]}]


def _seed(ws: Workspace, *, sources_api: bool = True) -> None:
    """An org without card series; the email is held under FACEBOOK:fbpage-8, which no state file names."""
    org = {**base_org(), "series": [], "cards": []}
    org["sources"] = [*org["sources"], *FACEBOOK]
    holder = {
        "id": HOLDER,
        "firstName": "H",
        "loyaltyType": "loyalty",
        "profiles": [
            {
                "source": "FACEBOOK",
                "accountId": "fbpage-8",
                "identifiers": [{"type": "email", "value": EMAIL}],
            }
        ],
    }
    ws.server.reset()
    ws.server.seed({**org, "customers": [live_customer(A, {"mobile": "919800009001"}), holder]})
    ws.server.set_settings(org_sources_access=sources_api)
    ws.server.clear_log()
    ws.write_state([declared(A, {"mobile": "919800009001", "email": EMAIL})])


def _configure_sources(ws: Workspace, entries: str) -> None:
    text = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(text + f"sources: {entries}\n", encoding="utf-8")


def _email_action(ws: Workspace) -> tuple[str, bool, str]:
    action = next(a for a in ws.plan().actions if a.value == EMAIL)
    return action.risk, action.blocked, action.reason


@pytest.mark.slow
def test_an_org_without_card_series_still_has_its_accounts_searched(ws: Workspace) -> None:
    _seed(ws)
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED, result.output
    risk, blocked, _ = _email_action(ws)
    assert (risk, blocked) == ("merge", True)
    assert f"customer {HOLDER}" in result.stdout


@pytest.mark.slow
def test_sources_in_the_config_are_searched_when_the_org_does_not_list_them(ws: Workspace) -> None:
    _seed(ws, sources_api=False)
    accounts = "'WECHAT:wechat-con1', 'WECHAT:wechat-con2', 'FACEBOOK:fbpage-7', 'FACEBOOK:fbpage-8'"
    _configure_sources(ws, f"[INSTORE, {accounts}]")
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED, result.output
    lookups = [r for r in ws.requests() if r["route"] == "/v2/customers/lookup/customerDetails"]
    assert len(lookups) == 5  # source ALL, two WECHAT and two FACEBOOK accounts
    risk, blocked, _ = _email_action(ws)
    assert (risk, blocked) == ("merge", True)


@pytest.mark.slow
def test_every_add_is_blocked_when_no_scope_can_be_enumerated(ws: Workspace) -> None:
    _seed(ws, sources_api=False)
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED, result.output
    _, blocked, reason = _email_action(ws)
    assert blocked and SCOPES_UNKNOWN in reason
    assert "sources: in reconciler.yaml" in result.stdout
    lookups = [r for r in ws.requests() if r["route"] == "/v2/customers/lookup/customerDetails"]
    assert lookups == []  # nothing a lookup could answer would rule a holder out
