"""The one YAML module: a position-keeping YAML 1.2 reader, and how a file's path is shown in messages.

Both the configuration (``reconciler.config``) and the desired state (``reconciler.desired``) read YAML
through it, as octoDNS and pre-commit keep one ``yaml`` module that everything imports.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.yaml.reader import Pos, YList, YMap, position, read_yaml

__all__ = ["Pos", "YList", "YMap", "display_name", "position", "read_yaml"]


def display_name(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
