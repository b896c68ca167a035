"""The ``cancel_meeting`` step: the organizer cancels a meeting the mailbox received.

``cancel_meeting: {id: review}`` applies the cancellation at that instant, as
Exchange's calendar attendant does (``simulators.exchange.meetings.cancel``): the item
stays in the calendar, marked cancelled, free, its subject prefixed. Only an
appointment with ``meeting:`` (``scenarios.format.meetings``) can be cancelled, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from yaml.nodes import Node

from scenarios.format.model import Step
from scenarios.format.stepcontext import StepContext


@dataclass(frozen=True, kw_only=True)
class CancelMeeting(Step):
    """The organizer cancels meeting ``id``: Exchange keeps it, marked cancelled."""

    verb: ClassVar[str] = "cancel_meeting"
    id: str


def read_cancel_meeting(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    reader = ctx.reader
    fields = reader.mapping(node, "cancel_meeting", ("id",), required=("id",))
    found = None if fields is None else ctx.handle(fields)
    if fields is None or found is None:
        return None
    handle, state = found
    if not state.meeting:
        reader.error(
            fields.key_line("id"),
            f"appointment {handle!r} is not a meeting (give it meeting: {{...}} to cancel it)",
        )
        return None
    if state.cancelled_at is not None:
        where = f"at line {state.cancelled_at}" if state.cancelled_at else "in the file"
        reader.error(fields.key_line("id"), f"meeting {handle!r} is already cancelled {where}")
        return None
    state.cancelled_at = line
    return CancelMeeting(at=at, line=line, id=handle)


__all__ = ["CancelMeeting", "read_cancel_meeting"]
