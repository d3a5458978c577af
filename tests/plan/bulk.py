"""Large generated organisations: state files written fast (string templates), seeds, a git repository."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.testing.seed import live_customer

BASE_ID = 20_000_000
PER_FILE = 1_000

BLOCK = """  - id: {id}
    identifiers:
      INSTORE:
        mobile: "{mobile}"
        email: {email}
"""


def cid(i: int) -> int:
    """The id of generated customer ``i``."""
    return BASE_ID + i


def mobile(i: int, generation: int = 7) -> str:
    """Generated customer ``i``'s mobile (a new ``generation`` gives a new number)."""
    return f"91{generation}{i:09d}"


def email(i: int) -> str:
    """Generated customer ``i``'s email."""
    return f"c{i}@example.com"


def seed_customers(n: int) -> list[dict[str, Any]]:
    """Seed records of generated customers 0..n-1, live exactly as declared."""
    return [live_customer(cid(i), {"mobile": mobile(i), "email": email(i)}) for i in range(n)]


def block(i: int, *, mobile_value: str | None = None, email_value: str | None = None, extra: str = "") -> str:
    """The YAML block declaring generated customer ``i`` (optionally with other values)."""
    return BLOCK.format(id=cid(i), mobile=mobile_value or mobile(i), email=email_value or email(i)) + extra


def write_files(state_dir: Path, blocks: dict[int, str]) -> None:
    """Write ``blocks`` (index -> YAML) into files of ``PER_FILE`` customers, by index."""
    state_dir.mkdir(parents=True, exist_ok=True)
    files: dict[int, list[str]] = {}
    for i in sorted(blocks):
        files.setdefault(i // PER_FILE, []).append(blocks[i])
    for n, parts in files.items():
        (state_dir / f"part{n:04d}.yaml").write_text("customers:\n" + "".join(parts), encoding="utf-8")


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` (an identity given inline; no global config touched)."""
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    done = subprocess.run([*cmd, "-C", str(root), *args], capture_output=True, text=True, check=True)
    return done.stdout


def commit_all(root: Path, message: str, paths: Iterable[str] = (".",)) -> str:
    """Initialise (if needed) and commit; returns the commit id."""
    if not (root / ".git").exists():
        git(root, "init", "-q")
    git(root, "add", *paths)
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()
