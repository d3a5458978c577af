"""The API's vocabulary: identifier types, sources, card statuses, and value formats (API digest 2, 6.1)."""

from __future__ import annotations

import re

from reconciler.model import CARD_STATUSES, MULTI_ACCOUNT_SOURCES, SOURCES

KNOWN_SOURCES = SOURCES | {"MAPP_SDK"}  # lookups also take MAPP_SDK
IDENTIFIER_TYPES = (
    "mobile",
    "email",
    "externalId",
    "wechat",
    "martjackId",
    "fbId",
    "facebook",
    "tmall_uname",
    "cuid",
    "ali_uname",
    "jd_uname",
    "vip_uname",
    "line",
    "unionId",
    "mobilePush",
    "cardExternalId",
)
CARD_TYPES = frozenset({"cardnumber", "card"})
_CANONICAL = {t.lower(): t for t in IDENTIFIER_TYPES}
ENTITY_STATUS_IDS = {"NOT_ISSUED": 1, "ACTIVE": 2, "EXPIRED": 3, "SUSPENDED": 4, "DELETED": 11, "ISSUED": 12}
ALREADY_HELD_WARNING = {
    "mobile": (8071, "Mobile"),
    "email": (8072, "Email"),
    "externalId": (8073, "External id"),
}
REUSABLE_TYPES = frozenset({"mobile", "email", "externalId"})
STATUSES = CARD_STATUSES

_MOBILE = re.compile(r"^[0-9]{8,15}$")
_EMAIL = re.compile(r"^[A-Za-z0-9_+.\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")


def canonical_type(name: str) -> str:
    """The canonical spelling of an identifier type (``cardNumber`` -> ``cardnumber``)."""
    lowered = name.lower()
    if lowered in CARD_TYPES:
        return "cardnumber"
    return _CANONICAL.get(lowered, name)


def is_multi_account(source: str) -> bool:
    """Whether identifiers of ``source`` are scoped per accountId."""
    return source in MULTI_ACCOUNT_SOURCES


def valid_mobile(value: str) -> bool:
    """Digits only, with country code."""
    return bool(_MOBILE.match(value))


def valid_email(value: str) -> bool:
    """The documented email character set, with a domain."""
    return len(value) <= 255 and bool(_EMAIL.match(value))
