"""``harness import-ics FILE.ics --mailbox ADDRESS [--into SEED.yaml | --out FILE]``.

Adds an Outlook/OWA calendar export to a seed or scenario file: the iCalendar is
read by ``integration.capture.ical`` (RRULE, EXDATE, RECURRENCE-ID, VTIMEZONE,
all-day ``VALUE=DATE``; anything Exchange cannot hold is ``FILE:LINE: message``)
and written as ``appointments:`` of ``ADDRESS`` by ``scenarios.commands.scenariofile``.

``--into`` edits the file in place: the new appointments (and, when the address is
no user's yet, a user for it) are inserted as text after what is there, so every
comment, anchor and blank line of the file stays; the result is loaded before it
replaces the file, atomically. ``--out`` writes a new seed (never over an existing
file); with neither, the new seed goes to standard output. Exit 0 done, 2 a broken
file or bad arguments (nothing written).
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, time
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from integration.capture.ical import parse_calendar
from integration.capture.model import Capture, CapturedAppointment, CapturedMailbox, CaptureError
from scenarios.commands.files import RefusedWrite, write_atomically
from scenarios.commands.scenariofile import (
    FIRST_EXTENSION,
    appointment_lines,
    choose_zone,
    local_text,
    quote,
    to_instant,
)
from scenarios.format import times
from scenarios.format.loader import parse_scenario
from scenarios.format.model import Scenario, ScenarioError
from scenarios.format.yamlnodes import compose
from simulators.exchange.recurrence import localize

EXIT_OK, EXIT_INVALID = 0, 2
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class ImportProblem(Exception):
    """Why nothing was written, as one or more ``FILE:LINE: message`` lines."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def read_ics(path: Path) -> list[CapturedAppointment]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportProblem(f"{path}: cannot read the file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportProblem(f"{path}:1: the file is not UTF-8 text ({exc.reason})") from None
    try:
        return parse_calendar(text, str(path))
    except CaptureError as exc:
        raise ImportProblem(str(exc)) from None


def _items(
    appointments: list[CapturedAppointment],
    mailbox: str,
    zone: ZoneInfo,
    start: datetime,
    indent: str,
) -> list[str]:
    lines: list[str] = []
    for appt in appointments:
        written = appointment_lines(appt, mailbox, zone, start, start, indent, explain_stamps=False)
        lines.extend(f"{indent}# {note}" for note in written.notes)
        lines.extend(written.lines)
    return lines


def new_seed(
    appointments: list[CapturedAppointment], mailbox: str, source: Path, zone: ZoneInfo | None
) -> str:
    """A seed file of its own: one user (``mailbox``) and the export's appointments."""
    capture = Capture("ics", str(source), datetime.min, datetime.min)
    capture.mailboxes.append(CapturedMailbox(mailbox, appointments=appointments))
    zone = zone or choose_zone(capture)
    firsts = [to_instant(a.start, zone) for a in appointments]
    day = min(firsts).astimezone(zone).date() if firsts else datetime.now(zone).date()
    start = localize(datetime.combine(day, time(0)), zone)
    lines = [
        f"# {len(appointments)} appointment(s) imported from {source.name} by `harness import-ics`.",
        f"name: {quote('Calendar of ' + mailbox)}",
        f"timezone: {zone.key}",
        f"start: {quote(local_text(start, zone))}",
        "users:",
        f'  - {{extension: "{FIRST_EXTENSION}", email: {mailbox}}}',
        "appointments:" if appointments else "appointments: []",
        *_items(appointments, mailbox, zone, start, "  "),
    ]
    return "\n".join(lines) + "\n"


def _top(root: Node, key: str) -> tuple[ScalarNode, Node] | None:
    if isinstance(root, MappingNode):
        for name, value in root.value:
            if isinstance(name, ScalarNode) and name.value == key:
                return name, value
    return None


def _insert_into(text: str, root: Node, key: str, items: list[str]) -> str:
    """``text`` with ``items`` (block list lines at indent 2) added to the top-level list
    ``key``: after its last item, replacing an empty or null value, or as a new key."""
    found = _top(root, key)
    if found is None:
        return text.rstrip("\n") + f"\n{key}:\n" + "\n".join(items) + "\n"
    name, value = found
    if isinstance(value, SequenceNode) and value.value and not value.flow_style:
        first, last = value.value[0], value.value[-1]
        line_start = text.rfind("\n", 0, first.start_mark.index) + 1
        dash = text.find("-", line_start, first.start_mark.index)
        indent = " " * (dash - line_start) if dash >= 0 else "  "
        moved = [indent + line[2:] for line in items]
        at = last.end_mark.index
        if last.end_mark.column != 0:
            newline = text.find("\n", at)
            at = len(text) if newline < 0 else newline + 1
        block = "\n".join(moved) + "\n"
        if at == len(text) and not text.endswith("\n"):
            block = "\n" + block
        return text[:at] + block + text[at:]
    # Null, [] or a flow list: the value becomes a block list (old flow items first).
    if not isinstance(value, SequenceNode) and not _is_null(value):
        raise ImportProblem(f"line {name.start_mark.line + 1}: {key} is not a list")
    old: list[str] = []
    if isinstance(value, SequenceNode):
        old = ["  - " + text[n.start_mark.index : n.end_mark.index] for n in value.value]
    begin = name.end_mark.index  # right after the key, before its colon
    end = value.end_mark.index if isinstance(value, SequenceNode) else begin
    newline = text.find("\n", end)
    line_end = len(text) if newline < 0 else newline
    hash_at = text.find("#", end, line_end)
    comment = text[hash_at:line_end] if hash_at >= 0 else ""
    head = text[:begin] + ":" + (f"  {comment}" if comment else "")
    return head + "\n" + "\n".join(old + items) + "\n" + text[line_end + 1 :]


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def into_seed(
    appointments: list[CapturedAppointment], mailbox: str, seed_path: Path
) -> tuple[str, str | None]:
    """The seed file's new text, and the extension of a user added for ``mailbox``."""
    try:
        text = seed_path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ImportProblem(f"{seed_path}:1: the file is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ImportProblem(f"{seed_path}: cannot read the file: {exc.strerror}") from None
    try:
        before = parse_scenario(text, seed_path)
    except ScenarioError as exc:
        raise ImportProblem(
            *exc.problems, f"{seed_path}: fix the file first; nothing changed"
        ) from None
    root, _ = compose(text)
    assert root is not None  # it loaded
    added = None
    user = next((u for u in before.users if (u.email or "").lower() == mailbox.lower()), None)
    if user is None:
        numbers = [int(u.extension) for u in before.users if u.extension.isdigit()]
        added = str(max(numbers) + 1 if numbers else FIRST_EXTENSION)
        text = _insert_into(
            text, root, "users", [f'  - {{extension: "{added}", email: {mailbox}}}']
        )
        root, _ = compose(text)
        assert root is not None
    elif not user.mailbox:
        raise ImportProblem(f"{seed_path}:{user.line}: user {user.extension} has mailbox: false")
    else:
        mailbox = user.email or mailbox
    new = _insert_into(
        text,
        root,
        "appointments",
        _items(appointments, mailbox, before.timezone, before.start, "  "),
    )
    try:
        after = parse_scenario(new, seed_path)
    except ScenarioError as exc:  # what the export holds does not fit the file
        raise ImportProblem(*exc.problems, f"{seed_path}: nothing changed") from None
    if len(after.seed.appointments) != len(before.seed.appointments) + len(appointments):
        raise ImportProblem(f"{seed_path}: the appointments could not be added; nothing changed")
    return new, added


def import_ics_command(
    ics_path: str,
    mailbox: str,
    *,
    into: str | None = None,
    out_path: str | None = None,
    timezone: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if not _EMAIL.fullmatch(mailbox.strip()):
            raise ImportProblem(f"--mailbox {mailbox!r} is not an e-mail address")
        zone = None
        if timezone is not None:
            if into is not None:
                raise ImportProblem("--timezone is for a new file; --into uses the file's zone")
            try:
                zone = times.named_zone(timezone)
            except ValueError as exc:
                raise ImportProblem(f"--timezone: {exc}") from None
        source = Path(ics_path)
        appointments = read_ics(source)
        if into is not None:
            target = Path(into)
            text, added = into_seed(appointments, mailbox.strip(), target)
            write_atomically(target, text, replace=True)
            who = f" (user {added} added for it)" if added else ""
            print(
                f"added {len(appointments)} appointment(s) of {mailbox}{who} to {target}", file=out
            )
            return EXIT_OK
        text = new_seed(appointments, mailbox.strip(), source, zone)
        check: Scenario = parse_scenario(text, out_path or "<stdout>")
        if out_path is None:
            out.write(text)
            return EXIT_OK
        write_atomically(Path(out_path), text, replace=False)
        print(
            f"wrote {out_path}: {len(check.seed.appointments)} appointment(s) of {mailbox}",
            file=out,
        )
        return EXIT_OK
    except ImportProblem as exc:
        for line in exc.lines:
            print(line, file=err)
    except ScenarioError as exc:
        for line in exc.problems:
            print(line, file=err)
        print(f"{ics_path}: the export holds something the scenario format cannot say", file=err)
    except (RefusedWrite, OSError) as exc:
        print(f"harness import-ics: {exc}", file=err)
    return EXIT_INVALID


__all__ = ["import_ics_command", "into_seed", "new_seed", "read_ics"]
