"""The progress reporter with a hand-driven clock: what is drawn, when, and what is erased."""

from __future__ import annotations

import io

from reconciler.commands.progress import ERASE, ProgressReporter
from tests.testing.clock import Clock


def _reporter(tty: bool) -> tuple[ProgressReporter, io.StringIO, Clock]:
    out, clock = io.StringIO(), Clock(100.0)
    return ProgressReporter(out, clock=clock, tty=tty), out, clock


def test_a_terminal_sees_nothing_in_the_first_second_then_rate_and_eta_then_an_erased_line() -> None:
    progress, out, clock = _reporter(tty=True)
    progress("writes", 0, 1000)
    clock.now += 0.5
    progress("writes", 100, 1000)
    assert out.getvalue() == ""  # under a second: nothing
    clock.now += 1.5
    progress("writes", 400, 1000)
    assert out.getvalue() == f"{ERASE}writes: 400/1000 (40%), 200/s, ETA 0:03"
    progress("writes", 1000, 1000)
    assert out.getvalue().endswith(f"ETA 0:03{ERASE}")  # erased when done
    progress.close()
    assert out.getvalue().count(ERASE) == 2


def test_a_phase_reported_only_at_start_and_end_is_never_drawn() -> None:
    progress, out, clock = _reporter(tty=True)
    progress("customers", 0, 3)
    clock.now += 5
    progress("customers", 3, 3)
    progress("holders", 0, 0)
    progress("holders", 0, 0)
    progress.close()
    assert out.getvalue() == ""


def test_off_a_terminal_one_line_every_ten_seconds_and_none_for_empty_phases() -> None:
    progress, out, clock = _reporter(tty=False)
    progress("customers", 0, 500)
    for done in range(10, 501, 10):
        clock.now += 1  # whole seconds: exact in binary floating point
        progress("customers", done, 500)
    clock.now += 30
    progress("holders", 0, 0)
    lines = out.getvalue().splitlines()
    assert lines == [
        "customers: 100/500 (20%), 10/s, ETA 0:40",
        "customers: 200/500 (40%), 10/s, ETA 0:30",
        "customers: 300/500 (60%), 10/s, ETA 0:20",
        "customers: 400/500 (80%), 10/s, ETA 0:10",
        "customers: 500/500 (100%), 10/s, ETA 0:00",
    ]


def test_a_new_round_of_a_phase_restarts_its_rate() -> None:
    progress, out, clock = _reporter(tty=True)
    progress("customers", 0, 10)
    clock.now += 10
    progress("customers", 10, 10)
    progress("customers", 0, 4)  # holders pulled into scope: a second round
    clock.now += 1
    progress("customers", 2, 4)
    assert out.getvalue() == f"{ERASE}customers: 2/4 (50%), 2/s, ETA 0:01"
