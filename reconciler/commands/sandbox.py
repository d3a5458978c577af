"""``reconciler sandbox serve``: run the Capillary-compatible sandbox on a port."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.commands.outputs import echo
from reconciler.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from reconciler.sandbox.app import SandboxApp

log = logging.getLogger(__name__)


@click.group("sandbox")
def command() -> None:
    """The Capillary-compatible sandbox API server."""


def _fixture(seed: str) -> dict[str, object]:
    from reconciler.sandbox import demo_fixture

    if seed == "demo":
        return demo_fixture()
    try:
        data = json.loads(Path(seed).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"--seed {seed}: cannot read fixture: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"--seed {seed}: a fixture must be a JSON object")
    return data


def _check_port(host: str, port: int) -> None:
    """Bind the address as uvicorn will (asyncio's create_server), so a port in use or a host that does not
    resolve is a one-line usage error before anything is printed."""
    import os
    import socket

    where = f"--host {host} --port {port}"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"{where}: the host does not resolve ({exc.strerror})") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                reason = os.strerror(exc.errno) if exc.errno else str(exc)
                raise UsageError(f"{where}: cannot listen there ({reason})") from None


def _check_tls(cert: str, key: str) -> None:
    """Load the pair as uvicorn will, so a bad file is a one-line usage error before anything is served."""
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
        raise UsageError(
            f"--tls-cert {cert} / --tls-key {key}: not a usable certificate and key ({reason})"
        ) from None


@command.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to bind.")
@click.option(
    "--db",
    "db_path",
    default=":memory:",
    show_default=True,
    metavar="FILE",
    help="Keep the state in SQLite FILE.",
)
@click.option("--seed", default=None, metavar="demo|FILE", help="Load 'demo' or fixture JSON FILE at start.")
@click.option("--faults", "faults_path", default=None, metavar="FILE", help="Inject the faults of JSON FILE.")
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Serve HTTPS with this PEM certificate chain (needs --tls-key).",
)
@click.option(
    "--tls-key", type=click.Path(exists=True, dir_okay=False), default=None, help="The certificate's PEM key."
)
def serve(
    host: str,
    port: int,
    db_path: str,
    seed: str | None,
    faults_path: str | None,
    tls_cert: str | None,
    tls_key: str | None,
) -> int:
    """Serve the sandbox until interrupted (rate limit off; auth on with the default sandbox credentials)."""
    import uvicorn

    if (tls_cert is None) != (tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if tls_cert and tls_key:
        _check_tls(tls_cert, tls_key)
    _check_port(host, port)
    app = _app(db_path, seed, faults_path)
    scheme = "https" if tls_cert else "http"
    echo(f"sandbox serving on {scheme}://{host}:{port} (db {db_path})", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
    )
    return EXIT_OK


def _app(db_path: str, seed: str | None, faults_path: str | None) -> SandboxApp:
    """The sandbox app over the store at ``db_path``, seeded (when empty) and with its faults set."""
    from reconciler.sandbox import Store, create_app, load_faults

    fixture = _fixture(seed) if seed else None
    try:
        faults = load_faults(faults_path) if faults_path else None
        store = Store(db_path)
        if fixture is not None and store.is_empty():  # a --db file keeps its state across restarts
            store.seed(fixture)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    except Exception as exc:  # sqlite3 errors: a bad --db path
        raise UsageError(f"--db {db_path}: {exc}") from exc
    app = create_app(store)
    if faults is not None:
        app.runtime.faults = faults
    return app
