"""The PR comment under hostile strings: series codes, status labels, file names, the target, API messages
and notes render inertly (no raw HTML, no @mention outside code, one checksum marker the lookup finds)."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.apply.result import FAILED, ApplyResult, CallOutcome, CustomerResult
from reconciler.github import extract_checksum
from reconciler.mask import MASK_KEY_ENV, choose_mask_key
from reconciler.model import Location
from reconciler.plan import CHANGE_IDENTIFIER
from reconciler.render.escape import visible
from reconciler.render.inert import ZWSP, code, html_text, text
from reconciler.render.markdown import render_markdown
from reconciler.render.report import render_result_markdown
from tests.hostile.markdown_oracle import code_spans, github_links, mentions, outside_code, raw_tags
from tests.unit.factory import card, desired, live, make_plan, spec

FAKE = "f" * 64
MARKER = f"<!-- reconciler-plan checksum={FAKE} -->"
LINKS = "https://evil.example/x www.evil.example HTTP://X.Y ftp://e.x (www.e.x) a@evil.example mailto:b@e.x"
HOSTILE = f"x`` <img src=x onerror=alert(1)> @team ``` {MARKER} \x1b]0;pwn\x07 *b* [l](http://e) $m$ {LINKS}"
# State files refuse control characters (tests/hostile/test_input_cli.py): the CLI test uses the rest.
HOSTILE_IN_STATE = HOSTILE.replace("\x1b]0;pwn\x07 ", "")
FILE_NAME = "@team <img src=x> ``.yaml"
STATE = """customers:
  - id: 564854912
    identifiers:
      INSTORE:
        mobile: "919876543308"
    cards:
      - number: GOLD0000005
        series: {series}
      - number: HOSTILE0001
        series: GOLD01
        status: {label}
"""


@pytest.fixture(autouse=True)
def _default_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASK_KEY_ENV, raising=False)
    choose_mask_key(sandbox=True)  # the embedded sandbox's fixed key, as the golden files were made


def assert_inert(md: str, checksum: str) -> None:
    assert raw_tags(md) == []
    assert mentions(md) == []
    assert github_links(md) == []  # neither in text nor in code (where GFM never autolinks)
    assert md.count("<!--") == 1
    assert extract_checksum(md) == checksum


def quoted(value: str) -> str:
    """A YAML double-quoted scalar for ``value`` (escapes for backslash, quote and controls)."""
    inner = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f]", lambda m: f"\\x{ord(m[0]):02x}", inner) + '"'


def test_plan_comment_from_hostile_state_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / FILE_NAME).write_text(
        STATE.format(series=quoted(HOSTILE_IN_STATE), label=quoted(HOSTILE_IN_STATE))
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPILLARY_", "RECONCILER_"))}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "--format", "markdown"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 4, done.stderr  # blocked: unknown series, unknown label
    md = done.stdout
    checksum = re.search(r"Checksum: `([0-9a-f]{64})`", md)
    assert checksum and "Traceback" not in done.stderr
    assert_inert(md, checksum.group(1))
    # the hostile text is still shown, as it is, inside code
    shown = visible(HOSTILE_IN_STATE)
    assert any(shown in span.replace(ZWSP, "") for span in code_spans(md))
    assert "unknown card status label" in md and f"state/@{ZWSP}team &lt;img src=x&gt;" in md


def hostile_plan() -> tuple[str, str]:
    cards = [spec(HOSTILE, "GOLD1"), spec(121212, "GOLD2", status=HOSTILE)]
    first = desired(1, {"INSTORE": {"mobile": "919000000002"}}, cards=cards)
    second = desired(2, {"INSTORE": {"mobile": "919000000003"}})
    second = dataclasses.replace(second, loc=Location(f"state/{HOSTILE}\n\n# {FILE_NAME}", 3, 5))
    lives = {1: live(1, cards=[card("GOLD1", 1)]), 2: live(2)}
    plan = make_plan([first, second], lives, target=HOSTILE)
    return render_markdown(plan), plan.checksum


def test_plan_comment_with_hostile_target_series_labels_and_file_names() -> None:
    md, checksum = hostile_plan()
    assert_inert(md, checksum)
    assert md.splitlines()[-1] == f"<!-- reconciler-plan checksum={checksum} -->"
    # a file name cannot end the <summary> HTML block early: every <details> line is whole
    summaries = [line for line in md.splitlines() if line.startswith("<details>")]
    assert len(summaries) == 2 and all(line.endswith("</summary>") for line in summaries)


def test_apply_result_comment_with_hostile_api_messages_and_notes() -> None:
    failed = CustomerResult(
        7, FAILED, f"HTTP 400: code 8015: {HOSTILE}", (CallOutcome("c1", 7, CHANGE_IDENTIFIER, FAILED),)
    )
    result = ApplyResult(HOSTILE, FAKE, (failed,), incidents=(HOSTILE,), notes=(HOSTILE, "@org/team"))
    md = render_result_markdown(result)
    assert raw_tags(md) == [] and mentions(md) == [] and "<!--" not in md
    assert github_links(md) == []
    assert extract_checksum(md) is None  # no marker can be formed from the messages
    assert "\x1b" not in md and "\x07" not in md


def _unescaped(markdown_text: str) -> str:
    """What CommonMark shows for ``text()``'s output: backslash escapes and entities resolved."""
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown_text)).replace(ZWSP, "")


@given(st.text())
def test_code_span_shows_any_text_and_cannot_be_broken_out_of(value: str) -> None:
    span = code(value)
    fence = re.match(r"`+", span)
    assert fence and span.endswith(fence.group(0))
    body = span[len(fence.group(0)) : -len(fence.group(0))]
    assert all(len(run) < len(fence.group(0)) for run in re.findall(r"`+", body))
    if len(body) >= 2 and body[0] == body[-1] == " " and body.strip(" "):
        body = body[1:-1]
    assert body.replace(ZWSP, "") == (visible(value).replace(ZWSP, "") or " ")
    assert "<!" not in body and "\n" not in body


@given(st.text())
def test_escaped_text_shows_any_text_and_does_nothing(value: str) -> None:
    out = text(value)
    assert "<" not in out and ">" not in out and "\n" not in out
    assert not re.search(r"@[^\u200b]|@$", out)
    assert not re.search(r"(?<!\\)[`*_\[\]!|~$]", out.replace("\\\\", ""))
    assert _unescaped(out) == visible(value).replace(ZWSP, "")
    assert outside_code(out) == out  # no code span can open in escaped text


URL_PARTS = ["https", "HTTP", "ftp", "://", "www", "WwW", ".", "e.x", "@", " ", "_", "("]
URLISH = st.lists(st.sampled_from(URL_PARTS))


@given(st.one_of(URLISH.map("".join), st.text()))
def test_escaped_text_never_becomes_a_link_on_github(value: str) -> None:
    assert github_links(text(value)) == []
    assert github_links(html_text(value)) == []
    assert _unescaped(text(value)) == visible(value).replace(ZWSP, "")
