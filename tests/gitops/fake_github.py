"""A stateful stand-in for the GitHub REST endpoints the workflows use, answering in the real shapes.

Every object carries the fields GitHub's REST description marks required for it (simple-user,
issue-comment, issue, label, reaction-rollup, pull-request-simple and its base and head repository,
git-ref), nested objects included: ``test_fake_shapes.py`` checks every answer against the pinned lists in
tests/data/github-rest/required-fields.json. The recorded fixtures are built from the description's own
examples. Writes change the in-memory state so a test can assert on the
comments, issues and tags that result. Pagination follows GitHub: ``per_page``/``page`` and a ``Link``
header with ``rel="next"``. ``fail_next`` makes the next answers a secondary rate limit or a 5xx.
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
SECONDARY_LIMIT = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}
SERVER_ERROR = {"message": "Server Error"}


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
            return httpx.Response(
                status, json=SECONDARY_LIMIT if status < 500 else SERVER_ERROR, headers=headers
            )
        prefix = f"/repos/{self.repo}"
        path = request.url.path.split("/api/v3", 1)[-1]  # GitHub Enterprise serves under /api/v3
        if not path.startswith(prefix):
            return httpx.Response(404, json=fixture("error_404.json"))
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path[len(prefix) :])
            if match and method == request.method:
                answer: httpx.Response = handler(request, *match.groups())
                return answer
        return httpx.Response(404, json=fixture("error_404.json"))

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/commits/([0-9a-f]+)/pulls", self._pulls),
            ("GET", r"/pulls/(\d+)", self._pull),
            ("GET", r"/issues/(\d+)/comments", self._list_comments),
            ("POST", r"/issues/(\d+)/comments", self._create_comment),
            ("PATCH", r"/issues/comments/(\d+)", self._update_comment),
            ("GET", r"/issues", self._list_issues),
            ("POST", r"/issues", self._create_issue),
            ("PATCH", r"/issues/(\d+)", self._update_issue),
            ("GET", r"/git/ref/(tags/[\w.-]+)", self._get_ref),
            ("POST", r"/git/refs", self._create_ref),
            ("PATCH", r"/git/refs/(tags/[\w.-]+)", self._update_ref),
        ]

    def _pulls(self, request: httpx.Request, sha: str) -> httpx.Response:
        return self._page(request, self.pulls_by_commit.get(sha, []))

    def _pull(self, request: httpx.Request, number: str) -> httpx.Response:
        found = [p for ps in self.pulls_by_commit.values() for p in ps if p["number"] == int(number)]
        return (
            httpx.Response(200, json=found[0])
            if found
            else httpx.Response(404, json=fixture("error_404.json"))
        )

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
                comment["updated_at"] = "2024-05-03T09:00:00Z"
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
                issue.update(json.loads(request.content))
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
            return httpx.Response(422, json={"message": "Reference already exists"})
        self.refs[name] = data["sha"]
        return httpx.Response(201, json=self._ref(name))

    def _update_ref(self, request: httpx.Request, name: str) -> httpx.Response:
        if name not in self.refs:
            return httpx.Response(422, json={"message": "Reference does not exist"})
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
