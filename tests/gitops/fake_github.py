"""A stateful stand-in for the GitHub REST endpoints the workflows use, answering in the real shapes.

``ROUTES`` lists every route it serves, by the template GitHub's REST description names it with, and the
statuses each answers. Every answer, its failures included, has the shape the description documents for
that route and status: ``test_fake_shapes.py`` walks them all against the schemas pinned from
``@octokit/openapi`` in tests/data/github-rest/required-fields.json (``regenerate.py`` there rewrites the
pin; a route added here fails that test until it is pinned). The recorded fixtures are built from the
description's own examples. Writes change the in-memory state so a test can assert on the comments,
issues and tags that result. Pagination follows GitHub: ``per_page``/``page`` and a ``Link`` header with
``rel="next"``. ``fail_next`` makes the next answers a secondary rate limit or a 5xx.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FIXTURES = Path(__file__).parent / "fixtures"
API = "https://api.github.com"
NOW = "2024-05-03T08:00:00Z"
LATER = "2024-05-03T09:00:00Z"  # when the fake's edits happen
SECONDARY_LIMIT = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}
SERVER_ERROR = {"message": "Server Error"}


# The parts of a route template other than {owner}/{repo}, as the fake matches them.
PARAMETERS = {
    "commit_sha": r"([0-9a-f]{7,40})",
    "pull_number": r"(\d+)",
    "issue_number": r"(\d+)",
    "comment_id": r"(\d+)",
    "ref": r"(tags/[\w.-]+)",
}


@dataclass(frozen=True, slots=True)
class FakeRoute:
    """One route the fake serves: its template as GitHub's REST description names it, the method of
    ``FakeGitHub`` answering it, and every status that method answers (besides the 401 every route gives
    a bad token and the ``fail_next`` ones)."""

    method: str
    path: str
    handler: str
    answers: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def pattern(self, repo: str) -> str:
        """A regular expression for this route in ``repo``, one group per parameter."""
        path = self.path.replace("{owner}/{repo}", re.escape(repo))
        return re.sub(r"\{(\w+)\}", lambda m: PARAMETERS[m[1]], path)


ROUTES = (
    FakeRoute("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", "_pulls", (200,)),
    FakeRoute("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "_pull", (200, 404)),
    FakeRoute("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "_list_comments", (200,)),
    FakeRoute("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "_create_comment", (201,)),
    FakeRoute("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "_update_comment", (200, 404)),
    FakeRoute("GET", "/repos/{owner}/{repo}/issues", "_list_issues", (200,)),
    FakeRoute("POST", "/repos/{owner}/{repo}/issues", "_create_issue", (201,)),
    FakeRoute("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", "_update_issue", (200, 404)),
    FakeRoute("GET", "/repos/{owner}/{repo}/git/ref/{ref}", "_get_ref", (200, 404)),
    FakeRoute("POST", "/repos/{owner}/{repo}/git/refs", "_create_ref", (201, 422)),
    FakeRoute("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", "_update_ref", (200, 422)),
)
# What ``fail_next`` may answer: a secondary rate limit (403, 429) or a transient server error.
FAILURES = (403, 429, 500, 502, 503, 504)


def simple_user(login: str, user_id: int, kind: str = "User") -> dict[str, Any]:
    """A ``simple-user`` with every required field."""
    url = f"{API}/users/{login.replace('[', '%5B').replace(']', '%5D')}"
    user = {"login": login, "id": user_id, "node_id": f"MDQ6VXNlcj{user_id}", "type": kind}
    user |= {"avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4", "gravatar_id": ""}
    user |= {"url": url, "html_url": f"https://github.com/{login}", "site_admin": False}
    for name in ("followers", "subscriptions", "organizations", "repos", "received_events"):
        user[f"{name}_url"] = f"{url}/{name}"
    user |= {"following_url": f"{url}/following{{/other_user}}", "gists_url": f"{url}/gists{{/gist_id}}"}
    user |= {"starred_url": f"{url}/starred{{/owner}}{{/repo}}", "events_url": f"{url}/events{{/privacy}}"}
    return user


def reaction_rollup(url: str) -> dict[str, Any]:
    """A ``reaction-rollup`` with no reactions yet."""
    counts = dict.fromkeys(("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"), 0)
    return {"url": url, "total_count": 0, **counts}


def validation_error(message: str, verb: str) -> dict[str, Any]:
    """A ``validation-error`` as the git refs routes answer it (``verb``: create or update a reference)."""
    url = f"https://docs.github.com/rest/git/refs#{verb}-a-reference"
    return {"message": message, "documentation_url": url}


BOT = simple_user("github-actions[bot]", 41898282, "Bot")


def fixture(name: str) -> Any:
    """A recorded response body."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class FakeGitHub:
    repo: str = "acme/loyalty-state"
    token: str = "ghs_fakeTokenValue0123456789"
    max_per_page: int = 100
    pulls_by_commit: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=dict)  # "tags/name" -> sha
    requests: list[tuple[str, str]] = field(default_factory=list)
    seen_auth: set[str] = field(default_factory=set)
    # (status, headers) answered to the next requests, in order, before any real answer
    fail_next: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    author: dict[str, Any] = field(default_factory=lambda: dict(BOT))  # who the token posts as
    _next_id: int = 1950000000

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as GitHub would."""
        self.requests.append((request.method, request.url.path))
        self.seen_auth.add(request.headers.get("authorization", ""))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json=fixture("error_401.json"))
        if self.fail_next:
            status, headers = self.fail_next.pop(0)
            assert status in FAILURES, f"fail_next: {status} is not one of {FAILURES}"
            return httpx.Response(
                status, json=SECONDARY_LIMIT if status < 500 else SERVER_ERROR, headers=headers
            )
        path = request.url.path.split("/api/v3", 1)[-1]  # GitHub Enterprise serves under /api/v3
        for route in ROUTES:
            match = re.fullmatch(route.pattern(self.repo), path)
            if match and route.method == request.method:
                answer: httpx.Response = getattr(self, route.handler)(request, *match.groups())
                assert answer.status_code in route.answers, f"{route}: answered {answer.status_code}"
                return answer
        return httpx.Response(404, json=fixture("error_404.json"))

    def _pulls(self, request: httpx.Request, sha: str) -> httpx.Response:
        return self._page(request, self.pulls_by_commit.get(sha, []))

    def _pull(self, request: httpx.Request, number: str) -> httpx.Response:
        found = [p for ps in self.pulls_by_commit.values() for p in ps if p["number"] == int(number)]
        if not found:
            return httpx.Response(404, json=fixture("error_404.json"))
        return httpx.Response(200, json=self._pull_request(copy.deepcopy(found[0])))

    def _pull_request(self, simple: dict[str, Any]) -> dict[str, Any]:
        """A ``pull-request`` (what GET /pulls/{n} answers) from the ``pull-request-simple`` a commit's
        pull requests list: its merge state, its comment count from the fake's own comments, and the
        size of its diff (a one-file change unless the stored pull request says otherwise)."""
        merged = simple.get("merged_at") is not None
        state = {"merged": merged, "merged_by": copy.deepcopy(simple["user"]) if merged else None}
        # GitHub stops computing mergeability once a pull request is merged or closed.
        open_ = simple["state"] == "open"
        state |= {"mergeable": True if open_ else None, "rebaseable": True if open_ else None}
        state |= {"mergeable_state": "clean" if open_ else "unknown", "maintainer_can_modify": False}
        counts = {"comments": len(self.comments.get(int(simple["number"]), [])), "review_comments": 0}
        diff = {"commits": 1, "additions": 2, "deletions": 2, "changed_files": 1}
        return diff | state | counts | simple

    def _list_comments(self, request: httpx.Request, number: str) -> httpx.Response:
        return self._page(request, self.comments.get(int(number), []))

    def _create_comment(self, request: httpx.Request, number: str) -> httpx.Response:
        self._next_id += 1
        cid, base = self._next_id, f"{API}/repos/{self.repo}"
        comment = {"url": f"{base}/issues/comments/{cid}", "id": cid, "node_id": f"IC_kwDO{cid}"}
        comment |= {"html_url": f"https://github.com/{self.repo}/pull/{number}#issuecomment-{cid}"}
        comment |= {"issue_url": f"{base}/issues/{number}", "user": copy.deepcopy(self.author)}
        comment |= {"body": json.loads(request.content)["body"], "created_at": NOW, "updated_at": NOW}
        comment |= {"author_association": "NONE", "performed_via_github_app": None}
        comment |= {"reactions": reaction_rollup(f"{base}/issues/comments/{cid}/reactions")}
        self.comments.setdefault(int(number), []).append(comment)
        return httpx.Response(201, json=comment)

    def _update_comment(self, request: httpx.Request, comment_id: str) -> httpx.Response:
        for comment in (c for cs in self.comments.values() for c in cs):
            if comment["id"] == int(comment_id):
                comment["body"] = json.loads(request.content)["body"]
                comment["updated_at"] = LATER
                return httpx.Response(200, json=comment)
        return httpx.Response(404, json=fixture("error_404.json"))

    def _list_issues(self, request: httpx.Request) -> httpx.Response:
        label, state = request.url.params.get("labels"), request.url.params.get("state", "open")
        found = [
            i
            for i in self.issues
            if (state == "all" or i["state"] == state)
            and (label is None or label in {lbl["name"] for lbl in i["labels"]})
        ]
        return self._page(request, found)

    def _create_issue(self, request: httpx.Request) -> httpx.Response:
        data = json.loads(request.content)
        number = max([i["number"] for i in self.issues] + [0]) + 1
        issue = copy.deepcopy(fixture("issues_drift_open.json")[0])  # the description's issue shape
        base = f"{API}/repos/{self.repo}/issues/{number}"
        issue |= {"number": number, "id": 1700000000 + number, "node_id": f"I_kwDO{number}", "url": base}
        issue |= {"title": data["title"], "body": data["body"], "state": "open", "comments": 0}
        issue |= {"comments_url": f"{base}/comments", "events_url": f"{base}/events"}
        issue |= {"labels_url": f"{base}/labels{{/name}}", "user": copy.deepcopy(self.author)}
        issue |= {"html_url": f"https://github.com/{self.repo}/issues/{number}", "closed_at": None}
        issue |= {"created_at": NOW, "updated_at": NOW, "state_reason": None}
        issue |= {"reactions": reaction_rollup(f"{base}/reactions")}
        label = issue["labels"][0]
        issue["labels"] = [
            label | {"name": n, "url": label["url"].rsplit("/", 1)[0] + f"/{n}"} for n in data["labels"]
        ]
        self.issues.append(issue)
        return httpx.Response(201, json=issue)

    def _update_issue(self, request: httpx.Request, number: str) -> httpx.Response:
        for issue in self.issues:
            if issue["number"] == int(number):
                change = json.loads(request.content)
                if change.get("state", issue["state"]) != issue["state"]:  # GitHub times the close
                    closed = change["state"] == "closed"
                    issue |= {
                        "closed_at": LATER if closed else None,
                        "closed_by": copy.deepcopy(self.author) if closed else None,
                    }
                    issue["state_reason"] = change.get("state_reason", "completed" if closed else "reopened")
                issue |= change | {"updated_at": LATER}
                return httpx.Response(200, json=issue)
        return httpx.Response(404, json=fixture("error_404.json"))

    def _ref(self, name: str) -> dict[str, Any]:
        base = f"{API}/repos/{self.repo}/git"
        sha = self.refs[name]
        target = {"type": "commit", "sha": sha, "url": f"{base}/commits/{sha}"}
        return {
            "ref": f"refs/{name}",
            "node_id": f"REF_{name}",
            "url": f"{base}/refs/{name}",
            "object": target,
        }

    def _get_ref(self, request: httpx.Request, name: str) -> httpx.Response:
        if name not in self.refs:
            return httpx.Response(404, json=fixture("error_404.json"))
        return httpx.Response(200, json=self._ref(name))

    def _create_ref(self, request: httpx.Request) -> httpx.Response:
        data = json.loads(request.content)
        name = str(data["ref"]).removeprefix("refs/")
        if name in self.refs:
            return httpx.Response(422, json=validation_error("Reference already exists", "create"))
        self.refs[name] = data["sha"]
        return httpx.Response(201, json=self._ref(name))

    def _update_ref(self, request: httpx.Request, name: str) -> httpx.Response:
        if name not in self.refs:
            return httpx.Response(422, json=validation_error("Reference does not exist", "update"))
        self.refs[name] = json.loads(request.content)["sha"]
        return httpx.Response(200, json=self._ref(name))

    def _page(self, request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        per_page = min(int(request.url.params.get("per_page", "30")), self.max_per_page)
        page = int(request.url.params.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            nxt = request.url.copy_merge_params({"page": str(page + 1), "per_page": str(per_page)})
            headers["link"] = f'<{nxt}>; rel="next"'
        return httpx.Response(200, json=copy.deepcopy(chunk), headers=headers)


def recorded_github(**kw: Any) -> FakeGitHub:
    """A fake holding the recorded pull request #42, its comments and the open drift issue."""
    fake = FakeGitHub(**kw)
    pr = fixture("commit_pulls_merged.json")
    fake.pulls_by_commit[pr[0]["merge_commit_sha"]] = pr
    fake.comments[42] = fixture("issue_comments_pr42.json")
    fake.issues = fixture("issues_drift_open.json")
    return fake


def asgi_app(fake: FakeGitHub) -> Starlette:
    """Serve the fake over HTTP (for subprocess tests): starlette in front of ``FakeGitHub.handle``."""

    async def endpoint(request: Request) -> Response:
        outgoing = httpx.Request(
            request.method, str(request.url), headers=request.headers.raw, content=await request.body()
        )
        answer = fake.handle(outgoing)
        kept = ("content-type", "link", "retry-after", "x-ratelimit-remaining", "x-ratelimit-reset")
        headers = {k: v for k, v in answer.headers.items() if k.lower() in kept}
        return Response(answer.content, status_code=answer.status_code, headers=headers)

    methods = ["GET", "POST", "PATCH"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])
