"""Assertions on an apply's result: every customer it wrote re-read as its plan promised."""

from __future__ import annotations

import re
from typing import Any

VERIFIED = re.compile(r"verified (\d+) of (\d+) customers")


def assert_verified(stdout: str) -> None:
    """A text result ends with ``verified N of N customers``: every customer written re-read as planned."""
    last = stdout.rstrip().splitlines()[-1]
    found = VERIFIED.fullmatch(last)
    assert found and found.group(1) == found.group(2), stdout[-2000:]


def assert_verified_json(result: dict[str, Any]) -> None:
    """The JSON result's verification: N of N, no divergence."""
    check = result["verification"]
    assert check["verified"] == check["written"] and not check["divergences"], check
