"""What the doctor's checks share: the read-only reader, the config, the declared state, and what earlier
checks read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from reconciler.capillary import CapillaryReader
from reconciler.config import Config
from reconciler.doctor import Check
from reconciler.errors import ApiError
from reconciler.model import DesiredState, LiveCustomer, Series

SAMPLE = 5  # declared customers read (and, by the bulk-read row, compared)


@dataclass
class Seen:
    """What the checks share: the reader, the declared state, and what earlier checks read."""

    reader: CapillaryReader
    config: Config
    state: DesiredState
    merged: int | None = None  # a customer id the operator knows is merged away
    series: list[Series] = field(default_factory=list)
    sample: list[LiveCustomer] = field(default_factory=list)
    singles: dict[int, LiveCustomer | ApiError] = field(default_factory=dict)  # the sample, read one by one


Probe = Callable[[Seen], Awaitable[Check]]
