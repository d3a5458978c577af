"""A small synchronous GitHub REST client over httpx: the calls the workflows need, nothing more.

The token comes from ``GITHUB_TOKEN`` and is only ever placed in the ``Authorization`` header; every
message this module produces passes through ``_redact`` so a token echoed back by a server is hidden.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.backoff import Backoff
from reconciler.errors import ConfigError, GitHubError, GitHubNotFound

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
PER_PAGE = 100
MAX_PAGES = 100  # 10,000 items: far beyond any pull request's comment count
# Secondary rate limits and 5xx are transient: a few waits, each at most MAX_WAIT seconds, then fail.
MAX_RETRIES = 4
MAX_WAIT = 120.0
_RETRIED_5XX = frozenset({500, 502, 503, 504})
# The pause when GitHub names none: the client's policy (reconciler/backoff.py), from one second. Its
# ``sleep`` is unused here (this client is synchronous and sleeps through its own ``sleep``).
GITHUB_BACKOFF = Backoff(base=1.0, cap=MAX_WAIT)

JSON = dict[str, Any]


class GitHubClient:
    """Issue, comment and pull-request calls against one repository."""

    def __init__(
        self,
        repo: str,
        token: str,
        api_url: str = DEFAULT_API_URL,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        backoff: Backoff = GITHUB_BACKOFF,
    ) -> None:
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise ConfigError(f"GITHUB_REPOSITORY must be 'owner/name', got {repo!r}")
        self.repo = repo
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._sleep, self._clock, self._backoff = sleep, clock, backoff
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

    def pull(self, number: int) -> JSON:
        """One pull request (GET /repos/{repo}/pulls/{number})."""
        return self._request("GET", f"/repos/{self.repo}/pulls/{number}", None)

    def tag_sha(self, tag: str) -> str | None:
        """The commit a lightweight tag points at, or None when there is no such tag."""
        try:
            ref = self._request("GET", f"/repos/{self.repo}/git/ref/tags/{tag}", None)
        except GitHubNotFound:
            return None
        return str((ref.get("object") or {}).get("sha", "")) or None

    def set_tag(self, tag: str, sha: str) -> JSON:
        """Point a lightweight tag at ``sha``, creating it if needed (moves it even if not forward)."""
        if self.tag_sha(tag) is None:
            payload = {"ref": f"refs/tags/{tag}", "sha": sha}
            return self._request("POST", f"/repos/{self.repo}/git/refs", payload)
        return self._request("PATCH", f"/repos/{self.repo}/git/refs/tags/{tag}", {"sha": sha, "force": True})

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

    def _request(self, method: str, path: str, payload: Mapping[str, Any] | None) -> JSON:
        data = self._send(method, path, **({} if payload is None else {"json": payload})).json()
        if not isinstance(data, dict):
            raise GitHubError(f"{method} {path}: expected a JSON object")
        return data

    def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        where = f"{method} {urlsplit(url).path}"
        for attempt in range(MAX_RETRIES + 1):
            try:
                response = self._http.request(method, url, **kw)
            except httpx.HTTPError as exc:
                raise GitHubError(self._redact(f"{where}: {type(exc).__name__}: {exc}")) from exc
            log.debug("%s -> %s", where, response.status_code)
            wait = retry_wait(response, attempt, self._clock(), self._backoff)
            if wait is None or attempt == MAX_RETRIES:
                break
            log.warning("%s: HTTP %s, retrying in %.0f s", where, response.status_code, wait)
            self._sleep(wait)
        if response.status_code == 404:
            raise GitHubNotFound(self._redact(f"{where}: HTTP 404: {_message(response)}"))
        if response.is_error:
            raise GitHubError(self._redact(f"{where}: HTTP {response.status_code}: {_message(response)}"))
        return response

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


def retry_wait(
    response: httpx.Response, attempt: int, now: float, backoff: Backoff = GITHUB_BACKOFF
) -> float | None:
    """Seconds to wait before retrying, or None when the answer is final.

    GitHub's secondary rate limit answers 403 or 429 with ``retry-after`` (seconds) or, with
    ``x-ratelimit-remaining: 0``, ``x-ratelimit-reset`` (epoch seconds); its 5xx are transient. Without
    a header the wait is ``backoff``'s (the one policy, ``reconciler/backoff.py``: growing from one second,
    jittered). A wait beyond MAX_WAIT is not waited for: the run fails.
    """
    status, headers = response.status_code, response.headers
    limited = status == 429 or (
        status == 403 and ("retry-after" in headers or headers.get("x-ratelimit-remaining") == "0")
    )
    if not (limited or status in _RETRIED_5XX):
        return None
    wait = backoff.delay(attempt + 1)
    if (after := headers.get("retry-after", "")).isdigit():
        wait = float(after)
    elif (reset := headers.get("x-ratelimit-reset", "")).isdigit():
        wait = max(float(reset) - now, 0.0) + 1.0  # the reset second itself may still be limited
    return wait if wait <= MAX_WAIT else None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])[:300]
    return response.reason_phrase or "error"
