"""The one YAML module: a position-keeping YAML 1.2 reader, and how a file's path is shown in messages.

Both the configuration (``reconciler.config``) and the desired state (``reconciler.desired``) read YAML
through it, as octoDNS and pre-commit keep one ``yaml`` module that everything imports.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from reconciler.yaml.reader import Pos, YList, YMap, position, read_yaml

__all__ = ["Pos", "YList", "YMap", "display_name", "position", "read_yaml"]


def display_name(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else as given.

    Lexically first: a symbolic link is named as the link (the file a reviewer sees in the diff), and a
    loop of links is named at all.
    """
    cwd = Path.cwd()
    with contextlib.suppress(ValueError):
        return str(Path(os.path.abspath(path)).relative_to(cwd))
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except (ValueError, RuntimeError, OSError):  # not below the cwd; a symbolic link loop (Python < 3.13)
        return str(path)
