"""``python -m reconciler`` and the ``reconciler`` script: the CLI, with SIGINT and SIGTERM handled from
its first instruction. Importing the CLI takes a while (click, httpx, the sandbox); a signal meanwhile, or
at any moment outside a command's event loop, is one line and exit 128 + the signal, never a traceback.
Nothing has been written then: every write happens inside the loop, whose own handlers take over.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalInterrupt(KeyboardInterrupt):
    """SIGINT or SIGTERM outside a command's event loop (cli.py maps it to its line and exit code)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise SignalInterrupt(signum)


def run() -> None:
    """Install the handlers, import the CLI and run it."""
    for sig in SIGNALS:
        signal.signal(sig, _raise)
    try:
        from reconciler.cli import main
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, SignalInterrupt) else signal.SIGINT
        from reconciler.errors import exit_for_signal

        sys.stderr.write(f"error: interrupted by {signal.Signals(signum).name}\n")
        sys.exit(exit_for_signal(signum))
    main()


if __name__ == "__main__":
    run()
