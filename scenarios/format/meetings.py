"""The ``meeting:`` key of an appointment in a scenario file.

``meeting: {organizer: boss@domain.net, response: accepted}`` makes the appointment an
attendee's copy of a meeting request (``simulators.exchange.meetings``): ``response``
is the mailbox owner's answer, ``accepted`` (default), ``tentative`` or ``none`` (not
answered yet: Exchange's calendar attendant put it in the calendar as tentative);
``organizer`` defaults to ``organizer@`` the mailbox's domain. ``cancelled: true``
means the organizer's cancellation has been applied: the item stays in the calendar,
marked cancelled, free, its subject prefixed as Exchange shows it (``Canceled: `` for
an English mailbox, ``Abgesagt: `` for a German one).
"""

from __future__ import annotations

from yaml.nodes import Node

from integration.mail.check import is_address
from scenarios.format.yamlnodes import Reader
from simulators.exchange.seed import SeedMeeting

MEETING_KEYS = ("organizer", "response", "cancelled")
# The file's answers -> EWS ResponseTypeType.
RESPONSES: dict[str, str] = {
    "accepted": "Accept",
    "tentative": "Tentative",
    "none": "NoResponseReceived",
}


def read_meeting(reader: Reader, node: Node, mailbox: str | None) -> SeedMeeting | None:
    """The ``meeting:`` of an appointment in ``mailbox`` (None: reported, or no mailbox)."""
    fields = reader.mapping(node, "meeting", MEETING_KEYS)
    if fields is None:
        return None
    response = fields.choice("response", tuple(RESPONSES), default="accepted")
    domain = mailbox.split("@", 1)[1] if mailbox and "@" in mailbox else "domain.net"
    organizer = fields.text("organizer", default=f"organizer@{domain}") or ""
    if not is_address(organizer.strip()):
        reader.error(fields.key_line("organizer"), f"{organizer!r} is not an e-mail address")
        return None
    if mailbox is not None and organizer.strip().lower() == mailbox.lower():
        reader.error(
            fields.key_line("organizer"),
            "the organizer's own copy is an appointment, not a meeting request received; "
            "leave out meeting:",
        )
        return None
    if response is None:
        return None
    return SeedMeeting(
        organizer=organizer.strip(),
        response=RESPONSES[response],  # type: ignore[arg-type]
        cancelled=fields.flag("cancelled", False),
    )


__all__ = ["MEETING_KEYS", "RESPONSES", "read_meeting"]
