"""Auth, the 521 guard, rate limiting, each fault kind, bad requests and the request log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from reconciler.sandbox.envelope import ConnectionDropped
from tests.testing import Api, codes

TOM, HUCK, JOE = 564854782, 564854783, 564854815
CHANGE = "POST /v2/customers/{id}/changeIdentifier"
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, ConnectionDropped)  # over TCP; in-process


def _add(value: str) -> dict[str, list[dict[str, str]]]:
    return {"add": [{"type": "externalId", "value": value}]}


def test_basic_and_oauth(api: Api) -> None:
    assert api.get(f"/v2/customers/{TOM}", params={"source": "ALL"}).status_code == 200
    assert codes(api.get(f"/v2/customers/{TOM}", params={"source": "ALL"}, auth=False)) == [401]
    wrong = {"Authorization": "Basic c3RvcmUxMjM6YmRjODdiOWM4OTRkYTUxNjgwNTllMDBlYmZmYjkwNzc="}
    assert (
        api.get(f"/v2/customers/{TOM}", params={"source": "ALL"}, auth=False, headers=wrong).status_code
        == 401
    )
    token = api.post("/v3/oauth/token/generate", {"key": "sandbox", "secret": "sandbox"}, auth=False).json()
    assert token["errors"] is None and token["data"]["ttlSeconds"] == 300
    oauth = {"X-CAP-API-OAUTH-TOKEN": token["data"]["accessToken"]}
    assert (
        api.get(f"/v2/customers/{TOM}", params={"source": "ALL"}, auth=False, headers=oauth).status_code
        == 200
    )
    refused = api.post("/v3/oauth/token/generate", {"key": "sandbox", "secret": "no"}, auth=False)
    assert refused.status_code == 401 and refused.json()["data"] is None


def test_oauth_token_expires(api: Api) -> None:
    api.settings(token_ttl_seconds=0)
    token = api.post("/v3/oauth/token/generate", {"key": "sandbox", "secret": "sandbox"}, auth=False).json()
    oauth = {"X-CAP-API-OAUTH-TOKEN": token["data"]["accessToken"]}
    assert (
        api.get(f"/v2/customers/{TOM}", params={"source": "ALL"}, auth=False, headers=oauth).status_code
        == 401
    )


def _concurrent_changes(api: Api, bodies: Sequence[Mapping[str, object]]) -> list[int]:
    if api.mode == "loopback":
        with ThreadPoolExecutor(len(bodies)) as pool:
            return [r.status_code for r in pool.map(lambda b: api.change(TOM, b), bodies)]

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url=api.url, headers=api.auth) as client:
            url = f"/v2/customers/{TOM}/changeIdentifier?source=INSTORE"
            responses = await asyncio.gather(*(client.post(url, json=b) for b in bodies))
            return [r.status_code for r in responses]

    return asyncio.run(run())


@pytest.mark.slow
def test_overlapping_writes_get_521(api: Api) -> None:
    # The second write must arrive while the first holds the customer: 1.5 s of slack for a loaded machine.
    api.faults({"endpoints": {CHANGE: {"latency_ms": 1500}}})
    statuses = _concurrent_changes(api, [_add("A-1"), _add("A-2")])
    assert sorted(statuses) == [200, 521]
    held = [i["value"] for i in api.customer(TOM)["profiles"][0]["identifiers"] if i["type"] == "externalId"]
    assert len(set(held) & {"A-1", "A-2"}) == 1
    assert api.change(TOM, _add("A-3")).status_code == 200  # the guard is released


def test_merge_into_a_busy_survivor_gets_521(api: Api) -> None:
    with api.runtime.guard(HUCK):
        response = api.change(
            JOE,
            {"add": [{"type": "email", "value": "huckleberry.finn@example.com"}]},
            "WECHAT",
            "wechat-con1",
        )
    assert response.status_code == 521 and codes(response) == [521]
    assert "mergedInto" not in api.customer(JOE)


def test_rate_limit_per_api(api: Api) -> None:
    api.settings(rate_limit_per_minute=3)
    assert [api.get(f"/v2/customers/{TOM}", params={"source": "ALL"}).status_code for _ in range(3)] == [
        200,
        200,
        200,
    ]
    throttled = api.get(f"/v2/customers/{HUCK}", params={"source": "ALL"})
    assert throttled.status_code == 429 and 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert api.get("/v2/card?number=GOLD0000001").status_code == 200  # another API has its own budget
    api.settings(retry_after_header=False)
    assert "Retry-After" not in api.get(f"/v2/customers/{TOM}", params={"source": "ALL"}).headers


@pytest.mark.parametrize(
    ("kind", "status"), [("error_500", 500), ("error_461", 461), ("error_521", 521), ("error_429", 429)]
)
def test_injected_errors(api: Api, kind: str, status: int) -> None:
    api.faults({"endpoints": {CHANGE: {kind: 1.0, "limit": 1}}})
    response = api.change(TOM, _add("F-1"))
    assert response.status_code == status and codes(response) == [status]
    assert "F-1" not in str(api.customer(TOM))
    assert api.change(TOM, _add("F-1")).status_code == 200
    if kind == "error_429":  # answered as the rate limit answers
        assert response.headers["Retry-After"] == "1"


def test_an_injected_429_carries_the_fault_plans_retry_after(api: Api) -> None:
    api.faults({"endpoints": {CHANGE: {"error_429": 1.0, "limit": 1, "retry_after": 7}}})
    response = api.change(TOM, _add("F-2"))
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"


@pytest.mark.slow
def test_faults_are_deterministic(api: Api) -> None:
    spec = {"seed": 3, "endpoints": {"GET /v2/card": {"error_500": 0.5}}}
    runs = []
    for _ in range(2):
        api.faults(spec)
        runs.append([api.get("/v2/card?number=GOLD0000001").status_code for _ in range(12)])
    assert runs[0] == runs[1] and set(runs[0]) == {200, 500}


def test_drop_before_write(api: Api) -> None:
    api.faults({"endpoints": {CHANGE: {"drop_before": 1.0, "limit": 1}}})
    with pytest.raises(DROPPED):  # closed (no answer) or reset, by timing
        api.change(TOM, _add("D-1"))
    assert "D-1" not in str(api.customer(TOM))
    assert api.change(TOM, _add("D-1")).status_code == 200


def test_drop_after_commit(api: Api) -> None:
    api.faults({"endpoints": {CHANGE: {"drop_after_commit": 1.0, "limit": 1}}})
    with pytest.raises(DROPPED):  # closed (no answer) or reset, by timing
        api.change(TOM, _add("D-2"))
    assert "D-2" in str(api.customer(TOM))  # committed although the client saw no answer
    assert codes(api.change(TOM, _add("D-2")), "warnings") == [8073]
    entry = api.runtime.request_log()["requests"][0]
    assert entry["dropped"] and entry["customerId"] == TOM


def test_latency(api: Api) -> None:
    api.faults({"endpoints": {"*": {"latency_ms": 150}}})
    started = time.monotonic()
    assert api.get("/v2/card?number=GOLD0000001").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_bad_requests_get_the_envelope(api: Api) -> None:
    url = f"/v2/customers/{TOM}/changeIdentifier?source=INSTORE"
    malformed = api.request("POST", url, content=b"{nope", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and codes(malformed) == [400]
    wrong_type = api.request("POST", url, content=b"add=1", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415 and codes(wrong_type) == [415]
    assert codes(api.put("/v2/card", {"statusLabel": "ACTIVE"})) == [403]
    assert codes(api.post("/v2/customers", {"profiles": []})) == [403]
    assert api.get("/v2/nothing").status_code == 404 and codes(api.get("/v2/nothing")) == [404]
    assert api.request("DELETE", "/v2/card").status_code == 405
    assert codes(api.post("/v2/bulk/getCustomers?source=ALL", {"ids": [1]})) == [400]


def test_request_log_counts_reads_and_writes(api: Api) -> None:
    api.get(f"/v2/customers/{TOM}", params={"source": "ALL"})
    api.get(f"/v2/customers/{TOM}", params={"source": "ALL"})
    api.change(TOM, _add("L-1"))
    api.get("/v2/customers/lookup?source=ALL&identifierName=mobile&identifierValue=919876543217")
    log = api.runtime.request_log()
    assert log["counts"][f"GET /v2/customers/{TOM}"] == 2
    assert log["countsByRoute"] == {
        "GET /v2/customers/{id}": 2,
        "GET /v2/customers/lookup": 1,
        CHANGE: 1,
    }
    assert [e["customerId"] for e in log["requests"]] == [TOM, TOM, TOM, HUCK]
    assert all(e["status"] == 200 and e["time"] > 0 for e in log["requests"])
