"""A sandbox in its own process for the benchmarks: a free loopback port, and waiting until it answers.

The benchmarks run as scripts (``python tests/perf/bench_x.py``), so this folder is on ``sys.path``.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from typing import Any

import httpx

Proc = subprocess.Popen[bytes]
_admin: httpx.Client | None = None


def admin() -> httpx.Client:
    """One client for the sandbox's admin API. ``httpx.get`` and friends build a client, and load the CA
    certificates, per call (a sixth of a second or more each); plain HTTP on loopback needs neither
    certificates (an empty TLS context) nor proxies."""
    global _admin
    if _admin is None:
        _admin = httpx.Client(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), trust_env=False, timeout=120)
    return _admin


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
            admin().get(f"{url}/_sandbox/requests", timeout=1).raise_for_status()
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise SystemExit(f"the sandbox did not start (exit code {proc.returncode})")


def set_latency(url: str, latency_ms: float) -> None:
    """Every endpoint of the sandbox at ``url`` answers after ``latency_ms``."""
    body = {"endpoints": {"*": {"latency_ms": latency_ms}}}
    admin().put(f"{url}/_sandbox/faults", json=body).raise_for_status()


def clear_log(url: str) -> None:
    """Forget the sandbox's logged requests."""
    admin().delete(f"{url}/_sandbox/requests").raise_for_status()


def request_log(url: str) -> dict[str, Any]:
    """The sandbox's request log: ``total``, ``countsByRoute`` and ``requests``."""
    response = admin().get(f"{url}/_sandbox/requests")
    response.raise_for_status()
    return dict(response.json())
