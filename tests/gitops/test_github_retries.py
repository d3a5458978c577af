"""The GitHub client waits out secondary rate limits and 5xx, as GitHub documents, a bounded number of
times; the waits go through an injected sleep so no test waits."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reconciler.backoff import Backoff
from reconciler.github import GitHubClient, GitHubError, reviewed_checksum
from reconciler.github._client import MAX_RETRIES, MAX_WAIT

from .fake_github import FakeGitHub

MERGE_SHA = "9c1d5e0b7a3f2e4d6c8b0a1f3e5d7c9b1a2f4e6d"
NOW = 1_714_723_200.0


# The backoff policy at the top of its jitter: each pause is its ceiling, 1, 2, 4, ... seconds.
CEILING = Backoff(base=1.0, cap=MAX_WAIT, uniform=lambda low, high: high)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def patient(fake: FakeGitHub, slept: list[float]) -> Iterator[GitHubClient]:
    transport = httpx.MockTransport(fake.handle)
    with GitHubClient(
        fake.repo, fake.token, transport=transport, sleep=slept.append, clock=lambda: NOW, backoff=CEILING
    ) as c:
        yield c


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (429, {"retry-after": "7"}, 7.0),
        (403, {"retry-after": "30"}, 30.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 12)}, 13.0),
        (502, {}, 1.0),
        (503, {"retry-after": "2"}, 2.0),
    ],
    ids=["429-retry-after", "403-retry-after", "403-reset", "502", "503-retry-after"],
)
def test_a_transient_answer_is_waited_out_then_the_call_succeeds(
    fake: FakeGitHub,
    patient: GitHubClient,
    slept: list[float],
    status: int,
    headers: dict[str, str],
    wait: float,
) -> None:
    fake.fail_next = [(status, headers)]
    assert reviewed_checksum(patient, MERGE_SHA).pull_request == 42
    assert slept == [wait]


def test_without_headers_the_waits_follow_the_backoff_policy(
    fake: FakeGitHub, patient: GitHubClient, slept: list[float]
) -> None:
    fake.fail_next = [(500, {}), (502, {}), (504, {})]
    patient.create_comment(42, "hello")
    assert slept == [1.0, 2.0, 4.0] and fake.comments[42][-1]["body"] == "hello"


def test_it_gives_up_after_a_bounded_number_of_retries(
    fake: FakeGitHub, patient: GitHubClient, slept: list[float]
) -> None:
    fake.fail_next = [(503, {})] * (MAX_RETRIES + 5)
    with pytest.raises(GitHubError, match=r"HTTP 503: Server Error"):
        patient.issue_comments(42)
    assert len(slept) == MAX_RETRIES


def test_a_wait_beyond_the_bound_fails_at_once(
    fake: FakeGitHub, patient: GitHubClient, slept: list[float]
) -> None:
    fake.fail_next = [(429, {"retry-after": str(int(MAX_WAIT) + 1)})]
    with pytest.raises(GitHubError, match="HTTP 429: You have exceeded a secondary rate limit"):
        patient.issue_comments(42)
    assert slept == []


def test_a_plain_forbidden_is_final(fake: FakeGitHub, patient: GitHubClient, slept: list[float]) -> None:
    fake.fail_next = [(403, {})]
    with pytest.raises(GitHubError, match="HTTP 403"):
        patient.issue_comments(42)
    assert slept == []


def test_the_served_fake_answers_a_rate_limit_with_its_headers(fake: FakeGitHub) -> None:
    fake.fail_next = [(429, {"retry-after": "3"})]
    answer = fake.handle(
        httpx.Request(
            "GET",
            f"https://api.github.com/repos/{fake.repo}/issues",
            headers={"authorization": f"Bearer {fake.token}"},
        )
    )
    assert (answer.status_code, answer.headers["retry-after"]) == (429, "3")
    assert answer.json()["documentation_url"].startswith("https://docs.github.com/")


def test_the_default_pause_is_jittered_within_the_policy() -> None:
    from reconciler.github._client import retry_wait

    answer = httpx.Response(502)
    waits = [retry_wait(answer, attempt, NOW) for attempt in range(3) for _ in range(20)]
    for attempt, ceiling in enumerate((1.0, 2.0, 4.0)):
        for wait in waits[attempt * 20 : (attempt + 1) * 20]:
            assert wait is not None and ceiling / 2 <= wait <= ceiling
