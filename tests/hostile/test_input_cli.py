"""Hostile state and config files through the real CLI (issue 11, input half).

Each case runs ``reconciler`` as a subprocess in a fresh repository and asserts the exit code, exactly one
problem line, the exact hint where there is one, and that no traceback is printed. A case that used to hang
(a FIFO) runs under a timeout, so a hang fails instead of blocking the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HEADER = "customers:\n  - id: 1\n"


@dataclass
class Repo:
    root: Path

    def state(self, text: str, name: str = "a.yaml") -> Path:
        path = self.root / "state" / name
        path.write_text(text, encoding="utf-8")
        return path

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            cwd=cwd or self.root,
            capture_output=True,
            text=True,
            timeout=60,  # a hang (a FIFO opened for reading) fails the test instead of blocking it
            env={**os.environ, "NO_COLOR": "1"},
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr
        assert "Traceback" not in done.stdout, done.stdout
        return done

    def validate(self, *args: str) -> str:
        """The one problem line ``validate`` reports (exit 1)."""
        done = self.run("validate", *args)
        assert done.returncode == 1, (done.stdout, done.stderr)
        lines = done.stdout.splitlines()
        assert len(lines) == 1, lines
        assert done.stderr == "1 problem in 1 file\n", done.stderr
        return lines[0]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    (root / "state").mkdir(parents=True)
    (root / "reconciler.yaml").write_text("state_dir: state\n", encoding="utf-8")
    return Repo(root)


# Hints that used to change the meaning: the hint quotes exactly what was written, and is the only problem.
HINTS = [
    (
        "      INSTORE: {mobile: 0919876543210}\n",
        'state/a.yaml:4:25: mobile must be a string, not int 0919876543210: quote it ("0919876543210")',
    ),
    (
        "      - {number: 0012345, series: 121212}\n",
        'state/a.yaml:4:18: card number must be a string, not int 0012345: quote it ("0012345")',
    ),
    (
        "      - {number: 4000E0001, series: 121212}\n",
        'state/a.yaml:4:18: card number must be a string, not float 4000E0001: quote it ("4000E0001")',
    ),
]


@pytest.mark.parametrize(("body", "expected"), HINTS, ids=["mobile", "number 0012345", "number 4000E0001"])
@pytest.mark.slow
def test_a_quote_it_hint_quotes_the_exact_text(repo: Repo, body: str, expected: str) -> None:
    key = "    identifiers:\n" if "mobile" in body else "    cards:\n"
    repo.state(HEADER + key + body)
    assert repo.validate() == expected


def test_following_the_hint_keeps_the_leading_zero(repo: Repo) -> None:
    repo.state(HEADER + '    identifiers:\n      INSTORE: {mobile: "0919876543210"}\n')
    done = repo.run("validate", "--format", "json")
    assert done.returncode == 0 and done.stdout == "[]\n", done.stdout


@pytest.mark.parametrize("text", [".inf", "-.inf", ".nan", "1e400"])
def test_a_non_finite_number_in_state_is_one_problem(repo: Repo, text: str) -> None:
    repo.state(f"customers:\n  - id: {text}\n")
    col = 9
    assert repo.validate() == (
        f'state/a.yaml:2:{col}: {text} is not a finite number: quote it ("{text}") if it is text'
    )


def test_a_non_finite_number_in_the_config_is_one_line(repo: Repo) -> None:
    (repo.root / "reconciler.yaml").write_text("api:\n  timeout_seconds: .nan\n", encoding="utf-8")
    repo.state("customers: []\n")
    done = repo.run("validate")
    assert done.returncode == 1, done.stderr
    assert (
        done.stdout == 'reconciler.yaml:2:20: .nan is not a finite number: quote it (".nan") if it is text\n'
    )
    assert done.stderr == "1 problem in 1 file\n"


def test_an_integer_of_5000_digits_is_one_problem(repo: Repo) -> None:
    repo.state(f"customers:\n  - id: {'9' * 5000}\n")
    assert repo.validate() == "state/a.yaml:2:9: a number of 5000 digits is too large: quote it if it is text"


@pytest.mark.parametrize("value", [2**63, 0, -1])
@pytest.mark.slow
def test_a_customer_id_outside_64_bits_is_refused_before_any_call(repo: Repo, value: int) -> None:
    repo.state(f"customers:\n  - id: {value}\n")
    line = repo.validate()
    assert line.startswith("state/a.yaml:2:9: customer id ")
    done = repo.run("plan", "--all")  # the embedded sandbox is never asked about it
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [line] and done.stdout == ""


def test_a_merge_with_id_beyond_64_bits_is_one_problem(repo: Repo) -> None:
    repo.state(f"{HEADER}    allow: {{merge_with: [{2**64}]}}\n")
    assert repo.validate() == (
        "state/a.yaml:3:26: merge_with holds customer ids: 18446744073709551616 is out of range "
        "(at most 9223372036854775807)"
    )


def test_a_symlink_loop_is_one_problem(repo: Repo) -> None:
    (repo.root / "state" / "loop.yaml").symlink_to("loop.yaml")
    assert repo.validate() == "state/loop.yaml:1:1: symbolic link loop"


def test_a_fifo_is_refused_without_opening_it(repo: Repo) -> None:
    os.mkfifo(repo.root / "state" / "x.yaml")
    assert repo.validate() == "state/x.yaml:1:1: is a FIFO (named pipe), not a regular file"


def test_a_fifo_named_on_the_command_line_does_not_hang(repo: Repo) -> None:
    os.mkfifo(repo.root / "state" / "x.yaml")
    assert repo.validate("state/x.yaml") == "state/x.yaml:1:1: is a FIFO (named pipe), not a regular file"


def test_a_directory_named_like_a_state_file_is_one_problem(repo: Repo) -> None:
    (repo.root / "state" / "d.yaml").mkdir()
    assert repo.validate() == "state/d.yaml:1:1: is a directory, not a regular file"


@pytest.mark.slow
def test_a_device_is_refused(repo: Repo) -> None:
    (repo.root / "state" / "null.yaml").symlink_to("/dev/null")  # outside the repository, and a device
    assert repo.validate().startswith("state/null.yaml:1:1: resolves outside the repository")
    assert repo.validate("/dev/null") == "/dev/null:1:1: is a character device, not a regular file"


@pytest.mark.slow
def test_a_link_out_of_the_repository_is_refused_and_never_read(repo: Repo, tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere.yaml"
    secret.write_text("customers:\n  - id: 5\n    identifiers: {INSTORE: {email: SECRET-VALUE}}\n")
    (repo.root / "state" / "x.yaml").symlink_to(secret)
    done = repo.run("validate", "--format", "github")
    assert done.returncode == 1
    assert "SECRET-VALUE" not in done.stdout + done.stderr
    assert repo.validate() == (
        "state/x.yaml:1:1: resolves outside the repository (a symbolic link out of it): refused, not read"
    )


def test_a_link_inside_the_repository_is_read(repo: Repo) -> None:
    (repo.root / "shared.yaml").write_text(HEADER, encoding="utf-8")
    (repo.root / "state" / "x.yaml").symlink_to(repo.root / "shared.yaml")
    done = repo.run("validate")
    assert (done.returncode, done.stdout) == (0, "1 customer in 1 file: ok\n"), done.stderr


INVISIBLE = [
    (
        "newline",
        'externalId: "a\\nb"',
        "externalId holds a line break (U+000A at character 2): a value is one line",
    ),
    (
        "escape",
        'externalId: "a\\eb"',
        "externalId holds an invisible control character (U+001B at character 2): write visible text only",
    ),
    (
        "rtl override",
        'externalId: "abc\\u202Efed"',
        "externalId holds a bidirectional control (U+202E at character 4): it changes how the value is shown",
    ),
    (
        "tab",
        'externalId: "a\\tb"',
        "externalId holds an invisible control character (U+0009 at character 2): write visible text only",
    ),
    ("leading space", 'externalId: " abc"', "externalId has leading or trailing whitespace: remove it"),
    ("trailing space", 'externalId: "abc "', "externalId has leading or trailing whitespace: remove it"),
]


@pytest.mark.parametrize(("value", "message"), [c[1:] for c in INVISIBLE], ids=[c[0] for c in INVISIBLE])
def test_a_value_nobody_can_see_is_one_problem(repo: Repo, value: str, message: str) -> None:
    repo.state(f"{HEADER}    identifiers:\n      INSTORE: {{{value}}}\n")
    assert repo.validate() == f"state/a.yaml:4:29: {message}"


@pytest.mark.slow
def test_a_wechat_value_with_a_newline_is_refused_before_any_write(repo: Repo) -> None:
    repo.state(f'{HEADER}    identifiers:\n      WECHAT:wx-1: {{wechat: "oX\\u2028y"}}\n')
    line = repo.validate()
    assert line == "state/a.yaml:4:29: wechat holds a line break (U+2028 at character 3): a value is one line"
    done = repo.run("plan", "--all")
    assert done.returncode == 1 and done.stderr.splitlines() == [line]


def test_a_card_number_with_a_control_character_is_one_problem(repo: Repo) -> None:
    repo.state(f'{HEADER}    cards:\n      - {{number: "GOLD\\x7f1", series: 121212}}\n')
    assert repo.validate() == (
        "state/a.yaml:4:18: card number holds an invisible control character (U+007F at character 5): "
        "write visible text only"
    )


def test_a_tab_that_is_not_indentation_is_not_called_indentation(repo: Repo) -> None:
    repo.state(f"{HEADER}\t\n")  # valid YAML (a tab on a blank line) that libyaml refuses
    line = repo.validate()
    assert line.startswith("state/a.yaml:3:1: YAML syntax: ") and "indent with spaces" not in line


def test_a_tab_that_is_indentation_says_so(repo: Repo) -> None:
    repo.state("customers:\n\t- id: 1\n")
    assert repo.validate() == "state/a.yaml:2:1: YAML syntax: tab character: indent with spaces"


def test_validate_outside_a_repository_says_what_is_missing(tmp_path: Path) -> None:
    done = Repo(tmp_path).run("validate")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "error: no reconciler.yaml and no state/ here: run in a reconciler repository or pass --config\n"
    )
