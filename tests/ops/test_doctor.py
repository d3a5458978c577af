"""``reconciler doctor`` against a real loopback sandbox (the demo org): every check passes; wrong credentials
or a sandbox setting with the other variant of a behaviour fail exactly their own rows; nothing is written."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.commands.doctor import _diagnose
from reconciler.doctor import PASS
from reconciler.doctor.checks import LOOKUP_ACCOUNT
from reconciler.sandbox.server import SandboxServer

REPO = Path(__file__).resolve().parents[2]
VICTIM = 564855017  # merged into 564854783 in the demo seed
WRITES = {"POST", "PUT", "DELETE"}
READ_POSTS = {"/v3/oauth/token/generate", "/v2/bulk/getCustomers"}


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(seed="demo") as srv:
        yield srv


@pytest.fixture
def repo(tmp_path: Path, server: SandboxServer) -> Path:
    shutil.copytree(REPO / "state", tmp_path / "state")
    config = f"api:\n  url: {server.url}\n  auth: oauth\nstate_dir: state\n"
    (tmp_path / "reconciler.yaml").write_text(config, encoding="utf-8")
    return tmp_path


def doctor(repo: Path, **env: str) -> tuple[int, dict[str, str], str]:
    """Exit code, ``{check: status}`` from the table, and stdout."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAPILLARY_")}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "doctor", "--merged", str(VICTIM)],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, "NO_COLOR": "1", **env},
        check=False,
    )
    rows = {}
    for line in done.stdout.splitlines()[1:]:
        status, _, rest = line.partition(" ")
        if status in ("PASS", "FAIL", "UNKNOWN"):
            rows[rest.strip().split("  ")[0]] = status
    return done.returncode, rows, done.stdout + done.stderr


def writes(server: SandboxServer) -> list[str]:
    log = server.request_log()["requests"]
    return [r["path"] for r in log if r["method"] in WRITES and r["path"] not in READ_POSTS]


def failed(rows: dict[str, str]) -> set[str]:
    return {name for name, status in rows.items() if status == "FAIL"}


@pytest.mark.slow
def test_the_demo_org_passes_every_check_read_only(repo: Path, server: SandboxServer) -> None:
    code, rows, out = doctor(repo)
    assert code == 0, out
    assert len(rows) == 10 and set(rows.values()) == {"PASS"}, out
    assert "sources: [INSTORE, WECHAT:wechat-con1, WECHAT:wechat-con2]" in out
    assert "api.auth: oauth" in out
    assert writes(server) == []


@pytest.mark.slow
def test_wrong_credentials_fail_the_credentials_row_and_leave_the_rest_unknown(repo: Path) -> None:
    code, rows, out = doctor(repo, CAPILLARY_OAUTH_KEY="sandbox", CAPILLARY_OAUTH_SECRET="wrong-secret")
    assert code == 1
    assert failed(rows) == {"credentials"}
    assert set(rows.values()) == {"FAIL", "UNKNOWN"}
    assert "wrong-secret" not in out


@pytest.mark.parametrize(
    ("setting", "value", "row"),
    [
        ("token_ttl_seconds", 10, "token lifetime"),
    ],
)
@pytest.mark.slow
def test_the_other_variant_of_a_behaviour_fails_exactly_its_row(
    repo: Path, server: SandboxServer, setting: str, value: object, row: str
) -> None:
    server.set_settings(**{setting: value})
    code, rows, out = doctor(repo)
    assert code == 1
    assert failed(rows) == {row}, out
    assert writes(server) == []


@pytest.mark.slow
def test_an_unknown_account_in_the_state_fails_the_sources_row(repo: Path) -> None:
    path = repo / "state" / "wechat.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("wechat-con1", "wechat-cn1"), encoding="utf-8")
    code, rows, out = doctor(repo)
    assert code == 1
    assert failed(rows) == {"sources and accounts"}
    assert "unknown account WECHAT:wechat-cn1" in out


@pytest.mark.parametrize(
    ("variant", "seen"),
    [("required", "refused (8015 Account ID is not defined)"), ("optional", "answered the holder")],
)
def test_the_lookup_row_tells_whether_the_org_requires_account_id(
    repo: Path, server: SandboxServer, monkeypatch: pytest.MonkeyPatch, variant: str, seen: str
) -> None:
    # the client's own lookups send accountId for every account, so only a direct probe tells these apart
    for name in [k for k in os.environ if k.startswith("CAPILLARY_")]:
        monkeypatch.delenv(name)
    server.set_settings(lookup_account_id=variant)
    rows = {c.name: c for c in asyncio.run(_diagnose(repo / "reconciler.yaml", None))}
    row = rows[LOOKUP_ACCOUNT]
    assert row.status == PASS and seen in row.detail, row
    assert f"the sandbox's lookup_account_id: {variant}" in row.detail
    assert writes(server) == []
