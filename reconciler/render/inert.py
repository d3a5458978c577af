"""Inert Markdown: text this program did not write (series codes, labels, file names, API messages,
the target) rendered so that it shows as it is and does nothing on GitHub.

Nothing from outside may open HTML (``<img ...>``), mention a user or team (``@team``), become a link
(GFM's extended autolinks: ``https://x``, ``www.x.y``, ``user@host.tld``), break out of a code span or
block, or form ``<!--``: a second ``<!-- reconciler-plan checksum=... -->`` in a comment would
make the checksum lookup fail. Control characters are shown escaped (``escape.visible``) first, so no
line break ends a paragraph or an HTML block early.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from reconciler.render.escape import visible

ZWSP = "\u200b"  # after "@" it breaks a mention or an e-mail autolink, and is invisible
# GFM autolinks a scheme (letters) right before "://" and "www." (GitHub's matches any case); a ZWSP
# before "://" or after "www" breaks both. Not a backslash escape: an autolinker that runs on the
# parsed text (GitHub's pipeline had one) sees no backslash, but still sees the ZWSP.
_AUTOLINK = re.compile(r"(?=://)|(?<=www)(?=\.)", re.IGNORECASE)
_TICKS = re.compile(r"`+")
# Characters that start inline Markdown (emphasis, code, links, images, HTML, entities, tables, math).
_SPECIAL = re.compile(r"[\\`*_{}\[\]!#|~$]")


def _defuse(text: str) -> str:
    # inside code, "<" is shown as is but "<!--" in the raw body is still a comment to a marker search
    return text.replace("<!", f"<{ZWSP}!")


def _fence(text: str, least: int) -> str:
    longest = max((len(run) for run in _TICKS.findall(text)), default=0)
    return "`" * max(least, longest + 1)


def code(text: str) -> str:
    """An inline code span showing ``text``: a fence longer than any backtick run inside, padded per
    CommonMark when the text starts or ends with a backtick or a space (one space each side is stripped)."""
    body = _defuse(visible(text))
    if not body:
        return "` `"  # an empty span is not a span; one space shows "nothing here"
    fence = _fence(body, 1)
    # all-space content is never stripped, so it needs no padding
    pad = " " if body.strip(" ") and (body[0] in "` " or body[-1] in "` ") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def code_block(lines: Iterable[str], info: str = "") -> str:
    """A fenced code block showing ``lines`` (a line break inside one is shown escaped), its fence longer
    than any backtick run inside."""
    body = "\n".join(_defuse(visible(line)) for line in lines)
    fence = _fence(body, 3)
    return f"{fence}{info}\n{body}\n{fence}"


def _unlinked(text: str) -> str:
    """``text`` with a zero-width space after each ``@`` and ``www``, and before each ``://``."""
    return _AUTOLINK.sub(ZWSP, text).replace("@", "@" + ZWSP)


def text(value: str) -> str:
    """``value`` as Markdown text: inline syntax backslash-escaped, ``<``, ``>`` and ``&`` as entities,
    mentions and autolinks broken by zero-width spaces."""
    escaped = _SPECIAL.sub(lambda m: "\\" + m[0], visible(value))
    return _unlinked(html.escape(escaped, quote=False))


def html_text(value: str) -> str:
    """``value`` inside raw HTML (``<summary>``), where Markdown is not parsed (so nothing autolinks
    today): entities, and mentions and autolinks broken all the same, should the HTML block end early."""
    return _unlinked(html.escape(visible(value), quote=True))
