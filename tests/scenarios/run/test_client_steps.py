"""``client_set_presence``: the client's appointment really lands in Exchange, over the
run's protocol, and the engine's decision names the client's presence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integration.decisions import Verdict
from scenarios.format.loader import parse_scenario
from scenarios.outputs.timeline import render
from scenarios.run.environment import Environment
from scenarios.run.runner import run_scenario
from simulators.exchange.model import CalendarItem

HEAD = """\
name: t
timezone: UTC
start: 2026-01-05 11:59
end: 2026-01-05 12:02
users:
  - {extension: "100", email: user1@domain.net, language: LANG, auto_back_to_office: true}
"""
STEP = 'steps:\n  - at: "12:00:10"\n    client_set_presence: {user: "100", status: lunch, until: "12:45"}\n'


def utc(hms: str) -> datetime:
    h, m, *s = (int(x) for x in hms.split(":"))
    return datetime(2026, 1, 5, h, m, s[0] if s else 0, tzinfo=UTC)


def calendar_items(environment: Environment) -> list[CalendarItem]:
    folder = environment.store.distinguished_folder("calendar", "user1@domain.net")
    return [i for i in environment.store.items_in(folder) if isinstance(i, CalendarItem)]


@pytest.mark.parametrize(
    ("variant", "auth", "language", "subject"),
    [
        ("ews", "basic", "en", "Lunch"),
        ("webdav", "basic", "en", "Lunch"),
        ("webdav", "forms", "de", "Mittag"),
        ("ews", "basic", "de", "Mittag"),
    ],
)
def test_the_client_writes_the_appointment_and_sets_presence(
    environment: Environment, variant: str, auth: str, language: str, subject: str
) -> None:
    text = HEAD.replace("LANG", language) + f"exchange: {{webdav_auth: {auth}}}\n" + STEP
    result = run_scenario(parse_scenario(text), variant, environment)
    assert result.passed, render(result)
    (item,) = calendar_items(environment)
    assert (item.subject, item.start, item.end) == (subject, utc("12:00:10"), utc("12:45"))
    assert item.created == utc("12:00:10")
    (change,) = [e for e in result.journal if e.is_transition]
    assert (change.new_status, change.set_by, change.return_time) == (
        "lunch",
        "client",
        utc("12:45"),
    )
    seen = [d for p in result.polls if p.at == utc("12:00:30") for d in p.decisions]
    assert [(d.subject, d.verdict, d.presence_set_by) for d in seen] == [
        (subject, Verdict.IGNORED, "client")
    ]
    assert all(not p.commands for p in result.polls)  # the engine never acts on it


def test_a_write_exchange_refuses_is_told_and_presence_is_set_anyway(
    environment: Environment,
) -> None:
    text = (
        HEAD.replace("LANG", "en")
        + 'steps:\n  - at: "12:00:00"\n    fault: {service: ews, kind: unavailable}\n'
        + STEP[len("steps:\n") :]
    )
    result = run_scenario(parse_scenario(text), "ews", environment)
    assert result.passed, render(result)
    assert calendar_items(environment) == []
    notes = [a.text for a in result.activity if a.text.startswith("client:")]
    assert len(notes) == 1 and "was not written" in notes[0]
    assert [e.new_status for e in result.journal if e.is_transition] == ["lunch"]
