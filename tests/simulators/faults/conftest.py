"""The SMTP sink tests' fixtures (a seeded store, sinks on free ports), for the fault tests."""

from tests.simulators.smtp.conftest import make_sink, store

__all__ = ["make_sink", "store"]
