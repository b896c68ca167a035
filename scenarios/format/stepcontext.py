"""What a step reader may check a step against while the file is read in order.

``StepContext`` holds the file's users and mailboxes and what earlier steps
made: appointment ids (created, moved, deleted), call ids and the extensions
called so far, contact search ids. Readers report problems through
``ctx.reader``; the context only answers "is this name known here?" with a
message in the loader's style (did-you-mean, what is known).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from yaml.nodes import Node

from scenarios.format.appointments import Mailboxes, series_zone
from scenarios.format.model import User
from scenarios.format.yamlnodes import Fields, Reader, suggest
from simulators.exchange.seed import SeedAppointment


@dataclass
class Handle:
    """What the steps so far made of one appointment id."""

    line: int
    start: datetime
    end: datetime
    all_day: bool
    deleted_at: int | None = None
    zone: tzinfo | None = None  # the appointment's own zone, when it has one
    meeting: bool = False  # an attendee's copy of a meeting (cancel_meeting)
    cancelled_at: int | None = None  # the line that cancelled it (0: cancelled: true)

    @classmethod
    def of(cls, line: int, appointment: SeedAppointment) -> Handle:
        """The handle of an appointment read at ``line``."""
        meeting = appointment.meeting
        return cls(
            line,
            appointment.start,
            appointment.end,
            appointment.all_day,
            zone=series_zone(appointment),
            meeting=meeting is not None,
            cancelled_at=0 if meeting is not None and meeting.cancelled else None,
        )


@dataclass
class StepContext:
    """What a step reader may check against: users, mailboxes, ids made so far."""

    reader: Reader
    users: Mapping[str, User]  # by extension
    mailboxes: Mailboxes
    handles: dict[str, Handle] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)  # call id -> line
    called: dict[str, int] = field(default_factory=dict)  # extension -> line of its last call
    last_call: int | None = None  # line of the last call step so far
    searches: dict[str, int] = field(default_factory=dict)  # search id -> line
    last_search: int | None = None
    service_account: str = ""  # the service account's UPN (grant/revoke default to it)
    read_user: Callable[[Node], User | None] | None = None  # a `users:` entry (add_user)

    def extension(self, node: Node, what: str = "user") -> str | None:
        """An extension of ``users`` written in ``node``; reported when unknown."""
        raw = self.reader.nonempty(node, what)
        if raw is None:
            return None
        if raw.strip() not in self.users:
            known = ", ".join(self.users) or "none"
            self.reader.error(node, f"unknown user {raw!r} (users are extensions; known: {known})")
            return None
        return raw.strip()

    def user(self, fields: Fields) -> str | None:
        node = fields.require("user")
        return None if node is None else self.extension(node)

    def handle(self, fields: Fields) -> tuple[str, Handle] | None:
        node = fields.require("id")
        raw = None if node is None else self.reader.nonempty(node, "id")
        if node is None or raw is None:
            return None
        state = self.handles.get(raw)
        if state is None:
            hint = suggest(raw, self.handles) if self.handles else " (no appointment has an id)"
            self.reader.error(node, f"no appointment has the id {raw!r}{hint}")
            return None
        if state.deleted_at is not None:
            self.reader.error(node, f"appointment {raw!r} was deleted at line {state.deleted_at}")
            return None
        return raw, state

    def add_handle(self, node: Node, handle: str, state: Handle) -> bool:
        if handle in self.handles:
            self.reader.error(
                node, f"id {handle!r} is already used at line {self.handles[handle].line}"
            )
            return False
        self.handles[handle] = state
        return True

    def new_id(self, node: Node, ids: dict[str, int], what: str, line: int) -> str | None:
        """A fresh id for a call or search (``what``); reported when already used."""
        raw = self.reader.nonempty(node, "id")
        if raw is None:
            return None
        if raw in ids:
            self.reader.error(node, f"{what} id {raw!r} is already used at line {ids[raw]}")
            return None
        ids[raw] = line
        return raw

    def known_id(self, node: Node, ids: dict[str, int], what: str, step: str) -> str | None:
        """An id of an earlier call or search (``what``), made by a ``step`` step."""
        raw = self.reader.nonempty(node, what)
        if raw is None:
            return None
        if raw not in ids:
            hint = suggest(raw, ids) if ids else f" (no earlier {step} step has an id)"
            self.reader.error(node, f"no {what} has the id {raw!r}{hint}")
            return None
        return raw


__all__ = ["Handle", "StepContext"]
