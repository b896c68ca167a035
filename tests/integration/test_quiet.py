"""quieter: a command's logger levels go back when it ends."""

from __future__ import annotations

import logging

import pytest

from integration.quiet import quieter


def test_levels_are_raised_inside_and_restored_after() -> None:
    engine, http = logging.getLogger("integration"), logging.getLogger("httpx")
    engine.setLevel(logging.NOTSET)
    http.setLevel(logging.DEBUG)
    with quieter("integration", "httpx"):
        assert engine.level == logging.WARNING and http.level == logging.WARNING
    assert engine.level == logging.NOTSET and http.level == logging.DEBUG


def test_levels_are_restored_when_the_command_fails() -> None:
    engine = logging.getLogger("integration")
    engine.setLevel(logging.NOTSET)
    with pytest.raises(RuntimeError), quieter("integration"):
        raise RuntimeError("boom")
    assert engine.level == logging.NOTSET
