"""``harness capture`` against a served Exchange: read-only requests, the file it writes,
and the round trip - a captured calendar replayed as a scenario makes the same
presence journal as the scenario it was served from, over EWS and WebDAV."""

from __future__ import annotations

import io
import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from scenarios.commands.capture import capture_command
from scenarios.commands.cli import main
from scenarios.format.loader import load_scenario, parse_scenario
from scenarios.format.model import Scenario
from scenarios.run.environment import Environment
from scenarios.run.runner import ScenarioResult, run_scenario
from simulators.clock import Clock
from simulators.exchange.ews import EwsOptions
from simulators.exchange.seed import apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.site import RunningSite, start_site

# The customer's case: a daily lunch with a moved and a deleted occurrence, a weekly
# meeting made in New York that the US DST change (8 March) moves against Berlin time,
# a series stored with the US rules of 2006 (an hour off from 9 March), an all-day
# Urlaub of a German user, a single with a location, a keyword-less appointment.
ORIGINAL = """
name: The customer's calendars
timezone: Europe/Berlin
start: "2026-03-06 00:00"
end: "2026-03-10 00:00"
engine: {poll_interval: 30m}
users:
  - {extension: "100", name: Anna Berg, email: anna.berg@domain.net}
  - {extension: "101", name: Bernd Krüger, email: bernd.krueger@domain.net, language: de}
appointments:
  - mailbox: anna.berg@domain.net
    subject: Lunch with the Smith account
    location: Café Einstein
    start: "2026-03-06 12:00"
    end: "2026-03-06 12:30"
    recurrence: {pattern: daily, count: 5}
    exceptions:
      - {date: 2026-03-07, subject: "Coffee break with Eve", start: "13:00", end: "13:30"}
    deleted: [2026-03-08]
  - mailbox: anna.berg@domain.net
    subject: Meeting NYC sales
    timezone: America/New_York
    start: "2026-03-02 09:00"
    end: "2026-03-02 10:00"
    recurrence: {pattern: weekly, days: [monday], count: 4}
  - mailbox: bernd.krueger@domain.net
    subject: Besprechung Projekt Zeus
    timezone: America/New_York
    timezone_rules: {year: 2006}
    start: "2026-03-02 10:00"
    end: "2026-03-02 11:00"
    recurrence: {pattern: weekly, days: [monday], count: 4}
  - {mailbox: bernd.krueger@domain.net, subject: Urlaub, all_day: true, start: 2026-03-06,
     busy_status: oof}
  - {mailbox: bernd.krueger@domain.net, subject: Mittag bei Oma, start: "2026-03-09 12:00",
     end: "2026-03-09 12:30", location: Hauptstraße 5}
  - {mailbox: anna.berg@domain.net, subject: Dentist, start: "2026-03-09 08:00", end: "2026-03-09 09:00"}
"""
ADDRESSES = ("anna.berg@domain.net", "bernd.krueger@domain.net")


@pytest.fixture(scope="module")
def original() -> Scenario:
    return parse_scenario(ORIGINAL, "original.yaml")


@pytest.fixture(scope="module")
def served(original: Scenario) -> Iterator[RunningSite]:
    """The original's Exchange side served in real time, MeetingTimeZone answered as a
    real 2007 answers it (the gate exists for exchangelib's sake)."""
    store = ExchangeStore(Clock(), domain="domain.net")
    site = start_site(store, tls=True, options=EwsOptions(meeting_time_zone=True))
    apply_seed(store, original.seed)
    yield site
    site.stop()


def _config(site: RunningSite, variant: str, folder: Path) -> str:
    url = site.ews_url if variant == "ews" else site.webdav_url
    path = folder / f"engine-{variant}.toml"
    path.write_text(
        "\n".join(
            [
                "[exchange]",
                "enabled = true",
                f'variant = "{variant}"',
                f"server_url = {json.dumps(url)}",
                'username = "OSOMX@domain.net"',
                'password = "secret"',
                f"ca_file = {json.dumps(site.ca_cert_pem)}",
                "[pbx]",
                'url = "http://127.0.0.1:9/"',
                "",
            ]
        ),
        encoding="utf-8",
    )
    return str(path)


def _capture(site: RunningSite, variant: str, folder: Path, key: str = "case-4711") -> Path:
    out = folder / f"captured-{variant}.yaml"
    stdout, stderr = io.StringIO(), io.StringIO()
    code = capture_command(
        _config(site, variant, folder),
        list(ADDRESSES),
        date(2026, 3, 6),
        date(2026, 3, 9),
        str(out),
        timezone="Europe/Berlin",
        key=key,
        out=stdout,
        err=stderr,
    )
    assert code == 0, stderr.getvalue()
    return out


def _journal(result: ScenarioResult, extension_of: dict[str, str]) -> list[tuple[object, ...]]:
    assert result.passed, result.failures or result.error
    # Users poll concurrently: within one instant their changes may come in either order.
    return sorted(
        (e.at, extension_of[e.user], e.seq_in_user, e.cause, str(e.new_status), e.return_time)
        for e in _numbered(result)
    )


@dataclass(frozen=True)
class _Entry:
    at: datetime
    user: str
    seq_in_user: int
    cause: str
    new_status: object
    return_time: datetime | None


def _numbered(result: ScenarioResult) -> list[_Entry]:
    counts: dict[str, int] = {}
    entries = []
    for e in result.journal:
        counts[e.user] = counts.get(e.user, 0) + 1
        entries.append(_Entry(e.at, e.user, counts[e.user], e.cause, e.new_status, e.return_time))
    return entries


@pytest.mark.parametrize("variant", ["ews", "webdav"])
def test_a_captured_calendar_replays_to_the_same_presence_journal(
    variant: str,
    served: RunningSite,
    original: Scenario,
    environment: Environment,
    tmp_path: Path,
) -> None:
    served.journal.clear()
    path = _capture(served, variant, tmp_path)
    # The operator's one edit: the customer's polling (the file says the default, 30s).
    text = path.read_text(encoding="utf-8").replace("poll_interval: 30s", "poll_interval: 30m")
    replay = parse_scenario(text, path)
    same_users = {u.extension: u.extension for u in original.users}
    want = _journal(run_scenario(original, variant, environment), same_users)
    got = _journal(run_scenario(replay, variant, environment), same_users)
    assert got == want
    meetings = {(at, user) for at, user, _, cause, status, _ in want if status == "meeting"}
    # 09:00 New York on 9 March is 13:00 UTC (EDT since 8 March); the old-rules series'
    # 10:00 is still "EST" by its definition: 15:00 UTC, an hour after New York's 10:00.
    assert (datetime(2026, 3, 9, 13, 0, tzinfo=UTC), "100") in meetings
    assert (datetime(2026, 3, 9, 15, 0, tzinfo=UTC), "101") in meetings
    statuses = {status for *_, status, _ in want}
    assert {"lunch", "break", "vacation", "meeting"} <= statuses
    # Read-only: EWS FindItem/GetItem, or WebDAV PROPFIND/SEARCH/GET, nothing else.
    seen = {(e.method, e.operation) for e in served.journal.entries()}
    allowed = {("POST", "FindItem"), ("POST", "GetItem")} if variant == "ews" else set()
    assert seen
    for method, operation in seen:
        if variant == "ews":
            assert (method, operation) in allowed, (method, operation)
        else:
            assert method in ("PROPFIND", "SEARCH", "GET"), method


def test_what_the_capture_holds(served: RunningSite, tmp_path: Path) -> None:
    text = _capture(served, "webdav", tmp_path).read_text(encoding="utf-8")
    scenario = load_scenario(tmp_path / "captured-webdav.yaml")
    # Nobody's name, address, location or non-keyword word leaves the site.
    for secret in (
        "anna",
        "bernd",
        "Smith",
        "Einstein",
        "Eve",
        "Zeus",
        "Oma",
        "Hauptstraße",
        "NYC",
    ):
        assert not re.search(rf"\b{secret}\b", text, re.IGNORECASE), secret
    for kept in ("Lunch with", "break with", "Meeting", "Besprechung", "Urlaub", "Mittag"):
        assert kept.split()[0] in text, kept
    assert "Dentist" not in text
    # The series as Exchange holds them: the exception, the deletion, the zones.
    assert "exceptions:" in text and "deleted: [2026-03-08]" in text
    assert "timezone: America/New_York" in text
    assert 'daylight_starts: "first sunday of april 02:00"' in text  # the stored old rules
    assert "all_day: true" in text and "busy_status: oof" in text
    users = {u.extension: u for u in scenario.users}
    assert users["101"].language == "de"  # a German mailbox (its calendar is "Kalender")
    assert all(u.email and u.email.endswith("@domain.net") for u in scenario.users)


def test_pseudonyms_are_stable_under_one_key_and_differ_under_another(
    served: RunningSite, tmp_path: Path
) -> None:
    for name in "abc":
        (tmp_path / name).mkdir()
    first = _capture(served, "ews", tmp_path / "a")
    second = _capture(served, "ews", tmp_path / "b")
    other = _capture(served, "ews", tmp_path / "c", key="another key")

    def body(path: Path) -> str:
        return "\n".join(line for line in path.read_text().splitlines() if not line.startswith("#"))

    assert body(first) == body(second)
    assert body(first) != body(other)


def test_without_the_definition_ews_falls_back_to_the_zone_name(
    original: Scenario, tmp_path: Path
) -> None:
    # The default front end leaves MeetingTimeZone out (exchangelib 5.6 cannot read it):
    # the capture then has the zone's name only, and says the series' zone as today's.
    store = ExchangeStore(Clock(), domain="domain.net")
    site = start_site(store, tls=True)
    try:
        apply_seed(store, original.seed)
        text = _capture(site, "ews", tmp_path).read_text(encoding="utf-8")
    finally:
        site.stop()
    assert "timezone: America/New_York" in text
    assert "timezone_rules" not in text


def test_bad_input_is_one_line_and_nothing_is_written(
    served: RunningSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(served, "ews", tmp_path)
    out = tmp_path / "x.yaml"
    base = ["capture", "--config", config, "--mailbox", ADDRESSES[0], "--out", str(out)]
    assert main([*base, "--from", "2026-03-09", "--to", "2026-03-06"]) == 2
    assert "--to 2026-03-06 is before --from 2026-03-09" in capsys.readouterr().err
    assert (
        main([*base, "--from", "2026-03-06", "--to", "2026-03-07", "--timezone", "Mars/Base"]) == 2
    )
    assert "unknown time zone 'Mars/Base'" in capsys.readouterr().err
    denied = ["capture", "--config", config, "--mailbox", "nobody@domain.net", "--out", str(out)]
    assert main([*denied, "--from", "2026-03-06", "--to", "2026-03-07"]) == 2
    assert "nobody@domain.net" in capsys.readouterr().err
    assert not out.exists()
    out.write_text("# the user's file\n", encoding="utf-8")
    assert main([*base, "--from", "2026-03-06", "--to", "2026-03-07"]) == 2
    assert "exists; not overwritten" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "# the user's file\n"


def test_the_documented_command_line(served: RunningSite, tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[3] / "docs" / "capture.md"
    line = next(
        row
        for row in docs.read_text(encoding="utf-8").splitlines()
        if row.startswith("harness capture ")
    )
    argv = shlex.split(line)[1:]
    argv[argv.index("--config") + 1] = _config(served, "webdav", tmp_path)
    argv[argv.index("--out") + 1] = str(tmp_path / "case-4711.yaml")
    assert main(argv) == 0
    scenario = load_scenario(tmp_path / "case-4711.yaml")
    assert len(scenario.users) == 2 and len(scenario.seed.appointments) == 6
