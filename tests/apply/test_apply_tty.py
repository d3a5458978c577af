"""``reconciler apply`` at a terminal: it shows the plan and asks; only a yes writes anything.

The CLI runs as a real subprocess on a pseudo-terminal (stdin, stdout and stderr all on it), the way a person
runs it; the answer is typed into the terminal.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from tests.apply.conftest import Workspace, is_write

PROMPT = re.compile(rb"Apply (\d+) API calls? to [^?]+\? \[y/N\]: ")


def _run_at_a_terminal(ws: Workspace, answer: bytes, timeout: float = 60) -> tuple[int, str]:
    """Run ``reconciler apply`` on a pty, type ``answer`` at the prompt; (exit code, all it printed)."""
    master, slave = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply"],
        cwd=ws.root,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    seen, answered = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and PROMPT.search(seen):
                os.write(master, answer)
                answered = True
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert answered, seen.decode(errors="replace")[-2000:]
    return code, seen.decode(errors="replace").replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_at_a_terminal_no_writes_nothing_and_yes_applies(demo_ws: Workspace) -> None:
    srv = demo_ws.server
    srv.clear_log()
    code, out = _run_at_a_terminal(demo_ws, b"n\n")
    assert code == 1 and "Apply cancelled; nothing was written." in out
    assert "Checksum: " in out  # the plan was shown before the question
    assert not [e for e in srv.request_log()["requests"] if is_write(e)]

    code, out = _run_at_a_terminal(demo_ws, b"y\n")
    assert code == 0, out[-3000:]
    calls = int(PROMPT.search(out.encode()).group(1))  # type: ignore[union-attr]
    assert len([e for e in srv.request_log()["requests"] if is_write(e)]) == calls
    assert demo_ws.cli("plan", "--all", "--detailed-exitcode").returncode == 0
