"""Reading one YAML file into plain data that remembers where every value was written.

The C parser (libyaml) streams events and this module composes them iteratively, so a deeply nested
document cannot exhaust the stack. Mappings become ``YMap`` and sequences ``YList`` (a ``dict`` / ``list``
that also carry 1-based positions); scalars are plain Python values resolved with the YAML 1.2 core
schema (so ``no`` stays a string and ``0123`` is not octal).

Deliberately rejected, each with a one-line problem at its position: aliases (``*name``: a reviewer must
see every value where it applies), merge keys (``<<``), explicit tags other than the standard ones,
complex keys, keys that are not strings, duplicate keys (both locations), more than one document per
file, nesting deeper than ``MAX_DEPTH``, files that are not regular or larger than ``MAX_BYTES``, bytes
that are not UTF-8, and numbers Python cannot hold (``.inf``, ``.nan``, integers of thousands of digits).

Every plain scalar that resolved to something other than a string keeps its source text
(``ParsedFile.source``, by position), so a hint can quote exactly what the user wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import Problem
from reconciler.yaml.files import MAX_BYTES, NotReadable, read_regular
from reconciler.yaml.nodes import Pos, YList, YMap, position
from reconciler.yaml.scalars import INT, INVALID, RESOLVE_FIRST, resolve_plain, unrepresentable

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml missing: same behaviour, slower
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 64
__all__ = ["INVALID", "MAX_BYTES", "MAX_DEPTH", "ParsedFile", "Pos", "YList", "YMap", "position", "read_yaml"]


@dataclass(slots=True)
class ParsedFile:
    """One file's data (``None`` for an empty file), the problems found reading it, and the source text of
    every scalar that did not resolve to a string (by position)."""

    name: str
    data: Any = None
    problems: list[Problem] = field(default_factory=list)
    source: dict[Pos, str] = field(default_factory=dict)


# "!" is left out: the spec reads "! 12" as the string "12", PyYAML as the integer 12; refused, not guessed
_STR_TAGS = frozenset({None, "tag:yaml.org,2002:str"})


def read_yaml(path: Path, name: str) -> ParsedFile:
    """Read and compose one YAML file; every problem is reported, nothing raises."""
    result = ParsedFile(name)
    try:
        raw = read_regular(path)
    except NotReadable as exc:
        result.problems.append(Problem(name, 1, 1, str(exc)))
        return result
    return parse_bytes(raw, result)


def parse_bytes(raw: bytes, result: ParsedFile) -> ParsedFile:
    """Decode and compose ``raw`` into ``result`` (``read_yaml`` without the file)."""
    text = _decode(raw, result)
    if text is not None:
        _Composer(text, result).run()
    return result


def _decode(raw: bytes, result: ParsedFile) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        result.problems.append(Problem(result.name, line, col, f"not UTF-8: byte 0x{raw[exc.start]:02x}"))
        return None


class _Stop(Exception):
    """Composition cannot go on (syntax error, too deep); the problem is already recorded."""


class _Composer:
    """Builds YMap/YList/scalars from parser events with an explicit stack (no recursion)."""

    def __init__(self, text: str, result: ParsedFile) -> None:
        self.text = text
        self.result = result
        self.problems = result.problems
        self.name = result.name
        self.source = result.source

    def problem(self, pos: Pos, message: str) -> None:
        self.problems.append(Problem(self.name, pos[0], pos[1], message))

    def run(self) -> None:
        loader = _Loader(self.text)
        try:
            self.result.data = self._compose(loader)
        except _Stop:
            self.result.data = None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            pos = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            self.problem(pos, self._syntax_message(pos, str(exc.problem or exc.context)))
            self.result.data = None
        except yaml.reader.ReaderError as exc:
            before = self.text[: exc.position]
            pos = (before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
            char = exc.character if isinstance(exc.character, int) else ord(exc.character)
            self.problem(pos, f"character U+{char:04X} is not allowed in YAML")
            self.result.data = None
        except yaml.YAMLError as exc:
            self.problem((1, 1), f"YAML: {str(exc).splitlines()[0]}")
            self.result.data = None
        finally:
            loader.dispose()

    def _syntax_message(self, pos: Pos, problem: str) -> str:
        lines = self.text.splitlines()
        line = lines[pos[0] - 1] if pos[0] <= len(lines) else ""
        content = line.lstrip(" \t")
        indent = line[: len(line) - len(content)]
        # A tab is indentation only where a line starts with it and goes on with block content: a tab
        # after spaces, on a blank line or before a flow collection is separation (valid YAML that
        # libyaml refuses), and "indent with spaces" would mislead there.
        if (
            indent.startswith("\t")
            and content[:1] not in ("", "[", "]", "{", "}", "#")
            and pos[1] <= len(indent) + 1
        ):
            return "YAML syntax: tab character: indent with spaces"
        return f"YAML syntax: {problem}"

    def _compose(self, loader: Any) -> Any:
        get = loader.get_event
        get()  # StreamStart
        event = get()
        if isinstance(event, yaml.StreamEndEvent):
            return None
        data = self._document(get)  # event was DocumentStart
        get()  # DocumentEnd
        event = get()
        if not isinstance(event, yaml.StreamEndEvent):
            self.problem(_pos(event.start_mark), "only one YAML document per file (remove this '---')")
        return data

    def _document(self, get: Any) -> Any:
        # Long because: one tight loop over events is the hot path of loading 100,000 customers; a
        # function per event kind would add a Python call to each of the millions of events.
        stack: list[tuple[Any, Any, Any]] = []  # enclosing (container, pending key, key position)
        container: Any = None
        key: Any = _NO_KEY
        kpos: Pos = (1, 1)
        while True:
            event = get()
            kind = type(event)
            if kind is _SCALAR:
                mark = event.start_mark
                pos = (mark.line + 1, mark.column + 1)
                text = event.value
                plain = event.tag is None and event.implicit[0]
                if type(container) is YMap and key is _NO_KEY:
                    if (plain and (not text or text[0] in _RESOLVE_FIRST or text == "<<")) or not (
                        plain or event.tag is None
                    ):
                        key = self._key(event, kind, pos)
                    else:
                        key = text
                    kpos = pos
                    continue
                if plain:
                    value: Any = self._plain(text, pos) if not text or text[0] in _RESOLVE_FIRST else text
                else:
                    value = self._tagged(event, pos)
                if type(container) is YMap:
                    if key is not _BAD_KEY:
                        if key in container:
                            self._duplicate(container, key, kpos)
                        else:
                            container[key] = value
                            container.key_pos[key] = kpos
                            container.val_pos[key] = pos
                    key = _NO_KEY
                    continue
            elif kind is _MAP_END or kind is _SEQ_END:
                value = container
                pos = value.pos
                container, key, kpos = stack.pop()
            elif kind is _MAP_START or kind is _SEQ_START:
                mark = event.start_mark
                pos = (mark.line + 1, mark.column + 1)
                if len(stack) >= MAX_DEPTH:
                    self.problem(pos, f"nested deeper than {MAX_DEPTH} levels")
                    raise _Stop
                if event.tag is not None:
                    self._check_tag(event, pos, kind is _MAP_START)
                stack.append((container, key, kpos))
                container, key = (YMap(pos) if kind is _MAP_START else YList(pos)), _NO_KEY
                continue
            else:  # an alias
                pos = _pos(event.start_mark)
                self.problem(pos, f"YAML aliases (*{event.anchor}) are not allowed: write the value out")
                value = _BAD_KEY
            if container is None:
                return None if value is _BAD_KEY else value
            if type(container) is YList:
                container.append(None if value is _BAD_KEY else value)
                container.item_pos.append(pos)
            elif key is _NO_KEY:
                key, kpos = self._key(event, kind, pos), pos
            else:
                if key is not _BAD_KEY:
                    self._store(container, key, kpos, None if value is _BAD_KEY else value, pos)
                key = _NO_KEY

    def _duplicate(self, container: YMap, key: str, kpos: Pos) -> None:
        first = container.key_pos[key]
        self.problem(kpos, f"duplicate key '{key}' (first at line {first[0]}, column {first[1]})")

    def _store(self, container: YMap, key: str, kpos: Pos, value: Any, pos: Pos) -> None:
        if key in container:
            self._duplicate(container, key, kpos)
            return
        container[key] = value
        container.key_pos[key] = kpos
        container.val_pos[key] = pos

    def _check_tag(self, event: Any, pos: Pos, mapping: bool) -> None:
        standard = "tag:yaml.org,2002:map" if mapping else "tag:yaml.org,2002:seq"
        if event.tag not in (None, "!", standard):
            self.problem(pos, f"YAML tag {event.tag} is not allowed")

    def _key(self, event: Any, kind: Any, pos: Pos) -> Any:
        if kind is not _SCALAR:
            if kind is not yaml.AliasEvent:  # an alias was reported already
                self.problem(pos, "mapping keys must be plain scalars")
            return _BAD_KEY
        text = event.value
        if event.tag == "tag:yaml.org,2002:merge" or (text == "<<" and event.implicit[0]):
            self.problem(pos, "YAML merge keys (<<) are not allowed: write the keys out")
            return _BAD_KEY
        if event.tag not in _STR_TAGS:
            self.problem(pos, f"YAML tag {event.tag} is not allowed on a key")
            return _BAD_KEY
        if event.tag is None and event.implicit[0] and (not text or text[0] in _RESOLVE_FIRST):
            why = unrepresentable(text)
            if why is None and type(resolve_plain(text)) is not str:
                why = f'mapping keys must be strings: quote it ("{text}")'
            if why:
                self.problem(pos, why)
                return _BAD_KEY
        return text

    def _plain(self, text: str, pos: Pos) -> Any:
        """A plain scalar's value; its source text is kept when it is not a string."""
        why = unrepresentable(text)
        if why:
            self.problem(pos, why)
            return INVALID
        value = resolve_plain(text)
        if type(value) is not str:
            self.source[pos] = text
        return value

    def _tagged(self, event: Any, pos: Pos) -> Any:
        tag = event.tag
        if tag in _STR_TAGS:
            return event.value
        if tag == "tag:yaml.org,2002:int" and INT.fullmatch(event.value):
            return self._plain(event.value, pos)
        self.problem(pos, f"YAML tag {tag} is not allowed")
        return event.value


_SCALAR = yaml.ScalarEvent
_MAP_START = yaml.MappingStartEvent
_SEQ_START = yaml.SequenceStartEvent
_MAP_END = yaml.MappingEndEvent
_SEQ_END = yaml.SequenceEndEvent
_RESOLVE_FIRST = RESOLVE_FIRST
_NO_KEY = object()
_BAD_KEY = object()


def _pos(mark: Any) -> Pos:
    return (mark.line + 1, mark.column + 1)
