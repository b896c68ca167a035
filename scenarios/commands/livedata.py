"""What the live view shows, read from the served simulators.

- ``timeline``: the ``scenarios.outputs.lanes.Timeline`` of a window, one lane
  per PBX user: appointments from the store's change history (a series'
  occurrences from the current calendar), presence from the PBX journal, poll
  ticks from the site's request journal (each calendar read of the user's
  mailbox: EWS FindItem, WebDAV SEARCH), calls and mails, fault windows.
- ``users``: every PBX user with its presence now.
- ``activity``: the latest requests of every protocol (EWS, WebDAV, OWA, the
  PBX API, SMTP transactions) in one list, newest first.

The engine runs elsewhere, so a poll is what the site saw: a request refused by
a fault before the mailbox was known has no user; the timeline counts those in
a note (the fault window shows where they were).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from scenarios.commands.served import Served
from scenarios.outputs.lanes import (
    AppointmentTrack,
    FaultSpan,
    Lane,
    Mark,
    PollTick,
    Timeline,
    presence_segments,
)
from scenarios.run.recording import store_tracks
from simulators.exchange.ews.middleware import JournalEntry
from simulators.exchange.history import ItemChange
from simulators.faults.catalogue import KINDS

# The request that is one poll of one mailbox, per service.
POLL_OPERATIONS = {("ews", "FindItem"), ("webdav", "SEARCH")}
# Answers the engine reports as "skipped" (R1): the mailbox cannot be read at all.
SKIPPED_CODES = {
    "ErrorNonExistentMailbox",
    "ErrorImpersonateUserDenied",
    "ErrorImpersonationDenied",
    "ErrorAccessDenied",
}
SKIPPED_STATUSES = {401, 403, 404}


def poll_outcome(entry: JournalEntry) -> str:
    if entry.fault in SKIPPED_CODES or entry.status in SKIPPED_STATUSES:
        return "skipped"
    if entry.status >= 400 or entry.status == 0 or entry.fault:
        return "failed"
    return "ok"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def users(served: Served) -> list[dict[str, Any]]:
    pbx = served.pbx
    zone = pbx.timezone
    presences = pbx.presences()
    rows = []
    for user in pbx.users():
        presence = presences[user.extension]
        rows.append(
            {
                "extension": user.extension,
                "name": user.name,
                "email": user.email,
                "calendar_integration": user.calendar_integration,
                "auto_back_to_office": user.auto_back_to_office,
                "status": str(presence.status),
                "return_time": _iso(
                    presence.return_time.astimezone(zone) if presence.return_time else None
                ),
                "set_by": presence.set_by,
                "since": _iso(presence.since.astimezone(zone)),
            }
        )
    return rows


def activity(served: Served, limit: int = 100, service: str | None = None) -> list[dict[str, Any]]:
    """The latest ``limit`` requests and SMTP transactions, newest first."""
    rows: list[tuple[datetime, int, dict[str, Any]]] = []
    entries = served.site.journal.entries() + served.pbx_journal.entries()
    for index, entry in enumerate(entries):
        what = entry.operation or ""
        rows.append(
            (
                entry.at,
                index,
                {
                    "at": entry.at.isoformat(),
                    "service": entry.service,
                    "summary": f"{entry.method} {entry.path}" + (f" ({what})" if what else ""),
                    "status": entry.status,
                    "mailbox": entry.mailbox,
                    "account": entry.account,
                    "fault": entry.fault or entry.injected,
                },
            )
        )
    base = len(entries)
    # SMTP sessions a fault answered: not transactions (nothing was stored), but shown.
    for index, hit in enumerate(served.site.faults.applied):
        if not hit.fault.startswith("smtp:"):
            continue
        kind = hit.fault.split(":", 1)[1]
        rows.append(
            (
                hit.at,
                base + index,
                {
                    "at": hit.at.isoformat(),
                    "service": "smtp",
                    "summary": f"{hit.stage or 'session'}: answered by the fault {kind}",
                    "status": KINDS[("smtp", kind)].status,
                    "mailbox": hit.who or None,
                    "account": None,
                    "fault": hit.fault,
                },
            )
        )
    base += len(served.site.faults.applied)
    for index, tx in enumerate(served.sink.journal.transactions()):
        where = ", ".join(tx.rcpt_tos)
        security = "TLS" if tx.tls else "no TLS"
        rows.append(
            (
                tx.received,
                base + index,
                {
                    "at": tx.received.isoformat(),
                    "service": "smtp",
                    "summary": f"MAIL FROM:<{tx.mail_from}> to {where} "
                    f"({tx.listener}, {security}, {tx.login or 'anonymous'}, {tx.size} bytes)",
                    "status": 250,
                    "mailbox": next(iter(tx.delivered), None),
                    "account": tx.login,
                    "fault": None,
                },
            )
        )
    if service:
        rows = [r for r in rows if r[2]["service"] == service]
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    return [r[2] for r in rows[:limit]]


def default_window(served: Served) -> tuple[datetime, datetime]:
    """From a minute before the last reset (at most 2 h back) to 10 min ahead, and at
    least 30 min long: fresh, the picture is not squeezed into a corner."""
    now = served.clock.now()
    since = served.loaded_at or now
    start = min(
        max(since - timedelta(minutes=1), now - timedelta(hours=2)), now - timedelta(minutes=1)
    )
    return start, max(now + timedelta(minutes=10), start + timedelta(minutes=30))


def timeline(served: Served, start: datetime, end: datetime) -> Timeline:
    pbx = served.pbx
    now = served.clock.now()
    changes = served.history.changes(item_kind="calendar")
    answered = served.site.journal.entries(since=start - timedelta(seconds=1), until=end)
    reads = [e for e in answered if (e.service, e.operation) in POLL_OPERATIONS]
    # A fault answers before the front end reads the request: no operation, no mailbox.
    refused = sum(1 for e in answered if e.fault and e.mailbox is None and e.service != "site")
    presences = pbx.presences()
    lanes = []
    for user in pbx.users():
        mailbox = user.email.lower() if user.email else None
        presence = presences[user.extension]
        segments = presence_segments(
            pbx.journal(user.extension),
            max(start, served.loaded_at or start),  # the PBX did not exist before
            min(end, now + timedelta(seconds=1)),  # what it shows now, at least a sliver
            initial=(str(presence.status), presence.return_time, presence.set_by),
        )
        polls = tuple(
            PollTick(
                e.at,
                poll_outcome(e),  # type: ignore[arg-type]
                f"{e.service} {e.operation} {e.status}" + (f" {e.fault}" if e.fault else ""),
            )
            for e in reads
            if mailbox is not None and e.mailbox == mailbox
        )
        calls = tuple(
            Mark(c.at, f"from {c.caller}: {c.status}, routed to {c.routed_to} ({c.destination})")
            for c in pbx.calls(user.extension)
        )
        mails: tuple[Mark, ...] = ()
        tracks: tuple[AppointmentTrack, ...] = ()
        if mailbox is not None:
            mails = tuple(
                Mark(m.created, f"{m.subject!r} from {m.sender}")
                for m in served.store.messages(mailbox)
            )
            tracks = _tracks(served, [c for c in changes if c.mailbox == mailbox], start, end)
        lanes.append(
            Lane(
                user=user.extension,
                title=user.name,
                mailbox=mailbox,
                presence=segments,
                appointments=tracks,
                polls=polls,
                calls=calls,
                mails=mails,
            )
        )
    notes = []
    if refused:
        notes.append(
            f"{refused} request(s) refused by a fault before the mailbox was known: "
            "the fault windows show when; their polls are missing from the lanes"
        )
    faults = tuple(
        FaultSpan(w.service, w.kind, w.start, w.end) for w in served.site.faults.windows()
    )
    title = f"harness serve: {served.loaded.name or served.loaded.source or 'demo'}"
    return Timeline(
        start,
        end,
        served.loaded.zone,
        tuple(lanes),
        faults,
        now=now,
        title=title,
        notes=tuple(notes),
    )


def _tracks(
    served: Served, changes: list[ItemChange], start: datetime, end: datetime
) -> tuple[AppointmentTrack, ...]:
    """Singles and changed occurrences from the history, a series' occurrences in the
    window from the calendar as it is now (the report draws them the same way)."""
    return store_tracks(served.store, changes, start, end)


__all__ = ["activity", "default_window", "poll_outcome", "timeline", "users"]
