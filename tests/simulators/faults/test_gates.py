"""RefusalGates: a refused fault shuts a real port, its end opens it on the same port."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from simulators.faults.gates import Port, RefusalGates
from simulators.faults.injector import FaultInjector
from simulators.pbx import Pbx
from simulators.pbx.server import PbxServer


def test_refused_pbx_port_closes_and_opens_on_the_same_port() -> None:
    now = [datetime(2026, 1, 5, 12, tzinfo=UTC)]
    injector = FaultInjector(clock=lambda: now[0])
    server = PbxServer(Pbx()).start()
    gates = RefusalGates(injector, [Port(("pbx",), server.go_down, server.come_back)])
    try:
        address = server.address
        injector.add("pbx", "unavailable", timedelta(minutes=1))
        injector.add("smtp", "refused", timedelta(minutes=5))  # another port's: no effect here
        gates.sync()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(address, timeout=2)
        now[0] += timedelta(minutes=1)  # the window ends (exclusive)
        gates.sync()
        assert server.address == address
        assert httpx.get(server.url + "api/users", timeout=10).status_code == 200
        injector.add("pbx", "refused", timedelta(minutes=1))
        gates.sync()
    finally:
        gates.stop()  # opens what it shut
        assert httpx.get(server.url + "api/users", timeout=10).status_code == 200
        server.stop()
