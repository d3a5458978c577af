"""The admin API through SandboxServer, the store's seed/dump, and the fixture and faults formats."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Store, demo_fixture, load_faults, parse_faults
from reconciler.sandbox.seeding import FixtureError
from reconciler.sandbox.server import SandboxServer


@pytest.mark.slow
def test_admin_api_over_loopback() -> None:
    with SandboxServer(seed="demo") as srv:
        assert len(srv.dump()["customers"]) == 25
        srv.reset()
        assert srv.dump()["customers"] == []
        srv.seed("demo")
        r = httpx.get(f"{srv.url}/v2/customers/564854782?source=ALL", headers=srv.basic_auth())
        assert r.status_code == 200
        assert srv.request_log()["counts"] == {"GET /v2/customers/564854782": 1}
        srv.clear_log()
        assert srv.request_log()["total"] == 0
        assert srv.set_settings(victim_reads="survivor")["password"] == "***"
        srv.set_faults({"seed": 1, "endpoints": {"GET /v2/card": {"error_461": 1.0}}})
        assert httpx.get(f"{srv.url}/v2/card?number=GOLD0000001", headers=srv.basic_auth()).status_code == 461
        bad = httpx.put(f"{srv.url}/_sandbox/settings", json={"victim_reads": "maybe"})
        assert bad.status_code == 400 and "victim_reads" in bad.json()["errors"][0]["message"]
        bad_seed = httpx.post(f"{srv.url}/_sandbox/seed", json={"cards": [{"number": "X", "seriesId": 9}]})
        assert bad_seed.status_code == 400 and "cards[0]" in bad_seed.json()["errors"][0]["message"]


def test_dump_is_deterministic_and_reseedable() -> None:
    store = Store()
    store.seed(demo_fixture())
    dump = store.dump()
    assert json.dumps(dump, sort_keys=True) == json.dumps(store.dump(), sort_keys=True)
    again = Store()
    again.seed(dump)
    assert again.dump() == dump


def test_file_store_persists(tmp_path: Path) -> None:
    path = str(tmp_path / "sandbox.db")
    store = Store(path)
    assert store.is_empty()
    store.seed(demo_fixture())
    store.close()
    assert not Store(path).is_empty()


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ({"customers": [{"firstName": "x"}]}, "customers[0]: missing 'id'"),
        ({"labels": [{"label": "X", "status": "LOST"}]}, "labels[0]: unknown status"),
        ({"cards": [{"number": "X", "seriesId": 1}]}, "cards[0]: unknown series"),
        ([], "fixture must be a JSON object"),
    ],
    ids=["no-id", "bad-status", "no-series", "not-object"],
)
def test_fixture_errors_name_the_entry(fixture: Any, message: str) -> None:  # any JSON, malformed on purpose
    with pytest.raises(FixtureError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Store().seed(fixture)


def test_faults_format(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"seed": 2, "endpoints": {"*": {"latency_ms": 5, "error_500": 0.1}}}))
    assert load_faults(path).to_dict()["endpoints"]["*"]["error_500"] == 0.1
    bad: object
    for bad in ({"endpoints": {"*": {"error_500": 2}}}, {"endpoints": {"*": {"oops": 1}}}, []):
        with pytest.raises(ValueError):
            parse_faults(bad)
    path.write_text("{")
    with pytest.raises(ValueError, match=r"faults\.json"):
        load_faults(path)


def _broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The demo fixture with the entry at ``path`` replaced by ``value``."""
    fixture = copy.deepcopy(demo_fixture())
    parent: Any = fixture
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return fixture


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("customers", 0, "id"), "abc", 'customers[0].id: expected an integer, got "abc"'),
        (("customers", 0, "id"), "--5", 'customers[0].id: expected an integer, got "--5"'),
        (("series", 0, "id"), None, "series[0].id: expected an integer, got null"),
        (("series", 0, "nextSequence"), [1], "series[0].nextSequence: expected an integer, got [1]"),
        (("cards", 0, "seriesId"), 1.5, "cards[0].seriesId: expected an integer, got 1.5"),
        (("cards", 0, "customerId"), {}, "cards[0].customerId: expected an integer, got {}"),
        (("customers",), "x", "customers: expected a list, got str"),
        (("sources", 0, "accounts"), "abc", 'sources[0].accounts: expected a list of strings, got "abc"'),
        (("customers", 1), 7, "customers[1]: expected an object, got int"),
        (("customers", 1, "profiles"), {}, "customers[1].profiles: expected a list, got dict"),
        (
            ("customers", 1, "profiles", 0, "identifiers", 0),
            3,
            "customers[1].profiles[0].identifiers[0]: expected an object, got int",
        ),
    ],
)
def test_a_malformed_fixture_names_its_entry(path: tuple[Any, ...], value: Any, message: str) -> None:
    with pytest.raises(FixtureError) as raised:
        Store().seed(_broken(path, value))
    assert str(raised.value) == message


def test_a_null_card_limit_is_the_default_one() -> None:
    """``maxActiveCardsPerCustomer: null`` reads as absent (the UI default, 1), as the series API does."""
    store = Store()
    store.seed(_broken(("series", 0, "maxActiveCardsPerCustomer"), None))
    assert store.dump()["series"][0]["maxActiveCardsPerCustomer"] == 1
