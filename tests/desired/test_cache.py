"""The state cache (reconciler/desired/cache.py): a hit gives exactly what a cold load gives, and an entry
is never served for other bytes, another schema or rules, or another version; a damaged, planted or
concurrently written entry is a miss, never an error."""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import reconciler
import reconciler.desired.cache as cache_module
from reconciler.desired import StateCache, check, collect, state_cache
from reconciler.desired.cache import TAGGED, code_tag, default_tag, key_path, state_digest
from reconciler.desired.plain import parse_plain
from reconciler.model import DesiredState
from reconciler.workspace import load_workspace
from tests.desired.writing import Write

PACKAGE = Path(reconciler.__file__).resolve().parent
CLEAN = """\
customers:
  - id: 101
    note: first
    identifiers:
      INSTORE: {mobile: "919800000101", email: a101@example.com}
      WECHAT:acc1: {wechat: w101}
    cards:
      - {number: GOLD101, series: 121212}
      - {series: DIGI01, status: SUSPENDED}
    allow: {merge_with: [102]}
  - id: 102
    cards: []
    allow: {merge_with: [101]}
"""
OTHER = 'customers:\n  - id: 201\n    identifiers: {INSTORE: {mobile: "919800000201"}}\n'
BROKEN = 'customers:\n  - id: 301\n    identifiers: {INSTORE: {mobile: "12ab"}}\n    oops: 1\n  - id: -4\n'


def entries(root: Path) -> list[Path]:
    directory = root / ".reconciler" / "cache" / "state"
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".")) if directory.exists() else []


def cached(root: Path) -> StateCache:
    made = state_cache(root)
    assert made is not None
    return made


def load(root: Path, cache: StateCache | None = None) -> tuple[DesiredState, list[str]]:
    result = collect([root / "state"], root=root, cache=cache or cached(root), labels={"ACTIVE"})
    return result.state, [str(p) for p in result.problems]


def test_a_hit_gives_exactly_the_cold_load(write: Write, tmp_path: Path) -> None:
    write("state/a.yaml", CLEAN)
    write("state/b.yaml", BROKEN)
    write("state/c.yaml", OTHER + "  - id: 101\n")  # 101 again: a problem across files, never cached
    cold = collect([tmp_path / "state"], root=tmp_path, labels={"ACTIVE"})
    first = load(tmp_path)
    written = [(p.name, p.stat().st_mtime_ns) for p in entries(tmp_path)]
    warm = load(tmp_path)
    assert len(written) == 3 and [(p.name, p.stat().st_mtime_ns) for p in entries(tmp_path)] == written
    assert first == warm == (cold.state, [str(p) for p in cold.problems])
    problems = warm[1]
    assert "state/b.yaml:3:37: malformed mobile '12ab': digits only, with country code, 8-15 digits" in (
        problems
    )
    assert any(p.startswith("state/c.yaml:4:5: customer 101 declared 2 times") for p in problems)
    assert any(p.startswith("state/a.yaml:9:9: unknown card status 'SUSPENDED'") for p in problems)


def test_a_changed_byte_is_read_afresh(write: Write, tmp_path: Path) -> None:
    path = write("state/a.yaml", CLEAN)
    load(tmp_path)
    path.write_bytes(path.read_bytes().replace(b"919800000101", b"919800000109"))  # same size
    state, _ = load(tmp_path)
    mobiles = [i.value for c in state.customers for p in c.profiles for i in p.identifiers]
    assert "919800000109" in mobiles and "919800000101" not in mobiles
    assert len(entries(tmp_path)) == 2


def test_a_changed_schema_or_rules_is_another_code_tag(tmp_path: Path) -> None:
    deciding = {"schemas/state.schema.json", "desired/rules.py", "desired/decode.py", "yaml/reader.py"}
    assert deciding <= set(TAGGED)
    assert default_tag() == code_tag(reconciler.__version__, [PACKAGE / name for name in TAGGED])
    for changed in ("schemas/state.schema.json", "desired/rules.py"):
        copies = []
        for name in TAGGED:
            copy = tmp_path / changed.replace("/", "_") / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(PACKAGE / name, copy)
            copies.append(copy)
        assert code_tag(reconciler.__version__, copies) == default_tag()
        target = tmp_path / changed.replace("/", "_") / changed
        target.write_bytes(target.read_bytes() + b"\n")
        assert code_tag(reconciler.__version__, copies) != default_tag()


@pytest.mark.parametrize("what", ["version", "schema"])
def test_an_entry_of_other_code_is_never_served(write: Write, tmp_path: Path, what: str) -> None:
    path = write("state/a.yaml", CLEAN)
    current = cached(tmp_path)
    load(tmp_path, current)
    digest = hashlib.sha256(path.read_bytes()).digest()
    assert current.get(digest) is not None
    sources = [PACKAGE / name for name in TAGGED]
    if what == "schema":
        schema = tmp_path / "state.schema.json"
        schema.write_bytes((PACKAGE / "schemas/state.schema.json").read_bytes().replace(b'"id"', b'"ID"'))
        pairs = zip(TAGGED, sources, strict=True)
        sources = [schema if name.endswith("state.schema.json") else p for name, p in pairs]
    tag = code_tag("99.0.0" if what == "version" else reconciler.__version__, sources)
    other = StateCache(current.directory, current.key, tag)
    assert other.get(digest) is None
    assert load(tmp_path, other) == load(tmp_path, current)
    assert len(entries(tmp_path)) == 2  # the other code's entry, beside this one's


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[:-1] + bytes([data[-1] ^ 1]), id="one-bit"),
        pytest.param(lambda data: b"garbage" * 50, id="garbage"),
    ],
)
def test_a_damaged_entry_is_a_miss(write: Write, tmp_path: Path, damage: object) -> None:
    write("state/a.yaml", CLEAN)
    expected = load(tmp_path)
    (entry,) = entries(tmp_path)
    entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert load(tmp_path) == expected
    assert cached(tmp_path).get(hashlib.sha256((tmp_path / "state/a.yaml").read_bytes()).digest()) is not None


def test_an_entry_planted_in_the_repository_is_not_served(write: Write, tmp_path: Path) -> None:
    """A pull request could commit files under .reconciler/: an entry made with another key (a forged one
    that says the file declares someone else) is a miss."""
    path = write("state/a.yaml", CLEAN)
    mine = cached(tmp_path)
    forger = StateCache(mine.directory, b"k" * 32, mine.tag)
    forger.put(hashlib.sha256(path.read_bytes()).digest(), parse_plain(OTHER.encode()))
    state, problems = load(tmp_path)
    assert [c.id for c in state.customers] == [101, 102] and problems


def test_the_key_is_the_users_own_outside_the_repository(write: Write, tmp_path: Path) -> None:
    write("state/a.yaml", CLEAN)
    load(tmp_path)
    key = key_path()
    assert key.is_file() and tmp_path not in key.parents and len(key.read_bytes()) == 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_concurrent_writers_leave_whole_entries(tmp_path: Path) -> None:
    cache = cached(tmp_path)
    plain = parse_plain(CLEAN.encode())
    digest = hashlib.sha256(CLEAN.encode()).digest()
    seen: list[object] = []

    def writer() -> None:
        for _ in range(30):
            cache.put(digest, plain)

    def reader() -> None:
        for _ in range(60):
            hit = cache.get(digest)
            seen.append(None if hit is None else (hit.problems, hit.keys, hit.count, hit.body()))

    threads = [threading.Thread(target=f) for f in (writer, writer, reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    whole = (plain.problems, plain.keys, plain.count, plain.body())
    assert seen and all(s is None or s == whole for s in seen)
    assert [p.name for p in cache.directory.iterdir()] == [cache.entry_id(digest)]  # no temporary left


def test_no_cache_env_reads_afresh_and_writes_nothing(
    write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("state/a.yaml", CLEAN)
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    assert state_cache(tmp_path) is None
    write("reconciler.yaml", "api: {url: sandbox}\n")
    load_workspace(tmp_path / "reconciler.yaml")
    assert not (tmp_path / ".reconciler").exists()


def test_prune_keeps_the_states_entries(
    write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "KEEP_EXTRA", 0)
    write("state/a.yaml", CLEAN)
    cache = cached(tmp_path)
    for n in range(5):
        cache.put(hashlib.sha256(b"old %d" % n).digest(), parse_plain(OTHER.encode()))
    write("state/b.yaml", OTHER)  # a miss: the load prunes
    expected = load(tmp_path)
    digests = [hashlib.sha256((tmp_path / f"state/{n}.yaml").read_bytes()).digest() for n in "ab"]
    assert [p.name for p in entries(tmp_path)] == sorted(cache.entry_id(d) for d in digests)
    assert load(tmp_path) == expected


@pytest.mark.parametrize(
    "second", [CLEAN, OTHER, BROKEN, OTHER + "  - id: 101\n", CLEAN.replace("101", "401")]
)
def test_check_says_what_collect_says(write: Write, tmp_path: Path, second: str) -> None:
    """validate's check, from the cache or not, reports exactly collect's problems (a repeated id,
    identifier or card number across files included) and counts."""
    write("state/a.yaml", CLEAN)
    write("state/b.yaml", second)
    loaded = collect([tmp_path / "state"], root=tmp_path)
    for cache in (None, cached(tmp_path), cached(tmp_path)):
        checked = check([tmp_path / "state"], root=tmp_path, cache=cache)
        assert checked.problems == loaded.problems
        assert (checked.customers, checked.files) == (len(loaded.state.customers), 2)


def test_plan_loads_the_same_state_from_the_cache(
    write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_workspace (plan, apply, doctor) through the cache equals it without."""
    write("reconciler.yaml", "api: {url: sandbox}\n")
    write("state/a.yaml", CLEAN)
    write("state/b.yaml", OTHER)
    config = tmp_path / "reconciler.yaml"
    filling, hit = load_workspace(config), load_workspace(config)
    assert len(entries(tmp_path)) == 2
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    cold = load_workspace(config)
    assert filling.state == hit.state == cold.state and len(cold.state.customers) == 3


@pytest.mark.slow
def test_validate_twice_from_the_cache(write: Write, tmp_path: Path) -> None:
    """The pre-commit hook: the second run reads the cache the first wrote, and says the same; an edit
    that repeats an identifier in another file is still found."""
    write("reconciler.yaml", "api: {url: sandbox}\n")
    write("state/a.yaml", CLEAN)
    write("state/b.yaml", OTHER)

    def validate() -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "validate"], cwd=tmp_path, capture_output=True, text=True
        )
        return done.returncode, done.stdout

    assert validate() == validate() == (0, "3 customers in 2 files: ok\n")
    assert len(entries(tmp_path)) == 3  # each file's, and the whole state's (found clean)
    write("state/b.yaml", OTHER.replace("919800000201", "919800000101"))
    code, out = validate()
    assert code == 1 and out.splitlines() == [
        "state/a.yaml:5:25: mobile '919800000101' in INSTORE declared on customers 101, 201; "
        "also at state/b.yaml:3:37",
        "state/b.yaml:3:37: mobile '919800000101' in INSTORE declared on customers 101, 201; "
        "also at state/a.yaml:5:25",
    ]


def test_a_clean_state_is_remembered_whole_and_never_served_for_other_bytes(
    write: Write, tmp_path: Path
) -> None:
    """validate remembers that a whole state (its files' hashes, in order) was found clean: the next run
    reads no entry of a file; any changed byte is another state, checked across files again."""
    write("state/a.yaml", CLEAN)
    b = write("state/b.yaml", OTHER)
    cache = cached(tmp_path)
    contents = [(tmp_path / "state/a.yaml").read_bytes(), b.read_bytes()]
    state = state_digest(hashlib.sha256(c).digest() for c in contents)
    assert cache.clean_count(state) is None
    assert check([tmp_path / "state"], root=tmp_path, cache=cache).customers == 3
    assert cache.clean_count(state) == 3
    StateCache(cache.directory, b"k" * 32, cache.tag).put_clean(state, 999)  # forged: not served
    assert cache.clean_count(state) is None
    assert check([tmp_path / "state"], root=tmp_path, cache=cache).customers == 3
    assert cache.clean_count(state) == 3  # made again
    b.write_text(OTHER.replace("201", "101"))  # the same id as in a.yaml, from the cached a.yaml
    checked = check([tmp_path / "state"], root=tmp_path, cache=cache)
    assert [str(p) for p in checked.problems] == [str(p) for p in collect([tmp_path / "state"]).problems]
    assert any("customer 101 declared 2 times" in p.message for p in checked.problems)


@pytest.mark.slow
def test_validate_outside_a_repository_makes_no_cache(write: Write, tmp_path: Path) -> None:
    write("elsewhere/a.yaml", CLEAN)
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "elsewhere/a.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout) == (0, "2 customers in 1 file: ok\n")
    assert not (tmp_path / ".reconciler").exists()
