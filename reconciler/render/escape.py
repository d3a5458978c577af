"""Escaping for outputs read by terminals and CI runners: control characters and workflow commands.

Values come from pull requests and from a live API; shown raw, an ESC or BEL retitles or recolours the
reader's terminal, a U+202E reorders what the reader sees, and a newline in a GitHub workflow command
starts a second command. ``visible`` shows such characters as escapes; the ``workflow_*`` functions
escape exactly as GitHub's toolkit does (``@actions/core`` ``command.ts``).
"""

from __future__ import annotations

import re

# C0, DEL, C1; the bidi embeddings/overrides/isolates and marks; the line and paragraph separators.
# Not zero-width spaces: the Markdown renderer puts U+200B after "@" on purpose (inert.py).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SGR = re.compile(r"(\x1b\[[0-9;]*m)")


def _shown(char: str) -> str:
    code = ord(char)
    # \xNN for C0 (what terminal users know; JSON output has none left, json.dumps escapes them);
    # \uNNNN otherwise, which a JSON string reads back as the same character
    return f"\\x{code:02x}" if code < 0x20 else f"\\u{code:04x}"


def visible(text: str, *, keep: str = "") -> str:
    """``text`` with every control character except those in ``keep`` shown as ``\\x1b``, ``\\u202e``."""
    return _CONTROL.sub(lambda m: m[0] if m[0] in keep else _shown(m[0]), text)


def visible_styled(text: str, *, keep: str = "\n") -> str:
    """Like ``visible``, but the colour sequences (SGR, ``ESC [ ... m``) this program paints are kept."""
    parts = _SGR.split(text)
    return "".join(p if i % 2 else visible(p, keep=keep) for i, p in enumerate(parts))


def workflow_data(text: str) -> str:
    """The message of a workflow command (``::error ...::DATA``): ``%``, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A property value of a workflow command (``file=VALUE``): as data, and ``:`` and ``,`` too."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")
