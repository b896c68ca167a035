"""Meeting items read by the engine's own sources, EWS and WebDAV alike, against the
simulator: the owner's answer and a cancellation kept in the calendar come through."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from integration.appointments import Appointment
from integration.sources.ews import EwsCalendarSource
from integration.sources.webdav import WebDavCalendarSource
from simulators.exchange import meetings
from simulators.exchange.model import CalendarItem
from simulators.exchange.recurrence import Recurrence
from simulators.exchange.seed import (
    Seed,
    SeedAppointment,
    SeedMailbox,
    SeedMeeting,
    SeedOccurrenceChange,
    ServiceAccount,
)
from tests.conftest import ALICE, BOB, SERVICE_PASSWORD, SERVICE_USER, EwsServer

DAY = datetime(2026, 1, 5, tzinfo=UTC)


def hour(h: int, m: int = 0) -> datetime:
    return DAY + timedelta(hours=h, minutes=m)


def seed() -> Seed:
    boss = "boss@w03ex07.net"
    return Seed(
        service_account=ServiceAccount(SERVICE_USER, SERVICE_PASSWORD),
        mailboxes=[SeedMailbox(ALICE, "Alice"), SeedMailbox(BOB, "Bob", language="de")],
        appointments=[
            SeedAppointment(ALICE, "Lunch", hour(11), hour(12), handle="plain"),
            SeedAppointment(
                ALICE,
                "Review meeting",
                hour(13),
                hour(14),
                handle="accepted",
                meeting=SeedMeeting(boss, "Accept"),
            ),
            SeedAppointment(
                ALICE,
                "Sync meeting",
                hour(14),
                hour(15),
                handle="tentative",
                busy_status="Tentative",
                meeting=SeedMeeting(boss, "Tentative"),
            ),
            SeedAppointment(
                ALICE,
                "Planning meeting",
                hour(15),
                hour(16),
                handle="unanswered",
                busy_status="Tentative",
                meeting=SeedMeeting(boss, "NoResponseReceived"),
            ),
            SeedAppointment(
                ALICE,
                "Team Meeting",
                hour(16),
                hour(17),
                handle="cancelled",
                meeting=SeedMeeting(boss, "Accept", cancelled=True),
            ),
            SeedAppointment(
                BOB,
                "Besprechung",
                hour(9),
                hour(10),
                handle="series",
                recurrence=Recurrence(pattern="daily", start_date=DAY.date(), count=3),
                exceptions=[SeedOccurrenceChange(DAY.date(), subject="Besprechung neu")],
                meeting=SeedMeeting(boss, "Accept", cancelled=True),
            ),
        ],
    )


def read(source: EwsCalendarSource | WebDavCalendarSource, mailbox: str) -> list[Appointment]:
    async def go() -> list[Appointment]:
        try:
            return await source.read(mailbox, DAY, DAY + timedelta(days=1))
        finally:
            await source.aclose()

    return asyncio.run(go())


@pytest.fixture(params=["ews", "webdav"])
def source(
    request: pytest.FixtureRequest, ews: EwsServer
) -> EwsCalendarSource | WebDavCalendarSource:
    ews.seed(seed())
    if request.param == "ews":
        return EwsCalendarSource(ews.url, SERVICE_USER, SERVICE_PASSWORD)
    return WebDavCalendarSource(ews.site.webdav_url, SERVICE_USER, SERVICE_PASSWORD)


def test_answers_and_cancellations_come_through(
    source: EwsCalendarSource | WebDavCalendarSource,
) -> None:
    rows = {a.subject: a for a in read(source, ALICE)}
    facts = {s: (a.is_meeting, a.response, a.cancelled) for s, a in rows.items()}
    assert facts == {
        "Lunch": (False, None, False),
        "Review meeting": (True, "Accept", False),
        "Sync meeting": (True, "Tentative", False),
        "Planning meeting": (True, "NoResponseReceived", False),
        "Canceled: Team Meeting": (True, "Accept", True),
    }
    assert rows["Canceled: Team Meeting"].busy_status in ("Free", "FREE")


def test_a_cancelled_series_is_prefixed_in_the_mailbox_language(
    source: EwsCalendarSource | WebDavCalendarSource,
) -> None:
    rows = read(source, BOB)
    assert [(a.subject, a.cancelled) for a in rows] == [("Abgesagt: Besprechung neu", True)]


def test_cancel_applies_what_the_calendar_attendant_does(ews: EwsServer) -> None:
    handles = ews.seed(seed())
    item = handles["accepted"]
    before = item.modified
    meetings.cancel(ews.store, item.id)
    assert (item.subject, item.cancelled, item.busy_status) == (
        "Canceled: Review meeting",
        True,
        "Free",
    )
    assert meetings.appointment_state(item) == 7 and meetings.meeting_status(item) == "CANCELLED"
    assert item.modified >= before
    meetings.cancel(ews.store, item.id)  # a second cancellation changes nothing more
    assert item.subject == "Canceled: Review meeting"
    plain = handles["plain"]
    with pytest.raises(Exception, match="only a meeting"):
        meetings.cancel(ews.store, plain.id)
    assert isinstance(plain, CalendarItem) and meetings.appointment_state(plain) == 0
    assert meetings.response_status(handles["tentative"]) == 2
