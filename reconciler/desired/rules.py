"""What a state file may declare: sources, identifier types per source, value formats
(docs/capillary-api.md 2).

Identifier types and the sources that take them:

    mobile, email, externalId, cuid   any source
    wechat, unionId                   WECHAT
    line                              LINE
    fbId                              FACEBOOK
    martjackId                        MARTJACK
    tmall_uname                       TMALL
    ali_uname                         TMALL, TAOBAO
    jd_uname                          JD
    vip_uname                         ECOMMERCE, WEBSITE

``cardnumber`` / ``cardExternalId`` are not identifiers here: cards are declared under ``cards:``.
Each type holds one value per profile (a string): the API keeps one identifier of a type per profile, and a
change of mobile is a remove plus an add that the plan shows as such.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from reconciler.model import MULTI_ACCOUNT_SOURCES, SOURCES, is_card_type

ANY_SOURCE = frozenset({"mobile", "email", "externalId", "cuid"})
SOURCE_TYPES: dict[str, frozenset[str]] = {
    "wechat": frozenset({"WECHAT"}),
    "unionId": frozenset({"WECHAT"}),
    "line": frozenset({"LINE"}),
    "fbId": frozenset({"FACEBOOK"}),
    "martjackId": frozenset({"MARTJACK"}),
    "tmall_uname": frozenset({"TMALL"}),
    "ali_uname": frozenset({"TMALL", "TAOBAO"}),
    "jd_uname": frozenset({"JD"}),
    "vip_uname": frozenset({"ECOMMERCE", "WEBSITE"}),
}
IDENTIFIER_TYPES = ANY_SOURCE | frozenset(SOURCE_TYPES)

MOBILE = re.compile(r"[0-9]{8,15}")
EMAIL = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
EMAIL_MAX = 255
ACCOUNT_ID = re.compile(r"[^\s:]+")
MAX_VALUE = 255
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@functools.lru_cache(maxsize=4096)  # a few distinct keys, repeated on every customer
def profile_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid profile key (``SOURCE`` or ``SOURCE:accountId``), or None."""
    source, colon, account = key.partition(":")
    if source not in SOURCES:
        return f"unknown source '{source}' in profile '{key}' (known: {', '.join(sorted(SOURCES))})"
    if source in MULTI_ACCOUNT_SOURCES and not account:
        return f"source {source} takes several accounts: write '{source}:<accountId>'"
    if source not in MULTI_ACCOUNT_SOURCES and colon:
        return f"source {source} has a single account: write '{source}' without ':{account}'"
    if not colon:
        return None
    if ACCOUNT_ID.fullmatch(account) and account.isprintable():
        return None
    return (
        visible_problem("accountId", account)
        or f"bad accountId '{account}' in profile '{key}': no spaces or ':'"
    )


def visible_problem(what: str, value: str) -> str | None:
    """Why ``value`` would not read as what it is (invisible or reordering characters), or None.

    A reviewer sees a value in a diff, a terminal or a PR comment: a line break, a control or format
    character (Unicode category C*, e.g. U+202E, which reverses the text after it) or surrounding
    whitespace makes the value sent differ from the value seen.
    """
    if value.isprintable() and value.strip() == value:  # the common case, in C
        return None
    for index, char in enumerate(value, 1):
        where = f"U+{ord(char):04X} at character {index}"
        if char in LINE_BREAKS:
            return f"{what} holds a line break ({where}): a value is one line"
        if char in BIDI_CONTROLS:
            return f"{what} holds a bidirectional control ({where}): it changes how the value is shown"
        if unicodedata.category(char)[0] == "C":
            return f"{what} holds an invisible control character ({where}): write visible text only"
    if value.strip() != value:
        return f"{what} has leading or trailing whitespace: remove it"
    return None


def type_problem(source: str, type_: str) -> str | None:
    """Why identifiers of ``type_`` cannot be declared in a profile of ``source``, or None."""
    if is_card_type(type_):
        return f"'{type_}' is not an identifier here: declare cards under 'cards:'"
    if type_ not in IDENTIFIER_TYPES:
        return f"unknown identifier type '{type_}' (known: {', '.join(sorted(IDENTIFIER_TYPES))})"
    allowed = SOURCE_TYPES.get(type_)
    if allowed is not None and source not in allowed:
        return f"source {source} does not take '{type_}' (only {', '.join(sorted(allowed))})"
    return None


def value_problem(type_: str, value: str) -> str | None:
    """Why ``value`` is malformed for ``type_``, or None."""
    if not value.strip():
        return f"empty {type_}"
    invisible = visible_problem(type_, value)
    if invisible:
        return invisible
    if type_ == "mobile" and not MOBILE.fullmatch(value):
        return f"malformed mobile '{value}': digits only, with country code, 8-15 digits"
    if type_ == "email" and (len(value) > EMAIL_MAX or not EMAIL.fullmatch(value)):
        return f"malformed email '{value}': letters, digits and - _ + . around one @, at most 255 characters"
    if len(value) > MAX_VALUE:
        return f"{type_} longer than {MAX_VALUE} characters"
    return None
