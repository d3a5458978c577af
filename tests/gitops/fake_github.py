"""A stateful stand-in for the GitHub REST endpoints the workflows use, answering from recorded fixtures.

Responses keep the shape of the real API (fixtures/*.json); writes change the in-memory state so a test
can assert on the comments and issues that result. Pagination follows GitHub: ``per_page``/``page``
query parameters and a ``Link`` header with ``rel="next"``.
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
BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}


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
    requests: list[tuple[str, str]] = field(default_factory=list)
    seen_auth: set[str] = field(default_factory=set)
    _next_id: int = 1950000000

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as GitHub would."""
        self.requests.append((request.method, request.url.path))
        self.seen_auth.add(request.headers.get("authorization", ""))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json=fixture("error_401.json"))
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
            ("GET", r"/issues/(\d+)/comments", self._list_comments),
            ("POST", r"/issues/(\d+)/comments", self._create_comment),
            ("PATCH", r"/issues/comments/(\d+)", self._update_comment),
            ("GET", r"/issues", self._list_issues),
            ("POST", r"/issues", self._create_issue),
            ("PATCH", r"/issues/(\d+)", self._update_issue),
        ]

    def _pulls(self, request: httpx.Request, sha: str) -> httpx.Response:
        return self._page(request, self.pulls_by_commit.get(sha, []))

    def _list_comments(self, request: httpx.Request, number: str) -> httpx.Response:
        return self._page(request, self.comments.get(int(number), []))

    def _create_comment(self, request: httpx.Request, number: str) -> httpx.Response:
        self._next_id += 1
        body = json.loads(request.content)["body"]
        comment = {"id": self._next_id, "body": body, "user": dict(BOT), "created_at": "2024-05-03T08:00:00Z"}
        comment["updated_at"] = comment["created_at"]
        comment["html_url"] = f"https://github.com/{self.repo}/pull/{number}#issuecomment-{self._next_id}"
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
        issue = {"number": number, "title": data["title"], "body": data["body"], "state": "open"}
        issue |= {"labels": [{"name": n} for n in data.get("labels", [])], "user": dict(BOT)}
        issue["html_url"] = f"https://github.com/{self.repo}/issues/{number}"
        self.issues.append(issue)
        return httpx.Response(201, json=issue)

    def _update_issue(self, request: httpx.Request, number: str) -> httpx.Response:
        for issue in self.issues:
            if issue["number"] == int(number):
                issue.update(json.loads(request.content))
                return httpx.Response(200, json=issue)
        return httpx.Response(404, json=fixture("error_404.json"))

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
        headers = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "link")}
        return Response(answer.content, status_code=answer.status_code, headers=headers)

    methods = ["GET", "POST", "PATCH"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])
