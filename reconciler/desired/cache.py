"""The state cache: each state file's parsed and checked result, kept by the sha256 of its bytes.

An unchanged 100,000-customer state then loads without parsing YAML again (``docs/performance.md``). An
entry lives in ``<repository>/.reconciler/cache/state/<id>``, where ``id`` is the sha256 of the code tag and
of the file's content hash. The code tag is the sha256 of the reconciler's version, the Python and marshal
versions, and the bytes of every module and schema that decide what a file means (``TAGGED``): a changed
byte of the file, of ``state.schema.json`` or of the rules, or a new release, is another id, so an entry is
never served for anything but the exact bytes and code that made it. Checks across files (duplicates, card
labels and series) run over every file on every load; validate also remembers a whole state it found clean
(``put_clean``, by ``state_digest`` of every file's hash in order), so that the same bytes are not checked
again.

State files come from pull requests, and so could files under ``.reconciler/``: every entry is
authenticated (HMAC-SHA256 over its id and content) with a key kept outside the repository, in the user's
state directory (``$XDG_STATE_HOME/reconciler/cache.key``). A planted, altered, truncated or corrupt entry
fails the check and is a miss; marshal only decodes bytes this user's reconciler wrote. Entries are written
to a temporary file and renamed into place, so a concurrent reader sees a whole entry or none.
``RECONCILER_NO_CACHE=1`` reads every file afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import marshal
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import reconciler
from reconciler.desired.plain import Body, PlainFile

log = logging.getLogger(__name__)

CACHE_DIR = ".reconciler/cache/state"
NO_CACHE_ENV = "RECONCILER_NO_CACHE"
MAGIC = b"RCSTATE1"
_MAC = 32
_LEN = 8
_PACKAGE = Path(__file__).resolve().parents[1]
TAGGED = (  # what decides a file's result: the reader, the checks, the encoding, the model, the schema
    "desired/cache.py",
    "desired/decode.py",
    "desired/plain.py",
    "desired/rules.py",
    "model.py",
    "schemas/state.schema.json",
    "yaml/files.py",
    "yaml/nodes.py",
    "yaml/reader.py",
    "yaml/scalars.py",
)
KEEP_EXTRA = 200  # entries kept beyond twice the files of the state just loaded (other branches)
TEMP_AGE = 3600.0  # a temporary file older than this is a crashed writer's


def code_tag(version: str, sources: Iterable[Path]) -> bytes:
    """The sha256 of ``version``, the interpreter's and marshal's versions, and each source's bytes."""
    digest = hashlib.sha256(f"{version}\0{sys.implementation.cache_tag}\0{marshal.version}".encode())
    for path in sources:
        try:
            content = path.read_bytes()
        except OSError:
            content = b"\0missing"
        digest.update(f"\0{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.digest()


def default_tag() -> bytes:
    """The code tag of this installation (``TAGGED`` under the package, and ``reconciler.__version__``)."""
    return code_tag(reconciler.__version__, (_PACKAGE / name for name in TAGGED))


@dataclass(frozen=True, slots=True)
class StateCache:
    """The entries under ``directory``, authenticated with ``key``, for the code of ``tag``."""

    directory: Path
    key: bytes
    tag: bytes

    def entry_id(self, digest: bytes) -> str:
        return hashlib.sha256(self.tag + digest).hexdigest()

    def get(self, digest: bytes) -> PlainFile | None:
        """The entry for a file whose bytes hash to ``digest``; None if absent or not intact."""
        view = self._content(self.entry_id(digest))
        if view is None:
            return None
        size = int.from_bytes(view[:_LEN], "big")
        try:
            problems, keys, count = marshal.loads(view[_LEN : _LEN + size])
        except (EOFError, ValueError, TypeError):  # cannot happen to an authentic entry; a miss all the same
            return None
        body = view[_LEN + size :]
        return PlainFile(problems, keys, count, load=lambda: _load_body(body))

    def put(self, digest: bytes, plain: PlainFile) -> None:
        """Store ``plain`` for ``digest``; a file that cannot be kept is simply not cached."""
        try:
            header = marshal.dumps((plain.problems, plain.keys, plain.count))
            body = marshal.dumps(plain.body())
        except ValueError:  # a value marshal cannot write (only in a file with problems): not cached
            return
        self._store(self.entry_id(digest), len(header).to_bytes(_LEN, "big") + header + body)

    def clean_count(self, state: bytes) -> int | None:
        """For a whole state (``state_digest``) found without a problem, its number of customers."""
        view = self._content(self.entry_id(state))
        return None if view is None or len(view) != _LEN else int.from_bytes(view, "big")

    def put_clean(self, state: bytes, customers: int) -> None:
        """Record that the whole state ``state`` has no problem and declares ``customers`` customers."""
        self._store(self.entry_id(state), customers.to_bytes(_LEN, "big"))

    def _content(self, entry_id: str) -> memoryview | None:
        """An entry's content, if it is there and authentic."""
        try:
            data = (self.directory / entry_id).read_bytes()
        except OSError:
            return None
        if len(data) < len(MAGIC) + _MAC or not data.startswith(MAGIC):
            return None
        mac = data[len(MAGIC) : len(MAGIC) + _MAC]
        view = memoryview(data)[len(MAGIC) + _MAC :]
        return view if hmac.compare_digest(mac, self._mac(entry_id, view)) else None

    def _mac(self, entry_id: str, content: memoryview | bytes) -> bytes:
        mac = hmac.new(self.key, entry_id.encode(), "sha256")
        mac.update(content)
        return mac.digest()

    def _store(self, entry_id: str, content: bytes) -> None:
        """Write an entry to a temporary file and rename it into place: readers see all of it or none."""
        temp = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            with os.fdopen(fd, "wb") as file:
                file.write(MAGIC + self._mac(entry_id, content) + content)
            os.replace(temp, self.directory / entry_id)
        except OSError as exc:
            log.debug("state cache: cannot write %s: %s", entry_id, exc)
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)

    def prune(self, used: Collection[bytes]) -> None:
        """Remove entries no file of this state uses once there are more than twice as many (plus
        ``KEEP_EXTRA``, for other branches), and temporary files of crashed writers."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        keep = {self.entry_id(digest) for digest in used}
        now = time.time()
        crowded = len(names) > 2 * len(keep) + KEEP_EXTRA
        for name in names:
            stale_temp = name.startswith(".tmp-") and _age(self.directory / name, now) > TEMP_AGE
            if stale_temp or (crowded and not name.startswith(".") and name not in keep):
                with contextlib.suppress(OSError):
                    os.unlink(self.directory / name)


def state_digest(digests: Iterable[bytes]) -> bytes:
    """The digest of a whole state: of its files' content hashes, in order."""
    whole = hashlib.sha256(b"state\0")
    for digest in digests:
        whole.update(digest)
    return whole.digest()


def _load_body(body: memoryview) -> Body:
    loaded: Body = marshal.loads(body)
    return loaded


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except OSError:
        return 0.0


def state_cache(root: Path) -> StateCache | None:
    """The cache of the repository at ``root``; None if ``RECONCILER_NO_CACHE`` is set, or without a key."""
    if os.environ.get(NO_CACHE_ENV, "") not in ("", "0"):
        return None
    key = _user_key()
    return None if key is None else StateCache(root / CACHE_DIR, key, default_tag())


def key_path() -> Path:
    """``$XDG_STATE_HOME/reconciler/cache.key`` (``~/.local/state/...``): outside every repository."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "reconciler" / "cache.key"


def _user_key() -> bytes | None:
    """The user's cache key, made on first use (32 random bytes, mode 0600, linked into place whole)."""
    try:
        path = key_path()
    except (KeyError, RuntimeError):  # no home directory to find
        return None
    key: bytes | None
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = _make_key(path)
    except OSError as exc:
        log.debug("state cache off: cannot read %s: %s", path, exc)
        return None
    return key if key is not None and len(key) == 32 else None


def _make_key(path: Path) -> bytes | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".cache.key-")  # mode 0600
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(32))
        try:
            os.link(temp, path)  # fails if another process made the key first: then that one is the key
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
        return path.read_bytes()
    except OSError as exc:
        log.debug("state cache off: cannot make %s: %s", path, exc)
        return None
