"""Calls in the runner: routing at the step's instant (R14), announcements in the user's
language, forward to mobile, and ``expect_call`` failures naming their line."""

from __future__ import annotations

from scenarios.format.loader import parse_scenario
from scenarios.outputs.timeline import render
from scenarios.run.environment import Environment
from scenarios.run.runner import ScenarioResult, pbx_for, run_scenario

HEAD = """\
name: calls
timezone: Europe/Berlin
start: "2026-01-05 11:50"
end: "2026-01-05 12:45"
users:
  - {extension: "100", name: Anna Berg, email: user1@domain.net, auto_back_to_office: true,
     mobile: "+49 170 1234567", forward_to_mobile: [sick]}
  - {extension: "101", name: Bernd Krüger, email: user2@domain.net, language: de}
appointments:
  - {mailbox: user1@domain.net, subject: Lunch, start: "12:00", end: "12:30"}
  - {mailbox: user1@domain.net, subject: Sick, start: "12:30", end: "17:00"}
  - {mailbox: user2@domain.net, subject: Urlaub, start: "12:00", end: "2026-01-06 09:00"}
steps:
"""
LUNCH_EN = "Anna Berg is at lunch until 12:30 PM. Please leave a message after the tone."


def run(environment: Environment, steps: str, variant: str = "ews") -> ScenarioResult:
    result = run_scenario(parse_scenario(HEAD + steps, "case.yaml"), variant, environment)
    assert result.error is None, result.error
    return result


def call(at: str, to: str, call_id: str) -> str:
    return f'  - at: "{at}"\n    call: {{to: "{to}", from: "+49 30 5550", id: {call_id}}}\n'


def test_routes_and_announcements_follow_presence_at_the_instant(
    environment: Environment,
) -> None:
    steps = (
        call("12:00:00", "100", "before-poll")
        + '  - at: "12:00:00"\n    expect_call: {call: before-poll, routed_to: extension,'
        ' destination: "100"}\n'
        + call("12:10", "100", "lunch")
        + f'  - at: "12:10"\n    expect_call: {{call: lunch, routed_to: voicemail,'
        f' announcement: "{LUNCH_EN}"}}\n'
        + call("12:10", "101", "urlaub")
        + '  - at: "12:10"\n    expect_call: {to: "101", routed_to: voicemail, announcement:'
        ' "Bernd Krüger ist bis zum 6. Januar um 9:00 Uhr im Urlaub. Bitte hinterlassen Sie'
        ' eine Nachricht nach dem Signalton."}\n'
        + call("12:40", "100", "sick")
        + '  - at: "12:40"\n    expect_call: {routed_to: mobile, destination: "+49 170 1234567",'
        ' announcement: "Anna Berg is off sick until 5:00 PM. Your call is being forwarded to a'
        ' mobile phone."}\n'
    )
    result = run(environment, steps)
    assert result.passed, result.failures
    calls = [a.text for a in result.activity]
    assert calls[0] == "call +49 30 5550 -> 100: extension"
    assert calls[1] == f'call +49 30 5550 -> 100: voicemail "{LUNCH_EN}"'
    assert calls[-1].startswith("call +49 30 5550 -> 100: mobile +49 170 1234567 ")
    # The timeline puts the calls among the presence changes, by time.
    # The call at 12:00:00 came before that instant's poll set lunch.
    timeline = render(result).splitlines()
    assert timeline[1].endswith("call +49 30 5550 -> 100: extension")
    # Both users' changes of 12:00:00 follow it; users poll concurrently, so in either order.
    assert any("100  office -> lunch until 2026-01-05 12:30:00" in line for line in timeline[2:4])
    voicemail = f'call +49 30 5550 -> 100: voicemail "{LUNCH_EN}"'
    assert [n for n, line in enumerate(timeline) if line.endswith(voicemail)] == [4]


def test_a_wrong_expect_call_names_its_line_and_what_happened(
    environment: Environment,
) -> None:
    steps = (
        call("11:55", "100", "office")
        + '  - at: "11:55"\n    expect_call: {call: office, announcement_contains: lunch}\n'
        + call("12:10", "100", "lunch")
        + '  - at: "12:10"\n    expect_call: {call: lunch, routed_to: mobile}\n'
        + '  - at: "12:11"\n    expect_call: {to: "100", announcement: "Anna Berg is at lunch."}\n'
        + '  - at: "12:12"\n    expect_call: {announcement_contains: "in a meeting"}\n'
    )
    result = run(environment, steps)
    assert [f.line for f in result.failures] == [16, 20, 22, 24]
    which = "the call to 100 at 2026-01-05 12:10:00 (line 18)"
    assert [f.message for f in result.failures] == [
        "the call to 100 at 2026-01-05 11:55:00 (line 14) had no announcement, "
        "expected one with 'lunch'",
        f"{which} went to the voicemail, not the mobile",
        f"{which} announced {LUNCH_EN!r}, expected 'Anna Berg is at lunch.'",
        f"{which} announced {LUNCH_EN!r}, which lacks 'in a meeting'",
    ]


def test_the_pbx_gets_forward_to_mobile() -> None:
    scenario = parse_scenario(HEAD)
    pbx = pbx_for(scenario.users, scenario.timezone)
    assert {str(s) for s in pbx.user("100").forward_to_mobile} == {"sick"}
    assert pbx.user("101").forward_to_mobile == frozenset()
