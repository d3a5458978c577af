"""Terminal and CI-log output under hostile strings: one GitHub annotation per problem with its
properties escaped as the Actions toolkit escapes them; control characters shown escaped in text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.mask import MASK_KEY_ENV, choose_mask_key
from reconciler.render.escape import visible, visible_styled, workflow_data, workflow_property
from reconciler.render.text import render_text
from tests.unit.factory import card, desired, live, make_plan, spec

BAD = "customers:\n  - id: 0\n"
TITLE = "\x1b]0;pwned\x07\x1b[2J\u202e\x9b"  # retitle, bell, clear screen, RTL override, C1 CSI


@pytest.fixture(autouse=True)
def _default_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASK_KEY_ENV, raising=False)
    choose_mask_key(sandbox=True)  # the embedded sandbox's fixed key, as the golden files were made


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPILLARY_", "RECONCILER_"))}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env={**env, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_github_annotation_escapes_a_hostile_file_name(tmp_path: Path) -> None:
    name = "a\nb,line=9::c%0A%d\r.yaml"
    (tmp_path / name).write_text(BAD)
    done = run(tmp_path, "validate", "--format", "github", name)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("::error file=a%0Ab%2Cline=9%3A%3Ac%250A%25d%0D.yaml,line=2,col=9::")
    # the toolkit's reading: properties split at ",", then "=" ; the message after the first "::"
    head, _, message = lines[0].partition("::error ")[2].partition("::")
    props = dict(p.split("=", 1) for p in head.split(","))
    assert set(props) == {"file", "line", "col"} and "customer id must be" in message


def test_workflow_escaping_is_the_toolkits() -> None:
    # @actions/core command.ts: escapeData and escapeProperty
    assert workflow_data("50%\r\nnext::x,y") == "50%25%0D%0Anext::x,y"
    assert workflow_property("50%\r\nnext::x,y") == "50%25%0D%0Anext%3A%3Ax%2Cy"


def test_validate_text_shows_control_characters_escaped(tmp_path: Path) -> None:
    name = f"state{TITLE}.yaml"
    (tmp_path / name).write_text(BAD)
    done = run(tmp_path, "validate", name)
    assert done.returncode == 1
    assert (
        done.stdout == f"state{visible(TITLE)}.yaml:2:9: customer id must be a positive integer, not int 0\n"
    )
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\u202e\\u009b" in done.stdout


def test_error_line_shows_control_characters_escaped(tmp_path: Path) -> None:
    done = run(tmp_path, "plan", "--config", f"cfg{TITLE}\n.yaml")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [f"error: --config cfg{visible(TITLE)}\\x0a.yaml: no such file"]


def test_a_hostile_series_in_state_is_refused_in_one_escaped_line(tmp_path: Path) -> None:
    """Control characters never reach a plan (the rules refuse them); the refusal itself shows none raw."""
    (tmp_path / "state").mkdir()
    series = TITLE.encode("unicode_escape").decode().replace('"', '\\"')
    (tmp_path / "state" / "c.yaml").write_text(
        "customers:\n  - id: 564854912\n    cards:\n"
        f'      - number: GOLD0000005\n        series: "{series}"\n'
    )
    done = run(tmp_path, "plan")
    assert done.returncode == 1, done.stdout + done.stderr
    assert not any(c in done.stdout + done.stderr for c in "\x1b\x07\u202e\x9b")
    assert "state/c.yaml:5:17: series code holds an invisible control character" in done.stderr
    assert "Traceback" not in done.stderr


def test_text_render_escapes_values_but_keeps_its_own_colours() -> None:
    cards = [spec(TITLE, "GOLD1"), spec(121212, "GOLD2", status=TITLE)]
    plan = make_plan(
        [desired(1, {"INSTORE": {"mobile": "919000000002"}}, cards=cards)],
        {1: live(1, cards=[card("GOLD1", 1)])},
        target=TITLE,
    )
    plain = render_text(plan, show_values=True)
    assert not any(c in plain for c in "\x1b\x07\u202e\x9b")
    assert plain.startswith(f"Target: {visible(TITLE)}\n")
    painted = render_text(plan, color=True, show_values=True)
    assert "\x1b[1;31m" in painted and "\x07" not in painted
    assert visible_styled(painted) == painted  # only our SGR colours are escape sequences


@given(st.text())
def test_json_printed_through_the_terminal_escaping_reads_back_the_same(value: str) -> None:
    printed = visible(json.dumps({"v": value}, ensure_ascii=False), keep="\n")
    assert json.loads(printed) == {"v": value}
