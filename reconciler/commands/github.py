"""``reconciler github``: the glue the workflows call (PR comment, reviewed checksum, result, drift issue).

Every subcommand reads the repository from GITHUB_REPOSITORY, the token from GITHUB_TOKEN and the API
from GITHUB_API_URL (default https://api.github.com). The token is never printed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from reconciler.commands.outputs import echo
from reconciler.errors import EXIT_OK, UsageError
from reconciler.github import (
    APPLIED,
    DEFAULT_AUTHOR,
    PENDING,
    GitHubClient,
    Posted,
    comment_plan,
    post_result,
    reviewed_checksum,
    sync_drift_issue,
    with_headline,
)
from reconciler.github._queue import Queue, approve, build_queue
from reconciler.github._runner import load_outcomes, publish, run_queue
from reconciler.github._stage import stage_pull_request

_SHA = re.compile(r"[0-9a-f]{7,40}")

_author_option = click.option(
    "--author",
    envvar="RECONCILER_GITHUB_AUTHOR",
    default=DEFAULT_AUTHOR,
    show_default=True,
    help="Login whose marked comments are trusted (the workflow's identity).",
)
_file_type = click.Path(exists=True, dir_okay=False, path_type=Path)


def _check_sha(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not _SHA.fullmatch(value.lower()):
        raise click.BadParameter(f"{value!r} is not a commit SHA (7 to 40 hex digits)")
    return value.lower()


_sha_option = click.option(
    "--sha", required=True, callback=_check_sha, help="The merge commit on the main branch."
)
_queue_option = click.option(
    "--queue", "queue_file", type=click.Path(path_type=Path), default=Path("queue.json"), show_default=True
)
_out_option = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("apply-results"),
    show_default=True,
)


def _check_optional_sha(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return None if not value else _check_sha(ctx, param, value)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _footer() -> str:
    """A link to the workflow run that posted, when running in GitHub Actions."""
    server, repo, run = (
        os.environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if not (server and repo and run):
        return ""
    return f"\n\n<sub>Posted by [workflow run {run}]({server}/{repo}/actions/runs/{run}).</sub>\n"


def _report(what: str, posted: Posted) -> None:
    where = f" {posted.url}" if posted.url else ""
    echo(f"{what}: {posted.action}{where}")


@click.group("github")
def command() -> None:
    """Talk to GitHub for the plan, apply and drift workflows."""


@command.command("comment")
@click.option("--pr", "pr", type=click.IntRange(min=1), required=True, help="Pull request number.")
@click.option("--head", required=True, callback=_check_sha, help="The pull request's head commit planned.")
@click.option("--file", "file", type=_file_type, required=True, help="The plan in markdown, from FILE.")
@click.option(
    "--note",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Text to put first, if any.",
)
@_author_option
def comment(pr: int, head: str, file: Path, note: Path | None, author: str) -> int:
    """Create or update the one plan comment on a pull request, bound to its head commit."""
    first = _read(note) if note is not None and note.exists() else ""
    with GitHubClient.from_env() as client:
        posted = comment_plan(client, pr, first + _read(file) + _footer(), head, author)
    _report(f"plan comment on #{pr}", posted)
    return EXIT_OK


@command.command("stage-pr")
@click.option("--pr-repo", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--base", required=True, callback=_check_sha, help="The base commit checked out here.")
@click.option("--head", required=True, callback=_check_sha, help="The pull request's head commit.")
@click.option("--note-out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def stage_pr(pr_repo: Path, base: str, head: str, note_out: Path) -> int:
    """Write a pull request's state changes over this checkout, as data (its target stays the base's)."""
    note = stage_pull_request(Path.cwd(), pr_repo, base, head)
    note_out.write_text(note, encoding="utf-8")
    click.echo(f"staged pull request head {head[:12]} over base {base[:12]}")
    return EXIT_OK


@command.command("queue")
@_sha_option
@click.option("--since", callback=_check_optional_sha, help="The push's previous head (first run only).")
@click.option("--approve-merge", help="A pending merge (commit SHA or pull request number) to approve.")
@click.option("--approve-checksum", help="The new plan's checksum, from the STALE result comment.")
@_queue_option
@_author_option
def queue_cmd(
    sha: str,
    since: str | None,
    approve_merge: str | None,
    approve_checksum: str | None,
    queue_file: Path,
    author: str,
) -> int:
    """List the merges not yet applied, in order, each with its reviewed checksum."""
    if bool(approve_merge) != bool(approve_checksum):
        raise UsageError("give both --approve-merge and --approve-checksum, or neither")
    if approve_checksum and not re.fullmatch(r"[0-9a-f]{64}", approve_checksum):
        raise click.BadParameter("--approve-checksum: expected the 64 hex digits of the new plan's checksum")
    with GitHubClient.from_env() as client:
        queue = build_queue(client, Path.cwd(), sha, since, author)
        if approve_merge and approve_checksum:
            approve(queue, _merge_sha(client, approve_merge), approve_checksum)
    queue.dump(queue_file)
    for m in queue.merges:
        state = "applied" if m.done else (m.problem or f"to apply under {str(m.checksum)[:12]}")
        click.echo(f"{m.sha[:12]} #{m.pr}: {state}")
    return EXIT_OK


def _merge_sha(client: GitHubClient, merge: str) -> str:
    text = merge.strip().lstrip("#")
    if text.isdigit() and len(text) < 7:  # a pull request number
        return str(client.pull(int(text)).get("merge_commit_sha") or "")
    if not _SHA.fullmatch(text.lower()):
        raise click.BadParameter(f"{merge!r} is neither a commit SHA nor a pull request number")
    return text.lower()


@command.command("apply-queue")
@_queue_option
@_out_option
def apply_queue(queue_file: Path, out: Path) -> int:
    """Apply the queue's merges in order (needs the Capillary credentials, no GitHub token)."""
    return run_queue(Path.cwd(), Queue.load(queue_file), out)


@command.command("post-results")
@_queue_option
@_out_option
@_author_option
def post_results(queue_file: Path, out: Path, author: str) -> int:
    """Post each merge's result to its pull request; move the applied tag past what is applied."""
    with GitHubClient.from_env() as client:
        lines = publish(client, Queue.load(queue_file), load_outcomes(out), _footer(), author)
    click.echo("\n".join(lines) if lines else "Nothing to apply: every merge is already applied.")
    return EXIT_OK


@command.command("reviewed-checksum")
@_sha_option
@_author_option
def reviewed_checksum_cmd(sha: str, author: str) -> int:
    """Print the checksum of the plan reviewed on the pull request merged as SHA."""
    with GitHubClient.from_env() as client:
        reviewed = reviewed_checksum(client, sha, author)
    echo(f"plan reviewed on #{reviewed.pull_request}: {reviewed.comment_url}", err=True)
    echo(reviewed.checksum)
    return EXIT_OK


def _check_exit_code(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    # Empty when the apply step died before recording its code: then the body is posted as it is.
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise click.BadParameter(f"{value!r} is not an exit code (a whole number)")
    return int(value)


@command.command("post-result")
@_sha_option
@click.option(
    "--file", "file", type=_file_type, required=True, help="The apply result in markdown, from FILE."
)
@click.option(
    "--exit-code",
    "exit_code",
    callback=_check_exit_code,
    metavar="CODE",
    help="Apply's exit code: the comment then says first what it means (stale, blocked, error).",
)
@_author_option
def post_result_cmd(sha: str, file: Path, exit_code: int | None, author: str) -> int:
    """Create or update the apply result comment on the pull request merged as SHA."""
    body = with_headline(_read(file), exit_code) + _footer()
    status = APPLIED if exit_code == 0 else PENDING
    with GitHubClient.from_env() as client:
        _report(f"result for {sha[:12]}", post_result(client, sha, body, status, author))
    return EXIT_OK


@command.command("drift-issue")
@click.option("--file", "file", type=_file_type, help="The drift report, from FILE; empty means no drift.")
@click.option("--clean", is_flag=True, help="No drift: close the open drift issue, if any.")
@_author_option
def drift_issue(file: Path | None, clean: bool, author: str) -> int:
    """Create or update the one drift issue, or close it when there is no drift."""
    if (file is None) == (not clean):
        raise UsageError("give exactly one of --file or --clean")
    text = _read(file).strip() if file is not None else ""
    with GitHubClient.from_env() as client:
        _report("drift issue", sync_drift_issue(client, text + _footer() if text else None, author))
    return EXIT_OK
