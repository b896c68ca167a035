"""The benchmark organisation: N mailboxes with a realistic calendar each.

Every mailbox holds 10 single appointments a week (three rolling weeks: the five
days around today, and the five before and after, so that the engine's look-ahead
holds some whatever day or hour the benchmark runs) and 2 weekly series of its own (different days, times and start dates, some
started years ago), so that no two mailboxes share a series and expansion caches
cannot cheat. Subjects carry no presence keyword: polls read, they do not set
presence, except for the real-time run's probes (``probe_appointments``). Mailbox
``i`` is ``user00042@bench.example`` with PBX extension ``100042``; with several
simulator processes each holds the mailboxes of its partition (``integration.shard``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from integration.shard import shard_key, shard_of
from simulators.exchange.recurrence import Recurrence
from simulators.exchange.seed import Seed, SeedAppointment, SeedMailbox, ServiceAccount

DOMAIN = "bench.example"
SERVICE_USER, SERVICE_PASSWORD = f"OSOMX@{DOMAIN}", "secret"
SERIES_ZONE = "Europe/Berlin"
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@dataclass(frozen=True)
class BenchUser:
    index: int
    email: str
    extension: str
    name: str


def user(index: int) -> BenchUser:
    return BenchUser(
        index, f"user{index:05d}@{DOMAIN}", str(100_000 + index), f"Bench User {index}"
    )


def partition(size: int, part: int, parts: int) -> list[BenchUser]:
    """The users of partition ``part`` of ``parts`` (all of them when parts is 1)."""
    users = [user(i) for i in range(size)]
    if parts == 1:
        return users
    return [u for u in users if shard_of(shard_key(u.email, u.extension), parts) == part]


def appointments(who: BenchUser, today: date) -> list[SeedAppointment]:
    """10 singles a week over three weeks and two weekly series of the user's own."""
    i = who.index
    found: list[SeedAppointment] = []
    for week in (-1, 0, 1):
        # Not the calendar week: on a Friday evening or a weekend its singles would all
        # be behind, and every poll would read an empty window.
        monday = today - timedelta(days=2) + timedelta(weeks=week)
        for n in range(10):
            day = monday + timedelta(days=n // 2)
            hour = 8 + (n % 2) * 5 + (i % 3)
            start = datetime.combine(day, time(hour, (i * 7) % 60), UTC)
            found.append(
                SeedAppointment(who.email, f"Review {n}", start, start + timedelta(minutes=45))
            )
    first = today - timedelta(days=i % 700)
    second = today - timedelta(days=(i * 3) % 365)
    series = (
        (
            "Standup",
            Recurrence(
                "weekly",
                first,
                days_of_week=(_WEEKDAYS[i % 5], _WEEKDAYS[(i + 2) % 5]),
            ),
            time(9 + i % 4, (i * 5) % 60),
            15,
        ),
        (
            "One to one",
            Recurrence("weekly", second, interval=2, days_of_week=(_WEEKDAYS[(i + 4) % 5],)),
            time(14 + i % 3, (i * 11) % 60),
            30,
        ),
    )
    for subject, recurrence, at, minutes in series:
        start = datetime.combine(recurrence.start_date, at, ZoneInfo(SERIES_ZONE))
        found.append(
            SeedAppointment(
                who.email,
                subject,
                start,
                start + timedelta(minutes=minutes),
                time_zone=SERIES_ZONE,
                recurrence=recurrence,
                created=datetime.combine(recurrence.start_date, time(0), UTC),
            )
        )
    return found


def seed(users: list[BenchUser], today: date) -> Seed:
    """The seed of one simulator process: the service account and ``users``' mailboxes."""
    return Seed(
        service_account=ServiceAccount(user=SERVICE_USER, password=SERVICE_PASSWORD),
        mailboxes=[SeedMailbox(u.email, u.name) for u in users],
        appointments=[a for u in users for a in appointments(u, today)],
    )


def probe_appointments(
    users: list[BenchUser], starts: list[datetime], created: datetime
) -> list[SeedAppointment]:
    """One "Lunch" probe per user, the users spread over ``starts`` round robin."""
    return [
        SeedAppointment(
            u.email,
            "Lunch probe",
            starts[n % len(starts)],
            starts[n % len(starts)] + timedelta(minutes=30),
            created=created,
        )
        for n, u in enumerate(users)
    ]


__all__ = [
    "DOMAIN",
    "SERVICE_PASSWORD",
    "SERVICE_USER",
    "BenchUser",
    "appointments",
    "partition",
    "probe_appointments",
    "seed",
    "user",
]
