"""Ports a test can pin for a server it starts in another process.

A port the kernel hands out for ``bind(0)`` comes from the ephemeral range, the same
range every outgoing connection takes its source port from: between picking it and
the server's bind, another test's client may take it. Ports below that range are
never handed out automatically, so a free one stays free unless a test pins it too;
picking at random makes two xdist workers unlikely to collide.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _below_ephemeral() -> range:
    try:
        low = int(_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(20000, max(20001, low))


def unused_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports, free now, outside the ephemeral range."""
    chosen: list[int] = []
    candidates = _below_ephemeral()
    for _ in range(1000):
        port = random.choice(candidates)
        if port in chosen:
            continue
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        chosen.append(port)
        if len(chosen) == count:
            return chosen
    raise RuntimeError(f"no {count} free ports below the ephemeral range")
