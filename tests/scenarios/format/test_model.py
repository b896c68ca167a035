"""The scenario file format: every field, every default, and FILE:LINE for bad input.

Invalid files are a table: the text, a ``#!`` comment on the line the problem must
name (line 1 when there is none) and a fragment of the message.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from scenarios.format import times
from scenarios.format.loader import load_paths, load_scenario, parse_scenario
from scenarios.format.model import (
    CreateAppointment,
    DeleteAppointment,
    ExpectPresence,
    Fault,
    Scenario,
    ScenarioError,
    SetPresence,
    UpdateAppointment,
)
from scenarios.format.steps import STEP_KINDS
from simulators.exchange.recurrence import Recurrence
from simulators.exchange.seed import apply_seed
from simulators.exchange.store import ExchangeStore

BERLIN_OFFSET_WINTER = timedelta(hours=1)
B = """\
name: t
start: 2026-01-05 11:50
users:
  - {extension: "100", email: user1@domain.net}
  - {extension: "200", email: user2@domain.net, mailbox: false}
"""
APPT = """\
appointments:
  - id: a
    mailbox: user1@domain.net
    subject: Lunch
    start: "12:00"
    end: "13:00"
"""


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def write(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Scenario:
    return load_scenario(write(tmp_path, text))


INVALID: list[tuple[str, str, str]] = [
    ("empty", "", "the file is empty"),
    ("only-comment", "# nothing\n", "the file is empty"),
    ("top-list", "- a  #!\n- b\n", "must be a mapping"),
    ("top-scalar", "just words  #!\n", "must be a mapping"),
    (
        "syntax",
        "name: t\nstart: a: b  #!\nend: x\n",
        "YAML syntax error: mapping values are not allowed",
    ),
    (
        "unclosed",
        "name: t\nstart: [12:00  #!\n",
        "while parsing a flow sequence expected ',' or ']'",
    ),
    ("tab", "name: t\nengine:\n\tpoll_interval: 30s  #!\n", "YAML syntax error"),
    ("duplicate", B + "name: again  #!\n", "duplicate key 'name' (first at line 1)"),
    (
        "unknown-top",
        B + "strat: 12:00  #!\n",
        "unknown key 'strat' in the file (did you mean 'start'?)",
    ),
    ("unknown-top-list", B + "zzz: 1  #!\n", "one of: name, description, timezone"),
    ("no-start", "name: t  #!\nusers: []\n", "the file needs 'start'"),
    ("zone-typo", B + "timezone: Europe/Berln  #!\n", "did you mean 'Europe/Berlin'?"),
    (
        "zone-unknown",
        B + "timezone: Mars/Olympus_Mons  #!\n",
        "unknown time zone 'Mars/Olympus_Mons'",
    ),
    ("variant", B + "variant: soap  #!\n", "unknown variant 'soap'; one of: ews, webdav, both"),
    ("bare-number", B + "engine: {poll_interval: 90}  #!\n", "a duration is a number with a unit"),
    ("zero-interval", B + "engine:\n  poll_interval: 0s  #!\n", "poll_interval must be positive"),
    ("long-timeout", B + "engine:\n  read_timeout: 3h  #!\n", "read_timeout must be 1s to 2m"),
    (
        "negative-offset",
        B + "engine:\n  poll_offset: -5s  #!\n",
        "poll_offset must be zero or more",
    ),
    ("engine-typo", B + "engine:\n  poll_intervall: 30s  #!\n", "did you mean 'poll_interval'?"),
    ("catch-up", B + "engine:\n  catch_up: maybe  #!\n", "catch_up must be true or false"),
    ("webdav-auth", B + "exchange:\n  webdav_auth: ntlm  #!\n", "one of: basic, forms"),
    ("service-account", B + "exchange:\n  service_account: OSOMX  #!\n", "must be a mapping"),
    ("skew", B + "exchange:\n  clock_skew: 1.5m  #!\n", "bad duration '1.5m'"),
    ("extension", B + "  - {extension: abc}  #!\n", "extension 'abc' must be digits"),
    (
        "dup-extension",
        B + "  - {extension: '100'}  #!\n",
        "extension 100 is already used at line 4",
    ),
    (
        "dup-email",
        B + "  - {extension: '300', email: USER1@domain.net}  #!\n",
        "already used at line 4",
    ),
    (
        "email",
        B + "  - {extension: '300', email: user3-domain.net}  #!\n",
        "is not an e-mail address",
    ),
    ("language", B + "  - {extension: '300', language: fr}  #!\n", "language 'fr'; one of: en, de"),
    ("user-no-ext", B + "  - {name: Nobody}  #!\n", "user needs 'extension'"),
    (
        "presence",
        B + "  - extension: '300'\n    presence: {status: lunchbreak}  #!\n",
        "status 'lunchbreak' (did you mean 'lunch'?)",
    ),
    (
        "no-mailbox-user",
        B + "appointments:\n  - {mailbox: nobody@domain.net, start: '12:00', end: '13:00'}  #!\n",
        "no user has the mailbox 'nobody@domain.net'",
    ),
    (
        "mailbox-false",
        B + "appointments:\n  - {mailbox: user2@domain.net, start: '12:00', end: '13:00'}  #!\n",
        "user 200 has mailbox: false",
    ),
    (
        "end-before-start",
        B
        + "appointments:\n  - mailbox: user1@domain.net\n    start: '12:00'\n    end: '11:00'  #!\n",
        "end 2026-01-05 11:00:00 is before start 2026-01-05 12:00:00",
    ),
    (
        "bad-time",
        B
        + "appointments:\n  - mailbox: user1@domain.net\n    start: '25:00'  #!\n    end: '13:00'\n",
        "hour must be in 0..23",
    ),
    (
        "date-not-time",
        B
        + "appointments:\n  - mailbox: user1@domain.net\n    start: 2026-01-05  #!\n    end: '13:00'\n",
        "a date alone is not a time here",
    ),
    (
        "no-end",
        B + "appointments:\n  - {mailbox: user1@domain.net, start: '12:00'}  #!\n",
        "appointment needs 'end'",
    ),
    (
        "busy-status",
        B + "appointments:\n  - mailbox: user1@domain.net\n    start: '12:00'\n    end: '13:00'\n"
        "    busy_status: away  #!\n",
        "busy_status 'away'; one of: free, tentative, busy, oof",
    ),
    (
        "all-day-time",
        B + "appointments:\n  - mailbox: user1@domain.net\n    all_day: true\n"
        "    start: 2026-01-05 12:00  #!\n",
        "must be a date or a midnight",
    ),
    (
        "all-day-empty",
        B + "appointments:\n  - mailbox: user1@domain.net\n    all_day: true\n"
        "    start: 2026-01-07\n    end: 2026-01-07  #!\n",
        "ends (exclusive) at least a day after it starts",
    ),
    (
        "created-late",
        B + "appointments:\n  - mailbox: user1@domain.net\n    start: '12:00'\n    end: '13:00'\n"
        "    created: '11:55'  #!\n",
        "created is after the scenario start",
    ),
    (
        "pattern",
        B + APPT + "    recurrence: {pattern: fortnightly}  #!\n",
        "pattern 'fortnightly'; one of: daily, weekly, monthly, yearly",
    ),
    (
        "daily-days",
        B + APPT + "    recurrence:\n      pattern: daily\n      days: [monday]  #!\n",
        "a daily recurrence takes no 'days'",
    ),
    (
        "weekday",
        B
        + APPT
        + "    recurrence:\n      pattern: weekly\n      days: [monday,\n        funday]  #!\n",
        "unknown day 'funday' (did you mean 'sunday'?)",
    ),
    (
        "count-and-until",
        B + APPT + "    recurrence: {pattern: daily, count: 3, until: 2026-02-01}  #!\n",
        "ends by date or by count, not both",
    ),
    (
        "monthly-days",
        B + APPT + "    recurrence:\n      pattern: monthly\n      days: [friday]  #!\n",
        "need a week_index",
    ),
    (
        "interval",
        B + APPT + "    recurrence:\n      pattern: daily\n      interval: 0  #!\n",
        "interval must be between 1 and 999, not 0",
    ),
    (
        "not-occurrence",
        B + APPT + "    recurrence: {pattern: weekly, days: [monday]}\n"
        "    deleted: [2026-01-06]  #!\n",
        "2026-01-06 is not the date of an occurrence",
    ),
    (
        "exceptions-no-recurrence",
        B + APPT + "    exceptions: [{date: 2026-01-05, subject: x}]  #!\n",
        "exceptions need a recurrence",
    ),
    (
        "changed-twice",
        B
        + APPT
        + "    recurrence: {pattern: daily}\n    exceptions: [{date: 2026-01-06, subject: x}]\n"
        "    deleted:\n      - 2026-01-06  #!\n",
        "occurrence 2026-01-06 is already changed or deleted at line 13",
    ),
    (
        "bad-date",
        B + APPT + "    recurrence: {pattern: daily}\n    deleted:\n      - 2026-13-01  #!\n",
        "month must be in 1..12",
    ),
    (
        "too-long-occurrence",
        B + "appointments:\n  - mailbox: user1@domain.net\n    start: '12:00'\n"
        "    end: 2026-01-06 13:00\n    recurrence: {pattern: daily}  #!\n",
        "an occurrence lasts longer than the time between two occurrences",
    ),
    (
        "steps-not-list",
        B + "steps:\n  at: '12:00'  #!\n",
        "steps must be a list, not a mapping",
    ),
    (
        "out-of-order",
        B + "steps:\n  - at: '12:10'\n    set_presence: {user: '100', status: office}\n"
        "  - at: '12:00:59'  #!\n    expect_presence: {user: '100', status: office}\n",
        "steps must be in time order: 2026-01-05 12:00:59 is before the step at line 7",
    ),
    (
        "before-start",
        B + "steps:\n  - at: '11:00'  #!\n    set_presence: {user: '100', status: office}\n",
        "step at 2026-01-05 11:00:00 is before the scenario start",
    ),
    (
        "after-end",
        B
        + "end: '13:00'\nsteps:\n  - at: '13:01'  #!\n    set_presence: {user: '100', status: office}\n",
        "is after the scenario end",
    ),
    (
        "end-before-start-top",
        B + "end: '11:00'  #!\n",
        "end is before start",
    ),
    (
        "unknown-verb",
        B + "steps:\n  - at: '12:00'\n    create_apointment: {id: x}  #!\n",
        "did you mean 'create_appointment'?",
    ),
    (
        "unknown-verb-listed",
        B + "steps:\n  - at: '12:00'\n    place_call: {user: '100'}  #!\n",
        "one of: at, create_appointment, update_appointment, delete_appointment",
    ),
    (
        "two-verbs",
        B + "steps:\n  - at: '12:00'  #!\n    delete_appointment: {id: a}\n"
        "    set_presence: {user: '100', status: office}\n",
        "a step does one thing",
    ),
    ("no-verb", B + "steps:\n  - at: '12:00'  #!\n", "a step needs one of: create_appointment"),
    (
        "unknown-id",
        B + APPT + "steps:\n  - at: '12:00'\n    update_appointment: {id: b, subject: x}  #!\n",
        "no appointment has the id 'b'",
    ),
    (
        "deleted-id",
        B + APPT + "steps:\n  - at: '12:00'\n    delete_appointment: {id: a}\n"
        "  - at: '12:01'\n    update_appointment: {id: a, subject: x}  #!\n",
        "appointment 'a' was deleted at line 13",
    ),
    (
        "duplicate-id",
        B
        + APPT
        + "steps:\n  - at: '12:00'\n    create_appointment: {id: a, mailbox: user1@domain.net,"
        " start: '12:10', end: '12:20'}  #!\n",
        "id 'a' is already used at line 7",
    ),
    (
        "update-nothing",
        B + APPT + "steps:\n  - at: '12:00'\n    update_appointment: {id: a}  #!\n",
        "update_appointment changes nothing",
    ),
    (
        "update-order",
        B + APPT + "steps:\n  - at: '12:00'\n    update_appointment: {id: a, end: '11:00'}  #!\n",
        "end 2026-01-05 11:00:00 is before start",
    ),
    (
        "unknown-user",
        B + "steps:\n  - at: '12:00'\n    set_presence: {user: '101', status: office}  #!\n",
        "unknown user '101' (users are extensions; known: 100, 200)",
    ),
    (
        "unknown-status",
        B + "steps:\n  - at: '12:00'\n    expect_presence: {user: '100', status: holiday}  #!\n",
        "status 'holiday'; one of: office, meeting",
    ),
    (
        "fault-service",
        B + "steps:\n  - at: '12:00'\n    fault: {service: imap, kind: unavailable}  #!\n",
        "service 'imap'; one of: ews, webdav, owa, smtp, pbx",
    ),
    (
        "fault-duration",
        B
        + "steps:\n  - at: '12:00'\n    fault: {service: ews, kind: unavailable, duration: -5m}  #!\n",
        "fault duration must be positive",
    ),
    (
        "between-one",
        B + "expect_transitions:\n  - {user: '100', status: lunch, between: ['12:00']}  #!\n",
        "between needs two times [from, to], not 1",
    ),
    (
        "between-reversed",
        B
        + "expect_transitions:\n  - {user: '100', status: lunch, between: ['12:01', '12:00']}  #!\n",
        "before it begins",
    ),
    (
        "transition-user",
        B
        + "expect_transitions:\n  - {user: '999', status: lunch, between: ['12:00', '12:01']}  #!\n",
        "unknown user '999'",
    ),
    (
        "transition-order",
        B + "expect_transitions:\n  - {user: '100', status: lunch, between: ['13:00', '13:01']}\n"
        "  - {user: '100', status: office, between: ['12:00', '12:01']}  #!\n",
        "transitions of user 100 must be in order",
    ),
    (
        "dst-gap",
        "timezone: Europe/Berlin\nstart: 2026-03-29 02:30  #!\n",
        "2026-03-29 02:30:00 does not exist in Europe/Berlin",
    ),
    (
        "dst-twice",
        "timezone: Europe/Berlin\nstart: 2026-10-25 02:30  #!\n",
        "give a UTC offset, e.g. 2026-10-25 02:30:00+02:00 or 2026-10-25 02:30:00+01:00",
    ),
    (
        "contact-emails",
        B + "public_folders:\n  - name: C\n    contacts:\n      - display_name: X\n"
        "        emails: [a@x, b@x, c@x, d@x]  #!\n",
        "at most 3 e-mail addresses",
    ),
    (
        "folder-twice",
        B + "public_folders:\n  - {name: Customers}\n  - {name: customers}  #!\n",
        "folder 'customers' is already at line 7",
    ),
    (
        "contact-nameless",
        B + "public_folders:\n  - name: C\n    contacts: [{email: a@x}]  #!\n",
        "needs a display_name",
    ),
    ("merge-non-mapping", B + "engine:\n  <<: 5  #!\n", "a merge key (<<) needs a mapping"),
    (
        "recursive-alias",
        "start: 2026-01-05 11:50\npublic_folders: &f [{name: x, folders: *f}]  #!\n",
        "an alias here refers to a node that contains it",
    ),
    ("too-deep", "start: " + "[" * 3000 + "]" * 3000 + "\n", "nests lists and mappings too deeply"),
    (
        "denied-unknown",
        B + "exchange:\n  service_account:\n    denied_mailboxes: [x@y]  #!\n",
        "no user has the mailbox 'x@y'",
    ),
]


def expected_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if "#!" in line:
            return number
    return 1


@pytest.mark.parametrize(
    ("text", "fragment"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_file_names_file_line_and_problem(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    prefix = f"{path}:{expected_line(text)}: "
    matching = [p for p in caught.value.problems if p.startswith(prefix) and fragment in p]
    assert matching, f"no problem {prefix}...{fragment!r} in {caught.value.problems}"


def test_table_is_large_enough() -> None:
    assert len(INVALID) >= 25
    assert len({name for name, _, _ in INVALID}) == len(INVALID)


def test_every_problem_of_a_file_is_reported_in_line_order(tmp_path: Path) -> None:
    text = (
        B
        + "variant: soap\nengine: {poll_interval: 90, lead_time: 3x}\n"
        + APPT
        + "    busy_status: away\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    lines = [int(p.split(":")[1]) for p in caught.value.problems]
    assert lines == [6, 7, 7, 14]
    assert str(caught.value).count("\n") == 3


def test_non_utf8_and_missing_files_are_problems_not_tracebacks(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: Müller\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin1.yaml:1: the file is not UTF-8"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match=r"gone.yaml:1: cannot read the file"):
        load_scenario(tmp_path / "gone.yaml")


def test_control_character_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nstart: 2026-01-05 11:50\ndescription: a\x07b\n")
    with pytest.raises(ScenarioError, match=r"case.yaml:3: character '\\x07' is not allowed"):
        load_scenario(path)


# --------------------------------------------------------------------------- valid files

CONTRACT_EXAMPLE = """\
name: Lunch keyword sets presence, auto back to office at the end
description: free text, optional
timezone: Europe/Berlin
start: 2026-01-05 11:50
end: 2026-01-05 14:00
variant: both
engine:
  poll_interval: 30s
  poll_offset: 0s
  lead_time: 3m
  catch_up: false
exchange:
  clock_skew: 0s
  service_account: {user: OSOMX@domain.net, password: secret, impersonation: true, full_access: true}
  webdav_auth: basic
users:
  - extension: "100"
    name: User Test
    email: user1@domain.net
    language: en
    auto_back_to_office: true
    calendar_integration: true
    mobile: "+4917012345678"
    password: secret
appointments:
  - id: lunch
    mailbox: user1@domain.net
    subject: Lunch
    start: "12:00"
    end: "13:00"
    created: 2026-01-04 09:00
    all_day: false
    busy_status: busy
    recurrence:
      pattern: weekly
      interval: 1
      days: [monday, wednesday]
      count: 10
    exceptions:
      - {date: 2026-01-07, subject: Team Meeting, start: "14:00", end: "15:00"}
    deleted: [2026-01-12]
public_folders:
  - name: Customers
    contacts:
      - {display_name: Carla Customer, given_name: Carla, surname: Customer, company: Kunde GmbH,
         email: carla@kunde.de, business_phone: "+49 30 5550", mobile_phone: "+49 171 555"}
    folders:
      - name: Archive
        contacts: [{display_name: Old Contact, business_phone: "+49 30 1"}]
steps:
  - at: "11:58:30"
    create_appointment: {id: late, mailbox: user1@domain.net, subject: Meeting, start: "12:00", end: "12:30"}
  - at: "12:00:59"
    expect_presence: {user: "100", status: lunch, return_time: "13:00"}
  - at: "12:05"
    update_appointment: {id: late, start: "12:20", end: "12:40"}
  - at: "12:06"
    delete_appointment: {id: late}
  - at: "12:10"
    set_presence: {user: "100", status: office}
  - at: "12:30"
    fault: {service: ews, kind: unavailable, duration: 5m}
expect_transitions:
  - {user: "100", status: lunch, between: ["12:00:00", "12:00:59"], return_time: "13:00"}
  - {user: "100", status: office, between: ["13:00:00", "13:00:59"]}
"""


def test_contract_example_loads_with_every_field(tmp_path: Path) -> None:
    s = load(tmp_path, CONTRACT_EXAMPLE)
    assert s.name.startswith("Lunch keyword")
    assert s.description == "free text, optional"
    assert s.timezone.key == "Europe/Berlin"
    assert (s.start, s.end) == (utc(2026, 1, 5, 10, 50), utc(2026, 1, 5, 13))
    assert s.variants == ("ews", "webdav")
    user = s.user("100")
    assert (user.name, user.email, user.mobile, user.password) == (
        "User Test",
        "user1@domain.net",
        "+4917012345678",
        "secret",
    )
    assert user.auto_back_to_office and user.calendar_integration and user.line == 17
    [box] = s.seed.mailboxes
    assert (box.smtp, box.display_name, box.password) == ("user1@domain.net", "User Test", "secret")
    lunch = s.handles["lunch"]
    assert lunch is s.seed.appointments[0]
    assert (lunch.start, lunch.end) == (utc(2026, 1, 5, 11), utc(2026, 1, 5, 12))
    assert lunch.created == utc(2026, 1, 4, 8)
    assert lunch.time_zone == "Europe/Berlin"
    assert lunch.recurrence == Recurrence(
        pattern="weekly",
        start_date=date(2026, 1, 5),
        days_of_week=("Monday", "Wednesday"),
        count=10,
    )
    [change] = lunch.exceptions
    assert (change.original_date, change.subject) == (date(2026, 1, 7), "Team Meeting")
    assert (change.start, change.end) == (utc(2026, 1, 7, 13), utc(2026, 1, 7, 14))
    assert lunch.deleted == [date(2026, 1, 12)]
    [customers] = s.seed.public_folders
    carla = customers.contacts[0]
    assert carla.emails == ["carla@kunde.de"]
    assert carla.phones == {"BusinessPhone": "+49 30 5550", "MobilePhone": "+49 171 555"}
    assert customers.folders[0].contacts[0].display_name == "Old Contact"
    kinds = [type(step) for step in s.steps]
    assert kinds == [
        CreateAppointment,
        ExpectPresence,
        UpdateAppointment,
        DeleteAppointment,
        SetPresence,
        Fault,
    ]
    assert [step.line for step in s.steps] == [51, 53, 55, 57, 59, 61]
    create, expect, update, delete, manual, fault = s.steps
    assert isinstance(create, CreateAppointment) and create.appointment.created is None
    assert (create.id, create.mailbox, create.subject) == ("late", "user1@domain.net", "Meeting")
    assert s.handles["late"] is create.appointment
    assert isinstance(expect, ExpectPresence) and expect.return_time == utc(2026, 1, 5, 12)
    assert isinstance(update, UpdateAppointment) and update.end == utc(2026, 1, 5, 11, 40)
    assert isinstance(delete, DeleteAppointment) and delete.id == "late"
    assert isinstance(manual, SetPresence) and manual.at == utc(2026, 1, 5, 11, 10)
    assert isinstance(fault, Fault) and fault.duration == timedelta(minutes=5)
    first, second = s.expect_transitions
    assert first.between == (utc(2026, 1, 5, 11), utc(2026, 1, 5, 11, 0, 59))
    assert (first.return_time, second.return_time, second.line) == (utc(2026, 1, 5, 12), None, 65)


def test_seed_of_a_scenario_fills_the_store(tmp_path: Path) -> None:
    s = load(tmp_path, CONTRACT_EXAMPLE)
    store = ExchangeStore()
    handles = apply_seed(store, s.seed)
    assert set(handles) == {"lunch"}
    assert handles["lunch"].exceptions[date(2026, 1, 7)].subject == "Team Meeting"


def test_defaults_of_a_minimal_file(tmp_path: Path) -> None:
    s = load(tmp_path, "start: 2026-01-05 11:50\nusers: [{extension: '100', email: a@b.c}]\n")
    assert s.name == "case" and s.description == ""
    assert s.timezone.key == "UTC" and s.variant == "both"
    assert s.end == s.start + timedelta(hours=1)
    assert s.engine.poll_interval == timedelta(seconds=30)
    assert s.engine.poll_offset == timedelta(0)
    assert s.engine.lead_time == timedelta(minutes=3) and s.engine.catch_up is False
    assert s.exchange.clock_skew == timedelta(0) and s.exchange.webdav_auth == "basic"
    account = s.seed.service_account
    assert (account.user, account.password) == ("OSOMX@domain.net", "secret")
    assert account.impersonation and account.full_access
    user = s.user("100")
    assert (user.language, user.auto_back_to_office, user.calendar_integration) == (
        "en",
        False,
        True,
    )
    assert user.mailbox and user.presence.status == "office" and user.presence.return_time is None
    assert s.seed.mailboxes[0].display_name == "a"
    assert s.steps == () and s.expect_transitions == ()


def test_yaml_sexagesimal_and_octal_stay_as_written(tmp_path: Path) -> None:
    text = """\
start: 2026-01-05 11:50
users:
  - {extension: 0100, email: user1@domain.net, mobile: +4917012345678}
appointments:
  - {id: a, mailbox: user1@domain.net, subject: no, start: 12:00, end: 12:30:30}
steps:
  - at: 12:00:30
    expect_presence: {user: 0100, status: office, return_time: 13:00}
"""
    s = load(tmp_path, text)
    assert s.users[0].extension == "0100" and s.users[0].mobile == "+4917012345678"
    appt = s.handles["a"]
    assert appt.subject == "no"
    assert (appt.start, appt.end) == (utc(2026, 1, 5, 12), utc(2026, 1, 5, 12, 30, 30))
    assert s.steps[0].at == utc(2026, 1, 5, 12, 0, 30)


def test_dst_day_in_berlin(tmp_path: Path) -> None:
    text = """\
timezone: Europe/Berlin
start: 2026-03-29 01:50
users: [{extension: '100', email: u@d.net}]
appointments:
  - {id: weekly, mailbox: u@d.net, subject: Meeting, start: 2026-03-27 09:00, end: 2026-03-27 10:00,
     recurrence: {pattern: weekly}}
steps:
  - at: '03:10'
    set_presence: {user: '100', status: lunch, return_time: '04:00'}
"""
    s = load(tmp_path, text)
    assert s.start == utc(2026, 3, 29, 0, 50)  # +01:00 still
    step = s.steps[0]
    assert isinstance(step, SetPresence)
    assert step.at == utc(2026, 3, 29, 1, 10)  # +02:00 already
    assert step.return_time == utc(2026, 3, 29, 2)
    rec = s.handles["weekly"].recurrence
    assert rec is not None and rec.days_of_week == ("Friday",)  # the start's weekday


def test_offsets_are_taken_as_given(tmp_path: Path) -> None:
    text = "timezone: Europe/Berlin\nstart: 2026-01-05T12:00:00+01:00\nend: 2026-01-05 13:00:00 Z\n"
    s = load(tmp_path, text)
    assert (s.start, s.end) == (utc(2026, 1, 5, 11), utc(2026, 1, 5, 13))


def test_negative_skew_engine_and_exchange_settings(tmp_path: Path) -> None:
    text = (
        B
        + """\
variant: webdav
engine: {poll_interval: 1m, poll_offset: 15s, lead_time: 0s, catch_up: yes}
exchange:
  clock_skew: -40s
  webdav_auth: forms
  service_account:
    user: SVC@domain.net
    password: pw
    impersonation: false
    full_access: true
    impersonation_on_server: true
    denied_mailboxes: [USER1@domain.net]
"""
    )
    s = load(tmp_path, text)
    assert s.variants == ("webdav",)
    assert s.engine == type(s.engine)(
        timedelta(minutes=1), timedelta(seconds=15), timedelta(0), True
    )
    assert s.exchange.clock_skew == timedelta(seconds=-40)
    assert s.seed.webdav_auth == "forms"
    account = s.seed.service_account
    assert (account.user, account.impersonation, account.impersonation_on_server) == (
        "SVC@domain.net",
        False,
        True,
    )
    assert account.denied_mailboxes == ("user1@domain.net",)


def test_users_without_mailbox_and_with_initial_presence(tmp_path: Path) -> None:
    text = (
        B
        + """\
  - extension: '300'
    name: Gisela
    language: de
    presence: {status: vacation, return_time: 2026-01-09 08:00}
"""
    )
    s = load(tmp_path, text)
    assert [m.smtp for m in s.seed.mailboxes] == ["user1@domain.net"]
    assert s.user("200").mailbox is False and not s.user("200").has_mailbox
    gisela = s.user("300")
    assert gisela.email is None and gisela.language == "de"
    assert gisela.presence.status == "vacation"
    assert gisela.presence.return_time == utc(2026, 1, 9, 8)


def test_all_day_events_are_local_midnights_end_exclusive(tmp_path: Path) -> None:
    text = (
        B.replace("name: t", "name: t\ntimezone: Europe/Berlin")
        + """\
appointments:
  - {id: one, mailbox: user1@domain.net, subject: Holiday, all_day: true, start: 2026-01-07}
  - {id: three, mailbox: user1@domain.net, all_day: true, start: 2026-01-07, end: 2026-01-10,
     busy_status: oof}
  - {id: midnight, mailbox: user1@domain.net, all_day: true, start: '00:00'}
"""
    )
    s = load(tmp_path, text)
    one, three, midnight = (s.handles[k] for k in ("one", "three", "midnight"))
    assert one.all_day and (one.start, one.end) == (utc(2026, 1, 6, 23), utc(2026, 1, 7, 23))
    assert three.end == utc(2026, 1, 9, 23) and three.busy_status == "OOF"
    assert midnight.start == utc(2026, 1, 4, 23)


@pytest.mark.parametrize(
    ("recurrence", "expected"),
    [
        (
            "{pattern: daily, interval: 2, until: 2026-02-01}",
            dict(pattern="daily", interval=2, end_date=date(2026, 2, 1)),
        ),
        ("{pattern: weekly}", dict(pattern="weekly", days_of_week=("Monday",))),
        ("{pattern: weekly, days: [weekday]}", dict(pattern="weekly", days_of_week=("Weekday",))),
        ("{pattern: monthly}", dict(pattern="absolute_monthly", day_of_month=5)),
        ("{pattern: monthly, day_of_month: 31}", dict(pattern="absolute_monthly", day_of_month=31)),
        (
            "{pattern: monthly, week_index: last, days: [weekday]}",
            dict(pattern="relative_monthly", week_index="Last", days_of_week=("Weekday",)),
        ),
        (
            "{pattern: monthly, week_index: first}",
            dict(pattern="relative_monthly", week_index="First", days_of_week=("Monday",)),
        ),
        ("{pattern: yearly}", dict(pattern="absolute_yearly", day_of_month=5, month=1)),
        (
            "{pattern: yearly, week_index: second, days: [sunday], month: march}",
            dict(pattern="relative_yearly", week_index="Second", days_of_week=("Sunday",), month=3),
        ),
        (
            "{pattern: yearly, day_of_month: 1, month: 12}",
            dict(pattern="absolute_yearly", day_of_month=1, month=12),
        ),
    ],
)
def test_recurrence_maps_to_exchange_patterns(
    tmp_path: Path, recurrence: str, expected: dict[str, object]
) -> None:
    text = B + (
        "appointments:\n  - {id: r, mailbox: user1@domain.net, start: '12:00', end: '13:00',\n"
        f"     recurrence: {recurrence}}}\n"
    )
    s = load(tmp_path, text)
    assert s.handles["r"].recurrence == Recurrence(start_date=date(2026, 1, 5), **expected)  # type: ignore[arg-type]


def test_exceptions_keep_times_on_their_own_date(tmp_path: Path) -> None:
    text = (
        B
        + APPT
        + """\
    recurrence: {pattern: daily, count: 5}
    exceptions:
      - {date: 2026-01-06, start: '12:30'}
      - {date: 2026-01-07, end: '13:15', busy_status: tentative, location: Canteen}
"""
    )
    s = load(tmp_path, text)
    moved, longer = s.handles["a"].exceptions
    assert (moved.start, moved.end) == (utc(2026, 1, 6, 12, 30), utc(2026, 1, 6, 13, 30))
    assert (longer.start, longer.end) == (utc(2026, 1, 7, 12), utc(2026, 1, 7, 13, 15))
    assert (longer.busy_status, longer.location, longer.subject) == ("Tentative", "Canteen", None)


def test_update_moving_only_the_start_keeps_the_duration(tmp_path: Path) -> None:
    text = (
        B
        + APPT
        + """\
steps:
  - at: '11:51'
    update_appointment: {id: a, start: '12:30'}
  - at: '11:52'
    update_appointment: {id: a, subject: Lunch moved, busy_status: free}
  - at: '11:53'
    update_appointment: {id: a, all_day: true, start: 2026-01-06}
"""
    )
    s = load(tmp_path, text)
    move, rename, whole_day = s.steps
    assert isinstance(move, UpdateAppointment)
    assert (move.start, move.end) == (utc(2026, 1, 5, 12, 30), utc(2026, 1, 5, 13, 30))
    assert isinstance(rename, UpdateAppointment)
    assert (rename.start, rename.subject, rename.busy_status) == (None, "Lunch moved", "Free")
    assert isinstance(whole_day, UpdateAppointment) and whole_day.all_day is True
    assert (whole_day.start, whole_day.end) == (utc(2026, 1, 6), utc(2026, 1, 7))


def test_default_created_and_default_end(tmp_path: Path) -> None:
    text = (
        B
        + """\
appointments:
  - {id: soon, mailbox: user1@domain.net, start: '12:00', end: '13:00'}
  - {id: later, mailbox: user1@domain.net, start: 2026-01-08 12:00, end: 2026-01-08 13:00}
steps:
  - at: '12:30'
    fault: {service: pbx, kind: unavailable}
expect_transitions:
  - {user: '100', status: lunch, between: ['12:00', '12:45']}
"""
    )
    s = load(tmp_path, text)
    assert s.handles["soon"].created == utc(2026, 1, 4, 12)
    assert s.handles["later"].created == s.start  # not in the future
    assert s.end == utc(2026, 1, 5, 12, 45)
    fault = s.steps[0]
    assert isinstance(fault, Fault) and fault.duration is None


def test_anchors_and_merge_keys(tmp_path: Path) -> None:
    text = """\
start: 2026-01-05 11:50
users:
  - &base {extension: '100', email: a@d.net, language: de}
  - {<<: *base, extension: '101', email: b@d.net}
"""
    s = load(tmp_path, text)
    assert s.user("101").language == "de" and s.user("101").email == "b@d.net"


def test_load_paths_expands_folders_sorted_and_collects_all_errors(tmp_path: Path) -> None:
    good = "start: 2026-01-05 11:50\n"
    write(tmp_path, good, "b.yaml")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", good, "a.yaml")
    write(tmp_path, "not yaml", "notes.txt")
    found = load_paths([tmp_path])
    assert [s.path.relative_to(tmp_path).as_posix() for s in found] == ["b.yaml", "sub/a.yaml"]
    write(tmp_path, "start: soon\n", "c.yaml")
    write(tmp_path / "sub", "strat: x\n", "d.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_paths([tmp_path, tmp_path / "missing.yaml"])
    problems = caught.value.problems
    assert problems[0] == f"{tmp_path / 'missing.yaml'}: no such file or folder"
    assert any(p.startswith(f"{tmp_path / 'c.yaml'}:1: start: bad time") for p in problems)
    assert any(
        p.startswith(f"{tmp_path / 'sub' / 'd.yaml'}:1: unknown key 'strat'") for p in problems
    )


def test_step_kinds_are_a_table() -> None:
    assert list(STEP_KINDS) == [
        "create_appointment",
        "update_appointment",
        "delete_appointment",
        "set_presence",
        "expect_presence",
        "fault",
        "call",
        "leave_voicemail",
        "expect_call",
        "expect_mail",
        "expect_no_mail",
        "check_mail",
        "search_contacts",
        "expect_contacts",
        "restart_engine",
        "restart_exchange",
        "grant",
        "revoke",
        "add_user",
        "client_set_presence",
        "cancel_meeting",
    ]


# ------------------------------------------------------------------------- notations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("3m", timedelta(minutes=3)),
        ("1h30m", timedelta(minutes=90)),
        ("-40s", timedelta(seconds=-40)),
        ("0s", timedelta(0)),
        ("2h", timedelta(hours=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert times.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["90", "", "1.5h", "h", "3 m", "30S", "1m1h", "--3s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="a duration is a number with a unit"):
        times.parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12:00", utc(2026, 1, 5, 11)),
        ("12:00:30", utc(2026, 1, 5, 11, 0, 30)),
        ("9:05", utc(2026, 1, 5, 8, 5)),
        ("2026-01-06 12:00", utc(2026, 1, 6, 11)),
        ("2026-01-06T12:00:00+01:00", utc(2026, 1, 6, 11)),
        ("2026-01-06T12:00Z", utc(2026, 1, 6, 12)),
        ("2026-07-06 12:00", utc(2026, 7, 6, 10)),
    ],
)
def test_moments_in_berlin(text: str, expected: datetime) -> None:
    from zoneinfo import ZoneInfo

    assert times.parse_moment(text, ZoneInfo("Europe/Berlin"), date(2026, 1, 5)) == expected


@pytest.mark.parametrize(
    "text", ["noon", "12", "12:0", "24:00", "2026-01-05", "2026-01-05 12:00+25:00"]
)
def test_bad_moments(text: str) -> None:
    from zoneinfo import ZoneInfo

    with pytest.raises(ValueError, match=re.escape(repr(text))):
        times.parse_moment(text, ZoneInfo("UTC"), date(2026, 1, 5))


# -------------------------------------------------------------------- no tracebacks

MUTATIONS = ["[1, 2]", "{a: 1}", "~", "yes", "'zz'", "-3", "2026-01-05"]


def test_any_value_replaced_gives_problems_not_tracebacks() -> None:
    """Each value of the contract example replaced by each odd value: only ScenarioError."""
    spots = [m.end() for m in re.finditer(r"(?m)^\s*-?\s*\w+: ", CONTRACT_EXAMPLE)]
    checked = 0
    for spot in spots:
        line_end = CONTRACT_EXAMPLE.index("\n", spot)
        if CONTRACT_EXAMPLE[spot:line_end].strip() in ("", "|"):
            continue  # a block value follows; its children are mutated on their own
        for odd in MUTATIONS:
            text = CONTRACT_EXAMPLE[:spot] + odd + CONTRACT_EXAMPLE[line_end:]
            try:
                parse_scenario(text, "m.yaml")
            except ScenarioError as exc:
                assert all(re.match(r"m\.yaml:\d+: \S", p) for p in exc.problems), exc.problems
            checked += 1
    assert checked > 200


def test_problems_carry_the_given_path_for_text() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("start: later\n", "inline.yaml")
    assert caught.value.problems == [
        "inline.yaml:1: start: bad time 'later': a time is HH:MM or HH:MM:SS (on the start date)"
        " or YYYY-MM-DD HH:MM[:SS][+HH:MM]"
    ]


# ------------------------------------------------------------------------------ docs

DOCS = Path(__file__).resolve().parents[3] / "docs" / "scenario-format.md"


def doc_examples() -> list[tuple[int, str]]:
    text = DOCS.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 2, m.group(1))
        for m in re.finditer(r"```yaml\n(.*?)```", text, re.S)
    ]


def test_docs_have_examples() -> None:
    assert len(doc_examples()) >= 5


@pytest.mark.parametrize(("line", "example"), doc_examples(), ids=lambda v: str(v)[:12])
def test_docs_examples_load(line: int, example: str) -> None:
    try:
        scenario = parse_scenario(example, f"{DOCS.name} (example at line {line})")
    except ScenarioError as exc:
        pytest.fail(str(exc))
    assert scenario.name
