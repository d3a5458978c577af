"""README's quickstart, run as written: each command of its first ``sh`` block under "Quickstart on the
sandbox", in a copy of the demo repository, as a real subprocess; what each command's comment claims (its
exit code, the figures it quotes) is what the command does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What each quickstart command's comment says, in order: (the command, a fragment of its comment, its
# exit code, text its output holds).
CLAIMS = [
    ("reconciler validate", "20 customers in 3 files: ok", 0, "20 customers in 3 files: ok"),
    ("reconciler plan", "18 actions on 9 customers; exit 4", 4, "18 actions on 9 of 20 customers"),
    ("sed ", "give Lydia her own number back", 0, ""),
    ("reconciler plan", "16 actions on 8 customers, exit 0", 0, "16 actions on 8 of 20 customers"),
    ("reconciler apply", "runs 12 API calls, writes a journal", 0, "12 writes sent"),
    ("reconciler plan --detailed-exitcode", "No changes. exit 0", 0, "No changes."),
]
SIMULATED = "Simulated apply: 8 of 8 customers reach the declared state (12 calls)"


def _quickstart() -> list[tuple[str, str]]:
    """(command, its comment, continuation lines joined) of the quickstart's first sh block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Quickstart on the sandbox") :]
    block = re.search(r"^```sh\n(.*?)^```", section, flags=re.M | re.S)
    assert block
    steps: list[tuple[str, str]] = []
    for line in block.group(1).splitlines():
        command, _, comment = line.partition("#")
        if command.strip():
            steps.append((command.strip(), comment.strip()))
        elif steps:  # a comment continuing the one above
            steps[-1] = (steps[-1][0], f"{steps[-1][1]} {comment.strip()}")
    return steps


@pytest.mark.slow
def test_the_quickstart_runs_as_written(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "state", tmp_path / "state")
    shutil.copy(ROOT / "reconciler.yaml", tmp_path / "reconciler.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPILLARY_", "RECONCILER_"))}
    env["NO_COLOR"] = "1"
    steps = _quickstart()
    assert len(steps) == len(CLAIMS), steps
    checksum = ""
    for (command, comment), (starts, said, code, shown) in zip(steps, CLAIMS, strict=True):
        assert command.startswith(starts), f"README's quickstart now runs `{command}`"
        assert said in comment, f"README's comment on `{command}` no longer says {said!r}"
        argv = command.replace("<sha>", checksum)
        if argv.startswith("reconciler "):
            argv = f"{sys.executable} -m {argv}"
        done = subprocess.run(
            argv, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == code, f"`{command}` exited {done.returncode}: {done.stderr[-500:]}"
        assert shown in done.stdout, f"`{command}` printed:\n{done.stdout[-1500:]}"
        if said.startswith("16 actions"):  # the unblocked plan: proved on the twin, its checksum last
            assert SIMULATED in comment and SIMULATED in done.stdout
            found = re.search(r"^Checksum: ([0-9a-f]{64})$", done.stdout.splitlines()[-1])
            assert found, "the plan's last line is its checksum"
            checksum = found.group(1)
    assert any((tmp_path / ".reconciler" / "journal").iterdir()), "apply wrote a journal"
