"""A reader of our Markdown for the tests: the text GitHub would treat as Markdown/HTML, code removed.

Deliberately conservative: a backslash-escaped backtick never opens a code span here, so anything it
cannot classify stays in the text the assertions look at.
"""

from __future__ import annotations

import re

import cmarkgfm
from cmarkgfm.cmark import Options

# The tags and the one marker the renderers write themselves.
OWN_TAGS = ("<details>", "</details>", "<summary>", "</summary>", "<sub>", "</sub>")
_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(.*?)(?<!`)\1(?!`)")
_OPEN_FENCE = re.compile(r" {0,3}(`{3,})")
_TAG = re.compile(r"<[A-Za-z/!?]")
_MENTION = re.compile(r"@[A-Za-z0-9_-]")
MARKER_LINE = re.compile(r"^<!-- reconciler-plan checksum=[0-9a-f]{64} -->$", re.MULTILINE)


def outside_code(md: str) -> str:
    """``md`` without fenced code blocks and inline code spans."""
    out: list[str] = []
    fence: str | None = None
    for line in md.split("\n"):
        if fence is None:
            opened = _OPEN_FENCE.match(line)
            if opened:
                fence = opened.group(1)
                continue
            out.append(_SPAN.sub("", line))
        elif re.fullmatch(rf" {{0,3}}{fence}`*\s*", line):
            fence = None
    return "\n".join(out)


def code_spans(md: str) -> list[str]:
    """The contents of the inline code spans (CommonMark: one padding space each side is stripped)."""
    found = []
    for match in _SPAN.finditer(md):
        body = match.group(2)
        if len(body) >= 2 and body[0] == body[-1] == " " and body.strip(" "):
            body = body[1:-1]
        found.append(body)
    return found


def raw_tags(md: str) -> list[str]:
    """HTML tags (or comments) outside code that the renderers did not write themselves."""
    text = MARKER_LINE.sub("", outside_code(md))
    for tag in OWN_TAGS:
        text = text.replace(tag, "")
    return [text[m.start() : m.start() + 20] for m in _TAG.finditer(text)]


def mentions(md: str) -> list[str]:
    """``@name`` outside code (a ZWSP after ``@`` breaks a mention)."""
    text = outside_code(md)
    return [text[m.start() : m.start() + 20] for m in _MENTION.finditer(text)]


def github_links(md: str) -> list[str]:
    """The links GitHub's own Markdown (cmark-gfm, with its autolink extension) makes of ``md``: raw HTML
    is kept (GitHub sanitises it later) so a tag the renderers wrote is judged too."""
    rendered = cmarkgfm.github_flavored_markdown_to_html(md, options=Options.CMARK_OPT_UNSAFE)
    return re.findall(r"<a [^>]*>", rendered)
