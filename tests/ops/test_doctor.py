"""``reconciler doctor`` against a real loopback sandbox (the demo org): every check passes; wrong credentials
or a sandbox setting with the other variant of a behaviour fail exactly their own rows; nothing is written."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.commands.doctor import _diagnose
from reconciler.doctor import FAIL, PASS
from reconciler.doctor.bulk import BULK_READ
from reconciler.doctor.checks import LOOKUP_ACCOUNT
from reconciler.sandbox.server import SandboxServer
from tests.testing import route_counts

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
    return make_repo(tmp_path, server)


def make_repo(root: Path, server: SandboxServer, bulk_read: bool = False) -> Path:
    """The demo state and a reconciler.yaml pointing at ``server`` (with ``api.bulk_read`` as given)."""
    shutil.copytree(REPO / "state", root / "state")
    config = (
        f"api:\n  url: {server.url}\n  auth: oauth\n  bulk_read: {str(bulk_read).lower()}\nstate_dir: state\n"
    )
    (root / "reconciler.yaml").write_text(config, encoding="utf-8")
    return root


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
    assert len(rows) == 11 and set(rows.values()) == {"PASS"}, out
    assert "sources: [INSTORE, WECHAT:wechat-con1, WECHAT:wechat-con2]" in out
    assert "add `bulk_read: true` under `api:` in reconciler.yaml" in out and "  api.bulk_read: true" in out
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


FIRST = 564854782  # the demo state's lowest id: an INSTORE profile
WECHAT = (
    564854783  # the next: INSTORE and two WECHAT accounts' profiles, so a bulk read of INSTORE alone differs
)


@dataclass
class OneSourceBulk:
    """With ``on``, an org whose bulk read ignores ``source=ALL`` and answers INSTORE profiles only (the
    sandbox itself answers bulk and single reads alike): served in front of the sandbox by ``app``."""

    sandbox: Any
    on: bool = False

    def app(self) -> Any:
        async def served(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if self.on and scope["type"] == "http" and scope["path"] == "/v2/bulk/getCustomers":
                scope = {**scope, "query_string": b"source=INSTORE"}
            await self.sandbox(scope, receive, send)

        return served


@pytest.fixture(scope="module")
def bulk_org() -> Iterator[tuple[SandboxServer, OneSourceBulk]]:
    """One demo sandbox for the bulk-read rows (doctor never writes, so they can share it)."""
    srv = SandboxServer(seed="demo")
    front = OneSourceBulk(srv.app)
    srv.served = front.app()
    with srv:
        yield srv, front


BULK_CASES = [
    # (api.bulk_read, the org, status, what the row says, the setting line)
    (
        False,
        "answers",
        PASS,
        "answered for 5 of 5 customers probed, same as single reads (20 ids in one "
        "request): add `bulk_read: true` under `api:` in reconciler.yaml",
        "api.bulk_read: true",
    ),
    (
        True,
        "answers",
        PASS,
        "same as single reads (20 ids in one request): keep `bulk_read: true` under `api:`",
        "api.bulk_read: true",
    ),
    (
        False,
        "refuses",
        PASS,
        "refused a batch of 20 ids (403 Access denied: the API key may not use the bulk "
        "read): leave `bulk_read` out of `api:` in reconciler.yaml (the default, false)",
        "api.bulk_read: false",
    ),
    (
        True,
        "refuses",
        FAIL,
        "refused a batch of 20 ids (403 Access denied: the API key may not use the bulk "
        "read): remove `bulk_read: true` from `api:` in reconciler.yaml",
        "api.bulk_read: false",
    ),
    (
        True,
        "caps at 3",
        FAIL,
        "(1060 Exceeded maximum limit size of 3; a smaller api.bulk_batch_size may be "
        "answered): remove `bulk_read: true`",
        "api.bulk_read: false",
    ),
    (
        False,
        "differs",
        PASS,
        f"answered differently from single reads for 3 of 5 customers probed (customer {WECHAT}: "
        "the bulk answer's profiles differ; ",
        "api.bulk_read: false",
    ),
    (
        True,
        "differs",
        FAIL,
        "(8065 No customer found in the given source with the given identifier)): remove `bulk_read: true`",
        "api.bulk_read: false",
    ),
]


@pytest.mark.parametrize(("bulk_read", "org", "status", "said", "setting"), BULK_CASES)
def test_the_bulk_read_row_says_which_line_to_put_in_reconciler_yaml(
    tmp_path: Path,
    bulk_org: tuple[SandboxServer, OneSourceBulk],
    monkeypatch: pytest.MonkeyPatch,
    bulk_read: bool,
    org: str,
    status: str,
    said: str,
    setting: str,
) -> None:
    for name in [k for k in os.environ if k.startswith("CAPILLARY_")]:
        monkeypatch.delenv(name)
    srv, front = bulk_org
    front.on = org == "differs"
    srv.set_settings(bulk_read_access=org != "refuses", bulk_get_max=3 if org == "caps at 3" else 100)
    srv.clear_log()
    repo = make_repo(tmp_path, srv, bulk_read)
    rows = {c.name: c for c in asyncio.run(_diagnose(repo / "reconciler.yaml", None))}
    counts = route_counts(srv.request_log()["requests"])
    assert writes(srv) == []
    row = rows[BULK_READ]
    assert (row.status, row.setting) == (status, setting), row
    assert said in row.detail, row.detail
    # the probe: one bulk request (beside the declared-customers row's own when bulk reads are on), and the
    # sample read singly once (by that row when bulk reads are off, by the probe when they are on)
    assert counts["POST /v2/bulk/getCustomers"] == 1 + bulk_read
    assert counts["GET /v2/customers/{id}"] == 5


@pytest.mark.slow
def test_doctor_fails_a_bulk_read_the_org_refuses_when_the_config_turns_it_on(
    tmp_path: Path, server: SandboxServer
) -> None:
    server.set_settings(bulk_read_access=False)
    repo = make_repo(tmp_path, server, bulk_read=True)
    code, rows, out = doctor(repo)
    assert code == 1
    # plans would fail every read: the declared customers' row says so, the bulk row says what to change
    assert failed(rows) == {"declared customers", BULK_READ}, out
    line = next(x for x in out.splitlines() if BULK_READ in x)
    assert line.endswith(
        "remove `bulk_read: true` from `api:` in reconciler.yaml (plans then read each customer)"
    )
    assert "  api.bulk_read: false" in out and "Traceback" not in out
    assert writes(server) == []
