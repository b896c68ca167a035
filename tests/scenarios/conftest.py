"""Scenario tests share the plugin's per-process Exchange site (reset per run)."""

from __future__ import annotations

import pytest

from scenarios.plugin import _shared_environment
from scenarios.run.environment import Environment


@pytest.fixture
def environment() -> Environment:
    return _shared_environment()
