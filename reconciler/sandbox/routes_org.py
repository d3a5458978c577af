"""The org's sources and their accounts (docs/capillary-api.md 2.1): ``GET /v2/org/{orgId}/sources`` and
``GET /v2/meta/sources``, so a client can learn the multi-account scopes. Served from ``store.org_accounts``:
the seeded sources (an unseeded org's default set-up, ``store.DEFAULT_SOURCES``, when a seed named none)
and every source account a customer has a profile in, as a real org always lists them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from reconciler.sandbox.envelope import ApiFailure
from reconciler.sandbox.handlers import endpoint
from reconciler.sandbox.runtime import Runtime
from reconciler.sandbox.store import org_accounts

# The source type ids of the documented ``/v2/meta/sources`` table.
SOURCE_TYPE_IDS = {
    "FACEBOOK": 1,
    "WEB_ENGAGE": 2,
    "WECHAT": 3,
    "INSTORE": 5,
    "MARTJACK": 6,
    "TMALL": 7,
    "TAOBAO": 8,
    "JD": 9,
    "ECOMMERCE": 10,
    "WEBSITE": 11,
    "LINE": 12,
    "MOBILE_APP": 18,
}


# The documented answers date each account's attribution as a day (``"createDate": "2017-08-14"``); the
# sandbox's accounts all date from its epoch (records.SANDBOX_EPOCH).
ACCOUNTS_SINCE = "2024-01-01"


def _accounts(rt: Runtime) -> list[tuple[str, str]]:
    with rt.store.reading() as db:
        return org_accounts(db)


@endpoint
async def org_sources(request: Request, rt: Runtime) -> Any:
    """Every source account: ``sourceTypeName`` is the source, ``sourceAccountIdentifier`` the accountId."""
    org = rt.store.org()["id"]
    if not rt.settings.org_sources_access:
        raise ApiFailure(403, "Access denied: the API key lacks the organization access group", status=403)
    if request.path_params["org"] != str(org):
        raise ApiFailure(1064, "Invalid org ID")
    data = [
        {
            "id": n,
            "uuid": f"{source}-{account or 'default'}",
            "name": f"{source} {account}".strip(),
            "sourceAccountIdentifier": account,
            "toMirror": False,
            "sourceTypeId": SOURCE_TYPE_IDS.get(source, 0),
            "sourceTypeName": source,
            "isActive": True,
            "commChannels": [],
            "attribution": {"createDate": ACCOUNTS_SINCE, "modifiedDate": ACCOUNTS_SINCE},
        }
        for n, (source, account) in enumerate(_accounts(rt), 1)
    ]
    return {"data": data, "warnings": [], "errors": []}


@endpoint
async def meta_sources(request: Request, rt: Runtime) -> Any:
    """The org's source types (``{id, name}``), as the legacy page lists them."""
    names = sorted({source for source, _ in _accounts(rt)})
    data = [{"id": SOURCE_TYPE_IDS.get(n, 0), "name": n, "commChannels": []} for n in names]
    return {"data": data, "warnings": [], "errors": []}


ROUTES = [
    Route("/v2/org/{org}/sources", org_sources, methods=["GET"]),
    Route("/v2/meta/sources", meta_sources, methods=["GET"]),
]
