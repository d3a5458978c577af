"""The workflows' shape (pins, permissions, concurrency, secrets) and their commands against the CLI."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import click
import pytest
import yaml

from reconciler.cli import main
from reconciler.github._scaffold import local_workflows

from .harness import REPO_ROOT
from .workflow_steps import WORKFLOW_DIR, all_invocations, load, steps

CALLERS = ["apply.yml", "drift.yml", "plan.yml"]
REUSABLE = ["reusable-apply.yml", "reusable-drift.yml", "reusable-plan.yml"]
WORKFLOWS = [*CALLERS, *REUSABLE, "ci.yml"]
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
LOCAL = re.compile(r"^\./\.github/workflows/reusable-[a-z]+\.yml$")
WRITE_SCOPES = {"pull-requests", "issues"}
CAPILLARY_SECRETS = {"CAPILLARY_OAUTH_KEY", "CAPILLARY_OAUTH_SECRET", "RECONCILER_MASK_KEY"}
TALKS_TO_CAPILLARY = re.compile(r"reconciler (plan|apply|doctor|github apply-queue)\b")
STATE_PATHS = ["state/**", "reconciler.yaml"]


def test_the_callers_are_what_reconciler_init_writes() -> None:
    for name, text in local_workflows().items():
        assert (WORKFLOW_DIR / name).read_text(encoding="utf-8") == text, name


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_action_is_pinned_by_full_commit_sha_with_its_version(name: str) -> None:
    text = (WORKFLOW_DIR / name).read_text(encoding="utf-8")
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for ref, comment in uses:
        if LOCAL.match(ref):
            continue  # this repository's reusable workflow, at the caller's own commit
        assert PINNED.match(ref), ref
        assert re.search(r"#\s*v\d", comment), f"{ref}: add the version as a comment"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_permissions_are_empty_by_default_and_minimal_per_job(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] == {}
    for job_id, job in workflow["jobs"].items():
        perms: dict[str, Any] = job["permissions"]
        assert set(perms) <= {"contents"} | WRITE_SCOPES, job_id
        # apply alone writes contents: the reconciler-applied tag
        assert perms.get("contents") == ("write" if job_id == "apply" else "read"), job_id


def test_ci_installs_every_floor_pyproject_declares() -> None:
    import subprocess
    import sys

    script = REPO_ROOT / ".github" / "scripts" / "floors.py"
    pins = subprocess.run(
        [sys.executable, str(script), str(REPO_ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"].values()
    declared = [*project["dependencies"], *(d for ds in extras for d in ds)]
    floors = [d.split(";")[0].strip().replace(">=", "==") for d in declared if ">=" in d]
    assert "click==8.2" in floors and set(floors) <= {p.split(";")[0].strip() for p in pins}
    assert not any(">=" in p for p in pins)
    steps_run = " ".join(s.run or "" for s in steps("ci.yml", "floors"))
    assert "floors.py > floors.txt" in steps_run and "pip install -r floors.txt" in steps_run


def test_apply_runs_on_push_and_by_hand_one_at_a_time_keeping_every_pending_run() -> None:
    caller = load("apply.yml")
    assert caller["on"]["push"] == {"branches": ["main"], "paths": STATE_PATHS}
    assert set(caller["on"]["workflow_dispatch"]["inputs"]) == {"merge", "checksum"}
    assert caller["jobs"]["apply"]["with"]["environment"] == "production"
    assert caller["jobs"]["apply"]["with"]["target"] == "sandbox"  # this repository's reconciler.yaml
    job = load("reusable-apply.yml")["jobs"]["apply"]
    # one queue per target (issue 20): two callers for one org in this repository wait for each other
    group = "reconciler-apply-${{ inputs.target || 'default' }}"
    assert job["concurrency"] == {"group": group, "cancel-in-progress": False, "queue": "max"}
    assert job["environment"] == "${{ inputs.environment }}"


def test_plan_runs_on_pull_request_target_and_no_pull_request_content_meets_a_secret() -> None:
    assert load("plan.yml")["on"] == {"pull_request_target": {"paths": STATE_PATHS}}
    base, data = [s for s in steps("reusable-plan.yml") if (s.uses or "").startswith("actions/checkout@")]
    assert "ref" not in base.raw["with"]  # pull_request_target's default: the base branch
    assert data.raw["with"]["ref"] == "${{ github.event.pull_request.head.sha }}"
    assert data.raw["with"]["path"] == ".pull-request" and data.raw["with"]["sparse-checkout"].split() == [
        "state/",
        "reconciler.yaml",
    ]
    for s in (base, data):
        assert s.raw["with"]["persist-credentials"] is False
    for s in steps("reusable-plan.yml"):
        text = yaml.safe_dump(s.raw)
        touches_head = ".pull-request" in text or "head.sha" in text
        if touches_head:  # checkout as data, stage as data, the comment's head binding: no Capillary secret
            assert "secrets." not in text, s.name
            assert "pip" not in (s.run or "") and "python" not in (s.run or ""), s.name
    [install] = [s for s in steps("reusable-plan.yml") if s.name == "Install"]
    assert install.env == {"INSTALL": "${{ inputs.install }}"}  # the base's tool, never the head's


def test_drift_shards_match_the_shard_count() -> None:
    assert set(load("drift.yml")["on"]) == {"schedule", "workflow_dispatch"}
    workflow = load("reusable-drift.yml")
    shards = workflow["jobs"]["plan"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(workflow["env"]["SHARDS"]) + 1))


@pytest.mark.parametrize("name", REUSABLE)
def test_secrets_reach_only_the_steps_that_talk_to_capillary(name: str) -> None:
    for s in steps(name):
        secret_env = {k for k, v in s.env.items() if "secrets." in v}
        if secret_env:
            assert secret_env == CAPILLARY_SECRETS, s.name
            assert TALKS_TO_CAPILLARY.search(s.run or ""), s.name
            assert "GITHUB_TOKEN" not in s.env, s.name
        if "GITHUB_TOKEN" in s.env:
            assert s.env["GITHUB_TOKEN"] == "${{ github.token }}"
            assert "reconciler github " in (s.run or ""), s.name
    for job in load(name)["jobs"].values():
        assert "secrets." not in yaml.safe_dump(job.get("env", {})), "no job-wide secrets"


@pytest.mark.parametrize("name", REUSABLE)
def test_every_plan_and_apply_masks_with_the_one_repository_key(name: str) -> None:
    runs = [s for s in steps(name) if TALKS_TO_CAPILLARY.search(s.run or "")]
    assert runs
    for s in runs:
        assert s.env.get("RECONCILER_MASK_KEY") == "${{ secrets.RECONCILER_MASK_KEY }}", s.name


def _check_argv(argv: list[str]) -> None:
    cmd: click.Command = main
    args = list(argv)
    while isinstance(cmd, click.Group) and args and not args[0].startswith("-"):
        sub = cmd.get_command(click.Context(cmd), args[0])
        assert sub is not None, f"'reconciler {args[0]}' does not exist"
        cmd, _ = sub, args.pop(0)
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
    for changed in ("state/customers.yaml", "desired/eu/customers.yml", "reconciler.yaml"):
        assert re.search(hook["files"], changed), changed  # whatever state_dir is configured
    assert not re.search(hook["files"], "README.md")
    _check_argv(hook["entry"].split()[1:])
