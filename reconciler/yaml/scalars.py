"""Plain scalars: how the reader resolves them (YAML 1.2 core schema) and which strings a writer must quote.

A value the reader could not represent (an infinite number, an integer too long to convert) is reported
once, where it is written, and replaced by ``INVALID``, which every later check skips: one problem per value.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

import yaml


class _Invalid:
    """The type of ``INVALID``: a value already reported as a problem."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()

NULL = frozenset({"", "~", "null", "Null", "NULL"})
BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
RESOLVE_FIRST = frozenset("0123456789+-.~nNtTfF")  # every non-string plain scalar starts with one of these


def resolve_plain(text: str) -> Any:
    """Resolve an untagged plain scalar with the YAML 1.2 core schema.

    Raises ValueError for an integer longer than Python converts (``sys.get_int_max_str_digits``).
    """
    if text in NULL:
        return None
    if text in BOOL:
        return BOOL[text]
    if INT.fullmatch(text):
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    if FLOAT.fullmatch(text):
        digits = text.lstrip("+-")
        if (
            digits[:1] == "." and digits[1:2].isalpha()
        ):  # .inf, -.Inf, .NaN: float() spells them without the dot
            return float(text[: len(text) - len(digits)] + digits[1:])
        return float(text)
    return text


def unrepresentable(text: str) -> str | None:
    """Why the plain scalar ``text`` cannot be taken as a value (a problem message), or None."""
    try:
        value = resolve_plain(text) if text[:1] in RESOLVE_FIRST else text
    except ValueError:
        return f"a number of {len(text)} digits is too large: quote it if it is text"
    if type(value) is float and not math.isfinite(value):
        return f'{text} is not a finite number: quote it ("{text}") if it is text'
    return None


_V11 = yaml.SafeLoader  # the YAML 1.1 resolver PyYAML's dumper uses: a string it resolves is quoted anyway


def resolves_to_non_string(text: str) -> bool:
    """True if a YAML 1.1 or 1.2 reader would take the plain scalar ``text`` for anything but a string."""
    if not text:
        return True
    if text[0] in RESOLVE_FIRST:
        try:
            if not isinstance(resolve_plain(text), str):
                return True
        except ValueError:
            return True
    resolver = _V11.yaml_implicit_resolvers.get(text[:1], [])
    return any(regexp.match(text) for _, regexp in resolver)
