"""The event loop a command's coroutine runs on, and what SIGINT/SIGTERM do to it.

``run_async`` runs the coroutine (on uvloop where installed) with the signals cancelling it; the command
then ends with ``Interrupted`` (one line, exit 128 + the signal), which cli.py's one handler prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import warnings
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from reconciler.errors import Interrupted

T = TypeVar("T")

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_handler: ContextVar[Callable[[int], None] | None] = ContextVar("signal_handler", default=None)
log = logging.getLogger(__name__)


def run_async(coro: Coroutine[Any, Any, T], on_signal: Callable[[int], bool] | None = None) -> T:
    """Run a command's coroutine, on uvloop where it is installed (a third less CPU per API call).

    SIGINT/SIGTERM go to ``on_signal`` first (apply's write gate: True when it took the signal);
    otherwise they cancel the command, which then raises ``Interrupted`` (one line, exit 130/143).
    """
    guarded = _guarded(coro, on_signal)
    try:
        import uvloop
    except ImportError:  # e.g. on Windows, where uvloop does not exist
        return asyncio.run(guarded)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(guarded)


async def _guarded(coro: Coroutine[Any, Any, T], on_signal: Callable[[int], bool] | None) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    received: list[int] = []

    def handle(signum: int) -> None:
        if on_signal is not None and on_signal(signum):
            return
        if not received:  # the cancelled reads may end in errors nobody awaits: not the user's concern
            loop.set_exception_handler(_after_interrupt)
            # nor a connect httpx's transport had begun (anyio's happy eyeballs), warned of at exit
            warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
        received.append(signum)
        if task is not None:
            task.cancel()

    _install(loop, handle)
    try:
        result = await coro
    except asyncio.CancelledError:
        if not received:
            raise
        raise Interrupted(received[0]) from None
    finally:
        _uninstall(loop)
    if received:  # the coroutine swallowed the cancellation: still an interrupted command
        raise Interrupted(received[0])
    return result


_outside: dict[int, Any] = {}  # the handlers outside the loop (__main__'s), put back when it ends


def _install(loop: asyncio.AbstractEventLoop, handle: Callable[[int], None]) -> None:
    with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # not the main thread
        for sig in SIGNALS:
            _outside.setdefault(sig, signal.getsignal(sig))
            loop.add_signal_handler(sig, handle, sig)
        _handler.set(handle)


def _uninstall(loop: asyncio.AbstractEventLoop) -> None:
    if _handler.get() is not None:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)  # asyncio leaves Python's default behind: put back the one before
            if _outside.get(sig) is not None:
                signal.signal(sig, _outside[sig])


def _after_interrupt(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    log.debug("after an interrupt: %s", context.get("message"))


@contextlib.contextmanager
def plain_signals() -> Iterator[None]:
    """Around a blocking prompt: Ctrl-C raises KeyboardInterrupt there (the loop cannot run meanwhile)."""
    handle = _handler.get()
    if handle is None:
        yield
        return
    loop = asyncio.get_running_loop()
    _uninstall(loop)
    try:
        yield
    finally:
        for sig in SIGNALS:
            loop.add_signal_handler(sig, handle, sig)
