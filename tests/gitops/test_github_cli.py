"""``reconciler github ...`` as workflow steps run it: real subprocesses, the fake GitHub on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fake_github import BOT
from .harness import Served, github_env, run_cli

MERGE_SHA = "9c1d5e0b7a3f2e4d6c8b0a1f3e5d7c9b1a2f4e6d"
REVIEWED = "3f5c1e9a0b7d2c4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e"
NEW = "cd" * 32
HEAD = "5b7e3a1c9d0f2e4b6a8c1d3f5e7a9b0c2d4f6e8a"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_no_secret(served: Served, *outputs: str) -> None:
    for out in outputs:
        assert served.fake.token not in out


@pytest.mark.slow
def test_comment_updates_the_plan_comment_in_place(served: Served, tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", f"## Plan\n\n2 to add\n\n<!-- reconciler-plan checksum={NEW} -->\n")
    env = github_env(served, GITHUB_SERVER_URL="https://github.com", GITHUB_RUN_ID="777")
    args = ["github", "comment", "--pr", "42", "--head", HEAD, "--file", str(plan)]
    first = run_cli(["-vv", *args], env)
    second = run_cli(args, env)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr
    assert first.stdout.startswith("plan comment on #42: updated https://github.com/")
    assert second.stdout.startswith("plan comment on #42: unchanged")
    bot = [c for c in served.fake.comments[42] if c["user"]["login"] == BOT["login"]]
    assert len(bot) == 1 and NEW in bot[0]["body"] and "actions/runs/777" in bot[0]["body"]
    assert_no_secret(served, first.stdout, first.stderr, second.stdout, second.stderr)


@pytest.mark.slow
def test_reviewed_checksum_prints_only_the_checksum_on_stdout(served: Served) -> None:
    done = run_cli(["github", "reviewed-checksum", "--sha", MERGE_SHA], github_env(served))
    assert (done.returncode, done.stdout) == (0, REVIEWED + "\n")
    assert "plan reviewed on #42" in done.stderr


@pytest.mark.slow
def test_reviewed_checksum_of_a_direct_push_fails_with_one_line(served: Served) -> None:
    done = run_cli(["github", "reviewed-checksum", "--sha", "a" * 40], github_env(served))
    assert done.returncode == 1 and done.stdout == ""
    expected = f"error: no merged pull request found for commit {'a' * 40}: was it pushed without review?\n"
    assert done.stderr == expected


@pytest.mark.slow
def test_post_result_comments_on_the_merged_pull_request(served: Served, tmp_path: Path) -> None:
    result = write(tmp_path, "result.md", "## Applied\n\n2 changes applied.\n")
    done = run_cli(["github", "post-result", "--sha", MERGE_SHA, "--file", str(result)], github_env(served))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"result for {MERGE_SHA[:12]}: created")
    assert "2 changes applied" in served.fake.comments[42][-1]["body"]


@pytest.mark.slow
def test_drift_issue_updates_then_closes_on_an_empty_report(served: Served, tmp_path: Path) -> None:
    env = github_env(served)
    drift = write(tmp_path, "drift.md", "## Drift\n\n4 customers differ.\n")
    clean = write(tmp_path, "clean.md", "\n")
    updated = run_cli(["github", "drift-issue", "--file", str(drift)], env)
    closed = run_cli(["github", "drift-issue", "--file", str(clean)], env)
    assert updated.stdout.startswith("drift issue: updated")
    assert closed.stdout.startswith("drift issue: closed")
    assert served.fake.issues[0]["state"] == "closed"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["reviewed-checksum", "--sha", "not-a-sha"], 2, "'not-a-sha' is not a commit SHA"),
        (["comment", "--pr", "0", "--file", "x.md"], 2, "Invalid value for '--pr'"),
        (["comment", "--pr", "42", "--file", "/nonexistent/plan.md"], 2, "does not exist"),
        (["drift-issue"], 2, "give exactly one of --file or --clean"),
        (["post-result", "--sha", MERGE_SHA, "--file", __file__, "--exit-code", "x"], 2, "not an exit"),
    ],
    ids=["bad-sha", "bad-pr", "missing-file", "drift-needs-input", "bad-exit-code"],
)
@pytest.mark.slow
def test_bad_arguments_are_usage_errors(served: Served, args: list[str], code: int, message: str) -> None:
    done = run_cli(["github", *args], github_env(served))
    assert done.returncode == code and message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_wrong_token_fails_without_printing_it(served: Served) -> None:
    env = github_env(served) | {"GITHUB_TOKEN": "ghp_leakedLeakedLeaked0123"}
    done = run_cli(["-vv", "github", "reviewed-checksum", "--sha", MERGE_SHA], env)
    assert done.returncode == 1 and "HTTP 401: Bad credentials" in done.stderr
    assert "ghp_leakedLeakedLeaked0123" not in done.stdout + done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_missing_token_is_a_configuration_error(served: Served) -> None:
    env = {k: v for k, v in github_env(served).items() if k != "GITHUB_TOKEN"}
    done = run_cli(["github", "reviewed-checksum", "--sha", MERGE_SHA], env)
    assert done.returncode == 1 and done.stderr.startswith("error: GITHUB_TOKEN is not set")


@pytest.mark.slow
def test_unreachable_api_is_one_line(tmp_path: Path, served: Served) -> None:
    env = github_env(served) | {"GITHUB_API_URL": "http://127.0.0.1:9"}
    done = run_cli(["github", "reviewed-checksum", "--sha", MERGE_SHA], env)
    assert done.returncode == 1 and done.stderr.startswith("error: GET /repos/acme/loyalty-state/commits/")
    assert done.stderr.count("\n") == 1
