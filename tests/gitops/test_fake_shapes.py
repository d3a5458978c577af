"""The GitHub fake answers in GitHub's documented shapes: every answer of every route it serves (the routes
taken from the fake itself), its failures and the recorded fixtures, checked field by field, nested objects
and list items included, against the schemas pinned from ``@octokit/openapi`` in
tests/data/github-rest/required-fields.json: each required field present, each field of the documented
type, format and enum, and no field the description does not name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from .fake_github import FAILURES, FIXTURES, ROUTES, FakeRoute, fixture, recorded_github
from .rest_shapes import PIN, problems, schema_for, unpinned

TAG = "tags/reconciler-applied"


@dataclass(frozen=True)
class Call:
    """A request to one route: its path under the repository (``{sha}``, ``{comment}`` and ``{issue}``
    stand for the stocked pull request's merge commit, a comment and an issue), and its body."""

    method: str
    path: str
    body: dict[str, Any] | None = None


# How to make each route answer each status the fake declares for it.
CALLS: dict[tuple[str, int], Call] = {
    ("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", 200): Call("GET", "/commits/{sha}/pulls"),
    ("GET /repos/{owner}/{repo}/pulls/{pull_number}", 200): Call("GET", "/pulls/42"),
    ("GET /repos/{owner}/{repo}/pulls/{pull_number}", 404): Call("GET", "/pulls/4242"),
    ("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", 200): Call("GET", "/issues/42/comments"),
    ("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", 201): Call(
        "POST", "/issues/42/comments", {"body": "hello"}
    ),
    ("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", 200): Call(
        "PATCH", "/issues/comments/{comment}", {"body": "edited"}
    ),
    ("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", 404): Call(
        "PATCH", "/issues/comments/1", {"body": "edited"}
    ),
    ("GET /repos/{owner}/{repo}/issues", 200): Call("GET", "/issues?state=all"),
    ("POST /repos/{owner}/{repo}/issues", 201): Call(
        "POST", "/issues", {"title": "drift", "body": "b", "labels": ["reconciler-drift"]}
    ),
    ("PATCH /repos/{owner}/{repo}/issues/{issue_number}", 200): Call(
        "PATCH", "/issues/{issue}", {"state": "closed", "state_reason": "completed"}
    ),
    ("PATCH /repos/{owner}/{repo}/issues/{issue_number}", 404): Call("PATCH", "/issues/4242", {"body": "b"}),
    ("GET /repos/{owner}/{repo}/git/ref/{ref}", 200): Call("GET", f"/git/ref/{TAG}"),
    ("GET /repos/{owner}/{repo}/git/ref/{ref}", 404): Call("GET", "/git/ref/tags/missing"),
    ("POST /repos/{owner}/{repo}/git/refs", 201): Call(
        "POST", "/git/refs", {"ref": "refs/tags/v1", "sha": "{sha}"}
    ),
    ("POST /repos/{owner}/{repo}/git/refs", 422): Call(
        "POST", "/git/refs", {"ref": f"refs/{TAG}", "sha": "{sha}"}
    ),
    ("PATCH /repos/{owner}/{repo}/git/refs/{ref}", 200): Call(
        "PATCH", f"/git/refs/{TAG}", {"sha": "f" * 40, "force": True}
    ),
    ("PATCH /repos/{owner}/{repo}/git/refs/{ref}", 422): Call(
        "PATCH", "/git/refs/tags/missing", {"sha": "f" * 40, "force": True}
    ),
}
# Each recorded fixture is an answer of one route: (route, status).
FIXTURE_ANSWERS = {
    "commit_pulls_merged.json": ("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", 200),
    "issue_comments_pr42.json": ("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", 200),
    "issues_drift_open.json": ("GET /repos/{owner}/{repo}/issues", 200),
    "error_401.json": ("GET /repos/{owner}/{repo}/issues", 401),
    "error_404.json": ("GET /repos/{owner}/{repo}/pulls/{pull_number}", 404),
}


class Stocked:
    """The recorded fake with one more comment and issue of its own and the applied tag set."""

    def __init__(self) -> None:
        self.fake = recorded_github()
        [pulls] = self.fake.pulls_by_commit.values()
        self.sha = str(pulls[0]["merge_commit_sha"])
        self.fake.refs[TAG] = self.sha
        self.comment = self.issue = 0
        self.comment = self.send(Call("POST", "/issues/42/comments", {"body": "first"})).json()["id"]
        issue = self.send(Call("POST", "/issues", {"title": "t", "body": "b", "labels": []}))
        self.issue = issue.json()["number"]

    def send(self, call: Call, token: str | None = None) -> httpx.Response:
        def fill(text: str) -> str:
            return text.format(sha=self.sha, comment=self.comment, issue=self.issue)

        body = {k: fill(v) if isinstance(v, str) else v for k, v in (call.body or {}).items()}
        request = httpx.Request(
            call.method,
            f"https://api.github.com/repos/{self.fake.repo}{fill(call.path)}",
            headers={"authorization": f"Bearer {token or self.fake.token}"},
            json=body if call.body is not None else None,
        )
        return self.fake.handle(request)


def check(route: str, status: int, answer: httpx.Response) -> list[str]:
    """What is wrong with ``answer`` as ``route``'s answer with ``status``."""
    where = f"{route} {status}"
    if answer.status_code != status:
        return [f"{where}: answered {answer.status_code}: {answer.text:.200}"]
    schema = schema_for(route, status)
    assert schema is not None, f"{where}: not documented (test_every_route_is_pinned says more)"
    body = answer.json()
    if isinstance(body, list) and not body:
        return [f"{where}: an empty list, which checks nothing"]
    return problems(schema, body, where)


def route_answers() -> list[tuple[str, int, httpx.Response]]:
    """Every status of every route the fake serves, as it answers them."""
    out = []
    for route in ROUTES:
        for status in route.answers:
            call = CALLS.get((str(route), status))
            assert call is not None, f"{route} {status}: no call in CALLS makes the fake answer it"
            out.append((str(route), status, Stocked().send(call)))
        success = CALLS[(str(route), route.answers[0])]
        stocked = Stocked()
        out.append((str(route), 401, stocked.send(success, token="ghs_revoked")))
        for status in FAILURES:
            stocked.fake.fail_next = [(status, {"retry-after": "1"} if status < 500 else {})]
            out.append((str(route), status, stocked.send(success)))
    return out


def test_every_route_the_fake_serves_is_pinned() -> None:
    assert not unpinned(ROUTES, FAILURES), "\n".join(unpinned(ROUTES, FAILURES))


def test_a_route_without_a_pinned_schema_fails() -> None:
    branches = FakeRoute("GET", "/repos/{owner}/{repo}/branches", "_branches", (200,))
    accepted = FakeRoute("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "_pull", (200, 202))
    assert unpinned([*ROUTES, branches, accepted], FAILURES) == [
        f"{branches}: not pinned (add it to the fake, then run regenerate.py)",
        f"{accepted}: 202 is not an answer GitHub documents",
    ]


def test_every_answer_of_every_route_has_its_documented_shape() -> None:
    wrong = [p for route, status, answer in route_answers() for p in check(route, status, answer)]
    assert not wrong, "the fake's answers are not GitHub's:\n" + "\n".join(wrong)


def test_every_recorded_fixture_has_its_documented_shape() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == sorted(FIXTURE_ANSWERS)
    wrong = [
        p
        for name, (route, status) in FIXTURE_ANSWERS.items()
        for p in problems(schema_for(route, status) or {}, fixture(name), f"{name} ({route} {status})")
    ]
    assert not wrong, "\n".join(wrong)


def test_the_pin_names_its_source_and_every_schema_it_reaches() -> None:
    source = PIN["source"]
    assert source["package"] == "@octokit/openapi" and re.fullmatch(r"\d+\.\d+\.\d+", source["version"])
    assert re.fullmatch(r"[0-9a-f]{64}", source["sha256"])
    assert source["file"] == "generated/api.github.com.json"
    text = str(PIN["routes"]) + str(PIN["schemas"]) + str(PIN["undocumented_error"])
    assert set(re.findall(r"'\$ref': '([\w-]+)'", text)) <= set(PIN["schemas"])


def _answer(route: str, status: int) -> Any:
    return next(a.json() for r, s, a in route_answers() if (r, s) == (route, status))


@pytest.mark.parametrize(
    ("route", "status", "dropped"),
    [
        ("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", 200, "[0].base.repo.clone_url"),
        ("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", 200, "[0].head.repo.has_downloads"),
        ("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", 200, "[0].user.login"),
        ("GET /repos/{owner}/{repo}/pulls/{pull_number}", 200, ".mergeable"),
        ("GET /repos/{owner}/{repo}/pulls/{pull_number}", 200, ".changed_files"),
        ("GET /repos/{owner}/{repo}/pulls/{pull_number}", 200, ".base.repo.owner.login"),
        ("GET /repos/{owner}/{repo}/pulls/{pull_number}", 200, "._links.html.href"),
        ("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", 201, ".reactions.rocket"),
        ("GET /repos/{owner}/{repo}/issues", 200, "[0].reactions.rocket"),
        ("GET /repos/{owner}/{repo}/issues", 200, "[0].labels"),
        ("PATCH /repos/{owner}/{repo}/git/refs/{ref}", 200, ".object.sha"),
        ("POST /repos/{owner}/{repo}/git/refs", 422, ".documentation_url"),
    ],
)
def test_the_check_finds_a_missing_field(route: str, status: int, dropped: str) -> None:
    """The check can fail: an answer without one field, at any depth, is caught."""
    body = _answer(route, status)
    *path, last = re.findall(r"\.([\w+-]+)|\[(\d+)\]", dropped)
    inner = body
    for name, index in path:
        inner = inner[int(index)] if index else inner[name]
    del inner[last[0]]
    where = f"{route} {status}"
    assert f"{where}{dropped}: missing" in problems(schema_for(route, status) or {}, body, where)


@pytest.mark.parametrize(
    ("route", "field", "value", "wrong"),
    [
        ("GET /repos/{owner}/{repo}/pulls/{pull_number}", "additions", "3", "str '3', expected integer"),
        ("GET /repos/{owner}/{repo}/pulls/{pull_number}", "merged_at", "yesterday", "is not a date-time"),
        ("GET /repos/{owner}/{repo}/pulls/{pull_number}", "state", "merged", "is not one of"),
        ("GET /repos/{owner}/{repo}/pulls/{pull_number}", "user", None, "null, which the description does"),
        ("GET /repos/{owner}/{repo}/pulls/{pull_number}", "approved", True, "not in the description"),
    ],
)
def test_the_check_finds_a_wrong_or_made_up_field(route: str, field: str, value: Any, wrong: str) -> None:
    """A field of the wrong type, format or enum, a null where none is allowed, or a made-up field."""
    body = _answer(route, 200) | {field: value}
    found = problems(schema_for(route, 200) or {}, body, route)
    assert [p for p in found if p.startswith(f"{route}.{field}: ") and wrong in p], found
