"""A sandbox in its own process for the benchmarks: a free loopback port, and waiting until it answers.

The benchmarks run as scripts (``python tests/perf/bench_x.py``), so this folder is on ``sys.path``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Any

import httpx

Proc = subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_sandbox(args: list[str], *, timeout: float = 120.0, **popen: Any) -> tuple[Proc, str]:
    """Run ``reconciler sandbox serve ARGS`` on a free port; the process and its URL once it answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", str(port), *args]
    return wait_until_up(subprocess.Popen(cmd, **popen), f"http://127.0.0.1:{port}", timeout)


def wait_until_up(proc: Proc, url: str, timeout: float = 120.0) -> tuple[Proc, str]:
    """Poll the admin API at ``url`` until it answers; stop the process and exit if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(f"{url}/_sandbox/requests", timeout=1).raise_for_status()
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise SystemExit(f"the sandbox did not start (exit code {proc.returncode})")


def set_latency(url: str, latency_ms: float) -> None:
    """Every endpoint of the sandbox at ``url`` answers after ``latency_ms``."""
    body = {"endpoints": {"*": {"latency_ms": latency_ms}}}
    httpx.put(f"{url}/_sandbox/faults", json=body, timeout=30).raise_for_status()


def clear_log(url: str) -> None:
    """Forget the sandbox's logged requests."""
    httpx.delete(f"{url}/_sandbox/requests", timeout=30).raise_for_status()


def request_log(url: str) -> dict[str, Any]:
    """The sandbox's request log: ``total``, ``countsByRoute`` and ``requests``."""
    response = httpx.get(f"{url}/_sandbox/requests", timeout=120)
    response.raise_for_status()
    return dict(response.json())
