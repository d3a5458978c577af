"""Print pip requirements pinning every direct dependency (and the test extra) at its declared floor.

CI installs these and runs the suite, so a floor in pyproject.toml is a version the tests pass at.
A requirement without a floor is printed as it is.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

FLOOR = re.compile(r"^([A-Za-z0-9_.\[\]-]+)\s*>=\s*([^,;\s]+)(.*)$")


def pinned(requirement: str) -> str:
    """``name>=X[; marker]`` as ``name==X[; marker]``."""
    match = FLOOR.match(requirement.strip())
    return f"{match.group(1)}=={match.group(2)}{match.group(3)}" if match else requirement


def main() -> None:
    project = tomllib.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml").read_text())[
        "project"
    ]
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        print(pinned(requirement))


if __name__ == "__main__":
    main()
