"""``reconciler apply`` at a terminal: it shows the plan and asks; only a yes writes anything.

The CLI runs as a real subprocess on a pseudo-terminal (stdin, stdout and stderr all on it), the way a person
runs it; the answer is typed into the terminal.
"""

from __future__ import annotations

import re
import sys

import pytest

from tests.ops.terminal import run_on_a_pty
from tests.testing import Workspace, is_write

PROMPT = re.compile(rb"Apply (\d+) API calls? to [^?]+\? \[y/N\]: ")


def _run_at_a_terminal(ws: Workspace, answer: bytes, timeout: float = 60) -> tuple[int, str]:
    """Run ``reconciler apply`` on a pty, type ``answer`` at the prompt; (exit code, all it printed)."""
    code, out = run_on_a_pty(ws.root, "apply", timeout=timeout, answer=(PROMPT, answer))
    return code, out.replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.slow
def test_at_a_terminal_no_writes_nothing_and_yes_applies(demo_ws: Workspace) -> None:
    srv = demo_ws.server
    srv.clear_log()
    code, out = _run_at_a_terminal(demo_ws, b"n\n")
    assert code == 1 and "Apply cancelled; nothing was written." in out
    assert "Checksum: " in out  # the plan was shown before the question
    assert not [e for e in srv.request_log()["requests"] if is_write(e)]

    code, out = _run_at_a_terminal(demo_ws, b"y\n")
    assert code == 0, out[-3000:]
    prompt = PROMPT.search(out.encode())
    assert prompt is not None, out[-3000:]
    calls = int(prompt.group(1))
    assert len([e for e in srv.request_log()["requests"] if is_write(e)]) == calls
    assert demo_ws.cli("plan", "--all", "--detailed-exitcode").returncode == 0
