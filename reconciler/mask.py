"""Masking of identifier values and card numbers for every output a reviewer or CI log sees.

Each masked value keeps a little of its shape (``91******10``, ``t***@example.com``, ``…1234``) and ends
with a short keyed hash (HMAC-SHA256, key from ``RECONCILER_MASK_KEY``) so a reviewer can tell two masked
values apart and see that equal values are equal. The same key must be used by the ``plan`` and ``apply``
jobs: the plan checksum binds every raw value through a full-length HMAC under it (``value_binding``).

A masked value shows part of its value (4 of a 10-digit mobile's digits), so the key is what keeps the rest
secret: under a public key the other 6 digits fall to ~10^6 HMACs. So there is no silent default: masking
uses the key a caller gave (``use_mask_key``), else ``RECONCILER_MASK_KEY``, and refuses a missing, empty
or short one (``UsageError``, one line). Only a workspace whose target is the embedded sandbox
(``api.url: sandbox``; ``choose_mask_key(sandbox=True)``, which ``load_workspace`` calls) masks with the
fixed public key, so the quickstart needs no secret. ``require_mask_key`` makes the same check before a
command's first request.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from reconciler.errors import UsageError
from reconciler.model import CARD_TYPES

MASK_KEY_ENV = "RECONCILER_MASK_KEY"
SANDBOX_MASK_KEY = b"reconciler-default-mask-key-v1"  # public: for the embedded sandbox only
HASH_HEX = 6
MIN_KEY_BYTES = 16
MAKE_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'

_chosen: bytes | None = None  # the key a caller gave; None: RECONCILER_MASK_KEY


def use_mask_key(key: bytes | None) -> None:
    """Mask with ``key`` from now on (None: ``RECONCILER_MASK_KEY``). A short key, or the sandbox's public
    one, is refused: a library caller's masks are never reversible by accident."""
    global _chosen
    if key is not None and (len(key) < MIN_KEY_BYTES or key == SANDBOX_MASK_KEY):
        what = "is the embedded sandbox's public key" if key == SANDBOX_MASK_KEY else f"is {len(key)} bytes"
        raise UsageError(f"the masking key {what}: give a secret one of at least {MIN_KEY_BYTES} bytes")
    _chosen = key


def choose_mask_key(*, sandbox: bool) -> None:
    """For a workspace's target: the embedded sandbox masks with the public key; anything else with
    ``RECONCILER_MASK_KEY``, checked when first used."""
    global _chosen
    _chosen = SANDBOX_MASK_KEY if sandbox else None


def mask_key() -> bytes:
    """The masking key: the one chosen, else ``RECONCILER_MASK_KEY``; a missing or short one is refused."""
    if _chosen is not None:
        return _chosen
    env = os.environ.get(MASK_KEY_ENV, "").encode()
    if len(env) < MIN_KEY_BYTES:
        raise UsageError(_key_problem(len(env), "this target"))
    return env


def require_mask_key(target: str, *, sandbox: bool) -> None:
    """Refuse (exit 2, one line) a missing, empty or short key against any target but the embedded sandbox."""
    if sandbox:
        return
    size = len(os.environ.get(MASK_KEY_ENV, "").encode())
    if size < MIN_KEY_BYTES:
        raise UsageError(_key_problem(size, target))


def _key_problem(size: int, target: str) -> str:
    what = "is not set" if size == 0 else f"is {size} bytes, under {MIN_KEY_BYTES}"
    return (
        f"{MASK_KEY_ENV} {what}: against {target} masked values need a secret key of at least "
        f"{MIN_KEY_BYTES} bytes; make one with {MAKE_KEY} and give plan and apply the same one"
    )


def value_binding(type_: str, value: str) -> str:
    """The full-length HMAC-SHA256 of one raw value: binds it into the plan checksum; never displayed."""
    return _hmac(mask_key(), f"{type_.lower()}\0{value}")


def keyed_hash(text: str, length: int = HASH_HEX) -> str:
    """A short HMAC-SHA256 hex digest of ``text`` under the masking key."""
    return _hmac(mask_key(), text)[:length]


@lru_cache(maxsize=1 << 16)
def _hmac(key: bytes, text: str) -> str:
    # Cached: a plan masks each value several times (actions, calls, JSON and checksum).
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _shape(kind: str, value: str) -> str:
    if kind in CARD_TYPES:
        return "…" + value[-4:] if len(value) > 4 else "…"
    if kind == "email" and "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "mobile":
        return f"{value[:2]}******{value[-2:]}" if len(value) > 6 else "******"
    return f"{value[:1]}***{value[-1:]}" if len(value) > 4 else "***"


def mask_value(type_: str, value: str) -> str:
    """The masked form of one value of identifier type ``type_`` (``cardnumber`` for cards)."""
    kind = type_.lower() if type_.lower() in CARD_TYPES else type_
    return f"{_shape(kind, value)}#{keyed_hash(value)}"
