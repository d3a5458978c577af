"""What the end-to-end tests read back: the bot's comments, their markers, the apply queue."""

from __future__ import annotations

import json

import httpx

from reconciler.github import read_plan_marker
from reconciler.sandbox.server import SandboxServer

from ..fake_github import BOT
from ..job_runner import JobRun
from ..world import World

TOM, JOE, JANE = 564854782, 564854815, 564854933
TOM_EMAIL = {"state/instore.yaml": ("email: tom.sawyer@example.com", "email: tom@sawyer.example.com")}
JANE_EMAIL = {"state/bennets.yaml": ("email: jane.bennet@example.com", "email: jane@bennet.example.com")}
JOE_EMAIL = {"state/instore.yaml": ("email: joe.harper@example.com", "email: joe@harper.example.com")}


def bot_comments(world: World, number: int) -> list[str]:
    return [
        c["body"] for c in world.served.fake.comments.get(number, []) if c["user"]["login"] == BOT["login"]
    ]


def plan_comment(world: World, number: int) -> str:
    [body] = [b for b in bot_comments(world, number) if read_plan_marker(b)]
    return body


def reviewed(world: World, number: int) -> str:
    marker = read_plan_marker(plan_comment(world, number))
    assert marker is not None and marker.head == world.heads[number]
    return marker.checksum


def result_comment(world: World, number: int) -> str:
    [body] = [b for b in bot_comments(world, number) if "<!-- reconciler-result" in b]
    return body


def change_live_identifier(sandbox: SandboxServer, customer: int, kind: str, value: str) -> None:
    """An out-of-band change, made through the Capillary API itself as a store's till would."""
    response = httpx.post(
        f"{sandbox.url}/v2/customers/{customer}/changeIdentifier",
        params={"source": "INSTORE"},
        json={"add": [{"type": kind, "value": value}]},
        headers=sandbox.basic_auth(),
    )
    assert response.status_code == 200 and response.json()["warnings"] == []


def queue(run: JobRun) -> list[dict[str, object]]:
    merges: list[dict[str, object]] = json.loads((run.work / "queue.json").read_text())["merges"]
    return merges
