"""The library never masks with a public key by accident (issue 20, 3): masking uses the key a caller gave,
else ``RECONCILER_MASK_KEY``, and refuses a missing, empty or short one; only a workspace whose target is
the embedded sandbox masks with the sandbox's fixed key."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import UsageError
from reconciler.mask import MASK_KEY_ENV, SANDBOX_MASK_KEY, mask_value, use_mask_key
from reconciler.workspace import load_workspace


@pytest.mark.parametrize("env", [None, "", "short-key"], ids=["unset", "empty", "short"])
def test_the_library_refuses_to_mask_without_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, env: str | None
) -> None:
    if env is None:
        monkeypatch.delenv(MASK_KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(MASK_KEY_ENV, env)
    with pytest.raises(UsageError, match=f"{MASK_KEY_ENV} is"):
        mask_value("email", "someone@example.com")


@pytest.mark.parametrize("key", [b"", b"too-short", SANDBOX_MASK_KEY], ids=["empty", "short", "public"])
def test_a_key_given_explicitly_must_be_secret(key: bytes) -> None:
    with pytest.raises(UsageError, match="masking key"):
        use_mask_key(key)


def test_an_explicit_key_masks_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASK_KEY_ENV, raising=False)
    use_mask_key(b"a-secret-key-of-32-bytes-000000")
    first = mask_value("email", "someone@example.com")
    use_mask_key(b"another-secret-key-of-32-bytes-0")
    assert mask_value("email", "someone@example.com") != first


def _workspace(root: Path, url: str) -> Path:
    (root / "state").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(f"api:\n  url: {url}\n", encoding="utf-8")
    return root / "reconciler.yaml"


def test_only_an_embedded_sandbox_workspace_masks_with_the_public_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MASK_KEY_ENV, raising=False)
    load_workspace(_workspace(tmp_path / "demo", "sandbox"))
    assert mask_value("email", "someone@example.com").startswith("s***@example.com#")
    load_workspace(_workspace(tmp_path / "real", "https://eu.api.capillarytech.com"))
    with pytest.raises(UsageError, match=f"{MASK_KEY_ENV} is not set"):
        mask_value("email", "someone@example.com")
