"""Structural and cross-file rules, each asserting the exact file:line:col of every location involved."""

from __future__ import annotations

import pytest

from reconciler.desired import fingerprint, load_state
from reconciler.errors import StateError
from reconciler.model import ProfileKey
from tests.desired.writing import Write, problems_of

TOM = """
customers:
  - id: 1
    identifiers:
      INSTORE:
        mobile: "919876543210"
        email: tom@example.com
      WECHAT:wechat-con1:
        wechat: oXyz
    cards:
      - number: GOLD1
        series: 121212
      - series: DIGI01
        status: CARD BLOCKED
"""


def test_a_valid_file_builds_customers_with_locations(write: Write) -> None:
    state = load_state([write("a.yaml", TOM)])
    (tom,) = state.customers
    assert str(tom.loc) == "a.yaml:2:5"
    instore, wechat = tom.profiles
    assert (instore.key, str(instore.loc)) == (ProfileKey("INSTORE"), "a.yaml:4:7")
    assert [(i.type, i.value, str(i.loc)) for i in instore.identifiers] == [
        ("mobile", "919876543210", "a.yaml:5:17"),
        ("email", "tom@example.com", "a.yaml:6:16"),
    ]
    assert wechat.key == ProfileKey("WECHAT", "wechat-con1")
    assert [(c.number, c.series, c.status, str(c.loc)) for c in tom.cards or ()] == [
        ("GOLD1", 121212, "ACTIVE", "a.yaml:10:9"),
        (None, "DIGI01", "CARD BLOCKED", "a.yaml:12:9"),
    ]
    assert state.files == ("a.yaml",)


def test_fingerprint_ignores_layout_note_and_order(write: Write) -> None:
    a = load_state([write("a.yaml", TOM)]).customers[0]
    reordered = (
        "customers:\n  - note: moved\n"
        "    cards: [{series: DIGI01, status: CARD BLOCKED},\n"
        "            {series: 121212, number: GOLD1, status: ACTIVE}]\n"
        "    identifiers:\n      WECHAT:wechat-con1: {wechat: oXyz}\n"
        "      INSTORE: {email: tom@example.com, mobile: '919876543210'}\n    id: 1\n"
    )
    b = load_state([write("b.yaml", reordered)]).customers[0]
    assert fingerprint(a) == fingerprint(b) and len(fingerprint(a)) == 64
    c = load_state([write("c.yaml", TOM.replace("GOLD1", "GOLD2"))]).customers[0]
    assert fingerprint(c) != fingerprint(a)


def test_cards_absent_unmanaged_empty_list_delinks_all(write: Write) -> None:
    state = load_state([write("a.yaml", "customers:\n  - id: 1\n  - id: 2\n    cards: []\n")])
    assert [c.cards for c in state.customers] == [None, ()]


def test_customer_declared_twice_names_both_places(write: Write) -> None:
    a = write("a.yaml", "customers:\n  - id: 7\n")
    b = write("b.yaml", "customers:\n  - id: 8\n  - id: 7\n")
    assert problems_of(a, b) == [
        "a.yaml:2:5: customer 7 declared 2 times; also at b.yaml:3:5",
        "b.yaml:3:5: customer 7 declared 2 times; also at a.yaml:2:5",
    ]


def test_same_identifier_in_same_scope_on_two_customers(write: Write) -> None:
    a = write("a.yaml", 'customers:\n  - id: 1\n    identifiers: {INSTORE: {mobile: "919800000001"}}\n')
    b = write(
        "b.yaml",
        'customers:\n  - id: 2\n    identifiers:\n      INSTORE: {mobile: "919800000001"}\n'
        '      WECHAT:x: {mobile: "919800000001"}\n',
    )
    assert problems_of(a, b) == [
        "a.yaml:3:37: mobile '919800000001' in INSTORE declared on customers 1, 2; also at b.yaml:4:25",
        "b.yaml:4:25: mobile '919800000001' in INSTORE declared on customers 1, 2; also at a.yaml:3:37",
    ]


def test_card_number_declared_twice(write: Write) -> None:
    path = write(
        "a.yaml", "customers:\n  - id: 1\n    cards: [{number: C1, series: 5}, {number: C1, series: 5}]\n"
    )
    assert problems_of(path) == [
        "a.yaml:3:13: card number 'C1' declared 2 times (customer 1); also at a.yaml:3:38",
        "a.yaml:3:38: card number 'C1' declared 2 times (customer 1); also at a.yaml:3:13",
    ]


IDENTIFIER_CASES = [
    (
        "mobile letters",
        'INSTORE: {mobile: "91abc"}',
        "3:37: malformed mobile '91abc': digits only, with country code, 8-15 digits",
    ),
    ("mobile short", 'INSTORE: {mobile: "1234567"}', "3:37: malformed mobile '1234567'"),
    (
        "mobile unquoted",
        "INSTORE: {mobile: 919876543210}",
        '3:37: mobile must be a string, not int 919876543210: quote it ("919876543210")',
    ),
    ("email", "INSTORE: {email: a b@x.com}", "3:36: malformed email 'a b@x.com'"),
    ("type not taken", "INSTORE: {wechat: oX1}", "3:37: source INSTORE does not take 'wechat' (only WECHAT)"),
    ("unknown type", "INSTORE: {phone: x}", "3:29: unknown identifier type 'phone'"),
    (
        "card as identifier",
        "INSTORE: {cardnumber: x}",
        "3:29: 'cardnumber' is not an identifier here: declare cards under 'cards:'",
    ),
    (
        "multi-account without account",
        "WECHAT: {wechat: oX1}",
        "3:19: source WECHAT takes several accounts: write 'WECHAT:<accountId>'",
    ),
    (
        "single account with account",
        "INSTORE:x: {mobile: '919876543210'}",
        "3:19: source INSTORE has a single account",
    ),
    ("unknown source", "SHOP: {mobile: '919876543210'}", "3:19: unknown source 'SHOP' in profile 'SHOP'"),
    (
        "empty profile",
        "INSTORE: ",
        "3:28: profile INSTORE must map identifier types to values: write {} to remove",
    ),
]


@pytest.mark.parametrize(
    ("profile", "expected"), [c[1:] for c in IDENTIFIER_CASES], ids=[c[0] for c in IDENTIFIER_CASES]
)
def test_identifier_rules(write: Write, profile: str, expected: str) -> None:
    path = write("a.yaml", f"customers:\n  - id: 1\n    identifiers: {{{profile}}}\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"a.yaml:{expected}"), problem


CUSTOMER_CASES = [
    ("missing id", "customers:\n  - note: x\n", "a.yaml:2:5: customer without 'id:'"),
    (
        "negative id",
        "customers:\n  - id: -4\n",
        "a.yaml:2:9: customer id must be a positive integer, not int -4",
    ),
    (
        "cards null",
        "customers:\n  - id: 1\n    cards:\n",
        "a.yaml:3:11: 'cards' must be a list of cards: write [] to delink",
    ),
    (
        "card without series",
        "customers:\n  - id: 1\n    cards: [{number: X}]\n",
        "a.yaml:3:13: card without 'series:'",
    ),
    (
        "card unknown key",
        "customers:\n  - id: 1\n    cards: [{series: 1, colour: red}]\n",
        "a.yaml:3:25: unknown key 'colour' in card",
    ),
    (
        "series bool",
        "customers:\n  - id: 1\n    cards: [{series: true}]\n",
        "a.yaml:3:22: series must be an id (integer) or a code, not bool true",
    ),
    (
        "merge with self",
        "customers:\n  - id: 1\n    allow: {merge_with: [1]}\n",
        "a.yaml:3:26: a customer cannot list itself in merge_with",
    ),
    (
        "merge_with text",
        "customers:\n  - id: 1\n    allow: {merge_with: [x]}\n",
        "a.yaml:3:26: merge_with holds customer ids",
    ),
    ("no customers key", "people: []\n", "a.yaml:1:1: missing 'customers:'"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in CUSTOMER_CASES], ids=[c[0] for c in CUSTOMER_CASES]
)
def test_customer_rules(write: Write, text: str, expected: str) -> None:
    problems = problems_of(write("a.yaml", text))
    assert any(p.startswith(expected) for p in problems), problems


def test_unknown_label_and_series_checked_when_known(write: Write) -> None:
    path = write("a.yaml", TOM)
    assert problems_of(path, labels={"ACTIVE"}, series={121212, "DIGI01"}) == [
        "a.yaml:12:9: unknown card status 'CARD BLOCKED' (org labels: ACTIVE)"
    ]
    assert problems_of(path, labels={"ACTIVE", "CARD BLOCKED"}, series={121212}) == [
        "a.yaml:12:9: unknown card series 'DIGI01'"
    ]


def test_load_state_raises_with_every_problem(write: Write) -> None:
    path = write("a.yaml", "customers:\n  - id: x\n  - id: 2\n    bad: 1\n")
    with pytest.raises(StateError) as caught:
        load_state([path])
    assert [str(p) for p in caught.value.problems] == [
        "a.yaml:2:9: customer id must be a positive integer, not string 'x'",
        "a.yaml:4:5: unknown key 'bad' in customer (allowed: id, note, identifiers, cards, allow)",
    ]
    assert str(caught.value).endswith("(and 1 more problems)")


def test_missing_path_is_a_problem_not_a_traceback(write: Write) -> None:
    write("a.yaml", "customers: []\n")
    assert problems_of(write("a.yaml", "customers: []\n").parent / "nope.yaml") == [
        "nope.yaml:1:1: no such file or directory"
    ]
