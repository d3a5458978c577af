"""Running the CLI on a pseudo-terminal (stdin, stdout and stderr all on it), as a person runs it."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path


def run_on_a_pty(
    cwd: Path, *args: str, timeout: float = 900, answer: tuple[re.Pattern[bytes], bytes] | None = None
) -> tuple[int, str]:
    """``reconciler ARGS`` on a pty in ``cwd``; (exit code, everything it wrote, raw: ``\\r`` kept).

    ``answer``: (prompt, keys) types ``keys`` once the output shows ``prompt``; it must show.
    """
    master, slave = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    seen, answered = b"", answer is None
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
            if answer is not None and not answered and answer[0].search(seen):
                os.write(master, answer[1])
                answered = True
            if not ready and proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert answered, seen.decode(errors="replace")[-2000:]
    return code, seen.decode(errors="replace")
