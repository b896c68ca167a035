"""``client_set_presence``: the PBX client (myPortal) sets a presence and writes it into
the user's Exchange calendar, as its "Exchange Calendar Integration" option does.

``client_set_presence: {user: "100", status: lunch, until: "13:00"}`` makes, at that
instant, the appointment the client would (subject: the status's keyword in the
user's language, ``Lunch`` / ``Mittag``; from now until ``until``) and sets the
presence with ``until`` as return time, as the client (``set_by`` client). The
3-minute rule (R4) keeps the engine from acting on that appointment again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from yaml.nodes import Node

from integration import keywords
from scenarios.format import times
from scenarios.format.model import STATUSES, Step
from scenarios.format.stepcontext import StepContext

CLIENT_KEYS = ("user", "status", "until")


def keyword_for(language: str, status: str) -> str | None:
    """The first keyword of ``language``'s table that sets ``status`` (R5)."""
    table = keywords.table_for(language)
    return next((word for word, value in table.keywords.items() if value == status), None)


@dataclass(frozen=True, kw_only=True)
class ClientSetPresence(Step):
    """The client's presence change, and the appointment ``subject`` it writes."""

    verb: ClassVar[str] = "client_set_presence"
    user: str  # extension
    status: str
    end: datetime  # `until` in the file: the appointment's end and the return time
    mailbox: str
    subject: str


def read_client_set_presence(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    reader = ctx.reader
    fields = reader.mapping(node, "client_set_presence", CLIENT_KEYS, required=CLIENT_KEYS)
    if fields is None:
        return None
    before = len(reader.problems)
    extension = ctx.user(fields)
    status = fields.choice("status", STATUSES)
    until = fields.moment("until")
    if extension is None or status is None or until is None or len(reader.problems) > before:
        return None
    user = ctx.users[extension]
    if status == "office":
        reader.error(
            fields.key_line("status"),
            "the client writes no appointment for office; a manual change is set_presence",
        )
        return None
    if not user.has_mailbox or user.email is None:
        reader.error(
            fields.key_line("user"),
            f"user {extension} has no mailbox, so the client has no calendar to write to",
        )
        return None
    subject = keyword_for(user.language, status)
    if subject is None:  # pragma: no cover - every status has a keyword in en and de
        reader.error(fields.key_line("status"), f"no {user.language} keyword sets {status}")
        return None
    if until <= at:
        reader.error(
            fields.key_line("until"),
            f"until {times.describe(until, reader.zone)} is not after the step's time "
            f"{times.describe(at, reader.zone)}",
        )
        return None
    return ClientSetPresence(
        at=at,
        line=line,
        user=extension,
        status=status,
        end=until,
        mailbox=user.email,
        subject=subject,
    )


__all__ = ["CLIENT_KEYS", "ClientSetPresence", "keyword_for", "read_client_set_presence"]
