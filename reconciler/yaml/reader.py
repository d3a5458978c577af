"""Reading one YAML file into plain data that remembers where every value was written.

The C parser (libyaml) streams events and this module composes them iteratively, so a deeply nested
document cannot exhaust the stack. Mappings become ``YMap`` and sequences ``YList`` (a ``dict`` / ``list``
that also carry 1-based positions); scalars are plain Python values resolved with the YAML 1.2 core
schema (so ``no`` stays a string and ``0123`` is not octal).

Deliberately rejected, each with a one-line problem at its position: aliases (``*name``: a reviewer must
see every value where it applies), merge keys (``<<``), explicit tags other than the standard ones,
complex keys, duplicate keys (both locations), more than one document per file, nesting deeper than
``MAX_DEPTH``, files larger than ``MAX_BYTES``, and bytes that are not UTF-8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import Problem

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml missing: same behaviour, slower
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 64
MAX_BYTES = 32 * 1024 * 1024

Pos = tuple[int, int]


class YMap(dict[str, Any]):
    """A mapping with the position of itself, of each key and of each value."""

    __slots__ = ("key_pos", "pos", "val_pos")

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[str, Pos] = {}
        self.val_pos: dict[str, Pos] = {}


class YList(list[Any]):
    """A sequence with the position of itself and of each item."""

    __slots__ = ("item_pos", "pos")

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = []


@dataclass(slots=True)
class ParsedFile:
    """One file's data (``None`` for an empty file) and the problems found reading it."""

    name: str
    data: Any = None
    problems: list[Problem] = field(default_factory=list)


_STR_TAGS = frozenset({None, "!", "tag:yaml.org,2002:str"})
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)


def resolve_plain(text: str) -> Any:
    """Resolve an untagged plain scalar with the YAML 1.2 core schema."""
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.fullmatch(text):
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    if _FLOAT.fullmatch(text):
        return float(
            text.replace("inf", "Inf").replace("INF", "Inf").replace("NaN", "nan").replace("NAN", "nan")
        )
    return text


def read_yaml(path: Path, name: str) -> ParsedFile:
    """Read and compose one YAML file; every problem is reported, nothing raises."""
    result = ParsedFile(name)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            result.problems.append(
                Problem(name, 1, 1, f"file is {size // 2**20} MiB: split it (limit 32 MiB)")
            )
            return result
        raw = path.read_bytes()
    except OSError as exc:
        result.problems.append(Problem(name, 1, 1, f"cannot read: {exc.strerror or exc}"))
        return result
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
        if "\t" in line[: pos[1]] or line[pos[1] - 1 : pos[1]] == "\t":
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
        # One tight loop over events: this is the hot path of loading 100,000 customers.
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
                if event.tag is None and event.implicit[0]:
                    value: Any = resolve_plain(text) if not text or text[0] in _RESOLVE_FIRST else text
                else:
                    value = self._tagged(event, pos)
                if type(container) is YMap:
                    if key is _NO_KEY:
                        if (event.implicit[0] and text == "<<") or event.tag is not None:
                            key = self._key(event, kind, pos)
                        else:
                            key = text
                        kpos = pos
                        continue
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
        if event.tag == "tag:yaml.org,2002:merge" or (event.value == "<<" and event.implicit[0]):
            self.problem(pos, "YAML merge keys (<<) are not allowed: write the keys out")
            return _BAD_KEY
        return event.value

    def _tagged(self, event: Any, pos: Pos) -> Any:
        tag = event.tag
        if tag in _STR_TAGS:
            return event.value
        if tag == "tag:yaml.org,2002:int" and _INT.fullmatch(event.value):
            return resolve_plain(event.value)
        self.problem(pos, f"YAML tag {tag} is not allowed")
        return event.value


_SCALAR = yaml.ScalarEvent
_MAP_START = yaml.MappingStartEvent
_SEQ_START = yaml.SequenceStartEvent
_MAP_END = yaml.MappingEndEvent
_SEQ_END = yaml.SequenceEndEvent
_RESOLVE_FIRST = frozenset("0123456789+-.~nNtTfF")
_NO_KEY = object()
_BAD_KEY = object()


def _pos(mark: Any) -> Pos:
    return (mark.line + 1, mark.column + 1)


def position(data: Any, path: tuple[Any, ...]) -> Pos:
    """The position of the value at ``path`` below ``data`` (else of its nearest known parent)."""
    pos: Pos = getattr(data, "pos", (1, 1))
    node = data
    for step in path:
        if isinstance(node, YMap) and step in node:
            pos, node = node.val_pos[step], node[step]
        elif isinstance(node, YList) and isinstance(step, int) and 0 <= step < len(node):
            pos, node = node.item_pos[step], node[step]
        else:
            break
    return pos
