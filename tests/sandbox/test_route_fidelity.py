"""Fidelity as a test, route by route (issue 29, 3). Every route the sandbox app serves has an entry here (a
new route without one fails), and each entry holds:

- the documented answer: every documented field, with its documented type and format (dates as the docs
  show them: days ``2025-06-13``, instants ``2025-06-13T08:19:33Z``), into the items of list answers;
- every documented failure of the route with the code the docs give for that route. The cases of
  ``test_documented_answers.py`` count (they run there); this file adds the rest, and checks that together
  they cover every documented code of every route;
- where the two stored copies of the docs (the 2025 pages [D]/[CD] and the legacy v2 docs [L],
  docs/capillary-api.md 0) answer differently, the newer shape is the default and a setting gives the other:
  ``VARIANTS`` names both, and both are checked.

Sources, by section: docs/capillary-api.md, and "shared" for the project's original API digest (whose
numbering docs/capillary-api.md keeps); where neither holds an example
answer, the documentation page it comes from ([D] get-card-details for the card object, [L] _org.md for the
org's source accounts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from reconciler.sandbox import create_app
from reconciler.sandbox.app import SandboxApp
from tests.sandbox import test_documented_answers as documented
from tests.testing import Api

TOM = documented.TOM  # INSTORE mobile 919876543210; holds GOLD0000001 (ACTIVE) and DIGI00000001
VICTIM = 564855017  # merged into 564854783; holds mobile 919812300017
CAMPAIGN_MOBILE = "919812300001"  # held by the campaign account 564855001
WECHAT_MOBILE = "919876543259"  # held by 564854846 in WECHAT:wechat-con1
JIM = 564854863  # WECHAT only
LOOKUP = documented.LOOKUP


# -- the shape language: a type, a Format, a nested object, [item shape], or Opt(shape) ----------------------


@dataclass(frozen=True)
class Format:
    """A string in a documented format."""

    name: str
    pattern: str

    def problem(self, value: Any) -> str | None:
        if isinstance(value, str) and re.fullmatch(self.pattern, value):
            return None
        return f"expected {self.name}, got {value!r}"


@dataclass(frozen=True)
class Opt:
    """A documented field the answer may leave null (a card never issued has no issue date)."""

    shape: Any


@dataclass(frozen=True)
class OneOf:
    """A string from a documented enumeration."""

    values: tuple[str, ...]


DAY = Format("a day like 2025-06-13", r"\d{4}-\d{2}-\d{2}")
INSTANT = Format(
    "an instant like 2025-06-13T08:19:33Z", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})"
)
ERRORS_NULL = "null"  # the token answer's ``"errors": null``


def problems(value: Any, shape: Any, where: str = "$") -> list[str]:
    """Every way ``value`` misses ``shape``; an empty list when it matches."""
    if isinstance(shape, Opt):
        return [] if value is None else problems(value, shape.shape, where)
    if shape == ERRORS_NULL:
        return [] if value is None else [f"{where}: expected null, got {value!r}"]
    if isinstance(shape, Format):
        found = shape.problem(value)
        return [f"{where}: {found}"] if found else []
    if isinstance(shape, OneOf):
        return [] if value in shape.values else [f"{where}: expected one of {shape.values}, got {value!r}"]
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {value!r}"]
        out = [f"{where}.{k}: missing" for k in shape if k not in value]
        return out + [
            p for k, s in shape.items() if k in value for p in problems(value[k], s, f"{where}.{k}")
        ]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {value!r}"]
        if not value and shape:
            return [f"{where}: empty, so its items' documented fields cannot be checked"]
        return (
            [p for i, item in enumerate(value) for p in problems(item, shape[0], f"{where}[{i}]")]
            if shape
            else []
        )
    if shape is int and isinstance(value, bool):
        return [f"{where}: expected int, got {value!r}"]
    return [] if isinstance(value, shape) else [f"{where}: expected {shape.__name__}, got {value!r}"]


# -- the documented answers ------------------------------------------------------------------------------

LIST_ENVELOPE = {"warnings": list, "errors": list}
TILL = {"code": str, "name": str, "type": OneOf(("TILL",))}
ATTRIBUTION = {"createDate": INSTANT, "createdBy": TILL, "modifiedBy": TILL, "modifiedDate": INSTANT}
CHANNEL = {"type": str, "value": str, "primary": bool, "verified": bool, "meta": dict, "attributes": dict}
PROFILE = {  # docs/capillary-api.md 4.1; shared 4.1
    "firstName": str,
    "lastName": str,
    "attribution": ATTRIBUTION,
    "fields": dict,
    "allFields": dict,
    "identifiers": [{"type": str, "value": str}],
    "commChannels": [CHANNEL],
    "source": str,
    "userId": int,
    "accountId": str,
    "conflictingProfileList": list,
    "autoUpdateTime": INSTANT,
    "identifiersAll": [{"type": str, "value": str}],
}
STATUS_INFO = {  # [D] get-card-details: the example answer
    "reason": str,
    "createdBy": int,
    "actions": list,
    "autoUpdateTime": DAY,
    "createdOn": INSTANT,
    "entityId": int,
    "id": int,
    "isActive": bool,
    "labelId": int,
    "label": str,
    "status": OneOf(("NOT_ISSUED", "ISSUED", "ACTIVE", "SUSPENDED", "EXPIRED", "DELETED")),
}
CARD = {  # [D] get-card-details: every field of the example answer, in its format; shared 6.5
    "cardId": int,
    "issuedDate": Opt(INSTANT),  # a card never issued has none
    "createdDate": DAY,
    "expiryDays": Opt(int),  # a series without expiry
    "seriesName": str,
    "customerId": int,
    "maxActiveCards": int,
    "entityCode": str,
    "cardExternalId": Opt(str),  # a card without one
    "customFields": dict,
    "type": OneOf(("DIGITAL", "PHYSICAL")),
    "cardNumber": str,
    "seriesId": int,
    "seriesCode": str,
    "orgId": int,
    "entityId": int,
    "statusInfo": STATUS_INFO,
    "id": int,
    "activeAndDigital": bool,
    "transactionNotAllowed": bool,
    "expiryDate": Opt(INSTANT),  # issuedDate + expiryDays; none for a card never issued
}
CUSTOMER = {  # docs/capillary-api.md 4.1; shared 4.1
    "id": int,
    "profiles": [PROFILE],
    "loyaltyInfo": {
        "loyaltyType": OneOf(("loyalty", "non_loyalty")),
        "attributionV2": dict,
        "lifetimePurchases": int,
    },
    "segments": dict,
    "associatedWith": str,
    "extendedFields": dict,
    "cardDetails": [CARD],
    "warnings": list,
}
BULK_ENTITY = {k: v for k, v in CUSTOMER.items() if k != "warnings"}  # shared 4.4: the item's warnings
SERIES = {  # shared 6.2; docs/capillary-api.md 6.2
    "id": int,
    "code": str,
    "name": str,
    "type": OneOf(("DIGITAL", "PHYSICAL")),
    "trigger": str,
    "expiryDays": Opt(int),
    "cardExpiryEnabled": bool,
    "maxActiveCardsPerCustomer": int,
    "cardGenerationEnabled": bool,
    "cardGenerationConfiguration": Opt({"prefix": str, "suffix": str, "offset": int, "length": int}),
    "isActive": bool,
    "orgId": int,
}
LABEL = {  # shared 6.1
    "id": int,
    "label": str,
    "status": STATUS_INFO["status"],
    "entityStatusId": int,
    "type": OneOf(("CARD",)),
    "default": bool,
    "isActive": bool,
    "orgId": int,
}
SOURCE_ACCOUNT = {  # shared 2.1 (organization-1.json); [L] _org.md "Retrieve All Source Accounts of an Org"
    "id": int,
    "uuid": str,
    "name": str,
    "sourceAccountIdentifier": str,
    "toMirror": bool,
    "sourceTypeId": int,
    "sourceTypeName": str,
    "isActive": bool,
    "commChannels": list,
    "attribution": {"createDate": DAY, "modifiedDate": DAY},
}
WRITE = {"createdId": int, "warnings": list}  # docs/capillary-api.md 1.4, 3
UPDATED_CARD = {  # shared 6.4: the single update's answer
    **{k: CARD[k] for k in ("cardId", "customerId", "cardNumber", "cardExternalId", "seriesId", "orgId")},
    "entityId": int,
    "statusLabel": str,
    "statusLabelInfo": {
        "status": STATUS_INFO["status"],
        "entityStatusId": int,
        "label": str,
        "default": bool,
    },
    "statusInfo": {
        "reason": str,
        "label": str,
        "prevLabel": str,
        "prevLabelId": int,
        "entityType": OneOf(("CARD",)),
    },
    "activeAndDigital": bool,
    "transactionNotAllowed": bool,
    "warnings": list,
}

# docs/capillary-api.md 3 ("Other codes of this endpoint", rules 2-6, 1.7); shared 3, its error table
CHANGE_CODES = (8015, 8069, 8007, 8008, 8045, 8011, 8003, 8055, 8056, 8070, 8071, 8051, 8053, 521)
CARD_LINK_CODES = (3000, 3010, 3027, 3031, 3036, 3037, 3039, 3017, 3018, 8087)

Request = tuple[str, str, Any]  # method, path (with query), JSON body (None: none)


@dataclass(frozen=True)
class Route:
    """A route's documented answer and the codes of its documented failures."""

    doc: str
    example: Request
    shape: Mapping[str, Any]
    codes: tuple[int, ...] = ()
    auth: bool = True


ROUTES: dict[str, Route] = {
    "POST /v3/oauth/token/generate": Route(
        "docs/capillary-api.md 1.2; shared 1.2",
        ("POST", "/v3/oauth/token/generate", {"key": "sandbox", "secret": "sandbox"}),
        {"data": {"accessToken": str, "ttlSeconds": int}, "errors": ERRORS_NULL},
        codes=(401,),
        auth=False,
    ),
    "POST /v2/customers": Route(
        "docs/capillary-api.md 7; shared 7",
        (
            "POST",
            "/v2/customers",
            {
                "profiles": [
                    {"source": "INSTORE", "identifiers": [{"type": "mobile", "value": "919800000077"}]}
                ]
            },
        ),
        {"createdId": int, "warnings": list, "sideEffects": list},
        codes=(8006, 3217, 8045, 403, 8050),
    ),
    "GET /v2/customers/lookup": Route(
        "docs/capillary-api.md 4.2; shared 4.2",
        (
            "GET",
            "/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=919876543210",
            None,
        ),
        {"entity": int, "warnings": list},
        codes=(8015, 8045, 8013, 8011, 8001, 8002, 8092, 8093),
    ),
    "GET /v2/customers/lookup/customerDetails": Route(
        "docs/capillary-api.md 4.3, 10; shared 4.3, 10",
        ("GET", f"{LOOKUP}?source=INSTORE&identifierName=mobile&identifierValue=919876543210", None),
        CUSTOMER,
        codes=(8015, 8011, 8001, 8002, 8092, 8093, 8013, 8069, 8068),
    ),
    "GET /v2/customers/{id}": Route(
        "docs/capillary-api.md 4.1; shared 4.1",
        ("GET", f"/v2/customers/{TOM}?source=ALL", None),
        CUSTOMER,
        codes=(8015, 8065, 8069, 8045, 8012, 8016),
    ),
    "POST /v2/customers/{id}/changeIdentifier": Route(
        "docs/capillary-api.md 3; shared 3",
        (
            "POST",
            f"/v2/customers/{TOM}/changeIdentifier?source=INSTORE",
            {"add": [{"type": "email", "value": "t2@example.com"}]},
        ),
        WRITE,
        codes=(*CHANGE_CODES, *CARD_LINK_CODES),
    ),
    "POST /v2/bulk/getCustomers": Route(
        "docs/capillary-api.md 4.4; shared 4.4",
        ("POST", "/v2/bulk/getCustomers?source=ALL", [TOM]),
        {
            "data": [{"entity": BULK_ENTITY, "warnings": list, "errors": list, "success": bool}],
            **LIST_ENVELOPE,
        },
        codes=(8015, 400),
    ),
    "GET /v2/card": Route(
        "[D] get-card-details; docs/capillary-api.md 6.5; shared 6.5",
        ("GET", "/v2/card?number=GOLD0000001", None),
        {**CARD, "warnings": list},
        codes=(3010, 403),
    ),
    "POST /v2/card": Route(
        "docs/capillary-api.md 6.3; shared 6.3",
        ("POST", "/v2/card", {"cardNumber": "NEW0001", "seriesId": 121212, "statusLabel": "NOT_ISSUED"}),
        {"entity": int, "warnings": list},
        codes=(3009, 3004, 3045, 3035, 403),
    ),
    "PUT /v2/card": Route(
        "docs/capillary-api.md 6.4; shared 6.4",
        ("PUT", "/v2/card", {"cardNumber": "GOLD0000001", "statusLabel": "CARD BLOCKED"}),
        UPDATED_CARD,
        codes=(3010, 3012, 3013, 3038),
    ),
    "PUT /v2/card/bulk": Route(
        "shared 1.4, 6.4",
        ("PUT", "/v2/card/bulk", [{"cardNumber": "GOLD0000001", "statusLabel": "CARD BLOCKED"}]),
        {
            "response": [{"entityId": dict, "errors": list, "warnings": list}],
            "totalCount": int,
            "failureCount": int,
        },
        codes=(1060, 3010, 3038, 3039),
    ),
    "POST /v2/card/generate": Route(
        "docs/capillary-api.md 6.6, 10; shared 6.6, 10 (the 2025 shape; VARIANTS: the legacy one)",
        ("POST", "/v2/card/generate", {"seriesId": 131313, "count": 2, "statusLabel": "NOT_ISSUED"}),
        {"data": [str], **LIST_ENVELOPE},
        codes=(3000, 3017, 3025, 3026, 702, 703),
    ),
    "POST /v2/card/series": Route(
        "shared 6.2",
        ("POST", "/v2/card/series", {"code": "NEW01", "name": "New", "type": "DIGITAL"}),
        {"entity": int, "warnings": list},
        codes=(3001, 3002, 3020),
    ),
    "GET /v2/card/series/get/all": Route(
        "docs/capillary-api.md 6.2; shared 6.2",
        ("GET", "/v2/card/series/get/all", None),
        {"data": [SERIES], **LIST_ENVELOPE},
    ),
    "GET /v2/card/series/{id}": Route(
        "shared 6.2",
        ("GET", "/v2/card/series/131313", None),
        {**SERIES, "warnings": list},
        codes=(3004,),
    ),
    "GET /v2/genericStatus/card/labels": Route(
        "docs/capillary-api.md 6.1; shared 6.1",
        ("GET", "/v2/genericStatus/card/labels", None),
        {"data": [LABEL], **LIST_ENVELOPE},
    ),
    "GET /v2/org/{org}/sources": Route(
        "docs/capillary-api.md 2.1; shared 2.1, 1.3 (1064, 403)",
        ("GET", "/v2/org/50672/sources?details=true", None),
        {"data": [SOURCE_ACCOUNT], **LIST_ENVELOPE},
        codes=(1064, 403),
    ),
    "GET /v2/meta/sources": Route(
        "shared 2.1 ([L] _organizationSource.md)",
        ("GET", "/v2/meta/sources", None),
        {"data": [{"id": int, "name": str}], **LIST_ENVELOPE},
    ),
}


@dataclass(frozen=True)
class Variant:
    """Where the two copies of the docs answer a route differently: the newer is the default."""

    route: str
    setting: str
    newer: tuple[str, Any]  # (which docs, the setting's default)
    older: tuple[str, Any, Mapping[str, Any]]  # (which docs, the setting's value, the answer's shape)


VARIANTS = [
    Variant(
        "POST /v2/card/generate",
        "generate_answer",
        ("[D] generate-cards, 2025: data[]", "data"),
        ("[L] legacy v2 docs: entity[]", "entity", {"entity": [str], "warnings": list}),
    ),
    Variant(
        "POST /v2/customers/{id}/changeIdentifier",
        "merge_codes",
        ("[CD] status-codes-customer: 8051 a warning of a 2xx", "warning"),
        ("[L] changeIdentifier error table: 8051 an error", "error", {"createdId": int, "errors": list}),
    ),
]


# -- the documented failures this file adds to test_documented_answers.CASES ---------------------------


@dataclass(frozen=True)
class Failure:
    """A documented failure: what is sent, the code, and where it shows (``errors``, ``warnings``, or an
    item's list: ``data.0.errors``)."""

    route: str
    what: str
    request: Request
    code: int
    where: str = "errors"
    settings: Mapping[str, Any] = field(default_factory=dict)
    auth: bool = True
    before: tuple[Request, ...] = ()  # sent first, each answered 200


CHANGE = f"/v2/customers/{TOM}/changeIdentifier"


def _profile(source: str, value: str, **extra: str) -> dict[str, Any]:
    return {"profiles": [{"source": source, "identifiers": [{"type": "mobile", "value": value}], **extra}]}


FAILURES = [
    Failure(
        "POST /v3/oauth/token/generate",
        "a wrong secret",
        ("POST", "/v3/oauth/token/generate", {"key": "sandbox", "secret": "x"}),
        401,
        auth=False,
    ),
    Failure(
        "POST /v2/customers",
        "a same-source duplicate",
        ("POST", "/v2/customers", _profile("INSTORE", "919876543210")),
        8006,
    ),
    Failure(
        "POST /v2/customers",
        "an invalid source",
        ("POST", "/v2/customers", _profile("NOPE", "919800000078")),
        3217,
    ),
    Failure(
        "POST /v2/customers",
        "a multi-account source without accountId",
        ("POST", "/v2/customers", _profile("WECHAT", "919800000078")),
        8045,
    ),
    Failure("POST /v2/customers", "no profiles", ("POST", "/v2/customers", {}), 403),
    Failure(
        "POST /v2/customers",
        "a holder in another source: combined",
        ("POST", "/v2/customers", _profile("MARTJACK", "919876543210")),
        8050,
        "warnings",
    ),
    Failure(
        "GET /v2/customers/lookup",
        "nobody holds it",
        ("GET", "/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=1", None),
        8015,
    ),
    Failure(
        "GET /v2/customers/lookup",
        "a multi-account source without accountId",
        ("GET", "/v2/customers/lookup?source=WECHAT&identifierName=mobile&identifierValue=1", None),
        8045,
    ),
    Failure(
        "GET /v2/customers/lookup",
        "an unknown identifierName",
        ("GET", "/v2/customers/lookup?source=INSTORE&identifierName=bogus&identifierValue=1", None),
        8013,
    ),
    Failure(
        "GET /v2/customers/lookup",
        "an unknown account",
        (
            "GET",
            "/v2/customers/lookup?source=WECHAT&accountId=zz&identifierName=mobile&identifierValue=1",
            None,
        ),
        8011,
    ),
    Failure(
        "GET /v2/customers/lookup",
        "no identifiers",
        ("GET", "/v2/customers/lookup?source=INSTORE", None),
        8002,
    ),
    Failure(
        "GET /v2/customers/lookup",
        "no identifierName",
        ("GET", "/v2/customers/lookup?source=INSTORE&identifierValue=1", None),
        8092,
    ),
    Failure(
        "GET /v2/customers/lookup",
        "no identifierValue",
        ("GET", "/v2/customers/lookup?source=INSTORE&identifierName=mobile", None),
        8093,
    ),
    Failure(
        "GET /v2/customers/lookup/customerDetails",
        "a victim holds it",
        ("GET", f"{LOOKUP}?source=INSTORE&identifierName=mobile&identifierValue=919812300017", None),
        8069,
        "warnings",
    ),
    Failure(
        "GET /v2/customers/lookup/customerDetails",
        "a campaign account holds it",
        ("GET", f"{LOOKUP}?source=INSTORE&identifierName=mobile&identifierValue={CAMPAIGN_MOBILE}", None),
        8068,
        "warnings",
    ),
    Failure(
        "GET /v2/customers/{id}", "an unknown customer", ("GET", "/v2/customers/999?source=ALL", None), 8015
    ),
    Failure(
        "GET /v2/customers/{id}",
        "no profile in the source",
        ("GET", f"/v2/customers/{TOM}?source=MARTJACK", None),
        8065,
    ),
    Failure(
        "GET /v2/customers/{id}", "a merge victim", ("GET", f"/v2/customers/{VICTIM}?source=ALL", None), 8069
    ),
    Failure(
        "POST /v2/customers/{id}/changeIdentifier",
        "an unknown customer",
        (
            "POST",
            "/v2/customers/999/changeIdentifier?source=INSTORE",
            {"add": [{"type": "email", "value": "q@x.com"}]},
        ),
        8015,
    ),
    Failure(
        "POST /v2/customers/{id}/changeIdentifier",
        "a merge victim",
        (
            "POST",
            f"/v2/customers/{VICTIM}/changeIdentifier?source=INSTORE",
            {"add": [{"type": "email", "value": "q@x.com"}]},
        ),
        8069,
    ),
    Failure(
        "POST /v2/customers/{id}/changeIdentifier",
        "held in the same source",
        (
            "POST",
            "/v2/customers/564854783/changeIdentifier?source=INSTORE",
            {"add": [{"type": "mobile", "value": "919876543210"}]},
        ),
        8007,
    ),
    Failure(
        "POST /v2/customers/{id}/changeIdentifier",
        "held in the same account",
        (
            "POST",
            f"/v2/customers/{JIM}/changeIdentifier?source=WECHAT&accountId=wechat-con1",
            {"add": [{"type": "mobile", "value": WECHAT_MOBILE}]},
        ),
        8008,
    ),
    Failure(
        "POST /v2/customers/{id}/changeIdentifier",
        "two holders in other sources",
        (
            "POST",
            CHANGE + "?source=INSTORE",
            {
                "add": [
                    {"type": "mobile", "value": WECHAT_MOBILE},
                    {"type": "mobile", "value": "919876543231"},
                ]
            },
        ),
        8053,
    ),
    Failure(
        "POST /v2/customers/{id}/changeIdentifier",
        "already on this customer",
        ("POST", CHANGE + "?source=INSTORE", {"add": [{"type": "mobile", "value": "919876543210"}]}),
        8071,
        "warnings",
    ),
    Failure(
        "POST /v2/customers/{id}/changeIdentifier",
        "a card already linked with its label",
        ("POST", CHANGE + "?source=INSTORE", documented._link("GOLD0000001")),
        3039,
        "warnings",
    ),
    Failure(
        "PUT /v2/card",
        "ACTIVE back to NOT_ISSUED",
        ("PUT", "/v2/card", {"cardNumber": "GOLD0000001", "statusLabel": "NOT_ISSUED"}),
        3013,
    ),
    Failure(
        "POST /v2/bulk/getCustomers",
        "an unknown id, in its item",
        ("POST", "/v2/bulk/getCustomers?source=ALL", [999]),
        8015,
        "data.0.errors",
    ),
    Failure(
        "POST /v2/bulk/getCustomers",
        "a body that is not a list",
        ("POST", "/v2/bulk/getCustomers?source=ALL", {"ids": [TOM]}),
        400,
    ),
    Failure("GET /v2/card", "no number", ("GET", "/v2/card", None), 403),
    Failure(
        "POST /v2/card",
        "an external id that exists",
        ("POST", "/v2/card", {"cardNumber": "NEW0002", "seriesId": 121212, "cardExternalId": "X-1"}),
        3045,
        before=(
            ("POST", "/v2/card", {"cardNumber": "NEW0001", "seriesId": 121212, "cardExternalId": "X-1"}),
        ),
    ),
    Failure("POST /v2/card", "no card number", ("POST", "/v2/card", {"seriesId": 121212}), 403),
    Failure(
        "PUT /v2/card/bulk",
        "an unknown card, in its item",
        ("PUT", "/v2/card/bulk", [{"cardNumber": "NOPE", "statusLabel": "ACTIVE"}]),
        3010,
        "response.0.errors",
    ),
    Failure(
        "PUT /v2/card/bulk",
        "NOT_ISSUED to SUSPENDED, in its item",
        ("PUT", "/v2/card/bulk", [{"cardNumber": "GOLD0000007", "statusLabel": "CARD BLOCKED"}]),
        3038,
        "response.0.errors",
    ),
    Failure(
        "PUT /v2/card/bulk",
        "no change, in its item",
        ("PUT", "/v2/card/bulk", [{"cardNumber": "GOLD0000007", "statusLabel": "NOT_ISSUED"}]),
        3039,
        "response.0.warnings",
    ),
    Failure(
        "POST /v2/card/generate",
        "a series that does not exist",
        ("POST", "/v2/card/generate", {"seriesId": 999, "count": 1, "statusLabel": "NOT_ISSUED"}),
        3000,
    ),
    Failure(
        "POST /v2/card/generate",
        "more than a request may generate",
        ("POST", "/v2/card/generate", {"seriesId": 131313, "count": 50001, "statusLabel": "NOT_ISSUED"}),
        3026,
    ),
    Failure("POST /v2/card/series", "no code", ("POST", "/v2/card/series", {"type": "DIGITAL"}), 3001),
    Failure(
        "POST /v2/card/series",
        "a code that exists",
        ("POST", "/v2/card/series", {"code": "GOLD01", "type": "PHYSICAL"}),
        3002,
    ),
    Failure(
        "POST /v2/card/series",
        "a type neither DIGITAL nor PHYSICAL",
        ("POST", "/v2/card/series", {"code": "NEW02", "type": "PAPER"}),
        3020,
    ),
    Failure(
        "GET /v2/card/series/{id}", "a series that does not exist", ("GET", "/v2/card/series/999", None), 3004
    ),
    Failure(
        "GET /v2/org/{org}/sources", "another org's id", ("GET", "/v2/org/1/sources?details=true", None), 1064
    ),
    Failure(
        "GET /v2/org/{org}/sources",
        "a key without the organization access group",
        ("GET", "/v2/org/50672/sources?details=true", None),
        403,
        settings={"org_sources_access": False},
    ),
]

# Documented codes whose condition a test function of test_documented_answers.py or
# test_auth_limits_and_faults.py sets up (a merge, an expired card, a used-up number space, overlapping
# writes): the test's name.
ELSEWHERE = {
    (
        "POST /v2/customers/{id}/changeIdentifier",
        8051,
    ): "test_documented_answers.py::test_after_a_merge_created_id_is_the_survivor",
    (
        "POST /v2/customers/{id}/changeIdentifier",
        8087,
    ): "test_documented_answers.py::test_an_expired_card_allows_no_further_action",
    (
        "POST /v2/customers/{id}/changeIdentifier",
        521,
    ): "test_auth_limits_and_faults.py::test_overlapping_writes_get_521",
    (
        "POST /v2/card/generate",
        702,
    ): "test_documented_answers.py::test_a_series_whose_number_space_is_used_up_answers_702",
}


def _served(app: SandboxApp) -> set[str]:
    """``METHOD template`` of every API route the app serves (not the admin API, /_sandbox/: the
    sandbox's own)."""
    out = set()
    for route in app.router.routes:
        path = getattr(route, "path", "")
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD" and not path.startswith("/_sandbox/"):
                out.add(f"{method} {path}")
    return out


def _route_of(app: SandboxApp, method: str, path: str) -> str:
    scope = {"type": "http", "method": method, "path": path.split("?", 1)[0], "root_path": "", "headers": []}
    return app.route_key(scope)


def _documented_case_route(app: SandboxApp, how: Any) -> str:
    kind, where, _ = how
    if kind in ("GET", "POST", "PUT"):
        return _route_of(app, kind, where)
    return _route_of(app, "POST", f"/v2/customers/{TOM}/changeIdentifier")  # RAW and CHANGE


def _exercised(app: SandboxApp) -> set[tuple[str, int]]:
    cases = {(_documented_case_route(app, how), code) for _, _, how, code in documented.CASES}
    return cases | {(f.route, f.code) for f in FAILURES} | set(ELSEWHERE)


def _send(api: Api, request: Request, auth: bool = True) -> httpx.Response:
    method, path, body = request
    if body is None:
        return api.request(method, path, auth=auth)
    return api.request(method, path, json=body, auth=auth)


def _codes_at(body: Any, where: str) -> list[int]:
    node = body
    for step in where.split("."):
        node = node[int(step)] if step.isdigit() else (node or {}).get(step)
    return [item["code"] for item in node or []]


# -- the tests ---------------------------------------------------------------------------------------------


def test_every_served_route_has_a_fidelity_entry() -> None:
    served = _served(create_app())
    assert served - set(ROUTES) == set(), "a route without a fidelity entry in ROUTES"
    assert set(ROUTES) - served == set(), "an entry for a route the sandbox does not serve"


def test_every_documented_code_of_every_route_is_exercised() -> None:
    app = create_app()
    missing = {(r, c) for r, entry in ROUTES.items() for c in entry.codes} - _exercised(app)
    assert missing == set(), "documented codes no case sends"
    undocumented = {(r, c) for r, c in _exercised(app) if c not in ROUTES[r].codes and c != 415}
    assert undocumented == set(), "a case whose code is not listed in its route's entry"  # 415: 1.3, any body


def test_the_tests_named_for_other_codes_exist() -> None:
    import tests.sandbox.test_auth_limits_and_faults as resilience

    modules = {"test_documented_answers.py": documented, "test_auth_limits_and_faults.py": resilience}
    for name in ELSEWHERE.values():
        module, test = name.split("::")
        assert callable(getattr(modules[module], test, None)), name


@pytest.mark.parametrize("key", sorted(ROUTES))
def test_each_route_answers_every_documented_field_in_its_format(api: Api, key: str) -> None:
    entry = ROUTES[key]
    answer = _send(api, entry.example, entry.auth)
    assert answer.status_code == 200, (key, answer.text)
    assert _route_of(api.app, entry.example[0], entry.example[1]) == key
    assert problems(answer.json(), dict(entry.shape)) == [], (key, entry.doc)


@pytest.mark.parametrize("case", FAILURES, ids=[f"{f.route} {f.what}" for f in FAILURES])
def test_each_documented_failure_answers_its_routes_code(api: Api, case: Failure) -> None:
    api.settings(**case.settings)
    for request in case.before:
        assert _send(api, request).status_code == 200, request
    assert _route_of(api.app, case.request[0], case.request[1]) == case.route
    answer = _send(api, case.request, case.auth)
    if case.where == "errors":
        assert answer.status_code >= 400, answer.text
    assert case.code in _codes_at(answer.json(), case.where), (case.what, answer.text)
    error_items = answer.json().get("errors") or []
    assert all(problems(e, {"status": bool, "code": int, "message": str}) == [] for e in error_items)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.setting for v in VARIANTS])
def test_where_the_docs_disagree_the_newer_is_the_default_and_a_setting_the_older(
    api: Api, variant: Variant
) -> None:
    assert getattr(api.runtime.settings, variant.setting) == variant.newer[1], variant.newer[0]
    entry = ROUTES[variant.route]
    _, value, shape = variant.older
    api.settings(**{variant.setting: value})
    request = entry.example
    if variant.setting == "merge_codes":  # the difference shows on a merge: Tom adds a WECHAT holder's mobile
        request = ("POST", CHANGE + "?source=INSTORE", {"add": [{"type": "mobile", "value": WECHAT_MOBILE}]})
    answer = _send(api, request)
    assert problems(answer.json(), dict(shape)) == [], (variant.older[0], answer.text)
