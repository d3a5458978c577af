"""Risk of each add from its holder: plain, move, conflict, merge, blocked (docs/architecture.md 4.4)."""

from __future__ import annotations

import pytest

from reconciler.errors import ApiError, MergedCustomerError, NotFoundError
from reconciler.model import CardSpec, Identifier, LiveCard, LiveCustomer
from reconciler.plan import Action, Plan
from tests.unit.factory import HolderFlags, card, desired, holder, live, make_plan, spec

MOBILE = "919000000042"
ID = Identifier("mobile", MOBILE)


def only_add(plan: Plan) -> Action:
    return next(a for a in plan.actions if a.kind in ("add", "link"))


def test_identifier_move_releases_first() -> None:
    giver = desired(2, {"INSTORE": {}})
    taker = desired(1, {"INSTORE": {"mobile": MOBILE}})
    lives = {1: live(1, {"INSTORE": {}}), 2: live(2, {"INSTORE": {"mobile": MOBILE}})}
    plan = make_plan([taker, giver], lives, holders={ID: holder(2)})
    add = only_add(plan)
    remove = next(a for a in plan.actions if a.kind == "remove")
    assert (add.risk, add.holder, add.depends_on, add.blocked) == ("move", 2, (remove.id,), False)
    assert remove.releases_to == 1 and remove.customer_id == 2
    assert not plan.blocked
    calls = [c.customer_id for c in plan.calls]
    assert calls == [2, 1]  # release first, although customer 1 sorts first
    assert plan.calls[1].after == (plan.calls[0].id,)


def test_card_move_delinks_first() -> None:
    giver = desired(2, {"INSTORE": {}}, cards=[])
    taker = desired(1, {"INSTORE": {}}, cards=[spec(121212, "GOLD7")])
    lives = {1: live(1), 2: live(2, cards=[card("GOLD7", 2)])}
    plan = make_plan([taker, giver], lives, card_holders={"GOLD7": card("GOLD7", 2)})
    link = only_add(plan)
    assert link.risk == "move" and not plan.blocked
    assert [(c.customer_id, c.body()["remove"] != []) for c in plan.calls] == [(2, True), (1, False)]
    assert plan.calls[1].after == ("c1",)


def test_swap_between_two_customers_has_no_cycle() -> None:
    a = desired(1, {"INSTORE": {"mobile": "919000000002"}})
    b = desired(2, {"INSTORE": {"mobile": "919000000001"}})
    lives = {
        1: live(1, {"INSTORE": {"mobile": "919000000001"}}),
        2: live(2, {"INSTORE": {"mobile": "919000000002"}}),
    }
    holders = {
        Identifier("mobile", "919000000002"): holder(2),
        Identifier("mobile", "919000000001"): holder(1),
    }
    plan = make_plan([a, b], lives, holders=holders)
    assert sorted(a.risk for a in plan.actions) == ["move", "move", "plain", "plain"]
    done: set[str] = set()
    for call in plan.calls:  # every call runs after its dependencies
        assert set(call.after) <= done
        done.add(call.id)
    assert len(plan.calls) == 4  # each profile split: release, then the move in


def test_conflict_same_scope_holder_keeps_it() -> None:
    plan = make_plan([desired(1, {"INSTORE": {"mobile": MOBILE}})], {1: live(1)}, holders={ID: holder(9)})
    add = only_add(plan)
    assert (add.risk, add.blocked, add.holder) == ("conflict", True, 9)
    assert "8007" in add.reason and plan.blocked and plan.calls == ()


def test_declared_holder_outside_this_plan_keeps_it() -> None:
    other = desired(9, {"INSTORE": {}})
    plan = make_plan(
        [desired(1, {"INSTORE": {"mobile": MOBILE}})], {1: live(1)}, holders={ID: holder(9)}, others=[other]
    )
    assert only_add(plan).risk == "conflict"


def test_merge_blocked_unless_both_allow() -> None:
    wanted = desired(1, {"INSTORE": {"mobile": MOBILE}}, merge_with=[9])
    holders = {ID: holder(9, "WECHAT:acc")}
    plan = make_plan([wanted], {1: live(1)}, holders=holders)  # 9 undeclared
    add = only_add(plan)
    assert (add.risk, add.blocked) == ("merge", True) and "irreversibl" in add.reason
    one_sided = desired(9, {"WECHAT:acc": {}})
    assert make_plan([wanted], {1: live(1)}, holders=holders, others=[one_sided]).blocked
    both = desired(9, {"WECHAT:acc": {}}, merge_with=[1])
    wanted = desired(1, {"INSTORE": {"mobile": MOBILE, "email": "x@example.com"}}, merge_with=[9])
    plan = make_plan([wanted], {1: live(1)}, holders=holders, others=[both])
    add = next(a for a in plan.actions if a.risk == "merge")
    assert (add.blocked, plan.blocked) == (False, False) and "MERGES customer 1 into customer 9" in add.reason
    assert [c.actions for c in plan.calls][-1] == (add.id,)  # after a merge the customer is a victim: last
    assert len(plan.calls) == 2


def test_force_never_allows_a_merge() -> None:
    plan = make_plan([desired(1, {"INSTORE": {"mobile": MOBILE}})], {1: live(1)},
                     holders={ID: holder(9, "LINE:x")}, force=True)  # fmt: skip
    assert plan.blocked and only_add(plan).risk == "merge"


def test_same_customer_in_another_profile_is_not_a_merge() -> None:
    plan = make_plan(
        [desired(1, {"INSTORE": {"mobile": MOBILE}})], {1: live(1)}, holders={ID: holder(1, "LINE:x")}
    )
    add = only_add(plan)
    assert (add.risk, add.blocked) == ("plain", False) and "LINE:x" in add.reason


@pytest.mark.parametrize(
    ("kw", "words"),
    [({"victim": True}, "merge victim"), ({"campaign": True}, "campaign account")],
    ids=["victim", "campaign"],
)
def test_victim_or_campaign_holder_blocks(kw: HolderFlags, words: str) -> None:
    plan = make_plan(
        [desired(1, {"INSTORE": {"mobile": MOBILE}})], {1: live(1)}, holders={ID: holder(9, **kw)}
    )
    add = only_add(plan)
    assert (add.risk, add.blocked) == ("blocked", True) and words in add.reason


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (NotFoundError("Customer not found", code=8015), "8015"),
        (MergedCustomerError("Merged customer found", code=8069), "8069"),
        (live(1, {"INSTORE": {"mobile": "919000000001"}}, status="DELETED"), "DELETED"),
    ],
    ids=["not-found", "victim", "deleted"],
)
def test_customer_that_cannot_change_blocks_all_its_actions(
    state: LiveCustomer | ApiError, words: str
) -> None:
    d = desired(1, {"INSTORE": {"mobile": MOBILE}}, cards=[spec("DIGI01")])
    plan = make_plan([d], {1: state})
    assert plan.actions and all(a.blocked and a.risk == "blocked" and words in a.reason for a in plan.actions)
    assert plan.blocked and plan.calls == ()
    assert plan.to_dict()["customers"][0]["error"]


@pytest.mark.parametrize(
    ("cards", "holders", "words"),
    [
        ([spec(121212, "G1")], {"G1": card("G1", status="EXPIRED", label="EXPIRED")}, "EXPIRED"),
        ([spec(121212, "G1")], {"G1": card("G1", status="DELETED", label="DELETED")}, "DELETED"),
        ([spec(555, "G1")], {"G1": card("G1")}, "exists in series GOLD"),
        ([spec("NOPE", "G1")], {"G1": None}, "unknown card series NOPE"),
        ([spec("OLD", "G1")], {"G1": None}, "inactive"),
        ([spec("GOLD")], {}, "does not generate"),
        ([spec(121212, "G1", status="SHINY")], {"G1": None}, "unknown card status label SHINY"),
        ([spec(121212, "G1")], {"G1": card("G1", 5)}, "customer 5 holds the card"),
    ],
    ids=[
        "expired",
        "deleted",
        "other-series",
        "unknown-series",
        "inactive",
        "no-generation",
        "label",
        "held",
    ],
)
def test_card_that_cannot_be_linked_blocks(
    cards: list[CardSpec], holders: dict[str, LiveCard | None], words: str
) -> None:
    plan = make_plan([desired(1, {"INSTORE": {}}, cards=cards)], {1: live(1)}, card_holders=holders)
    blocked = [a for a in plan.actions if a.blocked]
    assert blocked and any(words in a.reason for a in blocked), [a.reason for a in plan.actions]
    assert plan.blocked


def test_status_change_of_expired_card_blocks() -> None:
    d = desired(1, {"INSTORE": {}}, cards=[spec(121212, "G1")])
    plan = make_plan([d], {1: live(1, cards=[card("G1", 1, status="EXPIRED", label="EXPIRED")])})
    assert [(a.kind, a.blocked) for a in plan.actions] == [("status", True)]


def test_unlooked_up_holder_blocks_rather_than_guesses() -> None:
    from reconciler.config import Config
    from reconciler.model import DesiredState, Observed
    from reconciler.plan import build_plan
    from reconciler.plan.diff import compute_changes

    d = desired(1, {"INSTORE": {"mobile": MOBILE}})
    changes = compute_changes(DesiredState((d,)), {1: live(1)}, Config())
    plan = build_plan(changes, Observed({}, {}, {}, (), (), None), Config(), {1: d}, target="t")
    assert plan.blocked and "not looked up" in plan.actions[0].reason


def test_two_customers_adding_one_value_in_a_plan() -> None:
    a = desired(1, {"INSTORE": {"mobile": MOBILE}})
    b = desired(2, {"WECHAT:acc": {"mobile": MOBILE}})
    plan = make_plan([a, b], {1: live(1), 2: live(2)})
    assert [(x.risk, x.blocked) for x in plan.actions] == [("merge", True), ("merge", True)]
    c = desired(3, {"INSTORE": {}}, cards=[spec(121212, "G1")])
    e = desired(4, {"INSTORE": {}}, cards=[spec(121212, "G1")])
    plan = make_plan([c, e], {3: live(3), 4: live(4)})
    assert {x.risk for x in plan.actions} == {"conflict"}


def test_move_whose_release_is_blocked_is_blocked() -> None:
    giver = desired(2, {"INSTORE": {}})
    taker = desired(1, {"INSTORE": {"mobile": MOBILE}})
    lives = {1: live(1, {"INSTORE": {}}), 2: live(2, {"INSTORE": {"mobile": MOBILE}}, status="SUSPENDED")}
    plan = make_plan([taker, giver], lives, holders={ID: holder(2)})
    add = only_add(plan)
    assert (add.risk, add.blocked) == ("move", True) and "cannot release" in add.reason
    assert plan.calls == ()


def test_target_names_host_and_org_or_sandbox() -> None:
    from reconciler.config import ApiConfig, Config
    from reconciler.plan import SANDBOX_TARGET, describe_target

    assert describe_target(Config()) == SANDBOX_TARGET == "embedded sandbox (demo data)"
    cfg = Config(api=ApiConfig(url="https://eu.api.capillarytech.com/v2"))
    assert describe_target(cfg, "acme") == "eu.api.capillarytech.com (org acme)"
