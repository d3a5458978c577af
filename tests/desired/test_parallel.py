"""Large states are read by worker processes; the result must equal the single-process read exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

import reconciler.desired.parallel as parallel
from reconciler.desired import collect, state_cache

FILES = 70  # above PARALLEL_FROM_FILES


def _write_state(root: Path) -> None:
    for f in range(FILES):
        blocks = []
        for i in range(3):
            cid = 100_000 + f * 3 + i
            blocks.append(
                f"  - id: {cid}\n    note: n{cid}\n    identifiers:\n      INSTORE:\n"
                f'        mobile: "91{cid:010d}"\n        email: c{cid}@example.com\n'
                f"      WECHAT:acc{i}:\n        wechat: w{cid}\n"
                f"    cards:\n      - number: C{cid}\n        series: 121212\n      - series: DIGI01\n"
                f"    allow:\n      merge_with: [{cid + 1}]\n"
            )
        if f == 7:  # cross-file problems: a customer and a card declared again, and a bad mobile
            blocks.append("  - id: 100000\n    cards:\n      - number: C100001\n        series: 1\n")
            blocks.append('  - id: 900001\n    identifiers:\n      INSTORE:\n        mobile: "12ab"\n')
        (root / f"f{f:03d}.yaml").write_text("customers:\n" + "".join(blocks), encoding="utf-8")


def test_parallel_read_equals_the_single_process_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_state(tmp_path)
    assert FILES >= parallel.PARALLEL_FROM_FILES
    fanned = collect([tmp_path])
    monkeypatch.setattr(parallel, "PARALLEL_FROM_FILES", 10**9)
    single = collect([tmp_path])
    assert (
        fanned.state == single.state and len(single.state.customers) == FILES * 3 + 2
    )  # 100000 twice, 900001 with its bad mobile
    assert fanned.problems == single.problems
    assert any("declared 2 times" in p.message for p in single.problems)
    assert any(p.file.endswith("f007.yaml") and "mobile" in p.message for p in single.problems)


@pytest.mark.slow
def test_workers_fill_the_cache_and_a_hit_equals_the_single_process_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_state(tmp_path)
    filled = collect([tmp_path], root=tmp_path, cache=state_cache(tmp_path))
    assert len(list((tmp_path / ".reconciler" / "cache" / "state").iterdir())) == FILES
    monkeypatch.setattr(parallel, "PARALLEL_FROM_FILES", 10**9)
    hit = collect([tmp_path], root=tmp_path, cache=state_cache(tmp_path))
    single = collect([tmp_path])
    assert filled.state == hit.state == single.state
    assert filled.problems == hit.problems == single.problems
