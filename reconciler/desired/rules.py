"""What a state file may declare: sources, identifier types per source, value formats (capillary-api.md 2).

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
    if colon and not ACCOUNT_ID.fullmatch(account):
        return f"bad accountId '{account}' in profile '{key}': no spaces or ':'"
    return None


def identifier_problem(source: str, type_: str, value: str) -> str | None:
    """Why ``type_: value`` cannot be declared in a profile of ``source``, or None."""
    if is_card_type(type_):
        return f"'{type_}' is not an identifier here: declare cards under 'cards:'"
    if type_ not in IDENTIFIER_TYPES:
        return f"unknown identifier type '{type_}' (known: {', '.join(sorted(IDENTIFIER_TYPES))})"
    allowed = SOURCE_TYPES.get(type_)
    if allowed is not None and source not in allowed:
        return f"source {source} does not take '{type_}' (only {', '.join(sorted(allowed))})"
    return value_problem(type_, value)


def value_problem(type_: str, value: str) -> str | None:
    """Why ``value`` is malformed for ``type_``, or None."""
    if type_ == "mobile" and not MOBILE.fullmatch(value):
        return f"malformed mobile '{value}': digits only, with country code, 8-15 digits"
    if type_ == "email" and (len(value) > EMAIL_MAX or not EMAIL.fullmatch(value)):
        return f"malformed email '{value}': letters, digits and - _ + . around one @, at most 255 characters"
    if not value.strip():
        return f"empty {type_}"
    if len(value) > MAX_VALUE:
        return f"{type_} longer than {MAX_VALUE} characters"
    return None
