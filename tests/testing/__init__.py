"""The suite's one toolkit: the sandbox (on loopback and in-process), the workspace, the seed customers,
the mask key, a clock to move, and the request-log helpers. Every test takes these from here (fixtures through
``tests/testing/plugin.py``, which ``tests/conftest.py`` loads); a folder's own helpers build its data only.
"""

from tests.testing.clock import Clock
from tests.testing.mask import TEST_MASK_KEY
from tests.testing.requests import WRITE_METHODS, is_write, route_counts, route_of, writes
from tests.testing.sandbox import Api, codes, free_port, serve
from tests.testing.seed import DIGI, GOLD, base_org, live_card, live_customer, seed_fixture
from tests.testing.workspace import REPO, Workspace, demo_state, make_workspace

__all__ = [
    "DIGI",
    "GOLD",
    "REPO",
    "TEST_MASK_KEY",
    "WRITE_METHODS",
    "Api",
    "Clock",
    "Workspace",
    "base_org",
    "codes",
    "demo_state",
    "free_port",
    "is_write",
    "live_card",
    "live_customer",
    "make_workspace",
    "route_counts",
    "route_of",
    "seed_fixture",
    "serve",
    "writes",
]
