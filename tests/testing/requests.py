"""Reading the sandbox's request log: which requests were writes, and how many went to each route."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POSTs that read: the token and the bulk customer read.
READ_POSTS = frozenset({"/v3/oauth/token/generate", "/v2/bulk/getCustomers"})
ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def route_of(path: str) -> str:
    """``/v2/customers/{id}/changeIdentifier`` from a logged path."""
    return ID_SEGMENT.sub("/{id}", path.split("?", 1)[0])


def is_write(entry: Mapping[str, Any]) -> bool:
    """A logged request that is not a read (the token and bulk-read POSTs are reads)."""
    return entry["method"] in WRITE_METHODS and route_of(entry["path"]) not in READ_POSTS


def writes(requests: Iterable[Mapping[str, Any]]) -> list[str]:
    """``"METHOD path"`` of every logged write."""
    return [f"{r['method']} {r['path']}" for r in requests if is_write(r)]


def route_counts(requests: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """``{"GET /v2/customers/{id}": n, ...}`` from logged requests."""
    out: dict[str, int] = {}
    for r in requests:
        key = f"{r['method']} {r['route']}"
        out[key] = out.get(key, 0) + 1
    return out
