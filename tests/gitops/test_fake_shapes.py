"""The GitHub fake answers in GitHub's documented shapes: every object in every answer it gives, the
recorded fixtures and what its writes create, carries each field GitHub's REST description marks required
for its schema (the lists pinned in tests/data/github-rest/required-fields.json), nested objects included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from .fake_github import FakeGitHub, recorded_github

REQUIRED: dict[str, list[str]] = json.loads(
    (Path(__file__).parents[1] / "data/github-rest/required-fields.json").read_text()
)["required"]

# Where a schema nests another: (schema, field) -> the schema of that field (a list: of each item).
NESTED = {
    ("pull-request-simple", "user"): "simple-user",
    ("pull-request-simple", "labels"): "label",
    ("pull-request-simple", "base"): "pull-request-simple/base",
    ("pull-request-simple", "head"): "pull-request-simple/base",
    ("pull-request-simple/base", "repo"): "repository",
    ("pull-request-simple/base", "user"): "simple-user",
    ("repository", "owner"): "simple-user",
    ("issue", "user"): "simple-user",
    ("issue", "labels"): "label",
    ("issue", "reactions"): "reaction-rollup",
    ("issue-comment", "user"): "simple-user",
    ("issue-comment", "reactions"): "reaction-rollup",
    ("git-ref", "object"): "git-ref/object",
}


def missing(schema: str, obj: Any, where: str = "") -> list[str]:
    """``where.field`` for every required field ``obj`` (of ``schema``) or an object inside it lacks."""
    assert isinstance(obj, dict), f"{where or schema}: not an object"
    out = [f"{where or schema}.{name}" for name in REQUIRED[schema] if name not in obj]
    for (outer, name), inner in NESTED.items():
        value = obj.get(name) if outer == schema else None
        for i, item in enumerate(value if isinstance(value, list) else [value] if value else []):
            out += missing(
                inner, item, f"{where or schema}.{name}" + (f"[{i}]" if isinstance(value, list) else "")
            )
    return out


def _call(fake: FakeGitHub, method: str, path: str, body: Any = None) -> Any:
    request = httpx.Request(
        method,
        f"https://api.github.com/repos/{fake.repo}{path}",
        headers={"authorization": f"Bearer {fake.token}"},
        json=body,
    )
    answer = fake.handle(request)
    assert answer.status_code < 300, answer.text
    return answer.json()


def _answers(fake: FakeGitHub) -> list[tuple[str, Any]]:
    """Each answer of every route the fake serves, with the schema GitHub documents for it."""
    [pull] = fake.pulls_by_commit.values()
    sha = pull[0]["merge_commit_sha"]
    comment = _call(fake, "POST", "/issues/42/comments", {"body": "hello"})
    issue = _call(fake, "POST", "/issues", {"title": "drift", "body": "b", "labels": ["drift"]})
    fake.refs["tags/reconciler-applied"] = sha
    answers = [
        *(("pull-request-simple", p) for p in _call(fake, "GET", f"/commits/{sha}/pulls")),
        ("pull-request-simple", _call(fake, "GET", f"/pulls/{pull[0]['number']}")),
        *(("issue-comment", c) for c in _call(fake, "GET", "/issues/42/comments")),
        ("issue-comment", comment),
        ("issue-comment", _call(fake, "PATCH", f"/issues/comments/{comment['id']}", {"body": "edited"})),
        *(("issue", i) for i in _call(fake, "GET", "/issues?state=all")),
        ("issue", issue),
        ("issue", _call(fake, "PATCH", f"/issues/{issue['number']}", {"state": "closed"})),
        ("git-ref", _call(fake, "GET", "/git/ref/tags/reconciler-applied")),
        ("git-ref", _call(fake, "PATCH", "/git/refs/tags/reconciler-applied", {"sha": "f" * 40})),
        ("git-ref", _call(fake, "POST", "/git/refs", {"ref": "refs/tags/other", "sha": sha})),
    ]
    return answers


def test_every_answer_carries_every_required_field() -> None:
    fake = recorded_github()
    lacking = [m for schema, obj in _answers(fake) for m in missing(schema, obj)]
    assert not lacking, "the fake lacks fields GitHub requires: " + ", ".join(sorted(set(lacking)))


@pytest.mark.parametrize(
    ("schema", "dropped"),
    [
        ("pull-request-simple", "base.repo.clone_url"),
        ("pull-request-simple", "user.login"),
        ("issue-comment", "reactions.rocket"),
    ],
)
def test_the_check_finds_a_missing_field(schema: str, dropped: str) -> None:
    """The check can fail: an answer without one required field, at any depth, is caught."""
    obj = next(obj for kind, obj in _answers(recorded_github()) if kind == schema)
    *path, last = dropped.split(".")
    inner = obj
    for name in path:
        inner = inner[name]
    del inner[last]
    assert f"{schema}.{dropped}" in missing(schema, obj)
