"""Renderers of a Plan (text, Markdown, JSON) and masking of PII. Every renderer returns a string.

Renderers are imported lazily so the pure core (``diff``, ``plan``) can use ``render.mask`` without a cycle.
"""

from __future__ import annotations

from typing import Any

from reconciler.render.mask import keyed_hash, mask_value

__all__ = ["keyed_hash", "mask_value", "render_json", "render_markdown", "render_text"]

_LAZY = {
    "render_text": "reconciler.render.text",
    "render_markdown": "reconciler.render.markdown",
    "render_json": "reconciler.render.json",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
