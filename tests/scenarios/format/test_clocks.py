"""Zones and clocks in scenario files: times naming their zone, mailbox and series
zones, stored definitions (``timezone_rules``), ``modified`` stamps and ``pbx:``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scenarios.format.loader import parse_scenario
from scenarios.format.model import (
    CreateAppointment,
    ExpectPresence,
    ScenarioError,
    UpdateAppointment,
)
from simulators.exchange.seed import apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.exchange.tzrules import YearlyChange, rules_from_zone

HEAD = """\
name: t
timezone: Europe/Berlin
start: "2026-03-02 08:00"
users:
  - {extension: "100", email: user1@domain.net}
  - {extension: "101", email: user2@domain.net, timezone: America/New_York}
"""


def _load(text: str):  # type: ignore[no-untyped-def]
    return parse_scenario(HEAD + text, "case.yaml")


def _problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        _load(text)
    return caught.value.problems


def test_a_time_may_name_its_zone() -> None:
    scenario = _load(
        'steps:\n  - at: "09:00 America/New_York"\n'
        '    expect_presence: {user: "100", status: office, return_time: "2026-03-09 09:00 UTC"}\n'
    )
    [step] = scenario.steps
    assert isinstance(step, ExpectPresence)
    assert step.at == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # EST, UTC-5
    assert step.return_time == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_appointments_are_in_their_mailbox_s_zone_or_their_own() -> None:
    scenario = _load(
        "appointments:\n"
        '  - {mailbox: user1@domain.net, subject: A, start: "12:00", end: "13:00"}\n'
        '  - {mailbox: user2@domain.net, subject: B, start: "12:00", end: "13:00"}\n'
        "  - {mailbox: user1@domain.net, subject: C, timezone: Asia/Tokyo,"
        ' start: "12:00", end: "13:00"}\n'
    )
    a, b, c = scenario.seed.appointments
    assert (a.start, a.time_zone) == (datetime(2026, 3, 2, 11, 0, tzinfo=UTC), "Europe/Berlin")
    assert (b.start, b.time_zone) == (datetime(2026, 3, 2, 17, 0, tzinfo=UTC), "America/New_York")
    assert (c.start, c.time_zone) == (datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "Asia/Tokyo")
    boxes = {m.smtp: m.time_zone for m in scenario.seed.mailboxes}
    assert boxes == {"user1@domain.net": None, "user2@domain.net": "America/New_York"}
    store = ExchangeStore()
    apply_seed(store, scenario.seed)
    assert store.mailbox("user2@domain.net").time_zone == "America/New_York"  # OWA shows it
    assert store.mailbox("user1@domain.net").time_zone == "Europe/Berlin"


def test_steps_create_and_move_in_the_appointment_s_zone() -> None:
    scenario = _load(
        "steps:\n"
        '  - at: "08:10"\n'
        "    create_appointment: {id: m, mailbox: user2@domain.net, subject: Meeting,"
        ' start: "10:00", end: "10:30"}\n'
        '  - at: "08:20"\n'
        '    update_appointment: {id: m, start: "11:00"}\n'
    )
    create, update = scenario.steps
    assert isinstance(create, CreateAppointment) and isinstance(update, UpdateAppointment)
    assert create.start == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert (update.start, update.end) == (
        datetime(2026, 3, 2, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 16, 30, tzinfo=UTC),
    )


def test_timezone_rules_derived_from_a_year_or_spelt_out() -> None:
    scenario = _load(
        "appointments:\n"
        '  - {mailbox: user2@domain.net, subject: A, start: "2026-03-09 09:00",'
        ' end: "2026-03-09 10:00", timezone_rules: {year: 2006},'
        " recurrence: {pattern: weekly, count: 2}}\n"
        "  - mailbox: user1@domain.net\n"
        "    subject: B\n"
        '    start: "2026-04-03 09:00"\n'
        '    end: "2026-04-03 10:00"\n'
        "    timezone_rules:\n"
        "      name: Flat\n"
        '      standard_offset: "+01:00"\n'
        "    recurrence: {pattern: weekly, count: 2}\n"
    )
    a, b = scenario.seed.appointments
    assert a.time_zone_rules is not None
    assert a.time_zone_rules.daylight_starts == YearlyChange(4, 1, 6, time(2, 0))
    assert a.time_zone == "America/New_York"
    # Read with the definition: 09:00 "EST" on 9 March is 14:00 UTC (New York: 13:00).
    assert a.start == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert b.time_zone_rules is not None and not b.time_zone_rules.has_daylight
    assert b.start == datetime(2026, 4, 3, 8, 0, tzinfo=UTC)  # UTC+1 although Berlin is on CEST
    assert b.time_zone_rules.name == "Flat"
    spelt = rules_from_zone("America/New_York", 2006)
    assert a.time_zone_rules.standard_offset == spelt.standard_offset == timedelta(hours=-5)


def test_modified_stamps() -> None:
    scenario = _load(
        "appointments:\n"
        '  - {mailbox: user1@domain.net, subject: A, start: "12:00", end: "13:00",'
        ' created: "2026-02-01 10:00", modified: "2026-02-15 10:00",'
        " recurrence: {pattern: daily, count: 3},"
        ' exceptions: [{date: 2026-03-03, subject: B, modified: "2026-02-20 09:00"}]}\n'
    )
    [a] = scenario.seed.appointments
    assert a.modified == datetime(2026, 2, 15, 9, 0, tzinfo=UTC)
    assert a.exceptions[0].modified == datetime(2026, 2, 20, 8, 0, tzinfo=UTC)
    store = ExchangeStore()
    handles = apply_seed(store, scenario.seed)
    assert not handles
    [item] = store.all_calendar_items()
    assert item.modified == a.modified
    assert item.exceptions[date(2026, 3, 3)].modified == a.exceptions[0].modified


def test_pbx_settings() -> None:
    scenario = _load("pbx: {timezone: UTC, clock_skew: -5m, clock: wall}\n")
    assert scenario.pbx.timezone == ZoneInfo("UTC")
    assert scenario.pbx.clock_skew == timedelta(minutes=-5)
    assert scenario.pbx.clock == "wall"
    default = _load("")
    assert default.pbx.timezone == ZoneInfo("Europe/Berlin") and default.pbx.clock == "ntp"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            'steps:\n  - at: "09:00 America/New_Yrok"\n    expect_presence: {user: "100", status: office}\n',
            8,
            "did you mean 'America/New_York'",
        ),
        (
            'steps:\n  - at: "2026-03-02 09:00+01:00 UTC"\n    expect_presence: {user: "100", status: office}\n',
            8,
            "a UTC offset or a zone, not both",
        ),
        ("users2: x\n", 7, "unknown key 'users2'"),
        ("pbx: {timezone: Europe/Berln}\n", 7, "did you mean 'Europe/Berlin'"),
        ("pbx: {clock: wall}\n", 7, "give pbx timezone"),
        ("pbx: {clock: sundial, timezone: UTC}\n", 7, "unknown pbx clock 'sundial'"),
        ("pbx: {clock_skew: 5}\n", 7, "bad duration"),
        (
            'appointments:\n  - {mailbox: user1@domain.net, start: "12:00", end: "13:00", timezone: Nowhere}\n',
            8,
            "unknown time zone 'Nowhere'",
        ),
        (
            'appointments:\n  - {mailbox: user1@domain.net, start: "12:00", end: "13:00",\n'
            '     timezone_rules: {year: 2006, standard_offset: "+01:00"}}\n',
            9,
            "not both",
        ),
        (
            'appointments:\n  - {mailbox: user1@domain.net, start: "12:00", end: "13:00",\n'
            '     timezone_rules: {standard_offset: "+25:00"}}\n',
            9,
            "not a UTC offset",
        ),
        (
            'appointments:\n  - {mailbox: user1@domain.net, start: "12:00", end: "13:00",\n'
            '     timezone_rules: {standard_offset: "+01:00", daylight_offset: "+02:00"}}\n',
            9,
            "needs its offset, its start and its end",
        ),
        (
            'appointments:\n  - {mailbox: user1@domain.net, start: "12:00", end: "13:00",\n'
            '     timezone_rules: {standard_offset: "+01:00", daylight_offset: "+02:00",\n'
            '       daylight_starts: "last sunday of marsch 02:00", daylight_ends: "last sunday of october 03:00"}}\n',
            10,
            "'marsch' is not a month",
        ),
        (
            'appointments:\n  - {mailbox: user1@domain.net, start: "12:00", end: "13:00",\n'
            '     modified: "2026-03-03 10:00"}\n',
            9,
            "modified must be between created and the scenario start",
        ),
    ],
)
def test_bad_zones_and_clocks_name_their_line(text: str, line: int, fragment: str) -> None:
    problems = _problems(text)
    assert any(p.startswith(f"case.yaml:{line}: ") and fragment in p for p in problems), problems


def test_a_user_zone_that_does_not_exist() -> None:
    text = HEAD.replace("timezone: America/New_York", "timezone: Mars/Olympus")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "case.yaml")
    assert caught.value.problems == [
        "case.yaml:6: unknown time zone 'Mars/Olympus'; use an IANA name like Europe/Berlin"
    ]
