"""The timeline model: builders from the PBX journal, the store history and polls; JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from integration.scheduler import PollEvent
from scenarios.outputs.lanes import (
    AppointmentTrack,
    AppointmentVersion,
    Decision,
    FaultSpan,
    Lane,
    Mark,
    PollTick,
    PresenceSegment,
    Timeline,
    appointment_tracks,
    change_label,
    from_json,
    poll_ticks,
    presence_segments,
    to_json,
)
from simulators.exchange.history import ChangeHistory
from simulators.exchange.store import ExchangeStore
from simulators.pbx import Pbx
from simulators.pbx import User as PbxUser

T0 = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def test_presence_segments_follow_the_pbx_journal() -> None:
    with freeze_time(T0) as clock:
        pbx = Pbx(timezone="Europe/Berlin")
        pbx.add_user(PbxUser(extension="100", name="Anna", email="a@domain.net"))
        clock.move_to(minutes(60))
        pbx.set_presence("100", "lunch", minutes(120), set_by="engine", reason="R3: 'Lunch'")
        clock.move_to(minutes(90))
        pbx.set_presence("100", "office", set_by="client")
        segments = presence_segments(pbx.journal("100"), minutes(30), minutes(150))
    assert segments == (
        PresenceSegment(minutes(30), minutes(60), "office", None, "", ""),
        PresenceSegment(minutes(60), minutes(90), "lunch", minutes(120), "engine", "R3: 'Lunch'"),
        PresenceSegment(minutes(90), minutes(150), "office", None, "client", ""),
    )


def test_presence_without_changes_is_the_initial_presence_or_nothing() -> None:
    assert presence_segments([], T0, minutes(10)) == ()
    initial = ("vacation", minutes(600), "pbx")
    assert presence_segments([], T0, minutes(10), initial=initial) == (
        PresenceSegment(T0, minutes(10), "vacation", minutes(600), "pbx"),
    )


def test_appointment_tracks_name_each_version_from_the_store_history() -> None:
    store = ExchangeStore()
    history = ChangeHistory().attach(store)
    store.add_mailbox("a@domain.net")
    calendar = store.distinguished_folder("calendar", "a@domain.net")
    with freeze_time(T0) as clock:
        item = store.create_calendar_item(
            calendar, subject="Lunch", start=minutes(60), end=minutes(120)
        )
        clock.move_to(minutes(10))
        store.update_item(item.id, start=minutes(70), subject="Late lunch")
        clock.move_to(minutes(20))
        store.update_item(item.id, location="Canteen")
        clock.move_to(minutes(30))
        store.delete_item(item.id)
    (track,) = appointment_tracks(history.changes())
    assert track.id == item.id
    assert [(v.at, v.change, v.subject, v.start) for v in track.versions] == [
        (T0, "created", "Lunch", minutes(60)),
        (minutes(10), "moved, renamed", "Late lunch", minutes(70)),
        (minutes(20), "changed", "Late lunch", minutes(70)),
        (minutes(30), "deleted", "Late lunch", minutes(70)),
    ]
    assert track.current.deleted


def test_change_labels() -> None:
    assert change_label(["end"]) == "moved"
    assert change_label(["subject"]) == "renamed"
    assert change_label(["busy_status"]) == "changed"


def test_poll_ticks_from_engine_events_in_time_order() -> None:
    events = [
        PollEvent(minutes(1), "100", "a@domain.net", "failed", "HTTP 503"),
        PollEvent(T0, "100", "a@domain.net", "ok", "1 appointment(s)"),
        PollEvent(minutes(2), "100", "a@domain.net", "skipped", "no mailbox"),
    ]
    assert poll_ticks(events) == (
        PollTick(T0, "ok", "1 appointment(s)"),
        PollTick(minutes(1), "failed", "HTTP 503"),
        PollTick(minutes(2), "skipped", "no mailbox"),
    )


def test_json_round_trip_keeps_every_field() -> None:
    lane = Lane(
        user="100",
        title="Anna",
        mailbox="a@domain.net",
        presence=(PresenceSegment(T0, minutes(5), "lunch", minutes(60), "engine", "R3"),),
        appointments=(
            AppointmentTrack(
                "id1",
                (
                    AppointmentVersion(T0, "Lunch", minutes(1), minutes(60)),
                    AppointmentVersion(minutes(2), "Lunch", minutes(1), minutes(60), "deleted"),
                ),
                occurrence=True,
            ),
        ),
        polls=(PollTick(T0, "ok", "1 appointment(s)"),),
        calls=(Mark(minutes(3), "from 200"),),
        mails=(Mark(minutes(4), "Voicemail"),),
        failures=(Mark(minutes(5), "expected lunch"),),
        decisions=(Decision(T0, "100", "id1", "Lunch", "waiting (R4)"),),
    )
    timeline = Timeline(
        T0,
        minutes(60),
        "Europe/Berlin",
        (lane,),
        (FaultSpan("ews", "unavailable", minutes(1), minutes(2)),),
        now=minutes(30),
        title="t",
        notes=("a note",),
    )
    data = to_json(timeline)
    assert data["lanes"][0]["presence"][0]["return_time"] == "2026-01-05T12:00:00+00:00"
    assert from_json(data) == timeline
