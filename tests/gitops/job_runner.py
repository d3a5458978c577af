"""Run one job of a workflow as GitHub's runner would: its steps in order, their ``if:``, env and outputs.

Each ``run:`` step is the script as written, in bash -e -o pipefail, with the workflow's, job's and
step's env resolved from a context (``github.*``, ``secrets.*``, ``matrix.*``, earlier steps' outputs).
``uses:`` steps are the test's to play (checkout, artifacts): here they succeed without doing anything.
The install step is replaced by the ``reconciler`` shim already on PATH. An ``if:`` this runner does not
understand fails the test, so a workflow change cannot silently skip what the test means to run.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .harness import run_step_script
from .workflow_steps import Step, load, resolve_env, steps

_STATUS = {"always()", "success()", "failure()", "!cancelled()", "cancelled()"}
_OUTCOME = re.compile(r"steps\.([\w-]+)\.outcome\s*(==|!=)\s*'(\w+)'")
_HASH = re.compile(r"hashFiles\('([^']+)'\)\s*(==|!=)\s*''")


@dataclass
class StepResult:
    """What one step did: outcome success, failure or skipped; its exit code, output and outputs."""

    name: str
    outcome: str
    code: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobRun:
    """The steps of one job run, by name, in order."""

    steps: dict[str, StepResult]
    summary: str
    work: Path

    @property
    def failed(self) -> bool:
        """Whether any step failed (the job's conclusion)."""
        return any(s.outcome == "failure" for s in self.steps.values())


def called(workflow: str, job: str, context: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The reusable workflow a caller's job runs (``uses: ./.github/workflows/X``), with the
    ``inputs.*`` and ``secrets.*`` the call passes it (defaults for the inputs it leaves out)."""
    spec = load(workflow)["jobs"][job]
    target = str(spec["uses"]).removeprefix("./.github/workflows/")
    declared = load(target)["on"]["workflow_call"]
    passed = resolve_env({k: str(v) for k, v in (spec.get("with") or {}).items()}, context)
    inputs = {k: str(v.get("default", "")) for k, v in (declared.get("inputs") or {}).items()} | passed
    secrets = resolve_env({k: str(v) for k, v in (spec.get("secrets") or {}).items()}, context)
    ctx = {f"inputs.{k}": v for k, v in inputs.items()} | {f"secrets.{k}": v for k, v in secrets.items()}
    return target, ctx


def run_called(
    workflow: str, job: str, called_job: str, env: dict[str, str], context: dict[str, str], work: Path
) -> JobRun:
    """Run ``called_job`` of the reusable workflow that ``job`` of caller ``workflow`` uses."""
    target, ctx = called(workflow, job, context)
    plain = {k: v for k, v in context.items() if not k.startswith(("inputs.", "secrets."))}
    return run_job(target, called_job, env, plain | ctx, work)


def run_job(workflow: str, job: str, env: dict[str, str], context: dict[str, str], work: Path) -> JobRun:
    """Run ``job`` of ``workflow`` in ``work`` with the runner ``env`` and expression ``context``."""
    spec = load(workflow)
    files = Path(tempfile.mkdtemp(prefix=f"{work.name}-{job}-", dir=work.parent))  # runner's own files
    summary = files / "step_summary.md"
    summary.write_text("", encoding="utf-8")
    base = env | {"GITHUB_STEP_SUMMARY": str(summary)}
    ctx = dict(context)
    for scope in (spec.get("env") or {}, spec["jobs"][job].get("env") or {}):
        resolved = resolve_env({k: str(v) for k, v in scope.items()}, ctx)
        base |= resolved
        ctx |= {f"env.{k}": v for k, v in resolved.items()}
    done: dict[str, StepResult] = {}
    for s in steps(workflow, job):
        result = _run_step(s, base, ctx, work, done, files / f"output-{len(done)}")
        done[s.name] = result
        if "id" in s.raw:
            ctx[f"steps.{s.raw['id']}.outcome"] = result.outcome
            ctx |= {f"steps.{s.raw['id']}.outputs.{k}": v for k, v in result.outputs.items()}
    return JobRun(done, summary.read_text(encoding="utf-8"), work)


def _run_step(
    s: Step, env: dict[str, str], ctx: dict[str, str], work: Path, done: dict[str, StepResult], output: Path
) -> StepResult:
    if not _condition(str(s.raw.get("if", "")), ctx, work, done):
        return StepResult(s.name, "skipped")
    if s.run is None or s.run.startswith("python -m pip install"):
        return StepResult(s.name, "success")
    output.write_text("", encoding="utf-8")
    step_env = env | resolve_env(s.env, ctx) | {"GITHUB_OUTPUT": str(output)}
    proc = run_step_script(s.run, step_env, work)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    outcome = "success" if proc.returncode == 0 else "failure"
    return StepResult(s.name, outcome, proc.returncode, proc.stdout, proc.stderr, outputs)


def _condition(expr: str, ctx: dict[str, str], work: Path, done: dict[str, StepResult]) -> bool:
    """Evaluate the ``&&`` of the terms GitHub's expressions offer that our workflows use."""
    expr = expr.strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2].strip()
    terms = [t.strip() for t in expr.split("&&")] if expr else []
    if not any(t in _STATUS for t in terms):
        terms.insert(0, "success()")  # GitHub's implicit status check
    return all(_term(t, ctx, work, done) for t in terms)


def _term(term: str, ctx: dict[str, str], work: Path, done: dict[str, StepResult]) -> bool:
    failed = any(r.outcome == "failure" for r in done.values())
    fixed = {"always()": True, "!cancelled()": True, "cancelled()": False}
    if term in fixed:
        return fixed[term]
    if term in ("success()", "failure()"):
        return failed == (term == "failure()")
    if m := _OUTCOME.fullmatch(term):
        equal = ctx.get(f"steps.{m.group(1)}.outcome") == m.group(3)
        return equal == (m.group(2) == "==")
    if m := _HASH.fullmatch(term):
        exists = any(work.glob(m.group(1)))
        return exists == (m.group(2) == "!=")
    raise ValueError(f"job_runner: unsupported if: term {term!r}")
