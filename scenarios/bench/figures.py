"""The benchmark's arithmetic and the machine facts every figure is reported with.

Process CPU (``time.process_time``: every thread of the process) and resident memory
(``/proc/self/status``), the machine's load (``os.getloadavg``, what ``uptime``
prints) and its TCP listen drops (``/proc/net/netstat``: ListenOverflows and
ListenDrops, counted for the whole machine, so another program's drops count too).
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from pathlib import Path


def rss_bytes() -> int:
    """This process's resident memory in bytes (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def load() -> str:
    """The load averages as ``uptime`` prints them, and the core count."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def listen_drops() -> int:
    """TCP connection attempts the kernel dropped at a full listen queue, machine-wide."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenOverflows", 0)) + int(table.get("ListenDrops", 0))
    return 0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def spread(values: Sequence[float]) -> dict[str, float]:
    """min / median / max of a figure over several cycles."""
    if not values:
        return {"min": 0.0, "median": 0.0, "max": 0.0}
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
    }


def fmt_spread(values: dict[str, float], digits: int = 1, unit: str = "") -> str:
    return f"{values['median']:.{digits}f}{unit} (min {values['min']:.{digits}f})"


__all__ = ["fmt_spread", "listen_drops", "load", "percentile", "rss_bytes", "spread"]
