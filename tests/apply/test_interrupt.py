"""SIGINT during apply's writes: the summary names the journal and the commands that finish the work,
exit 130, and running those commands converges. SIGINT during the reads (plan, apply's re-plan):
one line, exit 130, no traceback, nothing written."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.journaling import assert_clean, interrupt_after, prepare
from tests.testing import is_write

# End to end (CLI subprocesses, a GitHub job run, signals, a full scenario): `-m "not slow"` skips it.
pytestmark = pytest.mark.slow


def test_interrupted_apply_resumes_with_the_printed_commands(tmp_path: Path) -> None:
    run = prepare(tmp_path, 41)
    try:
        proc = run.start()
        out, err = interrupt_after(run, proc, 12)
        assert proc.returncode == 130, out[-2000:] + err[-2000:]
        assert_clean(err)
        assert f"Journal: {run.journal}" in out
        commands = re.findall(r"^  (reconciler .*)$", out, re.M)
        assert commands == [
            "reconciler plan --all",
            "reconciler apply --all --checksum <the checksum it prints>",
        ]
        plan = run.ws.cli(*commands[0].split()[1:])
        assert plan.returncode == 0, plan.stderr
        checksum = re.search(r"Checksum: ([0-9a-f]{64})", plan.stdout)
        assert checksum
        apply_args = [*commands[1].split(" --checksum ")[0].split()[1:], "--checksum", checksum.group(1)]
        done = run.ws.cli(*apply_args)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert run.ws.cli("plan", "--all", "--detailed-exitcode").returncode == 0
    finally:
        run.server.stop()


def _begun(log: dict[str, Any]) -> bool:
    return bool(log["inFlight"] or log["requests"])


def test_sigint_during_the_reads_is_one_line(tmp_path: Path) -> None:
    run = prepare(tmp_path, 42)
    try:  # slow reads: the signal lands while the plan reads the customers
        run.server.set_faults({"seed": 42, "endpoints": {"*": {"latency_ms": 200}}})
        for args in (["plan", "--all"], ["apply", "--auto-approve"]):
            # The sandbox logs a request once answered: the previous child's slow requests must have been
            # answered before the log is cleared, or they would pass for this child's first read.
            while run.server.request_log()["inFlight"]:
                time.sleep(0.01)
            run.server.clear_log()
            proc = subprocess.Popen(
                [sys.executable, "-m", "reconciler", *args],
                cwd=run.ws.root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            while proc.poll() is None and not _begun(run.server.request_log()):
                time.sleep(0.01)  # waits for a condition: this child's first request has arrived
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 130, (args, out[-1000:], err[-1000:])
            assert err.strip().splitlines() == ["error: interrupted by SIGINT"], err
            assert not [e for e in run.server.request_log()["requests"] if is_write(e)]
    finally:
        run.server.stop()


# The signal is sent from an import hook while ``reconciler plan`` imports ``module`` (the CLI's own imports,
# then the plan command's, which load the HTTP client): start-up, deterministically.
_SIGNAL_DURING_IMPORT = """
import os, signal, sys
MODULE, SIGNAL = sys.argv[1], getattr(signal, sys.argv[2])
class Finder:
    def find_spec(self, name, path=None, target=None):
        if name == MODULE:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), SIGNAL)
        return None
sys.meta_path.insert(0, Finder())
sys.argv = ["reconciler", "plan"]
from reconciler.__main__ import run
run()
"""


@pytest.mark.parametrize("module", ["click", "httpx", "yaml"])
@pytest.mark.parametrize("name, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_during_start_up_is_one_line(tmp_path: Path, module: str, name: str, code: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SIGNAL_DURING_IMPORT, module, name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == code, done.stderr
    assert done.stderr.strip().splitlines() == [f"error: interrupted by {name}"], done.stderr
