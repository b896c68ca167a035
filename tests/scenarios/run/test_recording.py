"""The recording of a run: lanes on the scenario's time axis, failures on their user's
lane with the explanation, decisions folded, requests, faults; it pickles."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scenarios.format.loader import parse_scenario
from scenarios.run.environment import Environment
from scenarios.run.recording import SCENARIO_LANE, fault_spans
from scenarios.run.runner import ScenarioResult, poll_instants, run_scenario

BERLIN = ZoneInfo("Europe/Berlin")

CASE = """
name: Lunch written too late, a meeting moved and one deleted
timezone: Europe/Berlin
start: "2026-01-05 11:50"
end: "2026-01-05 12:20"
engine: {poll_offset: 0s}
{extra}
users:
  - {extension: "100", name: Anna Berg, email: user1@domain.net, auto_back_to_office: true}
  - {extension: "101", name: Ben Hart, email: user2@domain.net, auto_back_to_office: true}
appointments:
  - {id: review, mailbox: user2@domain.net, subject: Meeting, start: "12:05", end: "12:10"}
  - {id: spare, mailbox: user2@domain.net, subject: Meeting, start: "12:15", end: "12:18"}
steps:
  - at: "11:54:00"
    update_appointment: {id: review, start: "12:06", end: "12:12"}
  - at: "11:55:00"
    delete_appointment: {id: spare}
  - at: "11:58:30"
    create_appointment: {mailbox: user1@domain.net, subject: Lunch, start: "12:00", end: "12:15"}
  - at: "12:00:00"
    expect_presence: {user: "100", status: lunch}
"""


def berlin(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-01-05 {clock}").replace(tzinfo=BERLIN).astimezone(UTC)


def run(environment: Environment, extra: str = "") -> ScenarioResult:
    text = CASE.replace("{extra}", extra)
    return run_scenario(parse_scenario(text, "case.yaml"), "ews", environment)


def test_one_lane_per_user_and_the_failure_on_its_users_lane(environment: Environment) -> None:
    result = run(environment)
    assert result.recording is not None
    timeline = result.recording.timeline
    assert [(lane.user, lane.title, lane.mailbox) for lane in timeline.lanes] == [
        ("100", "Anna Berg", "user1@domain.net"),
        ("101", "Ben Hart", "user2@domain.net"),
    ]
    anna, ben = timeline.lanes
    assert ben.failures == ()
    (mark,) = anna.failures
    assert mark.at == berlin("12:00:00")
    assert "expected user 100 lunch at 2026-01-05 12:00:00, got office" in mark.text
    assert "ignored for good by the 3-minute rule (R4)" in mark.text
    assert (timeline.start, timeline.end, timeline.timezone) == (
        berlin("11:50:00"),
        berlin("12:20:00"),
        "Europe/Berlin",
    )
    (failure,) = result.failures
    assert (failure.user, failure.at) == ("100", berlin("12:00:00"))


def test_appointments_as_exchange_held_them(environment: Environment) -> None:
    result = run(environment)
    assert result.recording is not None
    anna, ben = result.recording.timeline.lanes
    (lunch,) = anna.appointments
    assert [(v.change, v.at) for v in lunch.versions] == [("created", berlin("11:58:30"))]
    changes = {
        t.versions[0].start: [(v.change, v.at, v.start) for v in t.versions]
        for t in ben.appointments
    }
    review, spare = changes[berlin("12:05:00")], changes[berlin("12:15:00")]
    # Seeded: created at the stamp the seed gives (well before the scenario starts).
    assert review[0][0] == spare[0][0] == "created"
    assert review[0][1] < result.scenario.start and spare[0][1] < result.scenario.start
    assert review[1:] == [("moved", berlin("11:54:00"), berlin("12:06:00"))]
    assert spare[1:] == [("deleted", berlin("11:55:00"), berlin("12:15:00"))]


def test_presence_polls_and_requests(environment: Environment) -> None:
    result = run(environment)
    assert result.recording is not None
    anna, ben = result.recording.timeline.lanes
    assert [(s.start, s.end, s.status) for s in anna.presence] == [
        (berlin("11:50:00"), berlin("12:20:00"), "office")
    ]
    assert [(s.start, s.status) for s in ben.presence] == [
        (berlin("11:50:00"), "office"),
        (berlin("12:06:00"), "meeting"),
        (berlin("12:12:00"), "office"),
    ]
    instants = list(poll_instants(result.scenario))
    assert [t.at for t in ben.polls] == instants
    assert {t.outcome for t in ben.polls} == {"ok"}
    finds = [r for r in result.recording.requests if r.operation == "FindItem"]
    assert len(finds) == 2 * len(instants)
    assert {r.mailbox for r in finds} == {"user1@domain.net", "user2@domain.net"}
    assert finds[0].summary == "POST /EWS/Exchange.asmx (FindItem)"


def test_decisions_are_the_changes_with_their_repeats_folded(environment: Environment) -> None:
    result = run(environment)
    assert result.recording is not None
    rows = [r for r in result.recording.decisions if r.user == "100"]
    (ignored,) = rows  # one decision, repeated at every later poll that read it
    assert (ignored.verdict, ignored.rule, ignored.at) == ("ignored", "R4", berlin("11:58:30"))
    # Every later poll read it the same, up to the one before its end minute.
    assert (ignored.until, ignored.repeats) == (berlin("12:14:30"), 32)
    assert ignored.sentence.startswith("'Lunch' was first seen at 11:58:30, 1:30 before")
    ben = [(r.verdict, r.at) for r in result.recording.decisions if r.user == "101"]
    assert ("set", berlin("12:06:00")) in ben
    assert ("ended", berlin("12:12:00")) in ben
    # The timeline's lane carries the same changes, for the poll ticks' tooltips.
    (lane_decision,) = result.recording.timeline.lanes[0].decisions
    assert lane_decision.verdict == ignored.sentence


def test_a_skewed_pbx_clock_and_exchange_clock_are_drawn_on_the_scenario_clock(
    environment: Environment,
) -> None:
    extra = "pbx: {clock_skew: 20s}\nexchange: {clock_skew: 40s}"
    result = run(environment, extra)
    assert result.recording is not None
    anna, ben = result.recording.timeline.lanes
    assert [t.at for t in anna.polls] == list(poll_instants(result.scenario))
    assert [v.at for v in anna.appointments[0].versions] == [berlin("11:58:30")]
    row = result.recording.decisions[0]
    assert row.pbx_at - row.at == timedelta(seconds=20)
    notes = " ".join(result.recording.timeline.notes)
    assert "the PBX clock is 20 s ahead of the scenario clock" in notes
    assert "Exchange's clock is 40 s ahead" in notes


def test_a_failure_without_a_user_gets_a_lane_of_its_own(environment: Environment) -> None:
    text = CASE.replace("{extra}", "").replace(
        '    expect_presence: {user: "100", status: lunch}',
        '    expect_presence: {user: "100", status: office}\n'
        '  - at: "12:01:00"\n'
        "    expect_mail: {to: user1@domain.net, subject: Hello, within: 1m}",
    )
    result = run_scenario(parse_scenario(text, "case.yaml"), "ews", environment)
    assert result.recording is not None
    (failure,) = result.failures
    assert failure.user is None
    last = result.recording.timeline.lanes[-1]
    assert last.user == SCENARIO_LANE
    (mark,) = last.failures
    assert "Hello" in mark.text and mark.at == failure.at


def test_fault_windows_of_the_run_variant_merged_by_window(environment: Environment) -> None:
    scenario = parse_scenario(CASE.replace("{extra}", ""), "case.yaml")
    at, back = berlin("12:00:00"), berlin("12:05:00")
    outages = [("ews", at, back), ("webdav", at, back), ("smtp", at, back), ("owa", at, back)]
    (span,) = fault_spans(scenario, "ews", outages)
    assert (span.service, span.kind, span.start, span.end) == (
        "ews, smtp, owa",
        "restart",
        at,
        back,
    )
    (span,) = fault_spans(scenario, "webdav", outages[:2])
    assert span.service == "webdav"


def test_an_injected_fault_is_drawn_until_it_is_spent(environment: Environment) -> None:
    text = CASE.replace("{extra}", "") + (
        '  - at: "12:01:00"\n'
        '    fault: {service: ews, kind: ErrorServerBusy, user: "101", first: 1}\n'
        '  - at: "12:01:00"\n'
        "    fault: {service: webdav, kind: http_500, duration: 2m}\n"
    )
    result = run_scenario(parse_scenario(text, "case.yaml"), "ews", environment)
    assert result.recording is not None
    spans = result.recording.timeline.faults
    # The ews fault acted once (Ben's read at 12:01:00), then no more; the webdav one
    # is not this run's protocol.
    assert [(f.service, f.kind, f.start, f.end) for f in spans] == [
        (
            "ews",
            "ErrorServerBusy (first 1, for user2@domain.net)",
            berlin("12:01:00"),
            berlin("12:01:01"),
        )
    ]


def test_a_result_with_its_recording_pickles(environment: Environment) -> None:
    result = run(environment)
    copy = pickle.loads(pickle.dumps(result))
    assert copy.recording == result.recording
    assert copy.failures == result.failures
    assert result.seconds > 0
