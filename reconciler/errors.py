"""The one exception tree of the reconciler.

Every expected failure is a ``ReconcilerError``; ``cli.py`` prints its one-line message and exits with
its ``exit_code``. Nothing else in the package prints a traceback for an expected failure, and no
``httpx`` exception escapes ``reconciler.capillary``: transport errors are translated at that boundary
with ``raise ... from exc``.

    ReconcilerError                 exit 1
    ├── UsageError                  exit 2  bad command-line arguments
    ├── ConfigError                 exit 1  reconciler.yaml or environment (credentials) is wrong
    ├── StateError                  exit 1  state/*.yaml failed to load or validate (carries Problems)
    │   └── ImportRejected                  the YAML import wrote does not validate (carries the files)
    ├── ApiError                    exit 1  the API answered with an error (method, path, status, code)
    │   ├── AuthError                       401, or the token request failed
    │   ├── NotFoundError                   8015 / 8065 / 3010 and other "does not exist" codes
    │   ├── MergedCustomerError             8069: the customer is a merge victim
    │   ├── TransientError                  429, 5xx, 521, 461, transport failure: safe to retry a read
    │   │   └── RateLimitedError            429 (carries retry_after)
    │   ├── OutcomeUnknownError             a write was sent and no answer came: it may have committed
    │   └── ReadOnlyViolation               the read-only client was asked to send a write
    ├── GitHubError                 exit 1  the GitHub API refused a request, or answered unexpectedly
    │   └── GitHubNotFound                  HTTP 404
    ├── ApplyRunningError           exit 1  another apply holds this target's lock
    ├── JournalError                exit 1  the journal cannot be written (the write is not sent)
    ├── OutputError                 exit 1  an output file or standard output cannot be written
    └── Interrupted                 128+n   SIGINT/SIGTERM ended a command before it wrote anything

Every ``ReconcilerError`` subclass is defined here (``tests/test_doc_claims.py`` walks the package and
checks this tree); the modules that raise them import them from here. ``exit_for_signal`` is the one
place a signal becomes an exit code.

A blocked plan (exit 4), a stale apply (5) and a partial one (6) are outcomes, not errors: the command
returns their exit code from the plan or the ``ApplyResult``, and no exception carries them.

A failed write is classified (``failure_class``) by whether running apply again can help: TRANSIENT for
5xx, 429, 461, 521, timeouts and lost answers (the org may answer next time), PERMANENT for the business
errors (8011 invalid account, 3010, 8015, ...) and authentication, which fail identically every time.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CHANGES = 3
EXIT_BLOCKED = 4
EXIT_STALE = 5
EXIT_PARTIAL = 6
EXIT_INTERRUPTED = 130  # exit_for_signal(SIGINT), as shells report it (SIGTERM: 143)


def exit_for_signal(signum: int) -> int:
    """The exit code of a run ended by signal ``signum``: 128 + its number, as shells report it."""
    return 128 + signum


class ReconcilerError(Exception):
    """Base of every expected failure; ``str(err)`` is the one line the CLI prints."""

    exit_code = EXIT_ERROR


class UsageError(ReconcilerError):
    exit_code = EXIT_USAGE


class ConfigError(ReconcilerError):
    """reconciler.yaml (or a setting) is wrong. From a file: ``problems`` lists every located problem, and
    ``state_dir`` is its ``state_dir:`` when that one is usable, so the state can still be checked."""

    def __init__(
        self, message: str, problems: tuple[Problem, ...] = (), state_dir: str | None = None
    ) -> None:
        super().__init__(message)
        self.problems = problems
        self.state_dir = state_dir


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem, pointing at its source: ``file:line:col: message``."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class StateError(ReconcilerError):
    """The desired state is invalid; ``problems`` lists every problem found, sorted."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.col, p.message))
        first = str(self.problems[0]) if self.problems else "invalid state"
        more = len(self.problems) - 1
        super().__init__(first if more == 0 else f"{first} (and {more} more problems)")


class ImportRejected(StateError):
    """The written YAML does not validate; ``written`` are the files import wrote."""

    def __init__(self, exc: StateError, written: list[Path]) -> None:
        super().__init__(exc.problems)
        self.written = written


class ApiError(ReconcilerError):
    """The API refused a request. Carries method, path (no query string secrets), status and code."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        code: int | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.api_message = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = f"{self.method} {self.path}".strip()
        parts = [p for p in (where, f"HTTP {self.status}" if self.status else "") if p]
        code = f"code {self.code}: " if self.code is not None else ""
        prefix = f"{', '.join(parts)}: " if parts else ""
        return f"{prefix}{code}{self.api_message}"


class AuthError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class MergedCustomerError(ApiError):
    pass


class TransientError(ApiError):
    pass


class RateLimitedError(TransientError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)  # type: ignore[arg-type]


class OutcomeUnknownError(ApiError):
    """A write was sent but its outcome is unknown; re-read before deciding, never resend blind."""


class ReadOnlyViolation(ApiError):
    pass


class GitHubError(ReconcilerError):
    """The GitHub API refused a request, or its answer was not what the workflow needs (exit 1)."""


class GitHubNotFound(GitHubError):
    """HTTP 404: no such resource (or no access to it)."""


class ApplyRunningError(ReconcilerError):
    """Another apply holds this target's lock (exit 1)."""


class JournalError(ReconcilerError):
    """The journal cannot be written: a write that needs its line must not be sent."""


class OutputError(ReconcilerError):
    """An output (a file or standard output) cannot be written."""


class Interrupted(ReconcilerError):
    """SIGINT or SIGTERM ended a command before it had written anything: exit 128 + the signal."""

    def __init__(self, signum: int) -> None:
        self.exit_code = exit_for_signal(signum)
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


class Failure(StrEnum):
    """Whether running apply again can help a failed write (``failure_class``)."""

    TRANSIENT = "transient"  # running apply again can help
    PERMANENT = "permanent"  # running apply again fails the same way: the state or the org must change


TRANSIENT, PERMANENT = Failure
RETRYABLE_HTTP = frozenset({429, 461, 521})


def failure_class(exc: BaseException) -> Failure:
    """TRANSIENT when re-running can help (5xx, 429, timeouts, unknown outcomes), else PERMANENT."""
    if isinstance(exc, TransientError | OutcomeUnknownError):
        return TRANSIENT
    status = exc.status if isinstance(exc, ApiError) else None
    if status is not None and (status >= 500 or status in RETRYABLE_HTTP):
        return TRANSIENT
    return PERMANENT
