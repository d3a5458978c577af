"""Parsing every response example of docs/capillary-api.md into the model types."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.capillary.parse import (
    parse_bulk_customers,
    parse_card,
    parse_change_result,
    parse_customer,
    parse_generated,
    parse_labels,
    parse_series,
)
from reconciler.errors import ApiError, NotFoundError
from reconciler.model import CardLabel, Identifier, LiveCard, ProfileKey

# docs/capillary-api.md 4.1 (shape from the legacy sample, fields from the current pages)
CUSTOMER_41: dict[str, Any] = {
    "id": 17742,
    "profiles": [
        {
            "firstName": "Tom",
            "lastName": "Sawyer",
            "attribution": {"createDate": "2020-01-01", "createdBy": {"code": "t1", "type": "TILL"}},
            "fields": {},
            "allFields": {},
            "identifiers": [
                {"type": "email", "value": "tom@example.com"},
                {"type": "cardNumber", "value": "CARD19", "seriesId": 19, "statusLabel": "ACTIVE"},
            ],
            "commChannels": [{"type": "email", "value": "tom@example.com", "primary": True}],
            "source": "WECHAT",
            "userId": 17742,
            "accountId": "wechat-con1",
            "conflictingProfileList": [],
            "autoUpdateTime": "2020-01-01",
            "identifiersAll": [{"type": "email", "value": "tom@example.com"}],
        },
        {"source": "INSTORE", "userId": 17742, "identifiers": [{"type": "mobile", "value": "919876543210"}]},
    ],
    "loyaltyInfo": {"loyaltyType": "loyalty", "attributionV2": {}, "lifetimePurchases": 230},
    "segments": {},
    "associatedWith": "till1",
    "extendedFields": {},
    "cardDetails": [],
    "warnings": [],
}

# docs/capillary-api.md 6.5
CARD_65: dict[str, Any] = {
    "cardId": 1,
    "issuedDate": "2024-01-01",
    "createdDate": "2024-01-01",
    "expiryDays": 365,
    "seriesName": "Gold",
    "customerId": 564854782,
    "maxActiveCards": 1,
    "entityCode": "x",
    "cardExternalId": None,
    "customFields": {},
    "extendedFields": {},
    "type": "PHYSICAL",
    "cardNumber": "GOLD0000001",
    "seriesId": 121212,
    "seriesCode": "GOLD01",
    "orgId": 50672,
    "entityId": 1,
    "statusInfo": {"reason": "", "isActive": True, "labelId": 2, "label": "ACTIVE", "status": "ACTIVE"},
    "id": 1,
    "activeAndDigital": False,
    "transactionNotAllowed": False,
    "expiryDate": None,
    "warnings": [],
}


def test_customer_profiles_per_source_and_account() -> None:
    customer = parse_customer(CUSTOMER_41)
    assert customer.id == 17742
    wechat = customer.profile(ProfileKey("WECHAT", "wechat-con1"))
    assert wechat is not None and wechat.identifiers == (Identifier("email", "tom@example.com"),)
    instore = customer.profile(ProfileKey("INSTORE"))
    assert instore is not None and instore.identifiers == (Identifier("mobile", "919876543210"),)
    assert customer.campaign is False and customer.status == "ACTIVE"


def test_card_identifiers_become_cards_not_identifiers() -> None:
    customer = parse_customer(CUSTOMER_41)
    assert customer.cards == (LiveCard("CARD19", 19, "", "ACTIVE", "ACTIVE", 17742),)


@pytest.mark.parametrize("spelling", ["cardnumber", "cardNumber", "card", "CARDNUMBER"])
def test_every_card_type_spelling_is_a_card(spelling: str) -> None:
    data = {"id": 1, "profiles": [{"source": "INSTORE", "identifiers": [{"type": spelling, "value": "C1"}]}]}
    customer = parse_customer(data)
    assert customer.profiles[0].identifiers == ()
    assert [c.number for c in customer.cards] == ["C1"]


def test_identifiers_all_is_used_when_identifiers_is_absent() -> None:
    profile = {"source": "INSTORE", "identifiersAll": [{"type": "mobile", "value": "91"}]}
    data = {"id": 5, "profiles": [profile]}
    assert parse_customer(data).profiles[0].identifiers == (Identifier("mobile", "91"),)


def test_card_details_win_over_profile_card_identifiers() -> None:
    data = {**CUSTOMER_41, "cardDetails": [{**CARD_65, "cardNumber": "CARD19", "customerId": 17742}]}
    cards = parse_customer(data).cards
    assert len(cards) == 1 and cards[0].series_code == "GOLD01"


# A warning is a warning whatever its ``status``: documented false, true in older sandboxes, or absent.
WARNING_STATUSES = pytest.mark.parametrize("status", [{"status": False}, {"status": True}, {}])


@WARNING_STATUSES
def test_campaign_account_and_customer_status(status: dict[str, bool]) -> None:
    data = {
        "id": 9,
        "profiles": [],
        "loyaltyInfo": {"loyaltyType": "non_loyalty"},
        "customerStatus": {"label": "FRAUD_HOLD", "status": "SUSPENDED"},
        "warnings": [{**status, "code": 91009, "message": "Retrieved survivor account"}],
    }
    customer = parse_customer(data)
    assert customer.campaign and customer.status == "SUSPENDED" and customer.warnings == (91009,)


def test_card_details_from_get_card() -> None:
    assert parse_card(CARD_65) == LiveCard("GOLD0000001", 121212, "GOLD01", "ACTIVE", "ACTIVE", 564854782)


def test_card_from_put_response_with_status_label_info() -> None:
    # docs/capillary-api.md 6.4: the single update response
    data = {
        "cardId": 3,
        "customerId": 0,
        "cardnumber": "DIGI1",
        "seriesId": 131313,
        "statusLabel": "CARD BLOCKED",
        "statusLabelInfo": {"status": "SUSPENDED", "entityStatusId": 4, "label": "CARD BLOCKED"},
        "statusInfo": {"reason": "lost", "label": "CARD BLOCKED", "prevLabel": "ACTIVE"},
    }
    assert parse_card(data) == LiveCard("DIGI1", 131313, "", "CARD BLOCKED", "SUSPENDED", 0)


def test_card_number_spelled_number() -> None:
    assert parse_card({"number": "N1", "statusLabel": "NOT_ISSUED"}).status == "NOT_ISSUED"


@pytest.mark.parametrize(
    ("data", "field"),
    [({"profiles": []}, "'id'"), ({"id": 1, "profiles": [{"identifiers": []}]}, "'source'")],
    ids=["customer-id", "profile-source"],
)
def test_missing_required_field_is_a_clear_api_error(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ApiError, match=field):
        parse_customer(data)


def test_card_without_number_is_a_clear_api_error() -> None:
    with pytest.raises(ApiError, match="cardNumber"):
        parse_card({"seriesId": 1})


def test_bulk_read_items_and_per_item_errors() -> None:
    # docs/capillary-api.md 4.4
    body = {
        "data": [
            {"entity": CUSTOMER_41, "warnings": [], "errors": [], "success": True},
            {
                "entity": {"id": 564332013},
                "warnings": [],
                "errors": [{"status": False, "code": 8109, "message": "Customer deleted (PII)"}],
                "success": False,
            },
            {"warnings": [], "errors": [{"status": False, "code": 8015, "message": "Customer not found"}]},
        ],
        "warnings": [],
        "errors": [],
    }
    items = parse_bulk_customers(body)
    assert items[0][0] == 17742 and not isinstance(items[0][1], ApiError)
    assert items[1][0] == 564332013 and isinstance(items[1][1], ApiError) and items[1][1].code == 8109
    assert items[2][0] is None and isinstance(items[2][1], NotFoundError)


def test_series_list() -> None:
    # docs/capillary-api.md 6.2
    body = {
        "data": [
            {
                "id": 121212,
                "code": "GOLD01",
                "name": "Gold",
                "type": "PHYSICAL",
                "trigger": "SERIES_ID",
                "expiryDays": 365,
                "cardExpiryEnabled": True,
                "maxActiveCardsPerCustomer": 1,
                "cardGenerationEnabled": False,
                "cardGenerationConfiguration": {"prefix": "G", "method": "DEFAULT"},
                "isActive": True,
                "orgId": 50672,
            }
        ],
        "warnings": [],
        "errors": [],
    }
    (series,) = parse_series(body)
    assert (series.id, series.code, series.type) == (121212, "GOLD01", "PHYSICAL")
    assert series.generation_enabled is False


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ({"maxActiveCardsPerCustomer": 0}, 0),
        ({}, 1),
        ({"maxActiveCardsPerCustomer": None}, 1),
        ({"maxActiveCardsPerCustomer": 3}, 3),
    ],
)
def test_series_limit_zero_is_zero_and_absent_is_the_default_one(
    given: dict[str, int | None], read: int
) -> None:
    # docs/capillary-api.md 6.2 and 10: no document says 0 means "no limit"
    (series,) = parse_series({"data": [{"id": 7, "code": "ZERO01", **given}]})
    assert series.max_active_per_customer == read


def test_labels_list() -> None:
    # docs/capillary-api.md 6.1
    body = {
        "data": [
            {"id": 1, "label": "ACTIVE", "status": "ACTIVE", "type": "CARD", "default": True},
            {"id": 2, "label": "CARD BLOCKED", "status": "SUSPENDED", "type": "CARD", "default": False},
        ]
    }
    assert parse_labels(body) == [CardLabel("ACTIVE", "ACTIVE", True), CardLabel("CARD BLOCKED", "SUSPENDED")]


@WARNING_STATUSES
def test_change_result_with_merge_warning(status: dict[str, bool]) -> None:
    # docs/capillary-api.md 3: success, with 8051 as a merge notice
    warning = {**status, "code": 8051, "message": "Same Customer found, Merging with userId 9"}
    result = parse_change_result({"createdId": 382756026, "warnings": [warning]})
    assert result.created_id == 382756026 and result.merged
    assert result.warnings == ((8051, "Same Customer found, Merging with userId 9"),)
    assert parse_change_result({"createdId": 418, "warnings": []}).merged is False


@pytest.mark.parametrize(
    "body",
    [{"entity": ["TTM001", "TTM002"], "warnings": []}, {"data": ["TTM001", "TTM002"]}],
    ids=["legacy-entity", "newer-data"],
)
def test_generated_card_numbers(body: dict[str, Any]) -> None:
    assert parse_generated(body) == ["TTM001", "TTM002"]
