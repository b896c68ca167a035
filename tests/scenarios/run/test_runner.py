"""The runner: frozen time, poll instants, expectations, the request journal."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scenarios.format.loader import parse_scenario
from scenarios.run.environment import Environment
from scenarios.run.runner import poll_instants, run_scenario

LUNCH = """
name: Lunch sets presence, auto back to office
timezone: Europe/Berlin
start: "2026-01-05 11:50"
end: "2026-01-05 13:05"
engine: {poll_offset: 10s}
users:
  - {extension: "100", name: Anna, email: user1@domain.net, auto_back_to_office: true}
  - {extension: "101", name: Ben, email: user2@domain.net}
appointments:
  - {mailbox: user1@domain.net, subject: Lunch, start: "12:00", end: "13:00"}
steps:
  - at: "12:00:10"
    expect_presence: {user: "100", status: lunch, return_time: "13:00"}
expect_transitions:
  - {user: "100", status: lunch, between: ["12:00:10", "12:00:10"], return_time: "13:00"}
  - {user: "100", status: office, between: ["13:00:10", "13:00:10"]}
"""


def berlin(text: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


def test_a_passing_scenario_passes(environment: Environment) -> None:
    result = run_scenario(parse_scenario(LUNCH), "ews", environment)
    assert result.error is None
    assert result.failures == []
    assert [(e.user, str(e.new_status)) for e in result.transitions()] == [
        ("100", "lunch"),
        ("100", "office"),
    ]


def test_one_calendar_read_per_user_per_poll_instant(environment: Environment) -> None:
    scenario = parse_scenario(LUNCH)
    run_scenario(scenario, "ews", environment)
    instants = list(poll_instants(scenario))
    assert instants[0] == berlin("2026-01-05 11:50:10")
    assert instants[1] - instants[0] == timedelta(seconds=30)
    for mailbox in ("user1@domain.net", "user2@domain.net"):
        reads = environment.site.journal.entries(operation="FindItem", mailbox=mailbox)
        assert [r.at for r in reads] == instants
        assert {r.status for r in reads} == {200}
        assert {r.impersonated for r in reads} == {mailbox}


def test_runs_are_deterministic(environment: Environment) -> None:
    scenario = parse_scenario(LUNCH)

    def journal() -> list[tuple[object, ...]]:
        result = run_scenario(scenario, "ews", environment)
        return [(e.at, e.user, e.new_status, e.return_time, e.set_by) for e in result.journal]

    assert journal() == journal()


def test_a_wrong_expectation_says_which_when_and_why(environment: Environment) -> None:
    text = LUNCH.replace("status: lunch", "status: meeting")
    result = run_scenario(parse_scenario(text, "case.yaml"), "ews", environment)
    lines = [f.line for f in result.failures]
    assert lines == [13, 16]  # the expect_presence step, then the first transition
    messages = " | ".join(f.message for f in result.failures)
    assert "expected user 100 meeting at 2026-01-05 12:00:10, got lunch" in messages
    assert "got lunch at 2026-01-05 12:00:10" in messages


def test_an_extra_transition_fails(environment: Environment) -> None:
    text = LUNCH.replace(
        '  - {user: "100", status: office, between: ["13:00:10", "13:00:10"]}\n', ""
    )
    result = run_scenario(parse_scenario(text), "ews", environment)
    assert [f.message for f in result.failures] == [
        "unexpected transition of user 100 to office at 2026-01-05 13:00:10 (end: 'Lunch')"
    ]


def test_exchange_stamps_carry_the_clock_skew(environment: Environment) -> None:
    text = LUNCH.replace("engine: {poll_offset: 10s}", "exchange: {clock_skew: -40s}").replace(
        "steps:\n",
        'steps:\n  - at: "11:51"\n    create_appointment: {id: m, mailbox: user2@domain.net,'
        ' subject: Meeting, start: "12:30", end: "12:40"}\n',
    )
    scenario = parse_scenario(text.split("expect_transitions:")[0])
    run_scenario(scenario, "ews", environment)
    (item,) = [i for i in environment.store.all_calendar_items() if i.subject == "Meeting"]
    assert item.created == berlin("2026-01-05 11:50:20")


def test_the_unavailable_fault_refuses_connections(environment: Environment) -> None:
    text = LUNCH.replace(
        "steps:\n",
        'steps:\n  - at: "11:58"\n    fault: {service: ews, kind: unavailable, duration: 5m}\n',
    )
    result = run_scenario(parse_scenario(text.split("expect_transitions:")[0]), "ews", environment)
    failed = [p for p in result.polls if p.outcome == "failed"]
    assert len(failed) == 2 * 10  # two users, ten polls in five minutes
    assert all("cannot connect" in p.detail for p in failed)
    assert min(p.at for p in failed) == berlin("2026-01-05 11:58:10")
    assert max(p.at for p in failed) == berlin("2026-01-05 12:02:40")
    # R3 without catch-up: the lunch whose start minute fell into the outage is lost.
    assert [str(e.new_status) for e in result.transitions()] == []


def test_a_variant_not_in_this_build_is_a_harness_error(environment: Environment) -> None:
    result = run_scenario(parse_scenario(LUNCH), "carrier-pigeon", environment)
    assert result.error == "the carrier-pigeon variant is not available in this build"
    assert not result.passed


def test_webdav_variant_reads_through_search_with_forms_login(environment: Environment) -> None:
    text = LUNCH.replace(
        "engine: {poll_offset: 10s}", "engine: {poll_offset: 10s}\nexchange: {webdav_auth: forms}"
    )
    result = run_scenario(parse_scenario(text), "webdav", environment)
    assert result.passed, result.failures
    journal = environment.site.journal
    assert journal.count(service="ews") == 0
    searches = journal.entries(service="webdav", mailbox="user1@domain.net")
    assert {e.method for e in searches} >= {"SEARCH", "PROPFIND"}
    assert journal.count(service="owa") >= 1  # the forms log-in (owaauth.dll)


def test_library_holds_at_least_forty_scenarios() -> None:
    library = Path(__file__).parents[3] / "scenarios" / "library"
    assert len(list(library.rglob("*.yaml"))) >= 40


def test_a_result_pickles_whole_for_the_worker_processes(environment: Environment) -> None:
    # A failing run: failures with their explanation, journal, polls, the scenario itself.
    text = LUNCH.replace("status: lunch", "status: meeting")
    result = run_scenario(parse_scenario(text, "case.yaml"), "webdav", environment)
    assert result.failures and result.failures[0].explanation and result.polls
    copy = pickle.loads(pickle.dumps(result))
    assert copy == result
    assert copy.scenario.timezone is result.scenario.timezone  # ZoneInfo keeps one per key
    assert copy.transitions() == result.transitions() and not copy.passed


def test_progress_hears_every_instant_in_order_and_the_time_it_took(
    environment: Environment,
) -> None:
    scenario = parse_scenario(LUNCH)
    reached: list[datetime] = []
    result = run_scenario(scenario, "ews", environment, progress=reached.append)
    assert reached == sorted(set(reached))
    assert set(poll_instants(scenario)) <= set(reached)
    assert reached[-1] <= scenario.end
    assert 0 < result.seconds < 60
