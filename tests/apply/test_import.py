"""Import: YAML for existing customers that validates and plans empty; warnings for victims and sharing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.sandbox.server import SandboxServer
from tests.apply import population
from tests.testing import demo_state, make_workspace, serve


@pytest.mark.slow
def test_import_of_50_customers_validates_and_plans_empty(tmp_path: Path) -> None:
    server = serve(population.fixture(50, 0))
    try:
        ws = make_workspace(tmp_path, server, {})
        ids = "\n".join(str(population.cid(i)) for i in range(50))
        (tmp_path / "ids.txt").write_text(f"# customers to adopt\n{ids}\n")
        done = ws.cli("import", "--from-file", "ids.txt")
        assert done.returncode == 0, done.stderr
        assert "Imported 50 customers" in done.stdout and "no changes" in done.stdout
        assert ws.cli("validate").returncode == 0
        assert ws.cli("plan", "--all", "--detailed-exitcode").returncode == 0
        text = (tmp_path / "state" / "imported.yaml").read_text()
        first = yaml.safe_load(text)["customers"][0]
        assert list(first) == ["id", "identifiers", "cards"]
        assert first["identifiers"]["INSTORE"] == {
            "mobile": "919000000000",
            "email": "c0@example.com",
            "externalId": "EXT0",
        }
        assert first["cards"] == [{"number": "G00000000", "series": "GOLD01", "status": "ACTIVE"}]
    finally:
        server.stop()


@pytest.mark.slow
def test_import_per_customer_files_is_deterministic(tmp_path: Path, demo_server: SandboxServer) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = make_workspace(tmp_path / "a", demo_server, {})
    b = make_workspace(tmp_path / "b", demo_server, {})
    for ws in (a, b):
        done = ws.cli("import", "--id", "564854782", "--id", "564854863", "--file-per-customer")
        assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in (a.root / "state").iterdir())
    assert names == ["customer-564854782.yaml", "customer-564854863.yaml"]
    for name in names:
        assert (a.root / "state" / name).read_bytes() == (b.root / "state" / name).read_bytes()


@pytest.mark.slow
def test_import_warns_about_a_victim_and_skips_it(tmp_path: Path, demo_server: SandboxServer) -> None:
    ws = make_workspace(tmp_path, demo_server, {})
    done = ws.cli("import", "--id", "564854782", "--id", "564855017")
    assert done.returncode == 0, done.stderr
    assert "564855017 is a merge victim" in done.stderr
    by_lookup = ws.cli("import", "--lookup", "mobile=919812300017", "--out", "state/x.yaml")
    assert by_lookup.returncode == 1  # the only customer asked for is a victim: nothing to import
    assert "merge victim" in by_lookup.stderr and "919812300017" not in by_lookup.stderr


@pytest.mark.slow
def test_import_warns_about_an_identifier_shared_with_another_account(tmp_path: Path) -> None:
    fixture = population.fixture(2, 0)
    wechat = {"source": "WECHAT", "accountId": "wechat-con1"}
    fixture["customers"][1]["profiles"].append(
        {**wechat, "identifiers": [{"type": "email", "value": "c0@example.com"}]}
    )
    server = serve(fixture)
    try:
        ws = make_workspace(tmp_path, server, {})
        done = ws.cli("import", "--id", str(population.cid(0)), "--id", str(population.cid(1)))
        assert "is shared by customers 700000000, 700000001" in done.stderr
        assert "c0@example.com" not in done.stderr  # masked
    finally:
        server.stop()


@pytest.mark.slow
def test_import_refuses_bad_requests(tmp_path: Path, demo_server: SandboxServer) -> None:
    ws = make_workspace(tmp_path, demo_server, {})
    assert ws.cli("import").returncode == 2
    assert ws.cli("import", "--lookup", "nonsense").returncode == 2
    (tmp_path / "bad.txt").write_text("564854782\nnot an id\n")
    bad = ws.cli("import", "--from-file", "bad.txt")
    assert bad.returncode == 2 and "bad.txt:2:" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_import_of_an_already_declared_customer_writes_nothing(
    tmp_path: Path, demo_server: SandboxServer
) -> None:
    ws = make_workspace(tmp_path, demo_server, demo_state())
    before = sorted(p.name for p in (tmp_path / "state").iterdir())
    done = ws.cli("import", "--id", "564854782", "--id", "564854783", "--out", "state/imported.yaml")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: already declared in state/: 564854782 at state/instore.yaml:")
    assert "nothing was written" in line
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == before
    assert ws.cli("validate").returncode == 0  # the repository still validates


@pytest.mark.slow
def test_an_import_that_does_not_validate_is_set_aside(tmp_path: Path, demo_server: SandboxServer) -> None:
    ws = make_workspace(tmp_path, demo_server, {})
    (tmp_path / "state" / "tom.yaml").write_text(  # Tom's externalId, on someone undeclared by import
        "customers:\n  - id: 1\n    identifiers:\n      INSTORE:\n        externalId: EXT564854782\n"
    )
    done = ws.cli("import", "--id", "564854782")
    assert done.returncode == 1
    assert "set aside as state/imported.yaml.rejected" in done.stderr
    assert not (tmp_path / "state" / "imported.yaml").exists()
    assert (tmp_path / "state" / "imported.yaml.rejected").exists()


@pytest.mark.slow
def test_import_into_an_invalid_state_writes_nothing(tmp_path: Path, demo_server: SandboxServer) -> None:
    ws = make_workspace(tmp_path, demo_server, {"bad.yaml": "customers:\n  - id: x\n"})
    done = ws.cli("import", "--id", "564854782")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip().splitlines()[-1]
        == "error: the state is invalid already (see above); nothing was written"
    )
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["bad.yaml"]


@pytest.mark.slow
def test_a_second_rejected_import_keeps_the_first(tmp_path: Path, demo_server: SandboxServer) -> None:
    ws = make_workspace(tmp_path, demo_server, {})
    (tmp_path / "state" / "tom.yaml").write_text(
        "customers:\n  - id: 1\n    identifiers:\n      INSTORE:\n        externalId: EXT564854782\n"
    )
    for _ in range(2):
        assert ws.cli("import", "--id", "564854782").returncode == 1
    names = sorted(p.name for p in (tmp_path / "state").iterdir())
    assert names == ["imported.yaml.rejected", "imported.yaml.rejected.1", "tom.yaml"]
