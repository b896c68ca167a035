"""The PBX's own clock in a run: what it reads, where it decides, how it is explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scenarios.format.loader import parse_scenario
from scenarios.outputs.timeline import render
from scenarios.run.environment import Environment
from scenarios.run.pbxclock import PbxClock
from scenarios.run.runner import run_scenario

BERLIN, UTC_ZONE = ZoneInfo("Europe/Berlin"), ZoneInfo("UTC")


def test_a_skewed_clock_reads_ahead_and_goes_back() -> None:
    clock = PbxClock(BERLIN, timedelta(minutes=5))
    moment = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    assert clock.at(moment) == moment + timedelta(minutes=5)
    assert clock.true(clock.at(moment)) == moment
    assert not clock.is_true and PbxClock(BERLIN).is_true


def test_a_wall_clock_in_the_wrong_zone_is_off_by_the_zones_difference() -> None:
    clock = PbxClock(UTC_ZONE, wall_zone=BERLIN)
    winter = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, read as 11:00 UTC
    summer = datetime(2026, 7, 6, 10, 0, tzinfo=UTC)  # 12:00 CEST, read as 12:00 UTC
    assert clock.offset(winter) == timedelta(hours=1)
    assert clock.offset(summer) == timedelta(hours=2)
    assert clock.true(clock.at(summer)) == summer


FAST = """
name: five minutes fast
timezone: Europe/Berlin
start: "2026-01-05 11:50"
end: "2026-01-05 12:10"
pbx: {clock_skew: 5m}
users:
  - {extension: "100", email: user1@domain.net, auto_back_to_office: true}
appointments:
  - {mailbox: user1@domain.net, subject: Meeting, start: "12:00", end: "12:30"}
steps:
  - at: "11:56"
    expect_presence: {user: "100", status: office}
"""


def test_the_engine_decides_on_the_pbx_clock_and_the_explanation_says_so(
    environment: Environment,
) -> None:
    result = run_scenario(parse_scenario(FAST, "fast.yaml"), "ews", environment)
    [failure] = result.failures  # presence was set at 11:55 by the scenario clock
    assert "expected user 100 office at 2026-01-05 11:56:00, got meeting" in failure.message
    why = " ".join(failure.explanation)
    assert (
        "poll at 12:01:00 on the PBX clock (11:56:00 scenario time: the PBX clock is 5:00 ahead)"
        in why
    )
    assert "'Meeting' is shown: meeting until 12:30:00" in why
    [change] = result.transitions()
    assert change.at == datetime(2026, 1, 5, 10, 55, tzinfo=UTC)  # the journal: scenario clock
    # The engine's own record of the poll is on its (the PBX's) clock.
    poll = next(p for p in result.polls if p.commands)
    assert poll.at == datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    text = render(result, explain="100")
    assert "the PBX clock is 5:00 ahead of the scenario clock" in text
    assert "12:00:00 on the PBX clock (2026-01-05 11:55:00 scenario time" in text
    assert "'Meeting' starts in this minute (12:00) by the PBX clock" in text
