"""HTTPS, the scheme every real org's API uses: plan, apply and plan again through our own transport over TLS.

The sandbox serves HTTPS on loopback with a certificate from a throwaway CA (``trustme``). The CLI trusts it
through ``SSL_CERT_FILE``, the standard variable (a corporate CA is added the same way); without it the
certificate is refused in one line, before any request reaches the API.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from reconciler.sandbox.server import SandboxServer
from tests.testing import demo_state, is_write, make_workspace
from tests.testing.verified import assert_verified


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _serve_tls(ca: trustme.CA, tmp_path: Path, host: str) -> SandboxServer:
    """The demo sandbox over HTTPS on 127.0.0.1, with a certificate for ``host``."""
    cert = ca.issue_cert(host)
    certfile, keyfile = tmp_path / "server.pem", tmp_path / "server.key"
    cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    trusting.check_hostname = host == "127.0.0.1"
    return SandboxServer(seed="demo", tls=(str(certfile), str(keyfile)), verify=trusting).start()


@pytest.fixture
def tls_server(ca: trustme.CA, tmp_path: Path) -> Iterator[SandboxServer]:
    server = _serve_tls(ca, tmp_path, "127.0.0.1")
    yield server
    server.stop()


@pytest.mark.slow
def test_plan_apply_and_plan_again_over_https(
    ca: trustme.CA, tls_server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    ws_root = tmp_path / "ws"
    ws_root.mkdir()
    ws = make_workspace(ws_root, tls_server, demo_state())
    assert tls_server.url.startswith("https://127.0.0.1:")
    checksum = ws.checksum()
    tls_server.clear_log()
    done = ws.cli("apply", "--checksum", checksum)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_verified(done.stdout)
    assert any(is_write(e) for e in tls_server.request_log()["requests"])
    again = ws.cli("plan", "--all", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.slow
def test_an_untrusted_certificate_is_one_line_and_nothing_reaches_the_api(
    tls_server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    ws = make_workspace(tmp_path, tls_server, demo_state())
    tls_server.clear_log()
    done = ws.cli("plan", "--all")
    assert done.returncode == 1 and done.stdout == ""
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "TLS certificate not trusted" in errors[0], done.stderr
    assert "SSL_CERT_FILE" in errors[0]
    assert tls_server.request_log()["total"] == 0


@pytest.mark.slow
def test_a_certificate_for_another_host_is_one_line(
    ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    server = _serve_tls(ca, tmp_path, "billing.example.com")
    try:
        ws = make_workspace(tmp_path, server, demo_state())
        done = ws.cli("plan", "--all")
    finally:
        server.stop()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "not valid for the host in api.url" in errors[0], done.stderr


@pytest.mark.slow
def test_a_missing_ca_bundle_is_one_line(
    tls_server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))
    ws = make_workspace(tmp_path, tls_server, demo_state())
    done = ws.cli("plan", "--all")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "cannot load the CA certificates to trust" in errors[0], done.stderr
