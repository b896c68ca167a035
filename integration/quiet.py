"""Quieter loggers for one command, restored afterwards.

A one-shot command (``harness contacts``, ``harness capture``) prints a table or a
file name; the engine's per-request lines would bury it. The levels go back when the
command ends, so a long-lived process (a test session, the real-time engine started
later in the same interpreter) still gets every line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quieter(*names: str, level: int = logging.WARNING) -> Iterator[None]:
    """Raise the named loggers to ``level`` for the ``with`` block only."""
    loggers = [logging.getLogger(name) for name in names]
    before = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, old in zip(loggers, before, strict=True):
            logger.setLevel(old)


__all__ = ["quieter"]
