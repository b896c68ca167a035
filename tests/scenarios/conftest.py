"""Scenario tests share the plugin's per-process Exchange site (reset per run)."""

from __future__ import annotations

import pytest

from scenarios.environment import Environment
from scenarios.plugin import _shared_environment


@pytest.fixture
def environment() -> Environment:
    return _shared_environment()
