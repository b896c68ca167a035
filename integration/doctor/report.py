"""What one check found, and how ``harness doctor`` prints the list of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "OK"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class CheckResult:
    """A check's verdict: ``detail`` says what was found, ``advice`` what to do (FAIL)."""

    key: str
    title: str
    status: Status
    detail: str
    advice: str = ""


def ok(detail: str) -> tuple[Status, str, str]:
    return Status.OK, detail, ""


def fail(detail: str, advice: str) -> tuple[Status, str, str]:
    return Status.FAIL, detail, advice


def render(results: Sequence[CheckResult]) -> str:
    """One line per check (status, title, what was found), the advice indented below a
    failure, and a count at the end."""
    lines = []
    for result in results:
        lines.append(f"{result.status.value:<5} {result.title}: {result.detail}")
        if result.advice:
            lines.append(f"      what to do: {result.advice}")
    counts = {status: sum(r.status is status for r in results) for status in Status}
    lines.append(
        f"{counts[Status.OK]} passed, {counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped"
    )
    return "\n".join(lines)


def all_passed(results: Sequence[CheckResult]) -> bool:
    return all(r.status is Status.OK for r in results)


__all__ = ["CheckResult", "Status", "all_passed", "fail", "ok", "render"]
