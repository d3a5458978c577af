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
from reconciler.github import (
    DEFAULT_AUTHOR,
    GitHubClient,
    Posted,
    comment_plan,
    post_result,
    reviewed_checksum,
    sync_drift_issue,
    with_headline,
)

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
@click.option("--file", "file", type=_file_type, required=True, help="The plan in markdown, from FILE.")
@_author_option
def comment(pr: int, file: Path, author: str) -> None:
    """Create or update the one plan comment on a pull request."""
    with GitHubClient.from_env() as client:
        _report(f"plan comment on #{pr}", comment_plan(client, pr, _read(file) + _footer(), author))


@command.command("reviewed-checksum")
@_sha_option
@_author_option
def reviewed_checksum_cmd(sha: str, author: str) -> None:
    """Print the checksum of the plan reviewed on the pull request merged as SHA."""
    with GitHubClient.from_env() as client:
        reviewed = reviewed_checksum(client, sha, author)
    echo(f"plan reviewed on #{reviewed.pull_request}: {reviewed.comment_url}", err=True)
    echo(reviewed.checksum)


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
def post_result_cmd(sha: str, file: Path, exit_code: int | None, author: str) -> None:
    """Create or update the apply result comment on the pull request merged as SHA."""
    body = with_headline(_read(file), exit_code) + _footer()
    with GitHubClient.from_env() as client:
        _report(f"result for {sha[:12]}", post_result(client, sha, body, author))


@command.command("drift-issue")
@click.option("--file", "file", type=_file_type, help="The drift report, from FILE; empty means no drift.")
@click.option("--clean", is_flag=True, help="No drift: close the open drift issue, if any.")
@_author_option
def drift_issue(file: Path | None, clean: bool, author: str) -> None:
    """Create or update the one drift issue, or close it when there is no drift."""
    if (file is None) == (not clean):
        raise click.UsageError("give exactly one of --file or --clean")
    text = _read(file).strip() if file is not None else ""
    with GitHubClient.from_env() as client:
        _report("drift issue", sync_drift_issue(client, text + _footer() if text else None, author))
