"""``harness import-ics``: an Outlook export becomes appointments of a seed, in place
(comments kept) or as a new file; broken exports are ``FILE:LINE`` and change nothing."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from scenarios.commands.cli import main
from scenarios.commands.importics import import_ics_command
from scenarios.format.loader import load_scenario, parse_scenario

EXPORT = Path(__file__).parent / "data" / "outlook-export.ics"
SEED = """\
# The customer's seed: Bernd and his manager.
name: Bernd's week   # the case number is 4711
timezone: Europe/Berlin
start: "2026-03-23 08:00"
users:
  # Bernd first
  - {extension: "101", name: Bernd Krüger, email: user2@domain.net, language: de}
  - {extension: "102", email: boss@domain.net}   # the manager
appointments:
  - {mailbox: boss@domain.net, subject: Meeting, start: "09:00", end: "10:00"}  # keep me
# trailing remark
"""


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    ics, mailbox, *rest = args
    options = dict(zip(rest[::2], rest[1::2], strict=True))
    code = import_ics_command(
        ics,
        mailbox,
        into=options.get("--into"),
        out_path=options.get("--out"),
        timezone=options.get("--timezone"),
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_a_new_seed_holds_the_series_its_changes_and_the_all_day_event(tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    code, out, err = _run(str(EXPORT), "user2@domain.net", "--out", str(target))
    assert code == 0, err
    assert "wrote" in out
    scenario = load_scenario(target)
    assert str(scenario.timezone) == "Europe/Berlin"  # from the W. Europe Standard Time TZID
    lunch, holiday, dentist = scenario.seed.appointments
    assert lunch.subject == "Mittag" and lunch.recurrence is not None
    assert lunch.recurrence.days_of_week == ("Monday", "Wednesday") and lunch.recurrence.count == 4
    assert [e.original_date for e in lunch.exceptions] == [date(2026, 3, 30)]
    assert lunch.exceptions[0].subject == "Besprechung"
    assert lunch.deleted == [date(2026, 3, 25)]
    assert holiday.all_day and holiday.busy_status == "OOF"
    assert (holiday.start.date(), holiday.end.date()) == (date(2026, 4, 5), date(2026, 4, 8))
    assert dentist.location == "Praxis"
    # Never over an existing file.
    code, _, err = _run(str(EXPORT), "user2@domain.net", "--out", str(target))
    assert code == 2 and "exists; not overwritten" in err


def test_into_a_seed_keeps_every_comment_and_adds_after_what_is_there(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED, encoding="utf-8")
    code, out, err = _run(str(EXPORT), "USER2@domain.net", "--into", str(seed))
    assert code == 0, err
    assert "added 3 appointment(s)" in out and "user" not in out.split("of", 1)[1].split("to")[0]
    text = seed.read_text(encoding="utf-8")
    for line in SEED.splitlines():
        assert line in text, line  # nothing of the user's file is lost
    assert text.index("# keep me") < text.index('subject: "Mittag"') < text.index("# trailing")
    scenario = load_scenario(seed)
    assert [u.extension for u in scenario.users] == ["101", "102"]  # the existing user
    assert {a.mailbox for a in scenario.seed.appointments} == {
        "boss@domain.net",
        "user2@domain.net",
    }
    assert len(scenario.seed.appointments) == 4


def test_into_adds_a_user_for_an_unknown_address(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED, encoding="utf-8")
    code, out, err = _run(str(EXPORT), "carla@domain.net", "--into", str(seed))
    assert code == 0, err
    assert "user 103 added" in out
    scenario = load_scenario(seed)
    assert scenario.user("103").email == "carla@domain.net"
    assert "# Bernd first" in seed.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "appointments",
    [
        "appointments: []  # none yet\n",
        "appointments:\n",
        "appointments: [{mailbox: boss@domain.net, start: '09:00', end: '10:00'}]\n",
        "",
    ],
    ids=["empty-flow", "null", "flow-items", "absent"],
)
def test_into_any_shape_of_the_appointments_key(tmp_path: Path, appointments: str) -> None:
    seed = tmp_path / "seed.yaml"
    body = SEED.split("appointments:")[0] + appointments
    seed.write_text(body, encoding="utf-8")
    before = len(parse_scenario(body, seed).seed.appointments)
    code, _, err = _run(str(EXPORT), "user2@domain.net", "--into", str(seed))
    assert code == 0, err
    assert len(load_scenario(seed).seed.appointments) == before + 3
    if "none yet" in appointments:
        assert "# none yet" in seed.read_text(encoding="utf-8")


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "broken.ics"
    path.write_text(EXPORT.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("FREQ=WEEKLY;COUNT=4;BYDAY=MO,WE", "FREQ=HOURLY;COUNT=4", 26, "FREQ=HOURLY"),
        ("FREQ=WEEKLY;COUNT=4;BYDAY=MO,WE", "FREQ=WEEKLY;BYWEEKNO=3", 26, "BYWEEKNO"),
        (
            "FREQ=WEEKLY;COUNT=4;BYDAY=MO,WE",
            "FREQ=MONTHLY;BYMONTHDAY=1,15",
            26,
            "one day of the month",
        ),
        (
            "UID:040000008200E00074C5B7101A82E0080000000010A1\nRECURRENCE",
            "UID:nobody\nRECURRENCE",
            35,
            "no recurring VEVENT",
        ),
        ("DTEND;VALUE=DATE:20260409", "DTEND;VALUE=DATE:20260401", 45, "DTEND is before DTSTART"),
        ("BEGIN:VCALENDAR", "BEGIN:VCARD", 1, "not an iCalendar file"),
    ],
    ids=["hourly", "byweekno", "two-monthdays", "orphan-override", "end-before-start", "not-ics"],
)
def test_broken_exports_name_their_line_and_change_nothing(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED, encoding="utf-8")
    broken = _broken(tmp_path, old, new)
    code, _, err = _run(str(broken), "user2@domain.net", "--into", str(seed))
    assert code == 2
    assert err.startswith(f"{broken}:{line}: "), err
    assert message in err
    assert seed.read_text(encoding="utf-8") == SEED


def test_not_utf8_and_a_broken_seed_change_nothing(tmp_path: Path) -> None:
    latin = tmp_path / "latin.ics"
    latin.write_bytes(EXPORT.read_bytes().replace(b"Urlaub", "Ferien in Köln".encode("latin-1")))
    code, _, err = _run(str(latin), "user2@domain.net")
    assert code == 2 and f"{latin}:1: the file is not UTF-8" in err
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED.replace("start:", "strat:"), encoding="utf-8")
    code, _, err = _run(str(EXPORT), "user2@domain.net", "--into", str(seed))
    assert code == 2 and "unknown key 'strat'" in err and "nothing changed" in err
    assert "strat:" in seed.read_text(encoding="utf-8")


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-ics", str(EXPORT), "--mailbox", "user2@domain.net"]) == 0
    printed = capsys.readouterr().out
    assert parse_scenario(printed).seed.appointments[0].subject == "Mittag"
    with pytest.raises(SystemExit):
        main(["import-ics", str(EXPORT), "--mailbox", "a@b.c", "--into", "x", "--out", "y"])
    assert main(["import-ics", str(EXPORT), "--mailbox", "not an address"]) == 2


DOCS = Path(__file__).resolve().parents[3] / "docs" / "capture.md"


def test_the_documented_export_gives_the_documented_seed(tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    export = text.split("```ics\n", 1)[1].split("```", 1)[0]
    seed = text.split("prints this seed", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert export == EXPORT.read_text(encoding="utf-8")  # the test data is the docs' example
    path = tmp_path / "export.ics"
    path.write_text(export, encoding="utf-8")
    code, out, err = _run(str(path), "user2@domain.net")
    assert code == 0, err
    assert out == seed
    for line in text.split("```text\n", 1)[1].split("```", 1)[0].splitlines():
        assert line.split(": ", 1)[0].startswith("export.ics:")  # the error lines' shape
