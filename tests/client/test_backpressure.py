"""Backpressure: the client slows down when the org's quota is shared, and never rises above its limit.

The pacing rules are tested as numbers (``Pace``); the limiter, the sandbox and a whole apply against a
sandbox another client is loading run on a virtual clock (``virtual_time``), so minutes of rate-limited
traffic take milliseconds and come out the same every time.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import random
from pathlib import Path

import httpx
import pytest

from reconciler.apply import apply_plan
from reconciler.apply.journal import Journal
from reconciler.capillary import CapillaryWriter, Credentials, open_client
from reconciler.capillary._limits import FLOOR, OrgQuota, Pace, WindowLimiter, org_quota
from reconciler.commands.progress import ERASE, PACE_LOG, ProgressReporter, reporter
from reconciler.plan.live import make_plan
from reconciler.sandbox import Settings
from reconciler.sandbox.app import SandboxApp
from reconciler.sandbox.server import SandboxServer
from reconciler.workspace import load_workspace
from tests.client.virtual_time import run_virtual
from tests.testing import Api, demo_state, make_workspace

BASIC = Credentials.basic("sandbox.till", "sandbox")
TILL_READS = 564854790  # the customer the other client (a store's till) keeps reading
READ_PATH = "/v2/customers/"


def most_in_window(times: list[float], window: float) -> int:
    """The most of ``times`` any half-open ``window``-second interval holds."""
    times = sorted(times)
    return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


def test_a_429_halves_the_rate_once_per_window() -> None:
    pace = Pace(100, window=60)
    pace.observe(0.0, refused=True, quota=None, ours=100)
    pace.observe(1.0, refused=True, quota=None, ours=100)  # the same excess, answered again
    assert pace.rate == 50 and pace.shared
    pace.observe(61.0, refused=True, quota=None, ours=50)
    assert pace.rate == 25


def test_the_rate_never_falls_below_the_floor() -> None:
    pace = Pace(100, window=60)
    for minute in range(20):
        pace.observe(60.0 * minute, refused=True, quota=None, ours=0)
    assert pace.rate == 100 * FLOOR


def test_headers_showing_other_clients_pace_to_what_they_leave() -> None:
    """80 of 100 used, 30 of them ours: the others use 50, so we get 100 - 10 (headroom) - 50."""
    pace = Pace(100, window=60)
    pace.observe(0.0, refused=False, quota=OrgQuota(100, 20), ours=30)
    assert pace.rate == 40 and pace.shared
    pace.observe(1.0, refused=False, quota=OrgQuota(100, 60), ours=30)  # the others slowed to 10
    assert pace.rate == 80


def test_headers_showing_only_our_own_use_do_not_slow() -> None:
    pace = Pace(100, window=60)
    pace.observe(0.0, refused=False, quota=OrgQuota(100, 2), ours=98)  # near the limit, all of it ours
    pace.observe(0.0, refused=False, quota=OrgQuota(100, 1), ours=97)  # 2 more: counted a moment apart
    assert pace.rate == 100 and not pace.shared


def test_alone_the_orgs_own_smaller_limit_caps_the_rate() -> None:
    pace = Pace(100, window=60)
    pace.observe(0.0, refused=False, quota=OrgQuota(60, 10), ours=50)
    assert pace.rate == 60 and not pace.shared


def test_the_rate_recovers_additively() -> None:
    """A twentieth of the limit back per window's worth of answers: from 50 to 100 in about 10 windows'."""
    pace = Pace(100, window=60)
    pace.observe(0.0, refused=True, quota=None, ours=0)
    answers = 0
    while pace.rate < 100:
        before = pace.rate
        pace.observe(1.0, refused=False, quota=None, ours=0)
        answers += 1
        assert pace.rate - before <= 5 / before + 1e-9  # additive: never a jump
    assert 600 <= answers <= 800


def test_the_rate_stays_between_the_floor_and_the_limit() -> None:
    rng, pace = random.Random(5), Pace(200, window=60)
    for step in range(5000):
        remaining = rng.randrange(0, 400)
        quota = OrgQuota(300, remaining) if rng.random() < 0.5 else None
        pace.observe(step * 0.5, refused=rng.random() < 0.1, quota=quota, ours=rng.randrange(0, 250))
        assert 200 * FLOOR <= pace.rate <= 200


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "12"}, OrgQuota(600, 12)),
        ({"RateLimit-Limit": "600", "RateLimit-Remaining": "700"}, OrgQuota(600, 600)),
        ({"X-RateLimit-Limit": "600"}, None),
        ({"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "-1"}, None),
        ({"X-RateLimit-Limit": "0", "X-RateLimit-Remaining": "0"}, None),
        ({"X-RateLimit-Limit": "1e3", "X-RateLimit-Remaining": "5"}, None),
        ({"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "\u00b2"}, None),
        ({"X-RateLimit-Limit": "9" * 5000, "X-RateLimit-Remaining": "5"}, None),
    ],
    ids=[
        "x-ratelimit",
        "ietf-capped",
        "no-remaining",
        "negative",
        "zero-limit",
        "not-a-whole-number",
        "superscript-digit",
        "huge",
    ],
)
def test_org_quota_is_read_only_from_whole_numbers(
    headers: dict[str, str], expected: OrgQuota | None
) -> None:
    raw = [(name.encode(), value.encode()) for name, value in headers.items()]  # as a server's bytes
    assert org_quota(httpx.Headers(raw)) == expected


def test_a_slowed_limiter_spaces_its_sends_and_never_passes_its_limit() -> None:
    """30 tasks, limit 10 a minute, a 429 at the first answer: once the first burst's minute has passed,
    sends come one at a time, at least 6 s apart (the limit's pace), and no minute holds more than 10."""

    async def run() -> list[float]:
        loop, limiter, sent = asyncio.get_running_loop(), WindowLimiter(10, window=60), []

        async def one(i: int) -> None:
            await limiter.acquire()
            sent.append(loop.time())
            await asyncio.sleep(0.5)
            limiter.release()
            limiter.observe(429 if i == 0 else 200, httpx.Headers())

        await asyncio.gather(*(one(i) for i in range(30)))
        return sent

    sent = run_virtual(run())
    assert most_in_window(sent, 60) <= 10
    later = [t for t in sent if t > 61]  # once the first burst's window has passed
    assert later and all(b - a >= 60 / 10 - 1e-9 for a, b in itertools.pairwise(later))


def test_the_sandbox_counts_every_client_of_the_org_against_one_window() -> None:
    """The limit is the API key's: a second client (OAuth here, Basic there) spends the same quota."""
    server = SandboxServer(seed="demo", settings=Settings(rate_limit_per_minute=3, rate_limit_headers=True))
    api = Api("inprocess", server.app, server.url)
    path = f"{READ_PATH}{TILL_READS}"
    first = api.get(path, params={"source": "ALL"})
    token = api.post("/v3/oauth/token/generate", {"key": "sandbox", "secret": "sandbox"}).json()
    oauth = {"X-CAP-API-OAUTH-TOKEN": token["data"]["accessToken"]}
    second = api.get(path, params={"source": "ALL"}, auth=False, headers=oauth)
    assert first.headers["X-RateLimit-Remaining"] == "2" and second.headers["X-RateLimit-Remaining"] == "1"
    assert second.headers["X-RateLimit-Limit"] == "3" and 1 <= int(second.headers["X-RateLimit-Reset"]) <= 60
    api.get(path, params={"source": "ALL"})
    refused = api.get(path, params={"source": "ALL"}, auth=False, headers=oauth)
    assert refused.status_code == 429 and refused.headers["X-RateLimit-Remaining"] == "0"


def test_the_sandbox_sends_no_rate_limit_headers_unless_set() -> None:
    server = SandboxServer(seed="demo", settings=Settings(rate_limit_per_minute=3))
    api = Api("inprocess", server.app, server.url)
    response = api.get(f"{READ_PATH}{TILL_READS}", params={"source": "ALL"})
    assert response.status_code == 200 and "X-RateLimit-Remaining" not in response.headers


class _Recording(httpx.ASGITransport):
    """The in-process sandbox, recording (clock, path, status) of each of this client's requests."""

    def __init__(self, app: SandboxApp) -> None:
        super().__init__(app=app)
        self.sent: list[tuple[float, str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve in-process; record the request."""
        at = asyncio.get_running_loop().time()
        response = await super().handle_async_request(request)
        self.sent.append((at, request.url.path, response.status_code))
        return response


async def _till(app: SandboxApp, every: float, stop: asyncio.Event, statuses: list[int]) -> None:
    """Another client of the org: one customer read every ``every`` seconds, whatever the answers."""
    headers = {"Authorization": app.runtime.basic_header()}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://till") as till:
        while not stop.is_set():
            response = await till.get(f"{READ_PATH}{TILL_READS}", params={"source": "ALL"}, headers=headers)
            statuses.append(response.status_code)
            await asyncio.sleep(every)


async def _apply_beside_a_till(root: Path, headers: bool) -> tuple[int, int, _Recording, list[int]]:
    """The demo apply at 20 requests a minute per API, while a till reads a customer every 6 s (half the
    read API's quota); then a re-plan. (exit code, calls the re-plan finds, the apply's requests, the till's
    statuses)."""
    server = SandboxServer(seed="demo")
    space = load_workspace(make_workspace(root, server, demo_state(), requests_per_minute=20).config_path)
    runtime = server.app.runtime
    runtime.clock = asyncio.get_running_loop().time  # the sandbox's windows pass on the virtual clock
    runtime.settings = runtime.settings.replace({"rate_limit_per_minute": 20, "rate_limit_headers": headers})
    stop, statuses, transport = asyncio.Event(), list[int](), _Recording(server.app)
    till = asyncio.ensure_future(_till(server.app, 6.0, stop, statuses))
    await asyncio.sleep(30)  # the till has been at it for a while when the apply starts
    desired = space.state.by_id()
    try:
        async with open_client(space.config, write=True, transport=transport, credentials=BASIC) as writer:
            assert isinstance(writer, CapillaryWriter)
            plan = await make_plan(writer, space.state.customers, desired, space.config, target="t")
            journal = Journal(root / "journal.jsonl")
            try:
                result = await apply_plan(plan, writer, desired, space.config, journal)
            finally:
                journal.close()
            again = await make_plan(writer, space.state.customers, desired, space.config, target="t")
    finally:
        stop.set()
        await till
    return result.exit_code, len(again.calls), transport, statuses


@pytest.mark.slow
@pytest.mark.parametrize("headers", [True, False], ids=["rate-limit-headers", "429s-only"])
def test_an_apply_beside_another_client_completes_and_leaves_it_its_share(
    tmp_path: Path, headers: bool
) -> None:
    code, left, transport, till = run_virtual(_apply_beside_a_till(tmp_path, headers))
    assert code == 0 and left == 0  # every change made: a re-plan finds nothing to do
    reads = [at for at, path, _ in transport.sent if path.startswith(READ_PATH) and path[14:].isdigit()]
    assert most_in_window(reads, 60) <= 20  # never over the configured limit
    ours = sum(1 for *_, status in transport.sent if status == 429)
    if headers:  # the org's figures pace the apply before the quota runs out: no 429 for anyone
        assert ours == 0 and till.count(429) == 0
    else:  # only the first window's burst, before the first 429 told the apply it is not alone
        assert ours <= 5 and till.count(429) <= 5
        assert 429 not in till[len(till) // 3 :]


def test_slowing_down_is_a_line_beside_the_progress(capsys: pytest.CaptureFixture[str]) -> None:
    shown, close = reporter()
    limiter = WindowLimiter(600, window=60, name="GET /v2/customers/{id}")
    limiter.observe(429, httpx.Headers())
    for _ in range(6000):  # about 4,500 answers climb from 300 back to 600
        limiter.observe(200, httpx.Headers())
    close()
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "API near its limit: slowing GET /v2/customers/{id} to 300/min",
        "API quota free again: GET /v2/customers/{id} back to 600/min",
    ]
    pace = logging.getLogger(PACE_LOG)
    assert pace.propagate and not pace.handlers  # the logger is given back as it was
    del shown


def test_a_note_on_a_terminal_erases_the_progress_line_and_is_inert() -> None:
    out, now = io.StringIO(), [0.0]
    shown = ProgressReporter(out, clock=lambda: now[0], tty=True)
    now[0] = 5.0
    shown("customers", 10, 100)
    shown.note("API near its limit: slowing \x1b[2J to 300/min")
    text = out.getvalue()
    assert text.endswith(ERASE + "API near its limit: slowing \\x1b[2J to 300/min\n")
    now[0] = 10.0
    shown("customers", 20, 100)  # drawn again below the note
    assert out.getvalue().endswith("customers: 20/100 (20%), 4/s, ETA 0:20")
