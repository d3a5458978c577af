"""The GitHub flows against recorded API responses, in-process through httpx.MockTransport."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from reconciler.errors import ConfigError
from reconciler.github import (
    APPLIED,
    PENDING,
    GitHubClient,
    GitHubError,
    comment_plan,
    extract_checksum,
    find_marked_comment,
    fit_body,
    plan_marker,
    post_result,
    pull_request_for_commit,
    read_plan_marker,
    reviewed_checksum,
    sync_drift_issue,
)
from reconciler.github._markers import PlanMarker

from .fake_github import BOT, FakeGitHub, fixture

MERGE_SHA = "9c1d5e0b7a3f2e4d6c8b0a1f3e5d7c9b1a2f4e6d"
REVIEWED = "3f5c1e9a0b7d2c4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e"
NEW = "ab" * 32
HEAD = "5b7e3a1c9d0f2e4b6a8c1d3f5e7a9b0c2d4f6e8a"  # the recorded pull request #42's head


def plan_md(checksum: str, text: str = "1 to add") -> str:
    return f"## Plan\n\n{text}\n\n<!-- reconciler-plan checksum={checksum} -->\n"


def bot_plan_comments(fake: FakeGitHub, number: int = 42) -> list[dict[str, Any]]:
    return [
        c
        for c in fake.comments.get(number, [])
        if c["user"]["login"] == BOT["login"] and read_plan_marker(c["body"])
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (plan_md(REVIEWED), REVIEWED),
        (f"<!--reconciler-plan   checksum={REVIEWED}-->", REVIEWED),
        (plan_md(REVIEWED) + plan_md(REVIEWED), REVIEWED),
        (plan_md(REVIEWED) + plan_md(NEW), None),
        (plan_md(REVIEWED.upper()), None),
        (plan_md(REVIEWED[:-1]), None),
        ("no marker at all", None),
        (f"<!-- reconciler-new-plan checksum={REVIEWED} -->", None),
    ],
    ids=["plain", "spacing", "repeated", "two-different", "uppercase", "short", "none", "defused"],
)
def test_extract_checksum(body: str, expected: str | None) -> None:
    assert extract_checksum(body) == expected


def test_finds_the_merged_pull_request_of_a_merge_commit(client: GitHubClient) -> None:
    assert pull_request_for_commit(client, MERGE_SHA)["number"] == 42


def test_commit_pushed_without_a_pull_request_is_refused(client: GitHubClient) -> None:
    with pytest.raises(GitHubError, match="no merged pull request found for commit 1234567"):
        pull_request_for_commit(client, "1234567")


def test_open_pull_request_with_the_commit_does_not_count(fake: FakeGitHub, client: GitHubClient) -> None:
    pr = fixture("commit_pulls_merged.json")[0] | {"merged_at": None, "state": "open", "number": 43}
    fake.pulls_by_commit["abcdef1"] = [pr]
    with pytest.raises(GitHubError, match="no merged pull request"):
        pull_request_for_commit(client, "abcdef1")


def test_reviewed_checksum_is_the_bots_not_a_quoted_one(client: GitHubClient) -> None:
    reviewed = reviewed_checksum(client, MERGE_SHA)
    assert (reviewed.pull_request, reviewed.checksum) == (42, REVIEWED)
    assert reviewed.comment_url.endswith("#issuecomment-1900000002")


def test_pull_request_without_plan_comment_is_refused(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.comments[42] = [c for c in fake.comments[42] if c["user"]["login"] != BOT["login"]]
    with pytest.raises(GitHubError, match="#42 has no plan comment by github-actions"):
        reviewed_checksum(client, MERGE_SHA)


def test_comments_are_read_across_pages(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.max_per_page = 2
    chatter = [dict(fake.comments[42][0], id=1800000000 + i) for i in range(7)]
    fake.comments[42] = chatter + fake.comments[42]  # the plan comment lands on page 5 of 6
    assert reviewed_checksum(client, MERGE_SHA).checksum == REVIEWED
    pages = [p for m, p in fake.requests if p.endswith("/issues/42/comments")]
    assert len(pages) == 6


def test_plan_comment_is_updated_in_place_never_stacked(fake: FakeGitHub, client: GitHubClient) -> None:
    first = comment_plan(client, 42, plan_md(NEW), HEAD)
    second = comment_plan(client, 42, plan_md(NEW, "2 to add"), HEAD)
    assert (first.action, second.action) == ("updated", "updated")
    assert first.number == second.number == 1900000002
    [only] = bot_plan_comments(fake)
    assert "2 to add" in only["body"] and read_plan_marker(only["body"]) == PlanMarker(NEW, HEAD)
    assert len(fake.comments[42]) == 5


def test_plan_comment_is_created_when_there_is_none(fake: FakeGitHub, client: GitHubClient) -> None:
    posted = comment_plan(client, 7, plan_md(NEW), HEAD)
    again = comment_plan(client, 7, plan_md(NEW), HEAD)
    assert (posted.action, again.action) == ("created", "unchanged")
    assert len(bot_plan_comments(fake, 7)) == 1
    assert [m for m, _ in fake.requests].count("POST") == 1 and "PATCH" not in [m for m, _ in fake.requests]


def test_a_marked_comment_by_someone_else_is_left_alone(fake: FakeGitHub, client: GitHubClient) -> None:
    forged = fake.comments[42][3]
    comment_plan(client, 42, plan_md(NEW), HEAD)
    assert extract_checksum(forged["body"]) == "0" * 64
    found = find_marked_comment(client, 42, lambda body: read_plan_marker(body) is not None)
    assert found is not None and found["id"] == 1900000002


def test_plan_without_checksum_marker_is_not_posted(fake: FakeGitHub, client: GitHubClient) -> None:
    with pytest.raises(GitHubError, match=re.escape("no '<!-- reconciler-plan checksum=... -->' marker")):
        comment_plan(client, 42, "## Plan\n\nno marker\n", HEAD)
    assert not [m for m, _ in fake.requests if m != "GET"]


def test_result_quoting_a_new_plan_does_not_change_the_reviewed_checksum(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    posted = post_result(client, MERGE_SHA, "Stale: live state changed.\n\n" + plan_md(NEW), PENDING)
    rerun = post_result(client, MERGE_SHA, "Stale again.\n\n" + plan_md(NEW), PENDING)
    assert (posted.action, rerun.action) == ("created", "updated") and posted.number == rerun.number
    assert reviewed_checksum(client, MERGE_SHA).checksum == REVIEWED
    last = fake.comments[42][-1]["body"]
    assert last.endswith(f"<!-- reconciler-result sha={MERGE_SHA} status=pending -->\n")
    assert (
        NEW not in last.splitlines()[-1] and "quoted-reconciler-plan" not in last
    )  # the marker line is gone


def test_an_applied_result_is_never_replaced_by_a_worse_one(fake: FakeGitHub, client: GitHubClient) -> None:
    assert post_result(client, MERGE_SHA, "## reconciler apply: Applied.\n", APPLIED).action == "created"
    assert post_result(client, MERGE_SHA, "## reconciler apply: STALE (exit 5).\n", PENDING).action == "kept"
    assert "Applied." in fake.comments[42][-1]["body"]


def _as(fake: FakeGitHub, login: str, body: str) -> None:
    comment = dict(fake.comments[42][0], id=1990000000 + len(fake.comments[42]), body=body)
    fake.comments[42].append(
        comment | {"user": dict(comment["user"], login=login), "updated_at": "2030-01-01T00:00:00Z"}
    )


@pytest.mark.parametrize(
    ("login", "body", "why"),
    [
        ("alice", f"approved\n{plan_marker(NEW, HEAD)}\n", "someone else's comment"),
        (BOT["login"], f"old plan\n{plan_marker(NEW, 'f' * 40)}\n", "is for head ffffffffffff"),
        (BOT["login"], f"{plan_marker(NEW, HEAD)}\nthen content\n", "marker not on the last line"),
    ],
    ids=["other-author", "other-head", "not-last-line"],
)
def test_only_the_plan_workflows_own_comment_for_the_merged_head_is_trusted(
    fake: FakeGitHub, client: GitHubClient, login: str, body: str, why: str
) -> None:
    fake.comments[42] = [c for c in fake.comments[42] if c["user"]["login"] != BOT["login"]]
    _as(fake, login, body)
    with pytest.raises(GitHubError, match=r"no plan comment|is for head"):
        reviewed_checksum(client, MERGE_SHA)


def test_a_newer_bot_comment_for_another_head_is_not_the_reviewed_one(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    _as(fake, "alice", f"forged\n{plan_marker(NEW, HEAD)}\n")  # newest, right head, wrong author
    assert reviewed_checksum(client, MERGE_SHA).checksum == REVIEWED


def test_drift_issue_is_updated_then_closed(fake: FakeGitHub, client: GitHubClient) -> None:
    updated = sync_drift_issue(client, "## Drift\n\n3 customers differ.\n")
    closed = sync_drift_issue(client, None)
    assert (updated.action, updated.number, closed.action) == ("updated", 57, "closed")
    [issue] = fake.issues
    assert issue["state"] == "closed" and "3 customers differ" in issue["body"]
    assert fake.comments[57][0]["body"].startswith("No drift found")
    assert sync_drift_issue(client, None).action == "none"


def test_drift_issue_is_created_once_when_none_is_open(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.issues[0]["state"] = "closed"
    created = sync_drift_issue(client, "## Drift\n\n1 customer differs.\n")
    again = sync_drift_issue(client, "## Drift\n\n1 customer differs.\n")
    assert (created.action, again.action, created.number) == ("created", "unchanged", 58)
    assert [i["state"] for i in fake.issues] == ["closed", "open"]
    assert [lbl["name"] for lbl in fake.issues[1]["labels"]] == ["reconciler-drift"]


def test_oversized_body_is_cut_but_keeps_its_marker(fake: FakeGitHub, client: GitHubClient) -> None:
    body = "## Plan\n" + "- a line of the plan details\n" * 5000 + plan_md(NEW)
    fitted = fit_body(body, "cut")
    assert len(fitted) <= 65_000 and extract_checksum(fitted) == NEW and "_cut_" in fitted
    comment_plan(client, 42, body, HEAD)
    posted = bot_plan_comments(fake)[0]["body"]
    assert len(posted) <= 65_000 and read_plan_marker(posted) == PlanMarker(NEW, HEAD)


def test_bad_token_fails_with_githubs_message_and_no_token(fake: FakeGitHub) -> None:
    token = "ghp_wrongWrongWrong0123456789"
    c = GitHubClient(fake.repo, token, transport=httpx.MockTransport(fake.handle))
    with c, pytest.raises(GitHubError) as err:
        reviewed_checksum(c, MERGE_SHA)
    assert str(err.value) == f"GET /repos/{fake.repo}/commits/{MERGE_SHA}/pulls: HTTP 401: Bad credentials"
    assert token not in repr(c)


def test_token_echoed_by_a_server_is_redacted() -> None:
    token = "ghs_echoedEchoed0123456789"

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"message": f"bad header {request.headers['authorization']}"})

    c = GitHubClient("o/r", token, transport=httpx.MockTransport(echo))
    with c, pytest.raises(GitHubError) as err:
        c.create_comment(1, "x")
    assert token not in str(err.value) and "Bearer ***" in str(err.value)


def test_pagination_never_follows_a_link_to_another_host(fake: FakeGitHub) -> None:
    def evil(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"link": '<https://evil.example/x?page=2>; rel="next"'})

    c = GitHubClient("o/r", "t0ken", transport=httpx.MockTransport(evil))
    with c, pytest.raises(GitHubError, match=r"another host: evil\.example"):
        c.issue_comments(1)


def test_enterprise_api_url_with_a_path_prefix(fake: FakeGitHub) -> None:
    api = "https://ghe.example.com/api/v3"
    with GitHubClient(fake.repo, fake.token, api, transport=httpx.MockTransport(fake.handle)) as c:
        assert reviewed_checksum(c, MERGE_SHA).checksum == REVIEWED
    assert fake.requests[0][1] == f"/api/v3/repos/{fake.repo}/commits/{MERGE_SHA}/pulls"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITHUB_TOKEN": "t"}, "GITHUB_REPOSITORY is not set"),
        ({"GITHUB_REPOSITORY": "acme/x"}, "GITHUB_TOKEN is not set"),
        ({"GITHUB_REPOSITORY": "acme", "GITHUB_TOKEN": "t"}, "must be 'owner/name'"),
    ],
    ids=["no-repo", "no-token", "bad-repo"],
)
def test_environment_problems_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GitHubClient.from_env(env)
