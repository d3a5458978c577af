"""The workflows' shape (pins, permissions, concurrency, secrets) and their commands against the CLI."""

from __future__ import annotations

import re
from typing import Any

import click
import pytest
import yaml

from reconciler.cli import main
from reconciler.commands.github import command as github_group

from .harness import REPO_ROOT
from .workflow_steps import WORKFLOW_DIR, all_invocations, invocations, load, steps

WORKFLOWS = ["apply.yml", "drift.yml", "plan.yml"]
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
WRITE_SCOPES = {"pull-requests", "issues"}
CAPILLARY_SECRETS = {"CAPILLARY_OAUTH_KEY", "CAPILLARY_OAUTH_SECRET", "RECONCILER_MASK_KEY"}


def cli() -> click.Group:
    if "github" not in main.commands:
        main.add_command(github_group)
    return main


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_action_is_pinned_by_full_commit_sha_with_its_version(name: str) -> None:
    text = (WORKFLOW_DIR / name).read_text(encoding="utf-8")
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for ref, comment in uses:
        assert PINNED.match(ref), ref
        assert re.search(r"#\s*v\d", comment), f"{ref}: add the version as a comment"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_permissions_are_empty_by_default_and_minimal_per_job(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] == {}
    for job_id, job in workflow["jobs"].items():
        perms: dict[str, Any] = job["permissions"]
        assert set(perms) <= {"contents"} | WRITE_SCOPES, job_id
        assert perms.get("contents") == "read", job_id


def test_apply_is_serialised_never_cancelled_and_protected() -> None:
    workflow = load("apply.yml")
    assert workflow["on"] == {"push": {"branches": ["main"], "paths": ["state/**", "reconciler.yaml"]}}
    assert workflow["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    assert workflow["jobs"]["apply"]["environment"] == "production"


def test_plan_runs_on_pull_requests_touching_the_state() -> None:
    workflow = load("plan.yml")
    assert workflow["on"] == {"pull_request": {"paths": ["state/**", "reconciler.yaml"]}}
    [checkout] = [s for s in steps("plan.yml") if (s.uses or "").startswith("actions/checkout@")]
    assert checkout.raw["with"]["fetch-depth"] == 0


def test_drift_shards_match_the_shard_count() -> None:
    workflow = load("drift.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    shards = workflow["jobs"]["plan"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(workflow["env"]["SHARDS"]) + 1))


@pytest.mark.parametrize("name", WORKFLOWS)
def test_secrets_reach_only_the_steps_that_talk_to_capillary(name: str) -> None:
    for s in steps(name):
        secret_env = {k for k, v in s.env.items() if "secrets." in v}
        if secret_env:
            assert secret_env == CAPILLARY_SECRETS, s.name
            assert re.search(r"reconciler (plan|apply|doctor)\b", s.run or ""), s.name
        if "GITHUB_TOKEN" in s.env:
            assert s.env["GITHUB_TOKEN"] == "${{ github.token }}"
            assert "reconciler github " in (s.run or ""), s.name
    for job in load(name)["jobs"].values():
        assert "secrets." not in yaml.safe_dump(job.get("env", {})), "no job-wide secrets"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_plan_and_apply_masks_with_the_one_repository_key(name: str) -> None:
    runs = [s for s in steps(name) if re.search(r"reconciler (plan|apply|doctor)\b", s.run or "")]
    assert runs
    for s in runs:
        assert s.env.get("RECONCILER_MASK_KEY") == "${{ secrets.RECONCILER_MASK_KEY }}", s.name


def test_apply_replans_the_pushed_range_and_falls_back_to_all_on_a_first_push() -> None:
    s = next(s for s in steps("apply.yml") if s.name == "Apply the reviewed plan")
    assert s.env["BEFORE"] == "${{ github.event.before }}"
    scopes = [argv[1:3] for argv in invocations(s.run or "")]
    assert scopes == [["--all", "--checksum"], ["--changed-since", "$BEFORE"]]
    assert '[ "$BEFORE" = "0000000000000000000000000000000000000000" ]' in (s.run or "")
    [checkout] = [c for c in steps("apply.yml") if (c.uses or "").startswith("actions/checkout@")]
    assert checkout.raw["with"]["fetch-depth"] == 0


def _check_argv(argv: list[str]) -> None:
    cmd: click.Command = cli()
    args = list(argv)
    while isinstance(cmd, click.Group) and args and not args[0].startswith("-"):
        if args[0] not in cmd.commands:
            pytest.skip(f"'reconciler {args[0]}' is not built yet")
        cmd = cmd.commands[args.pop(0)]
    options = {opt: p for p in cmd.params if isinstance(p, click.Option) for opt in p.opts}
    while args:
        token = args.pop(0)
        if not token.startswith("-"):
            continue  # a positional argument or an option's value
        assert token in options, f"{cmd.name} has no option {token}"
        if not options[token].is_flag:
            assert args and not args[0].startswith("--"), f"{token} needs a value"
            args.pop(0)


@pytest.mark.parametrize(
    ("where", "argv"), all_invocations(), ids=[f"{w}:{' '.join(a[:2])}" for w, a in all_invocations()]
)
def test_every_workflow_command_exists_with_those_options(where: str, argv: list[str]) -> None:
    _check_argv(argv)


def test_pre_commit_hook_runs_validate_on_the_whole_state() -> None:
    [hook] = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "reconciler-validate" and hook["entry"] == "reconciler validate"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert re.match(hook["files"], "state/customers.yaml") and re.match(hook["files"], "reconciler.yaml")
    assert not re.match(hook["files"], "README.md")
    _check_argv(hook["entry"].split()[1:])
