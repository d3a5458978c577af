"""The world the workflows run in: a git remote with main and pull-request branches, runner checkouts,
the sandbox as the Capillary API, and the fake GitHub knowing which pull request each merge came from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from reconciler.sandbox.server import SandboxServer

from .fake_github import fixture
from .harness import REPO_ROOT, Served, cli_shim, github_env
from .job_runner import JobRun, run_called

ZEROS = "0" * 40
MASK_KEY = "e2e-repository-mask-key"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_POSTS = frozenset({"/v3/oauth/token/generate", "/v2/bulk/getCustomers"})
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Alice",
    "GIT_AUTHOR_EMAIL": "alice@example.com",
    "GIT_COMMITTER_NAME": "Alice",
    "GIT_COMMITTER_EMAIL": "alice@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


class World:
    """origin (bare), a developer's clone with the demo state on main, and runners that clone origin."""

    def __init__(self, root: Path, sandbox: SandboxServer, served: Served) -> None:
        self.root, self.sandbox, self.served = root, sandbox, served
        self.origin, self.dev = root / "origin.git", root / "dev"
        self.secrets = {"CAPILLARY_OAUTH_KEY": "sandbox", "CAPILLARY_OAUTH_SECRET": "sandbox"}
        self.secrets["RECONCILER_MASK_KEY"] = MASK_KEY
        self._runs = 0
        self.heads: dict[int, str] = {}  # pull request -> its head commit
        self.git(root, "init", "-q", "--bare", "-b", "main", str(self.origin))
        self.git(root, "clone", "-q", str(self.origin), str(self.dev))
        shutil.copytree(REPO_ROOT / "state", self.dev / "state")
        config = {"api": {"url": sandbox.url, "auth": "oauth"}, "state_dir": "state"}
        config["manage"] = {"identifiers": ["mobile", "email", "externalId", "wechat"], "cards": True}
        (self.dev / "reconciler.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.git(self.dev, "symbolic-ref", "HEAD", "refs/heads/main")
        self.commit("the demo organisation's state")
        self.git(self.dev, "push", "-q", "origin", "main")

    def git(self, cwd: Path, *args: str) -> str:
        """Run git; its stdout."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | _GIT_ENV
        done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def commit(self, message: str) -> str:
        """Commit everything in the developer's clone; the new sha."""
        self.git(self.dev, "add", "-A")
        self.git(self.dev, "commit", "-q", "-m", message)
        return self.git(self.dev, "rev-parse", "HEAD")

    def open_pull_request(
        self, number: int, edits: Mapping[str, tuple[str, str]], new_files: Mapping[str, str] | None = None
    ) -> None:
        """Branch pr-N off main with each ``file: (old text, new text)`` replaced (and ``new_files``
        added), pushed to origin."""
        self.git(self.dev, "checkout", "-q", "-b", f"pr-{number}", "main")
        for name, (old, new) in edits.items():
            path = self.dev / name
            text = path.read_text(encoding="utf-8")
            assert text.count(old) == 1, f"{name}: {old!r} is not there exactly once"
            path.write_text(text.replace(old, new), encoding="utf-8")
        for name, text in (new_files or {}).items():
            (self.dev / name).parent.mkdir(parents=True, exist_ok=True)
            (self.dev / name).write_text(text, encoding="utf-8")
        self.heads[number] = self.commit(f"pull request #{number}")
        self.git(self.dev, "push", "-q", "origin", f"pr-{number}")
        self.git(self.dev, "checkout", "-q", "main")

    def merge(self, number: int) -> tuple[str, str]:
        """Merge pr-N into main with a merge commit and push; (before, after) as a push event has them."""
        before = self.git(self.dev, "rev-parse", "main")
        self.git(self.dev, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{number}", f"pr-{number}")
        self.git(self.dev, "push", "-q", "origin", "main")
        after = self.git(self.dev, "rev-parse", "HEAD")
        self.served.fake.pulls_by_commit[after] = [merged_pull(number, after, self.heads[number])]
        return before, after

    def checkout(self, ref: str | None = None, merge: str | None = None) -> Path:
        """A runner's fresh full clone of origin at main, or at ``ref``, or main with ``merge`` merged."""
        self._runs += 1
        work = self.root / f"run{self._runs}"
        self.git(self.root, "clone", "-q", str(self.origin), str(work))
        if ref is not None:
            self.git(work, "checkout", "-q", ref)
        if merge is not None:  # what refs/pull/N/merge holds: the pull request merged into its base
            self.git(work, "merge", "-q", "--no-ff", "-m", "merge ref", f"origin/{merge}")
        return work

    def runner_env(self, sha: str) -> dict[str, str]:
        """A runner's environment: GITHUB_* (API at the fake), the CLI on PATH, no stray secrets."""
        shim = cli_shim(self.root / "bin")
        env = github_env(self.served, GITHUB_SHA=sha)
        env = {k: v for k, v in env.items() if not k.startswith(("CAPILLARY_", "RECONCILER_", "GIT_"))}
        return env | _GIT_ENV | {"PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}

    def context(self, **github: str) -> dict[str, str]:
        """The ``${{ }}`` context: secrets, the token, and ``github.*`` values."""
        ctx = {f"secrets.{k}": v for k, v in self.secrets.items()}
        ctx["github.token"] = self.served.fake.token
        return ctx | {f"github.{k}": v for k, v in github.items()}

    def plan_pull_request(self, number: int) -> JobRun:
        """plan.yml on pull_request_target for pull request N: the two checkouts its steps make (the
        base branch, and the head's desired state only, sparse, in .pull-request), then its job."""
        work = self.checkout()
        head = self.heads[number]
        data = work / ".pull-request"
        self.git(self.root, "clone", "-q", "--no-checkout", str(self.origin), str(data))
        self.git(data, "sparse-checkout", "set", "--no-cone", "state/", "reconciler.yaml")
        self.git(data, "checkout", "-q", head)
        event = {"event.pull_request.number": str(number), "event.pull_request.head.sha": head}
        context = self.context(base_ref="main", **event)
        sha = self.git(work, "rev-parse", "HEAD")
        return run_called("plan.yml", "plan", "plan", self.runner_env(sha), context, work)

    def apply_push(self, before: str, sha: str) -> JobRun:
        """apply.yml on the push of ``sha`` onto ``before``."""
        work = self.checkout(sha)
        context = self.context(sha=sha, **{"event.before": before}) | {
            "inputs.merge": "",
            "inputs.checksum": "",
        }
        return run_called("apply.yml", "apply", "apply", self.runner_env(sha), context, work)

    def apply_dispatch(self, merge: str, checksum: str) -> JobRun:
        """apply.yml run by hand on main: approve ``merge``'s new plan by its ``checksum``."""
        sha = self.git(self.dev, "rev-parse", "main")
        work = self.checkout(sha)
        context = self.context(sha=sha, **{"event.before": ""}) | {
            "inputs.merge": merge,
            "inputs.checksum": checksum,
        }
        return run_called("apply.yml", "apply", "apply", self.runner_env(sha), context, work)

    def drift(self, shards: Iterable[int]) -> tuple[list[JobRun], JobRun]:
        """drift.yml: each shard's plan job on main, then the report job over their reports."""
        sha = self.git(self.dev, "rev-parse", "main")
        work = self.checkout()
        env = self.runner_env(sha)
        contexts = [self.context() | {"matrix.shard": str(k)} for k in shards]
        runs = [run_called("drift.yml", "drift", "plan", env, context, work) for context in contexts]
        report = self.checkout()
        (report / "drift").mkdir()
        for md in work.glob("drift-*.md"):  # what download-artifact (merge-multiple) puts there
            shutil.copy(md, report / "drift" / md.name)
        return runs, run_called("drift.yml", "drift", "report", self.runner_env(sha), self.context(), report)

    def writes(self) -> list[str]:
        """Every write the sandbox received since its log was last cleared."""
        return [
            f"{r['method']} {r['path']}"
            for r in self.sandbox.request_log()["requests"]
            if r["method"] in WRITE_METHODS and r["route"] not in READ_POSTS
        ]

    def identifiers(self, customer_id: int, source: str = "INSTORE") -> dict[str, str]:
        """A live customer's identifiers in one source profile, by type."""
        [customer] = [c for c in self.sandbox.dump()["customers"] if c["id"] == customer_id]
        [profile] = [p for p in customer["profiles"] if p["source"] == source]
        return {i["type"]: i["value"] for i in profile["identifiers"]}


def merged_pull(number: int, merge_sha: str, head: str) -> dict[str, Any]:
    """The recorded merged pull request, renumbered to ``number``, head ``head``, merged as ``merge_sha``."""
    pull: dict[str, Any]
    [pull] = fixture("commit_pulls_merged.json")
    url = str(pull["html_url"]).rsplit("/", 1)[0]
    fields = {"number": number, "merge_commit_sha": merge_sha, "html_url": f"{url}/{number}"}
    return pull | fields | {"head": pull["head"] | {"sha": head}}
