"""Behaviour settings of the sandbox: credentials, limits, and every choice the API digest leaves open."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

SECRET_FIELDS = frozenset({"password", "oauth_secret"})
CHOICES = {
    "victim_reads": ("error", "survivor"),
    "merge_created_id": ("survivor", "path"),
    "holder_codes_on_lookup": ("warning", "error"),
    "holder_codes_on_write": ("error", "warning"),
    "merge_codes": ("warning", "error"),
    "lookup_account_id": ("required", "optional"),
    "generate_answer": ("data", "entity"),
    "auth_error_body": ("json", "xml"),
}
# The settings of the documented API variants, and every value each takes (tests run under each combination).
VARIANTS = {
    name: CHOICES[name]
    for name in ("holder_codes_on_lookup", "holder_codes_on_write", "merge_codes", "lookup_account_id")
} | {"merge_created_id": CHOICES["merge_created_id"]}


@dataclass(frozen=True, slots=True)
class Settings:
    """Every behaviour setting of the sandbox; defaults follow the API digest's inferred behaviour."""

    till: str = "sandbox.till"
    password: str = "sandbox"
    oauth_key: str = "sandbox"
    oauth_secret: str = "sandbox"
    token_ttl_seconds: int = 300
    auth_required: bool = True
    # Requests per minute per API (method + route); 0 = no limit. One count per API for every client: the
    # sandbox has one key, and the real limit is per API key, shared by every client that uses it.
    rate_limit_per_minute: int = 0
    # The limit's sliding window (60: a minute; benchmarks shorten it, with the client's ``rate_window``).
    rate_limit_window_seconds: float = 60.0
    # Send ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (seconds) on every answer of a limited API:
    # Capillary documents none (docs/capillary-api.md 1.5), so off by default.
    rate_limit_headers: bool = False
    retry_after_header: bool = True
    rate_limit_status: int = 429
    # HTTP status of a single-entity business error (8015, 8007, ...): unconfirmed, inferred 400.
    business_error_status: int = 400
    # GET of a merge victim: "error" (8069) or "survivor" (the survivor, with warning 91009).
    victim_reads: str = "error"
    # Codes when an added identifier is held by a victim / a campaign account (unconfirmed).
    victim_holder_code: int = 8069
    campaign_holder_code: int = 8068
    # CONF_ALLOW_CAMPAIGN_AND_VICTIM_USER_IDENTIFIER_REUSE: reassign instead of blocking.
    identifier_reuse: bool = False
    # CONF_ALLOW_CARD_TRANSFER_TO_SURVIVOR.
    card_transfer_to_survivor: bool = True
    # createdId after a merge: "survivor" (the legacy changeIdentifier sample, and 4 of 62 recorded live
    # answers: docs/capillary-api.md 10) or "path" (the customer in the URL, the victim).
    merge_created_id: str = "survivor"
    # Documented variants (docs/capillary-api.md 10); each default is what the documentation says most
    # directly.
    # A lookup whose holder is a victim / campaign account: "warning" (2xx with the holder and 8069/8068 in
    # ``warnings``, the status-code page's table) or "error" (8069/8068 in ``errors``).
    holder_codes_on_lookup: str = "warning"
    # changeIdentifier adding a value a victim / campaign account holds: "error" (refused) or "warning"
    # (2xx with the code in ``warnings``, nothing changed).
    holder_codes_on_write: str = "error"
    # Merge codes (8050/8051/...): "warning" (2xx) or "error" (in ``errors`` of a non-2xx answer); the merge
    # happens either way.
    merge_codes: str = "warning"
    # Lookups in a multi-account source without accountId: "required" (8015 "Account ID is not defined"; a
    # source=ALL lookup does not search multi-account sources) or "optional" (every account is searched).
    lookup_account_id: str = "required"
    # Linking a card already linked to another customer: 3027 rejection (the merge variant is not built).
    count_only_active_cards: bool = False
    # ``POST /v2/card/generate``'s answer: "data" (the 2025 docs: ``{"data": [...], "errors": []}``) or
    # "entity" (the legacy docs: ``{"entity": [...]}``).
    generate_answer: str = "data"
    # A 401's body: "json" (the error envelope) or "xml" (``<response><success>false</success>...``, as
    # Capillary's own code parses it: docs/capillary-api.md 10).
    auth_error_body: str = "json"
    # Whether the API key may read the org's sources (``GET /v2/org/{orgId}/sources``): a key without the
    # organization access group is refused with 403 (docs/capillary-api.md 1.3).
    org_sources_access: bool = True
    # Whether the key may use ``POST /v2/bulk/getCustomers`` ("intended for internal Capillary services"):
    # false answers 403, as an org that keeps it from integrations might (docs/capillary-api.md 4.4).
    bulk_read_access: bool = True
    bulk_get_max: int = 100
    card_bulk_max: int = 200
    generate_max: int = 50000
    # Show linked cards as {"type": "cardNumber", ...} among the identifiers of the profile that linked them.
    card_identifiers_in_profiles: bool = True

    def replace(self, changes: dict[str, Any]) -> Settings:
        """A copy with ``changes`` applied; unknown names or wrong types raise ValueError."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        for name, value in changes.items():
            if name not in fields:
                raise ValueError(f"unknown setting {name!r}")
            current = getattr(self, name)
            if type(value) is not type(current) and not (
                isinstance(current, float) and isinstance(value, int)
            ):
                raise ValueError(f"setting {name!r} must be {type(current).__name__}")
        for name, allowed in CHOICES.items():
            if changes.get(name, getattr(self, name)) not in allowed:
                raise ValueError(f"setting {name!r} must be {' or '.join(map(repr, allowed))}")
        return dataclasses.replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """The settings as JSON, secrets masked."""
        data = dataclasses.asdict(self)
        for name in SECRET_FIELDS:
            data[name] = "***"
        return data
