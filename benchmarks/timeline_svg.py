"""Benchmark: drawing the SVG timeline of a long run (the report's and the live view's).

Builds a timeline of ``--hours`` hours of 30 s polls for ``--users`` users, with a
failed poll every 25 minutes, a decision on every 10th poll, a presence change
every hour and an appointment every hour (each moved once), then renders it
``--repeat`` times. Prints the size of the SVG and the time per render. Not a
test: run it by hand.

    .venv/bin/python benchmarks/timeline_svg.py [--hours 4] [--users 10] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from scenarios.outputs.lanes import (
    AppointmentTrack,
    AppointmentVersion,
    Decision,
    Lane,
    PollTick,
    PresenceSegment,
    Timeline,
)
from scenarios.outputs.svg import render

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


def lane(user: int, hours: int) -> Lane:
    polls = []
    decisions = []
    for n in range(hours * 120):
        at = START + timedelta(seconds=30 * n)
        polls.append(PollTick(at, "failed" if n % 50 == 49 else "ok", "3 appointment(s)"))
        if n % 10 == 0:
            decisions.append(Decision(at, str(user), f"a{n}", "Meeting", "waiting (R4)"))
    presence = []
    tracks = []
    for h in range(hours):
        begin = START + timedelta(hours=h)
        status = "meeting" if h % 2 else "office"
        presence.append(PresenceSegment(begin, begin + timedelta(hours=1), status, None, "engine"))
        tracks.append(
            AppointmentTrack(
                f"a{h}",
                (
                    AppointmentVersion(
                        begin - timedelta(minutes=30),
                        "Meeting",
                        begin,
                        begin + timedelta(minutes=40),
                    ),
                    AppointmentVersion(
                        begin - timedelta(minutes=10),
                        "Meeting",
                        begin + timedelta(minutes=5),
                        begin + timedelta(minutes=45),
                        "moved",
                    ),
                ),
            )
        )
    return Lane(
        str(user),
        f"User {user}",
        f"user{user}@domain.net",
        tuple(presence),
        tuple(tracks),
        tuple(polls),
        decisions=tuple(decisions),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=4)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    lanes = tuple(lane(100 + u, args.hours) for u in range(args.users))
    timeline = Timeline(START, START + timedelta(hours=args.hours), "Europe/Berlin", lanes)
    times = []
    svg = ""
    for _ in range(args.repeat):
        began = time.perf_counter()
        svg = render(timeline)
        times.append(time.perf_counter() - began)
    ticks = sum(len(lane.polls) for lane in lanes)
    print(
        f"{args.users} lanes x {args.hours} h of 30 s polls ({ticks} ticks): "
        f"{len(svg) / 1024:.0f} KiB of SVG, render median {statistics.median(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
