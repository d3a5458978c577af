"""``reconciler sandbox serve`` as a real subprocess."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import trustme

from reconciler.sandbox.runtime import Runtime
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.store import Store
from tests.testing.sandbox import free_port


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120  # liveness only: a loaded machine starts Python slowly
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(url + "/_sandbox/requests", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("sandbox did not start")


@pytest.mark.slow
def test_serve_demo_answers_the_documented_example(tmp_path: Path) -> None:
    port = free_port()
    faults = tmp_path / "faults.json"
    faults.write_text('{"seed": 1, "endpoints": {"GET /v2/card": {"error_461": 1.0, "limit": 1}}}')
    cmd = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", str(port), "--seed", "demo"]
    cmd += ["--db", str(tmp_path / "s.db"), "--faults", str(faults)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url, proc)
        auth = {"Authorization": Runtime(Store(), Settings()).basic_header()}
        body = {"add": [{"type": "facebook", "value": "FB11"}]}
        r = httpx.post(
            f"{url}/v2/customers/564854782/changeIdentifier?source=INSTORE", json=body, headers=auth
        )
        assert r.json() == {"createdId": 564854782, "warnings": []}
        assert httpx.get(f"{url}/v2/card?number=GOLD0000001", headers=auth).status_code == 461
        assert httpx.get(f"{url}/v2/card?number=GOLD0000001", headers=auth).json()["customerId"] == 564854782
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.mark.slow
def test_serve_bad_seed_is_one_line_usage_error(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--seed", str(tmp_path / "missing.json")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.startswith("error: --seed") and "Traceback" not in done.stderr
    bad = tmp_path / "faults.json"
    bad.write_text('{"endpoints": {"*": {"error_500": 5}}}')
    done = subprocess.run([*cmd[:-2], "--faults", str(bad)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "error_500" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_serve_https_with_a_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "cert.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    port = free_port()
    cmd = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", str(port), "--seed", "demo"]
    alone = [*cmd, "--tls-cert", str(tmp_path / "cert.pem")]
    done = subprocess.run(alone, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "--tls-cert and --tls-key go together" in done.stderr
    (tmp_path / "junk.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    not_a_key = [*alone, "--tls-key", str(tmp_path / "junk.pem")]
    done = subprocess.run(not_a_key, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.startswith("error: --tls-cert") and "not a usable certificate and key" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    cmd += ["--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + 120  # liveness only: a loaded machine starts Python slowly
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                httpx.get(url + "/_sandbox/requests", timeout=1, verify=trusting)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        auth = {"Authorization": Runtime(Store(), Settings()).basic_header()}
        card = httpx.get(f"{url}/v2/card?number=GOLD0000001", headers=auth, verify=trusting)
        assert card.json()["customerId"] == 564854782
        with pytest.raises(httpx.ConnectError):  # not trusted without the CA
            httpx.get(f"{url}/v2/card?number=GOLD0000001", headers=auth)
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert err.decode().startswith(f"sandbox serving on https://127.0.0.1:{port}")


def test_serve_on_a_port_in_use_is_one_line_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        cmd = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", str(port)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and done.stdout == ""
    assert (
        done.stderr.strip()
        == f"error: --host 127.0.0.1 --port {port}: cannot listen there (Address already in use)"
    )
