"""Faults in a scenario run: a PBX fault no longer ends the run, every kind reaches
its applier, what acted is on the timeline and in the request journal, runs repeat."""

from __future__ import annotations

from scenarios.format.loader import parse_scenario
from scenarios.run.environment import Environment
from scenarios.run.runner import run_scenario

BASE = """
name: t
timezone: Europe/Berlin
start: "2026-01-05 11:58"
end: "2026-01-05 12:05"
users:
  - {extension: "100", name: Anna, email: user1@domain.net, auto_back_to_office: true}
  - {extension: "101", name: Ben, email: user2@domain.net, auto_back_to_office: true}
appointments:
  - {mailbox: user1@domain.net, subject: Meeting, start: "12:00", end: "12:30"}
  - {mailbox: user2@domain.net, subject: Lunch, start: "12:00", end: "12:30"}
steps:
"""


def test_a_pbx_fault_is_a_failed_poll_not_a_harness_error(environment: Environment) -> None:
    text = BASE + '  - at: "11:59:50"\n    fault: {service: pbx, kind: unavailable, duration: 1m}\n'
    result = run_scenario(parse_scenario(text), "ews", environment)
    assert result.error is None
    failed = [e for e in result.polls if e.outcome == "failed"]
    assert {(e.at.strftime("%H:%M:%S"), e.extension) for e in failed} == {
        ("11:00:00", "100"),
        ("11:00:00", "101"),
        ("11:00:30", "100"),
        ("11:00:30", "101"),
    }
    assert all("connection refused (scenario fault)" in e.detail for e in failed)
    # Still in the start minute? No: 12:01:00 is past it, and catch-up is off (R3).
    assert result.transitions() == []


def test_an_ews_fault_for_one_mailbox_is_journaled_and_on_the_timeline(
    environment: Environment,
) -> None:
    text = BASE + (
        '  - at: "12:00"\n'
        '    fault: {service: ews, kind: ErrorServerBusy, user: "100", first: 1, back_off: 10s}\n'
    )
    result = run_scenario(parse_scenario(text), "ews", environment)
    assert result.error is None and result.failures == []
    hit = [e for e in environment.site.journal.entries() if e.injected]
    assert [(e.injected, e.mailbox, e.status) for e in hit] == [("ews:ErrorServerBusy", None, 500)]
    lines = [a.text for a in result.activity]
    assert "fault ews:ErrorServerBusy acted for user1@domain.net" in lines
    assert [(e.user, e.at.strftime("%H:%M:%S")) for e in result.transitions()] == [
        ("101", "11:00:00"),
        ("100", "11:00:30"),
    ]


def test_a_seeded_probability_repeats_exactly(environment: Environment) -> None:
    text = BASE + (
        '  - at: "11:58"\n'
        "    fault: {service: webdav, kind: http_500, probability: 0.5, seed: 11}\n"
    )
    scenario = parse_scenario(text)

    def outcomes() -> list[tuple[str, str, str]]:
        result = run_scenario(scenario, "webdav", environment)
        assert result.error is None
        return sorted((e.at.isoformat(), e.extension, e.outcome) for e in result.polls)

    first = outcomes()
    assert first == outcomes()
    assert {o for _, _, o in first} == {"ok", "failed"}
