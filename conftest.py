"""Root conftest: scenario files are collected as tests (scenarios/plugin.py)."""

pytest_plugins = ["scenarios.plugin"]
