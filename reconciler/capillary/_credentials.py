"""Credentials for the Capillary API, read from the environment or given as arguments, never shown."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping

from reconciler.errors import ConfigError

OAUTH_VARS = ("CAPILLARY_OAUTH_KEY", "CAPILLARY_OAUTH_SECRET")
BASIC_VARS = ("CAPILLARY_TILL", "CAPILLARY_PASSWORD")
# The embedded/loopback sandbox accepts these; they are not secrets.
SANDBOX_OAUTH = ("sandbox", "sandbox")
SANDBOX_BASIC = ("sandbox.till", "sandbox")
AUTH_KINDS = ("oauth", "basic")


class Credentials:
    """OAuth key/secret or Basic till/password. ``repr`` and ``str`` never show the secret parts."""

    __slots__ = ("_name", "_secret", "auth")

    def __init__(self, auth: str, name: str, secret: str) -> None:
        if auth not in AUTH_KINDS:
            raise ConfigError(f"unknown auth kind {auth!r}: expected one of {', '.join(AUTH_KINDS)}")
        self.auth = auth
        self._name = name
        self._secret = secret

    @classmethod
    def oauth(cls, key: str, secret: str) -> Credentials:
        """OAuth client credentials (``/v3/oauth/token/generate``)."""
        return cls("oauth", key, secret)

    @classmethod
    def basic(cls, till: str, password: str) -> Credentials:
        """Basic till credentials; the password is sent only as its md5."""
        return cls("basic", till, password)

    @classmethod
    def from_env(cls, auth: str, *, sandbox: bool, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read credentials of kind ``auth`` from the environment; the sandbox has defaults."""
        env = os.environ if environ is None else environ
        if auth not in AUTH_KINDS:
            raise ConfigError(f"api.auth is {auth!r}: expected one of {', '.join(AUTH_KINDS)}")
        names = OAUTH_VARS if auth == "oauth" else BASIC_VARS
        first, second = env.get(names[0], ""), env.get(names[1], "")
        if first and second:
            return cls(auth, first, second)
        if sandbox and not first and not second:
            return cls(auth, *(SANDBOX_OAUTH if auth == "oauth" else SANDBOX_BASIC))
        missing = [n for n, v in zip(names, (first, second), strict=True) if not v]
        raise ConfigError(f"{auth} credentials missing: set {' and '.join(missing)} in the environment")

    @property
    def oauth_body(self) -> dict[str, str]:
        """The token request body (only for OAuth)."""
        return {"key": self._name, "secret": self._secret}

    @property
    def basic_header(self) -> str:
        """The ``Authorization`` header value (only for Basic)."""
        digest = hashlib.md5(self._secret.encode()).hexdigest()
        return "Basic " + base64.b64encode(f"{self._name}:{digest}".encode()).decode()

    def __repr__(self) -> str:
        return f"Credentials(auth={self.auth!r}, ***)"

    __str__ = __repr__
