"""Meetings in a calendar as Exchange 2007 keeps them, and what a cancellation does.

A meeting is a calendar item with attendees (``CalendarItem.is_meeting``). The
organizer's copy has ``response`` "Organizer"; an attendee's copy, placed by the
calendar attendant when the request arrived, has the attendee's answer:
"NoResponseReceived" (not answered yet, shown tentative), "Tentative", "Accept".

When the organizer cancels, the attendee's item is not deleted: Exchange's calendar
attendant applies the cancellation to it and it stays in the calendar, marked
cancelled, until the user removes it ("Remove from Calendar"). Facts, from
[MS-OXOCAL] 3.1.4.9.1 (Sending a Meeting Cancellation) and the Outlook object model
(``OlMeetingStatus.olMeetingReceivedAndCanceled`` = 7, "cancelled but still appears
on the user's calendar"):

- PidLidAppointmentStateFlags gets asfCanceled (4) beside asfMeeting (1) and
  asfReceived (2): EWS ``IsCancelled`` true and ``AppointmentState`` 7, WebDAV
  ``http://schemas.microsoft.com/mapi/apptstateflags`` 7;
- PidLidBusyStatus becomes olFree: ``LegacyFreeBusyStatus`` Free;
- the subject is the cancellation's, which the organizer's client prefixes
  (PidTagSubjectPrefix): "Canceled: " in English, "Abgesagt: " in German Outlook.
  The prefix is the organizer's client's language; here, the mailbox's.
"""

from __future__ import annotations

from simulators.exchange.model import CalendarItem, Occurrence
from simulators.exchange.store import ExchangeStore, StoreError

ASF_MEETING, ASF_RECEIVED, ASF_CANCELED = 0x1, 0x2, 0x4
# PidLidResponseStatus by EWS response type (0: not a meeting).
RESPONSE_STATUS: dict[str, int] = {
    "Unknown": 0,
    "Organizer": 1,
    "Tentative": 2,
    "Accept": 3,
    "Decline": 4,
    "NoResponseReceived": 5,
}
CANCEL_PREFIXES: dict[str, str] = {"en": "Canceled: ", "de": "Abgesagt: "}


def _item(row: CalendarItem | Occurrence) -> CalendarItem:
    return row.master if isinstance(row, Occurrence) else row


def received(row: CalendarItem | Occurrence) -> bool:
    item = _item(row)
    return item.is_meeting and item.response != "Organizer"


def appointment_state(row: CalendarItem | Occurrence) -> int:
    """PidLidAppointmentStateFlags (EWS AppointmentState): 0 for an appointment."""
    item = _item(row)
    if not item.is_meeting:
        return 0
    flags = ASF_MEETING | (ASF_RECEIVED if received(item) else 0)
    return flags | (ASF_CANCELED if item.cancelled else 0)


def response_status(row: CalendarItem | Occurrence) -> int:
    """PidLidResponseStatus of the mailbox owner (WebDAV ``mapi/responsestatus``)."""
    item = _item(row)
    return RESPONSE_STATUS.get(item.response, 0) if item.is_meeting else 0


def meeting_status(row: CalendarItem | Occurrence) -> str:
    """``urn:schemas:calendar:meetingstatus``: CANCELLED or CONFIRMED (the meeting's
    state, not the attendee's answer)."""
    return "CANCELLED" if _item(row).cancelled else "CONFIRMED"


def cancel_prefix(language: str) -> str:
    return CANCEL_PREFIXES.get(language.split("-")[0].lower(), CANCEL_PREFIXES["en"])


def prefixed(subject: str, prefix: str) -> str:
    return subject if subject.startswith(prefix) else prefix + subject


def cancel(store: ExchangeStore, item_id: str) -> CalendarItem:
    """Apply an organizer's cancellation to the attendee's meeting ``item_id`` (a single
    or a whole series): it stays, cancelled, free, its subject prefixed."""
    item = store.item(item_id)
    if not isinstance(item, CalendarItem) or not item.is_meeting:
        raise StoreError("ErrorInvalidOperation", "only a meeting can be cancelled")
    owner = store.owner_of(item)
    language = store.mailbox(owner).language if owner else "en"
    prefix = cancel_prefix(language)
    for day, override in sorted(item.exceptions.items()):
        if override.subject is not None:
            store.modify_occurrence(item, day, subject=prefixed(override.subject, prefix))
        if override.busy_status is not None:
            store.modify_occurrence(item, day, busy_status="Free")
    store.update_item(
        item.id, subject=prefixed(item.subject, prefix), cancelled=True, busy_status="Free"
    )
    return item


__all__ = [
    "CANCEL_PREFIXES",
    "RESPONSE_STATUS",
    "appointment_state",
    "cancel",
    "cancel_prefix",
    "meeting_status",
    "prefixed",
    "received",
    "response_status",
]
