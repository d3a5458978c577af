"""A small synchronous GitHub REST client over httpx: the calls the workflows need, nothing more.

The token comes from ``GITHUB_TOKEN`` and is only ever placed in the ``Authorization`` header; every
message this module produces passes through ``_redact`` so a token echoed back by a server is hidden.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.errors import ConfigError, ReconcilerError

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
PER_PAGE = 100
MAX_PAGES = 100  # 10,000 items: far beyond any pull request's comment count

JSON = dict[str, Any]


class GitHubError(ReconcilerError):
    """The GitHub API refused a request, or its answer was not what the workflow needs (exit 1)."""


class GitHubClient:
    """Issue, comment and pull-request calls against one repository."""

    def __init__(
        self,
        repo: str,
        token: str,
        api_url: str = DEFAULT_API_URL,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise ConfigError(f"GITHUB_REPOSITORY must be 'owner/name', got {repo!r}")
        self.repo = repo
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._http = httpx.Client(
            base_url=self.api_url,
            transport=transport,
            timeout=timeout,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "reconciler",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
        )

    def __repr__(self) -> str:
        return f"GitHubClient(repo={self.repo!r}, api_url={self.api_url!r})"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, transport: httpx.BaseTransport | None = None
    ) -> GitHubClient:
        """Build a client from GITHUB_REPOSITORY, GITHUB_TOKEN and GITHUB_API_URL."""
        env = os.environ if environ is None else environ
        repo = env.get("GITHUB_REPOSITORY", "")
        token = env.get("GITHUB_TOKEN", "")
        if not repo:
            raise ConfigError("GITHUB_REPOSITORY is not set (expected 'owner/name')")
        if not token:
            raise ConfigError("GITHUB_TOKEN is not set (pass secrets.GITHUB_TOKEN to the step's env)")
        return cls(repo, token, env.get("GITHUB_API_URL") or DEFAULT_API_URL, transport)

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the endpoints -------------------------------------------------------------------------

    def pulls_for_commit(self, sha: str) -> list[JSON]:
        """The pull requests associated with a commit (GET /repos/{repo}/commits/{sha}/pulls)."""
        return list(self._paginate(f"/repos/{self.repo}/commits/{sha}/pulls"))

    def issue_comments(self, number: int) -> list[JSON]:
        """Every comment on an issue or pull request, oldest first, across all pages."""
        return list(self._paginate(f"/repos/{self.repo}/issues/{number}/comments"))

    def create_comment(self, number: int, body: str) -> JSON:
        """Add a comment to an issue or pull request."""
        return self._request("POST", f"/repos/{self.repo}/issues/{number}/comments", {"body": body})

    def update_comment(self, comment_id: int, body: str) -> JSON:
        """Replace the body of an existing comment."""
        return self._request("PATCH", f"/repos/{self.repo}/issues/comments/{comment_id}", {"body": body})

    def issues_with_label(self, label: str, state: str = "open") -> list[JSON]:
        """Issues (not pull requests) carrying a label."""
        items = self._paginate(f"/repos/{self.repo}/issues", {"labels": label, "state": state})
        return [item for item in items if "pull_request" not in item]

    def create_issue(self, title: str, body: str, labels: list[str]) -> JSON:
        """Open an issue."""
        payload = {"title": title, "body": body, "labels": labels}
        return self._request("POST", f"/repos/{self.repo}/issues", payload)

    def update_issue(self, number: int, **fields: Any) -> JSON:
        """Change an issue's fields (body, state, state_reason, title)."""
        return self._request("PATCH", f"/repos/{self.repo}/issues/{number}", fields)

    # --- transport -----------------------------------------------------------------------------

    def _paginate(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[JSON]:
        url: str | None = path
        query: dict[str, str] | None = {**(params or {}), "per_page": str(PER_PAGE)}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = self._send("GET", url, params=query)
            page = response.json()
            if not isinstance(page, list):
                raise GitHubError(f"GET {path}: expected a JSON list, got {type(page).__name__}")
            yield from page
            url, query = self._next_page(response), None
        raise GitHubError(f"GET {path}: more than {MAX_PAGES} pages")

    def _next_page(self, response: httpx.Response) -> str | None:
        nxt = response.links.get("next", {}).get("url")
        if nxt is None:
            return None
        # The token goes only to the API host we were configured with, whatever a Link header says.
        if urlsplit(nxt).netloc != urlsplit(self.api_url).netloc:
            raise GitHubError(f"refusing to follow a pagination link to another host: {urlsplit(nxt).netloc}")
        return nxt

    def _request(self, method: str, path: str, payload: Mapping[str, Any]) -> JSON:
        data = self._send(method, path, json=payload).json()
        if not isinstance(data, dict):
            raise GitHubError(f"{method} {path}: expected a JSON object")
        return data

    def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        where = f"{method} {urlsplit(url).path}"
        try:
            response = self._http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise GitHubError(self._redact(f"{where}: {type(exc).__name__}: {exc}")) from exc
        log.debug("%s -> %s", where, response.status_code)
        if response.is_error:
            raise GitHubError(self._redact(f"{where}: HTTP {response.status_code}: {_message(response)}"))
        return response

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])[:300]
    return response.reason_phrase or "error"
