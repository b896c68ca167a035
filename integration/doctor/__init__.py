"""``harness doctor``: checks a real Exchange (or the simulators) step by step.

Runs where the PBX runs, with the engine's configuration and its own clients, and
prints one line per check: OK, FAIL with what an administrator does about it, or
SKIP when an earlier failure makes the check meaningless. The checks are a table
(``integration.doctor.checks.CHECKS``); each family lives in its own module:
``network`` (name resolution, TCP, TLS), ``exchange`` (log-in, server version,
rights, mailboxes, calendar, public folders), ``mail`` (SMTP submission).
"""

from __future__ import annotations

from integration.doctor.checks import CHECKS, run_checks
from integration.doctor.report import CheckResult, Status, render

__all__ = ["CHECKS", "CheckResult", "Status", "render", "run_checks"]
