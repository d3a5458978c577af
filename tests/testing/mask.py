"""The suite's masking key.

Loopback sandboxes are real targets (only ``api.url: sandbox`` is not), so they need a masking key. The
test key is the embedded sandbox's fixed one, so masked values (and golden files) read the same whichever
sandbox a test plans against.
"""

from __future__ import annotations

from reconciler.mask import SANDBOX_MASK_KEY

TEST_MASK_KEY = SANDBOX_MASK_KEY.decode()
