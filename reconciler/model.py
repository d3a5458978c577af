"""The value types shared by the desired state (``desired/``), the live state (``capillary/``), the differ
and the plan. All are frozen dataclasses with slots: cheap to build by the hundred thousand, hashable,
and impossible to mutate by accident between plan and apply.

Uniqueness scope: an identifier is unique within its source for single-account sources, and within
(source, accountId) for multi-account sources. Single-account profiles have ``account_id == ""``, so the
``ProfileKey`` *is* the uniqueness scope.
"""

# Long because: it is the one vocabulary of value types every layer shares (desired, live, holders, cards,
# series, the reader protocol); split, each layer would import the same few names from several modules.

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from reconciler.errors import ApiError

if TYPE_CHECKING:
    pass

# The v2 sources the API documents for customer writes (docs/capillary-api.md 2.1).
SOURCES = frozenset(
    {
        "FACEBOOK",
        "WEB_ENGAGE",
        "WECHAT",
        "INSTORE",
        "MARTJACK",
        "TMALL",
        "TAOBAO",
        "JD",
        "ECOMMERCE",
        "WEBSITE",
        "LINE",
        "MOBILE_APP",
    }
)

# Sources that take an accountId (docs/capillary-api.md 2.1). The rest are single-account.
MULTI_ACCOUNT_SOURCES = frozenset({"FACEBOOK", "WEB_ENGAGE", "WECHAT", "MOBILE_APP", "LINE"})

# Card status codes (docs/capillary-api.md 6.1).
CARD_STATUSES = ("NOT_ISSUED", "ISSUED", "ACTIVE", "SUSPENDED", "EXPIRED", "DELETED")
DEAD_CARD_STATUSES = frozenset({"EXPIRED", "DELETED"})
# The card status changes the API allows (docs/capillary-api.md 6.1): a held card may be suspended,
# re-activated, expired or deleted, never sent back to NOT_ISSUED or ISSUED (3013); an unissued card's
# status does not change but by linking (3038); an EXPIRED or DELETED card never changes (8087).
CARD_TRANSITIONS: dict[str, frozenset[str]] = {
    "NOT_ISSUED": frozenset({"NOT_ISSUED"}),
    "ISSUED": frozenset({"ISSUED", "ACTIVE", "SUSPENDED", "EXPIRED", "DELETED"}),
    "ACTIVE": frozenset({"ACTIVE", "SUSPENDED", "EXPIRED", "DELETED"}),
    "SUSPENDED": frozenset({"ACTIVE", "SUSPENDED", "EXPIRED", "DELETED"}),
    "EXPIRED": frozenset(),
    "DELETED": frozenset(),
}


def transition_problem(current: str, target: str) -> str:
    """Why the API refuses a card's status change from ``current`` to ``target`` (statuses), or ""."""
    if current not in CARD_TRANSITIONS or target not in CARD_TRANSITIONS:
        return ""  # a status the docs do not name: not predicted
    if current in DEAD_CARD_STATUSES:
        return f"the card is {current}: its status cannot change"
    if target in CARD_TRANSITIONS[current]:
        return ""
    if current in ("ACTIVE", "SUSPENDED", "ISSUED") and target in ("NOT_ISSUED", "ISSUED"):
        return f"the card is {current}: its status can only change to expired, deleted or suspended (3013)"
    return f"the card is {current}: its status cannot change to {target} (3038)"


# The statuses a series' maxActiveCardsPerCustomer counts, unless the org counts only ACTIVE
# (CONF_COUNT_ONLY_ACTIVE_LABEL_CARDS; docs/capillary-api.md 6.1).
COUNTED_CARD_STATUSES = frozenset({"ACTIVE", "SUSPENDED", "ISSUED"})
# Identifier types (compared lower-cased) that carry a card number, and the card types in all: the one
# vocabulary the reader, the diff, the state rules and masking share.
CARD_NUMBER_TYPES = frozenset({"cardnumber", "card"})  # the API's spellings; the plan writes plan.CARD_NUMBER
CARD_TYPES = CARD_NUMBER_TYPES | {"cardexternalid"}


# The org's sources and, per source, its accountIds ("" for a single-account source's one account).
SourceAccounts = dict[str, frozenset[str]]


def parse_sources(entries: Iterable[str]) -> SourceAccounts:
    """``["INSTORE", "WECHAT:acme-wx"]`` (the profile syntax of state files) as sources and their accounts."""
    out: dict[str, set[str]] = {}
    for entry in entries:
        key = ProfileKey.parse(entry)
        out.setdefault(key.source, set()).add(key.account_id)
    return {source: frozenset(accounts) for source, accounts in out.items()}


def is_card_type(identifier_type: str) -> bool:
    """True for identifier types that name a card (``cardNumber``, ``card``, ``cardExternalId``)."""
    return identifier_type.lower() in CARD_TYPES


@dataclass(frozen=True, slots=True)
class Location:
    """Where something is declared: 1-based line and column in a file (path relative if possible)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True, order=True)
class ProfileKey:
    """A customer's profile: ``SOURCE`` or ``SOURCE:accountId``. Also the identifier uniqueness scope."""

    source: str
    account_id: str = ""

    def __str__(self) -> str:
        return f"{self.source}:{self.account_id}" if self.account_id else self.source

    @classmethod
    def parse(cls, text: str) -> ProfileKey:
        source, _, account = text.partition(":")
        return cls(source, account)


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """A non-card identifier value of one type (``mobile``, ``email``, ``externalId``, ``wechat``, ...)."""

    type: str
    value: str


# ----- desired state ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DesiredIdentifier:
    type: str
    value: str
    loc: Location

    @property
    def identifier(self) -> Identifier:
        return Identifier(self.type, self.value)


@dataclass(frozen=True, slots=True)
class DesiredProfile:
    key: ProfileKey
    identifiers: tuple[DesiredIdentifier, ...]
    loc: Location


@dataclass(frozen=True, slots=True)
class CardSpec:
    """A declared card: a specific ``number``, or (``number is None``) one card of ``series``."""

    number: str | None
    series: int | str  # seriesId (int) or seriesCode (str)
    status: str  # a card status *label*; ACTIVE by default
    loc: Location


@dataclass(frozen=True, slots=True)
class DesiredCustomer:
    id: int
    profiles: tuple[DesiredProfile, ...]
    cards: tuple[CardSpec, ...] | None  # None: cards not managed for this customer
    merge_with: frozenset[int]
    loc: Location
    note: str = ""


@dataclass(frozen=True, slots=True)
class DesiredState:
    customers: tuple[DesiredCustomer, ...]
    files: tuple[str, ...] = ()

    def by_id(self) -> dict[int, DesiredCustomer]:
        return {c.id: c for c in self.customers}


# ----- live state ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveProfile:
    key: ProfileKey
    identifiers: tuple[Identifier, ...]


@dataclass(frozen=True, slots=True)
class LiveCard:
    number: str
    series_id: int
    series_code: str
    status_label: str
    status: str  # one of CARD_STATUSES
    customer_id: int  # 0 = not linked to anyone


@dataclass(frozen=True, slots=True)
class LiveCustomer:
    id: int
    profiles: tuple[LiveProfile, ...]
    cards: tuple[LiveCard, ...]
    campaign: bool = False  # a non-registered (campaign) account: its identifiers cannot be reused
    status: str = "ACTIVE"  # customer status; DELETED / disabled customers reject every change
    warnings: tuple[int, ...] = ()

    def profile(self, key: ProfileKey) -> LiveProfile | None:
        return next((p for p in self.profiles if p.key == key), None)


@dataclass(frozen=True, slots=True)
class Series:
    id: int
    code: str
    name: str = ""
    type: str = "DIGITAL"
    generation_enabled: bool = False
    max_active_per_customer: int = 1
    active: bool = True


@dataclass(frozen=True, slots=True)
class CardLabel:
    label: str
    status: str
    default: bool = False


@dataclass(frozen=True, slots=True)
class Holder:
    """Who currently holds an identifier (in a scope) or a card, as a plan needs to know it."""

    customer_id: int  # 0: the API did not say which customer (a documented 8069/8068 names none)
    scope: ProfileKey | None = None  # for identifiers: the profile that holds it; None for cards
    victim: bool = False  # the holder is a merge victim (8069)
    campaign: bool = False  # the holder is a campaign (non-registered) account
    survivor: int | None = None  # a victim's survivor, when the answer named it (91009); else unknown
    unknown: str = ""  # the lookup's answer could not be classified (why): nobody may be assumed

    def victim_text(self) -> str:
        """``customer N, a merge victim merged into M`` (or an unknown customer / survivor)."""
        who = f"customer {self.customer_id}" if self.customer_id else "an unnamed customer"
        into = str(self.survivor) if self.survivor else "an unknown survivor"
        return f"{who}, a merge victim merged into {into}"


@dataclass(frozen=True)
class Observed:
    """What a plan read of the target, as it read it: the customers (or the error each read ended with),
    the holder of each value it would add and each card it would touch, the series, labels and sources.
    A plan keeps it (never in its checksum), so what was read can be replayed: the simulated apply seeds
    its twin of the org from it, with no second read."""

    customers: Mapping[int, LiveCustomer | ApiError]
    holders: Mapping[Identifier, Holder | None]
    cards: Mapping[str, LiveCard | None]
    series: Sequence[Series]
    labels: Sequence[CardLabel]
    sources: SourceAccounts | None
    joined: frozenset[int] = frozenset()  # declared holders pulled into the scope after the first round


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What a write answered: ``createdId``, warnings (a merge warning is an incident), generated cards."""

    created_id: int | None
    warnings: tuple[tuple[int, str], ...] = field(default_factory=tuple)

    written: int | None = None  # the customer the call wrote (a different createdId is a merge)
    cards: tuple[str, ...] = ()  # a generateCard: the numbers the platform generated

    MERGE_WARNINGS = frozenset({8050, 8051, 8053, 8066, 8067})

    @property
    def merged(self) -> bool:
        """A merge code among the warnings, or a ``createdId`` other than the customer written."""
        moved = None not in (self.created_id, self.written) and self.created_id != self.written
        return moved or any(code in self.MERGE_WARNINGS for code, _ in self.warnings)


class LiveReader(Protocol):
    """What planning and import read from a target; the API client (``capillary.CapillaryReader``) is one.

    The pure core depends on this seam, never on the client: a plan can be made from any reader.
    """

    async def get_customers(self, ids: Iterable[int]) -> dict[int, LiveCustomer | ApiError]:
        """Each customer in ``ids``, or the error its read ended with."""

    async def find_identifier_holder(self, identifier: Identifier) -> Holder | None:
        """Who holds ``identifier`` now, in any source (None: nobody; an ``unknown`` holder: unclear)."""

    async def get_card(self, number: str) -> LiveCard | None:
        """The live card ``number`` (None: no such card)."""

    async def list_series(self) -> list[Series]:
        """The org's card series."""

    async def list_labels(self) -> list[CardLabel]:
        """The org's card status labels."""

    async def list_sources(self) -> SourceAccounts | None:
        """The org's sources and accounts (from the org, else from the config), or None when unknown."""


Progress = Callable[[str, int, int], None]  # (phase, done, total): how long work reports how far it is


def no_progress(phase: str, done: int, total: int) -> None:
    """The default Progress: says nothing."""
    del phase, done, total
