"""Words in messages."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """``1 file``, ``2 files``: a count with its noun in the right number (regular plurals only)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
