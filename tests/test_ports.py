"""unused_ports: distinct, bindable, and never from the kernel's ephemeral range."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.ports import unused_ports


def test_ports_are_distinct_bindable_and_below_the_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = unused_ports(8)
    assert len(set(ports)) == 8
    assert all(20000 <= port < low for port in ports)
    with socket.socket() as one, socket.socket() as two:
        one.bind(("127.0.0.1", ports[0]))
        two.bind(("127.0.0.1", ports[1]))
