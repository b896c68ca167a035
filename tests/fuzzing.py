"""Shared pieces of the bounded fuzz tests: hostile values and fixed-seed settings.

Every fuzz test runs ``hypothesis`` derandomized (the same examples on every run, so CI
repeats exactly) with a small ``max_examples`` and no per-example deadline (the
machine is shared); the servers are the real ones on real sockets.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    derandomize=True,
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

# In-process parsers (no sockets) afford more examples in the same seconds.
FUZZ_PURE = settings(FUZZ, max_examples=150)

# Values that broke something once, or break parsers in general.
NASTY_TEXT = [
    "",
    " ",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-20",
    "0001-01-01",
    "9" * 5000,
    "-1",
    "%a%a%a%a%a%a%a%b",
    "%c0%ae",
    "\x00",
    "<",
    "&lol;",
    "]]>",
    "' OR 1=1 --",
    "\u202e",
    "ß" * 300,
    "a" * 3000,
]
DATES = st.sampled_from(
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "1600-12-31T23:59:59Z",
        "1601-01-01T00:00:00Z",
        "2026-03-16T09:00:00Z",
        "4500-12-31T23:59:59Z",
        "4501-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-14:00",
        "2026-02-30T00:00:00Z",
        "not a date",
    ]
)
TEXT = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=60),  # encodable
    st.text(alphabet="0123456789-:TZ+ ", max_size=30),
)


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """No server-side exception was logged (every caught bug is logged with exc_info)."""
    crashed = [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
    assert not crashed, "\n".join(r.getMessage() for r in crashed[:5])


__all__ = ["DATES", "FUZZ", "FUZZ_PURE", "NASTY_TEXT", "TEXT", "no_tracebacks"]
