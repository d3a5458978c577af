"""``reconciler init`` makes a state repository that validates, plans, passes actionlint, and whose
modelines resolve wherever a file is, imported ones included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from reconciler.schemas import SCHEMA_BASE, SCHEMA_DIR, SCHEMA_NAMES

from .harness import REPO_ROOT
from .test_actionlint import actionlint

MODELINE = "# yaml-language-server: $schema="


def reconciler(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "reconciler", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("state-repo")
    done = reconciler(root, "init")
    assert done.returncode == 0, done.stderr
    return root


def resolves(path: Path) -> Path:
    """The schema a file's modeline names, resolved from the file's own directory."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE), path
    schema = (path.parent / first.removeprefix(MODELINE)).resolve()
    assert schema.is_file(), f"{path}: {first} does not resolve"
    return schema


@pytest.mark.slow
def test_init_writes_the_repository_and_says_which_secrets_to_create(repo: Path) -> None:
    names = {p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()}
    assert {"reconciler.yaml", "state/customers.yaml", ".gitignore", ".pre-commit-config.yaml"} <= names
    assert {f".github/workflows/{n}.yml" for n in ("plan", "apply", "drift")} <= names
    again = reconciler(repo, "init")
    assert (
        again.returncode == 2 and "init never overwrites" in again.stderr and "Traceback" not in again.stderr
    )
    shown = reconciler(repo.parent, "init", f"{repo.name}-fresh").stdout
    for secret in ("CAPILLARY_OAUTH_KEY", "CAPILLARY_OAUTH_SECRET", "RECONCILER_MASK_KEY", '"production"'):
        assert secret in shown


@pytest.mark.slow
def test_its_workflows_call_the_reusable_ones_at_the_pinned_version_and_pass_actionlint(repo: Path) -> None:
    workflows = sorted((repo / ".github" / "workflows").glob("*.yml"))
    done = actionlint(*workflows)
    assert done.returncode == 0, done.stdout + done.stderr
    for path in workflows:
        [job] = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values()
        assert job["uses"].startswith("capillary-reconciler/reconciler/.github/workflows/reusable-")
        assert job["uses"].endswith("@v0.1.0") and job["with"]["install"] == "capillary-reconciler==0.1.0"


@pytest.mark.slow
def test_it_validates_and_plans_on_the_sandbox(repo: Path) -> None:
    assert reconciler(repo, "validate").returncode == 0
    planned = reconciler(repo, "plan", "--detailed-exitcode")
    assert planned.returncode == 0 and "No changes." in planned.stdout, planned.stderr


@pytest.mark.slow
def test_modelines_resolve_in_the_repository_and_one_directory_down(repo: Path) -> None:
    done = reconciler(repo, "import", "--id", "564854782", "--file-per-customer", "--out", "state/customers/")
    assert done.returncode == 0, done.stderr
    [imported] = (repo / "state" / "customers").glob("*.yaml")
    files = [repo / "reconciler.yaml", repo / "state" / "customers.yaml", imported]
    for path in files:
        schema = json.loads(resolves(path).read_text(encoding="utf-8"))
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)
    assert imported.read_text(encoding="utf-8").startswith(f"{MODELINE}../../schemas/state.schema.json\n")
    assert reconciler(repo, "validate").returncode == 0


def test_the_schemas_ids_share_one_base() -> None:
    for name in SCHEMA_NAMES:
        assert json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))["$id"] == SCHEMA_BASE + name
