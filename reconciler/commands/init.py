"""``reconciler init``: scaffold a state repository that adopts the GitOps workflows in minutes.

It writes reconciler.yaml, an empty state directory, .gitignore, the three calling workflows (a few
lines each: the work is in this project's reusable workflows, at a pinned tag, installing the tool at
the same version), the JSON Schemas the modelines point at, and a pre-commit config; then it says
which secrets and which environment to create. It never overwrites a file.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click
import yaml

from reconciler import __version__
from reconciler.config import CONFIG_FILE
from reconciler.errors import EXIT_OK, UsageError
from reconciler.github._scaffold import calling_workflows
from reconciler.schemas import SCHEMA_DIR, SCHEMA_NAMES, modeline

DISTRIBUTION = "capillary-reconciler"
HOME = "capillary-reconciler/reconciler"  # the GitHub repository holding the reusable workflows

GITIGNORE = """\
# reconciler: the embedded sandbox's database, and what the workflows write in their checkout
.reconciler/
.pull-request/
apply-results/
queue.json
plan.md
plan.json
target-note.md
drift/
drift-*.md
"""

NEXT_STEPS = """\
Next steps:
  1. Repository secrets (Settings > Secrets and variables > Actions):
       CAPILLARY_OAUTH_KEY, CAPILLARY_OAUTH_SECRET  a READ-ONLY Capillary API client (plan, drift)
       RECONCILER_MASK_KEY                          any long random string; one repository secret
                                                    (plan and apply must mask with the same key)
  2. Environment "production" (Settings > Environments), with required reviewers and main only:
       CAPILLARY_OAUTH_KEY, CAPILLARY_OAUTH_SECRET  the WRITE Capillary API client (apply)
  3. Set api.url in {config} to your Capillary API host, declare customers under {state_dir}/
     (or `reconciler import --file-per-customer --out {state_dir}/customers/`), and open a pull request.
"""


def _config_text(root: Path, api_url: str, state_dir: str) -> str:
    data = {
        "api": {"url": api_url, "auth": "oauth"},
        "default_source": "INSTORE",
        "manage": {"identifiers": ["mobile", "email", "externalId"], "cards": True},
        "state_dir": state_dir,
    }
    header = modeline("config.schema.json", root / CONFIG_FILE, root, local_copy=True)
    return header + yaml.safe_dump(data, sort_keys=False)


def scaffold(
    root: Path, *, api_url: str, state_dir: str, home: str, ref: str, install: str
) -> dict[Path, str]:
    """The files ``init`` writes besides reconciler.yaml and the state directory, by path."""
    files = {
        root / "schemas" / name: (SCHEMA_DIR / name).read_text(encoding="utf-8") for name in SCHEMA_NAMES
    }
    host = urlsplit(api_url).hostname or api_url
    workflows = calling_workflows(f"{home}/.github/workflows/", f"@{ref}", install, state_dir, host)
    files |= {root / ".github" / "workflows" / name: text for name, text in workflows.items()}
    files[root / ".gitignore"] = GITIGNORE
    files[root / ".pre-commit-config.yaml"] = yaml.safe_dump(
        {
            "repos": [
                {"repo": f"https://github.com/{home}", "rev": ref, "hooks": [{"id": "reconciler-validate"}]}
            ]
        },
        sort_keys=False,
    )
    return files


def _write(files: dict[Path, str]) -> None:
    existing = [p for p in files if p.exists()]
    if existing:
        raise UsageError(f"{existing[0]} exists; init never overwrites (run it in a new directory)")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option("--api-url", default="sandbox", show_default=True, help="The Capillary API base URL.")
@click.option("--state-dir", default="state", show_default=True, help="Where the customer YAML lives.")
@click.option("--workflows-from", "home", default=HOME, show_default=True, help="OWNER/REPO of the tool.")
@click.option("--ref", default=f"v{__version__}", show_default=True, help="Its tag the workflows call.")
@click.option("--install", default=f"{DISTRIBUTION}=={__version__}", show_default=True, help="pip spec.")
def command(directory: Path, api_url: str, state_dir: str, home: str, ref: str, install: str) -> int:
    """Scaffold a state repository: config, state/, workflows, schemas; then say what secrets to create."""
    if state_dir.strip("/") in ("", ".") or ".." in Path(state_dir).parts or Path(state_dir).is_absolute():
        raise UsageError(f"--state-dir {state_dir!r}: expected a directory inside the repository, e.g. state")
    root = directory
    files = scaffold(root, api_url=api_url, state_dir=state_dir, home=home, ref=ref, install=install)
    files[root / CONFIG_FILE] = _config_text(root, api_url, state_dir)
    example = root / state_dir / "customers.yaml"
    files[example] = modeline("state.schema.json", example, root, local_copy=True) + "customers: []\n"
    _write(files)
    for path in sorted(files):
        click.echo(f"wrote {path}")
    click.echo("\n" + NEXT_STEPS.format(config=CONFIG_FILE, state_dir=state_dir))
    return EXIT_OK
