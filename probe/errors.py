"""Every error probe raises on purpose, in one tree.

    ProbeError                      base; never shown with a traceback unless --debug
    ├── UserError                   the user can fix it; exit 2, one line "what (where)"
    │   ├── ScenarioError           a scenario file is broken: file:line and the key
    │   │   └── InvalidScenario     one or more problems; the message is the first by line
    │   └── UsageError              a bad flag or flag value
    ├── ScanAbort                   the scan could not run at all; exit 3
    └── RequestRefused              a request the engine will not send (not fatal to the scan)
        ├── OutOfScope              host:port not in the scenario's scope
        ├── BudgetExhausted         settings.max_requests reached
        ├── CircuitOpen             the target kept failing; the engine stopped sending
        └── NoCredentials           the identity has no working token (its login failed)

Anything else that escapes is an internal error: the CLI prints a short banner and tells the
user to re-run with --debug for the traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ProbeError(Exception):
    """Base of every error raised on purpose."""


class UserError(ProbeError):
    """An error the user can fix; the message is one line saying what and where."""

    exit_code = 2


class ScenarioError(UserError):
    """A scenario that cannot be loaded or validated."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


class InvalidScenario(ScenarioError):
    """A scenario with one or more problems; its message is the first problem in line order."""

    def __init__(self, problems: Sequence[ScenarioError]) -> None:
        first = problems[0]
        super().__init__(first.message, file=first.file, line=first.line)
        self.problems: tuple[ScenarioError, ...] = tuple(problems)
        """Every problem found, in line order (often just one)."""


class UsageError(UserError):
    """A bad command-line flag or value."""


class ScanAbort(ProbeError):
    """The scan could not run (for example the target is unreachable at the start).

    The engine attaches the partial report (status `failed`) as `report` before raising.
    """

    exit_code = 3
    report: Any = None


class RequestRefused(ProbeError):
    """The engine refused to send a request; the calling check becomes `error` or `skipped`."""


class OutOfScope(RequestRefused):
    """The request or a redirect would leave the scenario's scope."""


class BudgetExhausted(RequestRefused):
    """The scan's request budget (settings.max_requests) is spent."""


class CircuitOpen(RequestRefused):
    """The target failed too often in a row; the engine stopped sending to protect it."""


class NoCredentials(RequestRefused):
    """The request should carry an identity's credentials, and that identity has none."""
