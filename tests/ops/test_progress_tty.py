"""Progress at a terminal: import and apply of 2,000 customers show a line with count, rate and ETA, erased
when done; a 3-customer plan shows none.

The sandbox answers every request after ``latency_ms``: 2,000 lookups or writes, 8 at a time, take 2 s at
least, so those phases are drawn however fast the machine is (a bound set by the fault plan).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.sandbox import demo_fixture
from tests.ops.terminal import run_on_a_pty
from tests.testing import Workspace, serve

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

N = 2000
BASE = 810_000_000
LINE = re.compile(r"\r\x1b\[K(?P<phase>[a-z ]+): (?P<done>\d+)/(?P<total>\d+) \(\d+%\), \d+/s, ETA \d+:\d\d")


def _org(n: int) -> dict[str, Any]:
    demo = demo_fixture()
    customers = [
        {
            "id": BASE + i,
            "firstName": f"C{i}",
            "lastName": "Test",
            "profiles": [
                {
                    "source": "INSTORE",
                    "accountId": "",
                    "identifiers": [{"type": "mobile", "value": f"9180{i:08d}"}],
                }
            ],
        }
        for i in range(n)
    ]
    return {
        **{k: demo[k] for k in ("formatVersion", "org", "labels", "series")},
        # INSTORE only: no multi-account scope, so each holder lookup is one request, not three
        "sources": [{"source": "INSTORE", "accounts": [""]}],
        "cards": [],
        "customers": customers,
    }


def _workspace(root: Path, n: int) -> Workspace:
    server = serve(_org(n))
    # 1,000 writes at 8 in flight and 8 ms each take 1 s at least, whatever the machine's speed
    server.set_faults({"endpoints": {"*": {"latency_ms": 8}}})
    return Workspace(
        root,
        server,
        api={"auth": "basic", "concurrency": 8, "requests_per_minute": 1000000, "bulk_read": True},
        manage={"identifiers": ["mobile"], "cards": False},
        safety={"max_removals": 100000, "max_removal_ratio": 1.0},
    )


def _phases(out: str) -> set[str]:
    return {m["phase"] for m in LINE.finditer(out)}


@pytest.mark.slow
def test_import_and_apply_of_2000_customers_show_progress_with_rate_and_eta(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, N)
    try:
        (tmp_path / "ids.txt").write_text("\n".join(str(BASE + i) for i in range(N)) + "\n")
        code, out = run_on_a_pty(tmp_path, "import", "--from-file", "ids.txt")
        assert code == 0, out[-2000:]
        assert {"shared identifiers", "verifying customers"} <= _phases(out), out[-2000:]
        assert out.rstrip().endswith("plan: no changes.")
        assert "\x1b[KImported 2000 customers" in out  # the last progress line was erased first

        state = yaml.safe_load((tmp_path / "state" / "imported.yaml").read_text())
        for c in state["customers"]:
            c["identifiers"]["INSTORE"]["mobile"] = "9181" + c["identifiers"]["INSTORE"]["mobile"][4:]
        (tmp_path / "state" / "imported.yaml").write_text(yaml.safe_dump(state))
        code, out = run_on_a_pty(tmp_path, "apply", "--auto-approve")
        assert code == 0, out[-2000:]
        assert {"holders", "writes"} <= _phases(out), out[-2000:]
        assert "\x1b[KTarget: " in out
        live = ws.server.dump()["customers"]
        assert all(c["profiles"][0]["identifiers"][0]["value"].startswith("9181") for c in live)
    finally:
        ws.server.stop()


@pytest.mark.slow
def test_a_3_customer_plan_shows_no_progress(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, 3)
    try:
        (tmp_path / "state" / "a.yaml").write_text(
            "customers:\n"
            + "".join(
                f"  - id: {BASE + i}\n    identifiers:\n      INSTORE: {{mobile: '9181{i:08d}'}}\n"
                for i in range(3)
            )
        )
        code, out = run_on_a_pty(tmp_path, "plan")
        assert code == 0, out
        assert "\x1b[K" not in out and "/s" not in out and "ETA" not in out
        assert out.startswith("Target: ")
    finally:
        ws.server.stop()
