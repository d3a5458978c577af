"""compute_changes: minimal changes, ownership, and the card cases."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.config import Config, ManageConfig
from reconciler.mask import mask_value
from reconciler.model import DesiredState, Identifier
from reconciler.plan import Action
from reconciler.plan.diff import compute_changes, holders_needed, live_facts
from tests.unit.factory import card, desired, live, make_plan, spec


def kinds(plan_actions: Iterable[Action]) -> list[tuple[str, str, str | None]]:
    return [(a.kind, a.type, a.value) for a in plan_actions]


def test_mobile_change_is_one_call_with_add_and_remove() -> None:
    d = desired(1, {"INSTORE": {"mobile": "919000000002", "email": "a@example.com"}})
    lv = live(1, {"INSTORE": {"mobile": "919000000001", "email": "a@example.com"}})
    plan = make_plan([d], {1: lv})
    assert kinds(plan.actions) == [("remove", "mobile", "919000000001"), ("add", "mobile", "919000000002")]
    assert len(plan.calls) == 1
    body = plan.calls[0].body()
    assert body == {
        "add": [{"type": "mobile", "value": "919000000002"}],
        "remove": [{"type": "mobile", "value": "919000000001"}],
    }
    assert plan.calls[0].query == (("source", "INSTORE"),)
    assert plan.calls[0].path == "/v2/customers/1/changeIdentifier"


def test_unchanged_customer_produces_nothing() -> None:
    d = desired(1, {"INSTORE": {"mobile": "919000000001"}}, cards=[spec(121212, "GOLD1")])
    lv = live(1, {"INSTORE": {"mobile": "919000000001"}}, cards=[card("GOLD1", 1)])
    plan = make_plan([d], {1: lv})
    assert not plan.has_changes and not plan.blocked and plan.calls == ()
    assert plan.customers == () and plan.customers_in_scope == 1


def test_emails_added_and_removed_in_one_call() -> None:
    d = desired(1, {"INSTORE": {"email": ["b@example.com", "c@example.com"]}})
    lv = live(1, {"INSTORE": {"email": ["a@example.com", "b@example.com"]}})
    plan = make_plan([d], {1: lv})
    assert kinds(plan.actions) == [("remove", "email", "a@example.com"), ("add", "email", "c@example.com")]
    assert len(plan.calls) == 1


def test_unmanaged_types_profiles_and_customers_untouched() -> None:
    d = desired(1, {"INSTORE": {"mobile": "919000000001"}})
    lv = live(
        1,
        {"INSTORE": {"mobile": "919000000001", "wechat": "w-1"}, "WECHAT:acc": {"mobile": "919000000009"}},
        cards=[card("GOLD1", 1)],  # cards: absent -> not managed
    )
    plan = make_plan([d], {1: lv}, unmanaged=[77, 5])
    assert not plan.has_changes
    assert plan.unmanaged == (5, 77)
    assert plan.to_dict()["unmanaged"] == [5, 77]


def test_declared_value_of_unmanaged_type_is_added_but_never_removed() -> None:
    d = desired(1, {"INSTORE": {"wechat": "w-2"}})
    lv = live(1, {"INSTORE": {"wechat": "w-1"}})
    plan = make_plan([d], {1: lv})
    assert kinds(plan.actions) == [("add", "wechat", "w-2")]


def test_card_identifiers_in_live_profiles_are_not_diffed_as_identifiers() -> None:
    d = desired(1, {"INSTORE": {}}, cards=[spec(121212, "GOLD1")])
    lv = live(1, {"INSTORE": {"cardNumber": "GOLD1"}}, cards=[card("GOLD1", 1)])
    assert not make_plan([d], {1: lv}).has_changes


def test_link_card_that_exists_unlinked() -> None:
    d = desired(1, {"INSTORE": {}}, cards=[spec(121212, "GOLD1")])
    plan = make_plan(
        [d], {1: live(1)}, card_holders={"GOLD1": card("GOLD1", 0, label="NOT_ISSUED", status="NOT_ISSUED")}
    )
    assert kinds(plan.actions) == [("link", "cardnumber", "GOLD1")]
    assert plan.calls[0].body() == {
        "add": [{"type": "cardnumber", "value": "GOLD1", "seriesId": 121212, "statusLabel": "ACTIVE"}],
        "remove": [],
    }


def test_create_then_link_card_that_does_not_exist() -> None:
    d = desired(1, {"INSTORE": {}}, cards=[spec("GOLD", "GOLD2")])
    plan = make_plan([d], {1: live(1)})
    assert [a.kind for a in plan.actions] == ["create", "link"]
    create, link = plan.calls
    assert (create.method, create.path) == ("POST", "/v2/card")
    assert create.body() == {"cardNumber": "GOLD2", "seriesId": 121212, "statusLabel": "NOT_ISSUED"}
    assert link.after == (create.id,)


def test_generate_for_numberless_spec_then_nothing_once_held() -> None:
    d = desired(1, {"INSTORE": {}}, cards=[spec("DIGI01")])
    plan = make_plan([d], {1: live(1)})
    assert [a.kind for a in plan.actions] == ["generate", "link"]
    gen, link = plan.calls
    assert gen.body() == {"seriesId": 555, "count": 1, "statusLabel": "NOT_ISSUED"}
    assert link.to_dict()["body"]["add"][0]["value"] == f"${{{gen.id}.cardNumber}}"
    assert link.body({gen.id: "D0001"})["add"][0]["value"] == "D0001"
    held = live(1, cards=[card("D0001", 1, series=555, label="CARD BLOCKED", status="SUSPENDED")])
    assert not make_plan([d], {1: held}).has_changes


def test_two_numberless_specs_of_one_series_need_two_cards() -> None:
    d = desired(1, {"INSTORE": {}}, cards=[spec("DIGI01"), spec(555)])
    plan = make_plan([d], {1: live(1, cards=[card("D1", 1, series=555)])})
    assert [a.kind for a in plan.actions] == ["generate", "link"]


def test_delink_cards_no_longer_declared_and_cards_absent_untouched() -> None:
    lv = live(
        1, {"INSTORE": {}}, cards=[card("GOLD1", 1), card("OLD9", 1, status="EXPIRED", label="EXPIRED")]
    )
    plan = make_plan([desired(1, {"INSTORE": {}}, cards=[])], {1: lv})
    assert kinds(plan.actions) == [("delink", "cardnumber", "GOLD1")]  # EXPIRED cannot be unlinked
    assert plan.calls[0].body()["remove"] == [
        {"type": "cardnumber", "value": "GOLD1", "seriesId": 121212, "statusLabel": "NOT_ISSUED"}
    ]
    assert not make_plan([desired(1, {"INSTORE": {}})], {1: lv}).has_changes


def test_status_change_of_held_card() -> None:
    d = desired(1, {"INSTORE": {}}, cards=[spec(121212, "GOLD1", status="CARD BLOCKED")])
    plan = make_plan([d], {1: live(1, cards=[card("GOLD1", 1)])})
    assert kinds(plan.actions) == [("status", "cardnumber", "GOLD1")]
    call = plan.calls[0]
    assert (call.method, call.path) == ("PUT", "/v2/card")
    assert call.body() == {  # what is sent; the plan shows the card's series as well
        "cardNumber": "GOLD1",
        "statusLabel": "CARD BLOCKED",
        "statusInfo": {"reason": "reconciler apply"},
    }
    assert call.to_dict()["body"] == {**call.body(), "cardNumber": mask_value("cardnumber", "GOLD1")}


def test_linking_with_a_non_active_label_links_then_sets_the_label() -> None:
    d = desired(1, {"INSTORE": {}}, cards=[spec(121212, "GOLD1", status="CARD BLOCKED")])
    plan = make_plan(
        [d], {1: live(1)}, card_holders={"GOLD1": card("GOLD1", label="NOT_ISSUED", status="NOT_ISSUED")}
    )
    assert [(a.kind, a.label) for a in plan.actions] == [("link", "ACTIVE"), ("status", "CARD BLOCKED")]
    assert plan.calls[1].after == (plan.calls[0].id,)


def test_cards_use_default_source_profile_else_first_declared() -> None:
    d = desired(1, {"WECHAT:acc": {}, "MOBILE_APP:app": {}}, cards=[spec(121212, "GOLD1")])
    plan = make_plan([d], {1: live(1)}, card_holders={"GOLD1": card("GOLD1")})
    assert plan.calls[0].query == (("source", "WECHAT"), ("accountId", "acc"))
    plan = make_plan([d], {1: live(1, {"INSTORE": {}})}, card_holders={"GOLD1": card("GOLD1")})
    assert plan.calls[0].query == (("source", "INSTORE"),)


def test_cards_not_managed_by_config() -> None:
    cfg = Config(manage=ManageConfig(identifiers=("mobile",), cards=False))
    d = desired(1, {"INSTORE": {"email": "x@example.com"}}, cards=[spec("DIGI01")])
    lv = live(1, {"INSTORE": {"email": "y@example.com"}})
    plan = make_plan([d], {1: lv}, config=cfg)
    assert kinds(plan.actions) == [("add", "email", "x@example.com")]  # email unmanaged: kept


def test_holders_needed_lists_only_adds_and_links() -> None:
    d = desired(1, {"INSTORE": {"mobile": "919000000002"}}, cards=[spec(121212, "GOLD2"), spec("DIGI01")])
    lv = live(1, {"INSTORE": {"mobile": "919000000001"}}, cards=[card("GOLD1", 1)])
    changes = compute_changes(DesiredState((d,)), {1: lv}, Config())
    assert holders_needed(changes) == (
        frozenset({Identifier("mobile", "919000000002")}),
        frozenset({"GOLD2"}),
    )


def test_live_facts_cover_exactly_what_the_actions_depend_on() -> None:
    d = desired(1, {"INSTORE": {"mobile": "919000000001"}}, cards=[])
    base = live(1, {"INSTORE": {"mobile": "919000000001"}, "LINE:x": {"mobile": "1"}})
    facts = live_facts(base, d, Config())
    unrelated = live(1, {"INSTORE": {"mobile": "919000000001"}, "LINE:x": {"mobile": "2"}})
    assert live_facts(unrelated, d, Config()) == facts
    assert live_facts(live(1, {"INSTORE": {"mobile": "919000000003"}}), d, Config()) != facts
    assert (
        live_facts(live(1, {"INSTORE": {"mobile": "919000000001"}}, cards=[card("G", 1)]), d, Config())
        != facts
    )
    assert make_plan([desired(1, {"INSTORE": {"email": "e@x.io"}})], {1: base}).facts[1] == live_facts(
        base, desired(1, {"INSTORE": {"email": "e@x.io"}}), Config()
    )
