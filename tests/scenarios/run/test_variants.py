"""Every library scenario for both variants gives the same presence journal over EWS
and WebDAV.

The variant only changes how appointments are read; the rules live in one place,
so the journals (instant, user, status, return time, who set it) must match."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.format.loader import load_scenario
from scenarios.run.environment import Environment
from scenarios.run.runner import run_scenario

LIBRARY = Path(__file__).parents[3] / "scenarios" / "library"
# A file that names one variant shows what only that variant does (rights that only
# EWS or only WebDAV uses); its description says why. It has no other journal to match.
FILES = [p for p in sorted(LIBRARY.rglob("*.yaml")) if load_scenario(p).variant == "both"]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(LIBRARY)) for p in FILES])
def test_both_variants_give_identical_journals(path: Path, environment: Environment) -> None:
    scenario = load_scenario(path)
    journals = {}
    for variant in ("ews", "webdav"):
        result = run_scenario(scenario, variant, environment)
        assert result.passed, (variant, result.failures, result.error)
        # Users poll concurrently: entries of one instant may interleave either way,
        # so order by instant and user (stable: each user's own order is kept).
        journals[variant] = sorted(
            (
                (e.at, e.user, str(e.new_status), e.return_time, e.set_by, e.cause)
                for e in result.journal
            ),
            key=lambda row: (row[0], row[1]),
        )
    assert journals["ews"] == journals["webdav"]
