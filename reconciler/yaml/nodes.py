"""The composed data: mappings and sequences that remember where every value was written (1-based)."""

from __future__ import annotations

from typing import Any

Pos = tuple[int, int]


class YMap(dict[str, Any]):
    """A mapping with the position of itself, of each key and of each value."""

    __slots__ = ("key_pos", "pos", "val_pos")

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[str, Pos] = {}
        self.val_pos: dict[str, Pos] = {}


class YList(list[Any]):
    """A sequence with the position of itself and of each item."""

    __slots__ = ("item_pos", "pos")

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = []


def position(data: Any, path: tuple[Any, ...]) -> Pos:
    """The position of the value at ``path`` below ``data`` (else of its nearest known parent)."""
    pos: Pos = getattr(data, "pos", (1, 1))
    node = data
    for step in path:
        if isinstance(node, YMap) and step in node:
            pos, node = node.val_pos[step], node[step]
        elif isinstance(node, YList) and isinstance(step, int) and 0 <= step < len(node):
            pos, node = node.item_pos[step], node[step]
        else:
            break
    return pos
