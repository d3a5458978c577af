"""What a plan writes: Markdown of 5,000 changed customers stays bounded and leaks no raw value, the checksum
is stable across runs and processes and follows every action, the demo plan matches its golden files (and
is the same over loopback as embedded), invalid state is every problem at its position, and an unreachable
API is a one-line error."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import EXIT_BLOCKED, EXIT_ERROR
from reconciler.sandbox.server import SandboxServer
from tests.plan.org import declared, plan_json
from tests.testing import GOLD, Workspace, live_card, live_customer

from . import bulk

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.slow
def test_markdown_of_5000_changed_customers_is_bounded_and_no_raw_value_leaks(ws: Workspace) -> None:
    n = 5_000
    # Bulk reads and mostly removals keep this to a few hundred requests (the masking and the size
    # bound do not depend on how customers were read); the budget is exceeded so the summary says so.
    ws.configure(api={"requests_per_minute": 1_000_000, "bulk_read": True}, safety={"max_removals": 100})
    seed = bulk.seed_customers(n)
    ws.seed(seed, [live_card(f"GOLDM{i:06d}", GOLD, "ACTIVE", bulk.cid(i)) for i in range(0, n, 50)])
    blocks = {i: _without_email(i) for i in range(n)}
    for i in range(0, n, 50):  # 1 in 50 also changes its mobile and swaps its card
        blocks[i] = _without_email(i, bulk.mobile(i, 8))
        blocks[i] += f"    cards:\n      - number: GOLDN{i:06d}\n        series: {GOLD}\n"
    bulk.write_files(ws.root / "state", blocks)
    md, js = ws.plan_cli("--format", "markdown"), ws.plan_cli("--format", "json")
    assert md.exit_code == js.exit_code == EXIT_BLOCKED
    data = plan_json(js)
    assert len(md.stdout) < 60_000
    summary = data["summary"]
    assert summary["customers_changed"] == n and summary["actions"]["remove"] == n + n // 50
    assert summary["actions"]["add"] == summary["actions"]["create"] == n // 50
    for kind, count in summary["actions"].items():
        assert f"| {kind} | {count} |" in md.stdout
    for risk, count in summary["risks"].items():
        assert f"| risk: {risk} | {count} |" in md.stdout
    removals = n  # a changed mobile and a swapped card are updates, not removals
    assert f"safety.max_removals: {removals} of at most 100, exceeded" in md.stdout
    assert "omitted to stay under 60,000 characters" in md.stdout
    assert md.stdout.rstrip().endswith(f"<!-- reconciler-plan checksum={data['checksum']} -->")
    raw = [v for s in seed for p in s["profiles"] for v in (i["value"] for i in p["identifiers"])]
    raw += [bulk.mobile(i, 8) for i in range(0, n, 50)]
    raw += [f"GOLDM{i:06d}" for i in range(0, n, 50)] + [f"GOLDN{i:06d}" for i in range(0, n, 50)]
    for text in (md.stdout, js.stdout):
        tokens = set(re.findall(r"[\w.@+-]+", text))
        assert tokens.isdisjoint(raw)
        assert not any(value in text for value in raw[::37])  # substrings too, on a sample


def _without_email(i: int, mobile: str | None = None) -> str:
    number = mobile or bulk.mobile(i)
    return f"  - id: {bulk.cid(i)}\n    identifiers:\n      INSTORE:\n        mobile: '{number}'\n"


def _checksum_world(ws: Workspace) -> None:
    ws.seed(
        [live_customer(9401, {"mobile": "919800004001"}), live_customer(9402, {"mobile": "919800004002"})],
        [live_card("GOLD0000401", GOLD, "ACTIVE", 9401)],
    )


def _state(
    mobile: str = "919800004011", label: str = "ACTIVE", email: str = "x@example.com"
) -> list[dict[str, Any]]:
    return [
        declared(
            9401, {"mobile": mobile}, cards=[{"number": "GOLD0000401", "series": GOLD, "status": label}]
        ),
        declared(9402, {"mobile": "919800004002", "email": email}),
    ]


@pytest.mark.slow
def test_checksum_is_stable_across_runs_and_processes_and_follows_every_action(ws: Workspace) -> None:
    _checksum_world(ws)
    ws.write_state(_state())
    first = ws.plan().checksum
    assert ws.plan().checksum == first
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    fresh = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "--config", str(ws.config_path), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ws.root,
        env=env,
        timeout=60,
    )
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout)["checksum"] == first
    variants = [
        _state(mobile="919800004012"),  # an added value
        _state(label="CARD BLOCKED"),  # a status label
        _state(email="y@example.com"),  # another customer's add
    ]
    seen = {first}
    for state in variants:
        ws.write_state(state)
        seen.add(ws.plan().checksum)
    assert len(seen) == 1 + len(variants)
    ws.write_state(_state())
    (ws.root / "state" / "customers.yaml").rename(ws.root / "state" / "renamed.yaml")
    assert ws.plan().checksum == first  # locations are not part of the checksum
    ws.seed(
        [live_customer(9401, {"mobile": "919800004001"}), live_customer(9402, {"mobile": "919800004002"})]
    )
    assert ws.plan().checksum != first  # live state changed the actions (the card must now be created)


def _plan_subprocess(ws: Workspace) -> subprocess.CompletedProcess[str]:
    """``reconciler plan`` on ``ws`` as a new user runs it: a subprocess, text out."""
    cmd = [sys.executable, "-m", "reconciler", "plan", "--config", str(ws.config_path)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ws.root, timeout=60)


@pytest.mark.slow
def test_invalid_state_reports_every_problem_at_its_position_without_a_traceback(ws: Workspace) -> None:
    ws.seed([])
    (ws.root / "state" / "bad.yaml").write_text(
        "customers:\n  - id: 1\n    identifiers:\n      INSTORE:\n        mobile: 'not a phone'\n"
        "  - id: two\n    colour: red\n",
        encoding="utf-8",
    )
    done = _plan_subprocess(ws)
    assert done.returncode == EXIT_ERROR and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) >= 3 and "Traceback" not in done.stderr
    assert all(re.match(r"^state/bad\.yaml:\d+:\d+: ", line) for line in lines), lines
    assert any(line.startswith("state/bad.yaml:5:") for line in lines)
    assert any("colour" in line for line in lines)


@pytest.mark.slow
def test_unreachable_api_is_a_one_line_error(ws: Workspace) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    ws.configure(url=f"http://127.0.0.1:{port}")
    ws.write_state([declared(9501, {"mobile": "919800005001"})])
    done = _plan_subprocess(ws)
    assert done.returncode == EXIT_ERROR and done.stdout == ""
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if not re.match(r"^\w+: \d+/\d+ read \(", line)]
    assert len(errors) == 1 and errors[0].startswith("error: ") and "ConnectError" in errors[0]


# ----- golden files: the demo state against a freshly seeded demo sandbox ----------------------------


@pytest.mark.usefixtures("oauth_env")
@pytest.mark.parametrize("fmt,name", [("text", "demo_plan.txt"), ("markdown", "demo_plan.md")])
def test_demo_plan_matches_the_golden_file(demo_repo: Path, fmt: str, name: str) -> None:
    from click.testing import CliRunner

    from reconciler.cli import main

    result = CliRunner().invoke(main, ["plan", "--format", fmt])  # the embedded sandbox, seeded fresh
    assert result.exit_code == EXIT_BLOCKED, result.output  # the demo shows one blocked merge
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


@pytest.mark.usefixtures("oauth_env")
def test_demo_plan_over_loopback_equals_the_embedded_one(demo_repo: Path) -> None:
    from tests.testing import Workspace as Ws

    embedded = Ws.__new__(Ws)
    embedded.root = demo_repo
    local_plan = embedded.plan()
    local = local_plan.to_dict()
    with SandboxServer(seed="demo") as server:
        text = (demo_repo / "reconciler.yaml").read_text().replace("url: sandbox", f"url: {server.url}")
        (demo_repo / "reconciler.yaml").write_text(text)
        remote_plan = embedded.plan()
        remote = remote_plan.to_dict()
    assert local.pop("target") == "embedded sandbox (demo data)"
    assert remote.pop("target") == f"127.0.0.1:{server.port}"
    # The target is part of what the checksum binds: the same changes planned against another
    # org are another plan. Everything else is equal.
    assert local.pop("target_key") == "sandbox"
    assert remote.pop("target_key") == f"http://127.0.0.1:{server.port}"
    assert remote_plan.checksum != local_plan.checksum
    assert remote == local
