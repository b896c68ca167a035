"""The SVG timeline: lanes, tooltips, escaping, markers; one self-contained document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

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
)
from scenarios.outputs.svg import STATUS_COLOURS, Layout, render

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)  # 12:00 in Berlin


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def parse(svg: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(svg.encode("utf-8"), parser)


def by_class(root: etree._Element, name: str) -> list[etree._Element]:
    """Elements of class ``name``, the legend's symbols left out."""
    return [
        e
        for e in root.iter()
        if name in (e.get("class") or "").split()
        and not any(a.get("class") == "tl-legend" for a in e.iterancestors())
    ]


def title_of(element: etree._Element) -> str:
    found = element.find(f"{SVG}title")
    assert found is not None, etree.tostring(element)
    return found.text or ""


def lane(**fields: object) -> Lane:
    base: dict[str, object] = {"user": "100", "title": "Anna Berg", "mailbox": "a@domain.net"}
    base.update(fields)
    return Lane(**base)  # type: ignore[arg-type]


def timeline(*lanes: Lane, **fields: object) -> Timeline:
    return Timeline(T0, minutes(120), "Europe/Berlin", lanes, **fields)  # type: ignore[arg-type]


def test_one_lane_per_user_with_presence_coloured_and_explained() -> None:
    anna = lane(
        presence=(
            PresenceSegment(T0, minutes(60), "office"),
            PresenceSegment(minutes(60), minutes(120), "lunch", minutes(120), "engine", "R3"),
        )
    )
    ben = lane(user="101", title="Ben", mailbox=None)
    root = parse(render(timeline(anna, ben)))
    assert root.tag == f"{SVG}svg"
    assert [g.get("data-user") for g in by_class(root, "tl-lane")] == ["100", "101"]
    segments = by_class(root, "tl-presence")
    assert [s.get("data-status") for s in segments] == ["office", "lunch"]
    lunch = segments[1]
    assert lunch.find(f"{SVG}rect").get("fill") == STATUS_COLOURS["lunch"][0]
    assert title_of(lunch) == "lunch until 14:00:00\n13:00:00 - 14:00:00\nset by engine: R3"
    assert "lunch → 14:00" in "".join(lunch.itertext())
    assert "no mailbox" in "".join(root.itertext())


def test_axis_shows_local_times_and_the_zone() -> None:
    text = list(parse(render(timeline(lane()))).itertext())
    assert "12:00" in text and "14:00" in text  # 11:00 and 13:00 UTC in Berlin
    assert "11:00" not in text
    assert any(t.startswith("Europe/Berlin UTC+0100") for t in text)
    assert "Mon 05 Jan 2026" in text


def test_appointment_versions_with_their_history_as_tooltip() -> None:
    track = AppointmentTrack(
        "lunch",
        (
            AppointmentVersion(minutes(-1), "Lunch", minutes(60), minutes(90)),
            AppointmentVersion(minutes(58.5), "Lunch", minutes(70), minutes(90), "moved"),
        ),
    )
    gone = AppointmentTrack(
        "meeting",
        (
            AppointmentVersion(minutes(10), "Meeting", minutes(20), minutes(30)),
            AppointmentVersion(minutes(25), "Meeting", minutes(20), minutes(30), "deleted"),
        ),
    )
    root = parse(render(timeline(lane(appointments=(track, gone)))))
    states = [
        (v.get("data-state"), title_of(v).splitlines()[0]) for v in by_class(root, "tl-version")
    ]
    assert states == [
        ("earlier", "appointment lunch"),
        ("current", "appointment lunch"),
        ("earlier", "appointment meeting"),
        ("deleted", "appointment meeting"),
    ]
    history = title_of(by_class(root, "tl-version")[1]).splitlines()
    assert history[1:] == [
        "created at 11:59:00: 'Lunch' 13:00 - 13:30 (1:01:00 before its start)",
        "moved at 12:58:30: 'Lunch' 13:10 - 13:30 (11:30 before its start)",
    ]
    assert "line-through" in etree.tostring(by_class(root, "tl-version")[3]).decode()


def test_polls_merge_plain_ok_ticks_and_show_decisions_on_theirs() -> None:
    ticks = tuple(PollTick(minutes(i / 2), "ok") for i in range(240))  # 2 h of 30 s polls
    ticks = ticks[:10] + (PollTick(minutes(5), "failed", "HTTP 503"),) + ticks[11:]
    decision = Decision(
        minutes(30), "100", "lunch", "Lunch", "waiting: first seen 30:00 ahead (R4)"
    )
    root = parse(render(timeline(lane(polls=ticks, decisions=(decision,)))))
    runs = by_class(root, "tl-ok")
    assert [title_of(r) for r in runs] == [
        "10 polls ok, 12:00:00 - 12:04:30",
        "49 polls ok, 12:05:30 - 12:29:30",
        "179 polls ok, 12:30:30 - 13:59:30",
    ]
    (failed,) = by_class(root, "tl-failed")
    assert title_of(failed) == "poll failed at 12:05:00: HTTP 503"
    (decided,) = by_class(root, "tl-dec")
    assert title_of(decided) == (
        "poll ok at 12:30:00\n'Lunch': waiting: first seen 30:00 ahead (R4)"
    )


def test_failed_expectation_is_marked_with_its_text() -> None:
    failure = Mark(minutes(61), "expected user 100 lunch at 13:01:00, got office (set by pbx)")
    root = parse(render(timeline(lane(failures=(failure,)))))
    (marker,) = by_class(root, "tl-failure")
    assert title_of(marker) == f"failed at 13:01:00: {failure.text}"
    assert failure.text in "".join(marker.itertext())  # room to the right: the whole text
    assert by_class(marker, "tl-failline")


def test_close_failures_stack_their_labels() -> None:
    texts = [f"line {n}: expected user 100 lunch, got office" for n in (24, 33, 40, 41)]
    marks = tuple(Mark(minutes(60 + i * 0.5), text) for i, text in enumerate(texts))
    root = parse(render(timeline(lane(failures=marks))))
    labels = [e for e in by_class(root, "tl-faillabel")]
    # Three rows, each a row up; the fourth, with every row taken, keeps its tooltip only.
    assert [e.text for e in labels] == texts[:3]
    assert len({e.get("y") for e in labels}) == 3
    assert len(by_class(root, "tl-failure")) == 4
    assert texts[3] in title_of(by_class(root, "tl-failure")[3])


def test_overlapping_fault_windows_label_on_rows_of_their_own() -> None:
    faults = (
        FaultSpan("ews", "unavailable", minutes(40), minutes(45)),
        FaultSpan("smtp", "unavailable", minutes(40), minutes(50)),
        FaultSpan("pbx", "unavailable", minutes(90), minutes(95)),
    )
    root = parse(render(timeline(lane(), faults=faults)))
    ys = [e.get("y") for e in by_class(root, "tl-faulttext")]
    assert ys[0] != ys[1] and ys[2] == ys[0]


def test_calls_mails_faults_and_now() -> None:
    root = parse(
        render(
            timeline(
                lane(
                    calls=(Mark(minutes(5), "from 200: voicemail"),),
                    mails=(Mark(minutes(6), "'Voicemail'"),),
                ),
                faults=(FaultSpan("ews", "unavailable", minutes(40), minutes(45)),),
                now=minutes(100),
            )
        )
    )
    assert title_of(by_class(root, "tl-callmark")[0]) == "call at 12:05:00: from 200: voicemail"
    assert title_of(by_class(root, "tl-mailmark")[0]) == "mail at 12:06:00: 'Voicemail'"
    assert title_of(by_class(root, "tl-faultwindow")[0]) == (
        "fault: ews unavailable 12:40:00 - 12:45:00"
    )
    assert title_of(by_class(root, "tl-nowline")[0]) == "now: 13:40:00"


def test_every_text_is_escaped_and_xml_safe() -> None:
    hostile = "<script>alert('x')</script> & \"q\" \x00\x1b"
    anna = lane(
        title=hostile,
        presence=(PresenceSegment(T0, minutes(60), "lunch", None, hostile, hostile),),
        appointments=(
            AppointmentTrack(hostile, (AppointmentVersion(T0, hostile, minutes(1), minutes(50)),)),
        ),
        failures=(Mark(minutes(5), hostile),),
        decisions=(Decision(T0, "100", "x", hostile, hostile),),
        polls=(PollTick(T0, "ok"),),
    )
    svg = render(timeline(anna, title=hostile, notes=(hostile,)))
    root = parse(svg)  # would raise on a stray < or a control character
    assert not [e for e in root.iter() if etree.QName(e).localname == "script"]
    assert "<script>" not in svg
    texts = "".join(root.itertext())
    assert "<script>alert('x')</script> & \"q\" \ufffd\ufffd" in texts


def test_self_contained_no_ids_no_links_no_scripts() -> None:
    svg = render(
        timeline(
            lane(polls=(PollTick(T0, "ok"),), presence=(PresenceSegment(T0, minutes(5), "office"),))
        )
    )
    root = parse(svg)
    for element in root.iter():
        assert element.get("id") is None
        assert not any("href" in name for name in element.attrib)
    assert "url(" not in svg and "@import" not in svg and "@font-face" not in svg
    assert svg.count("http") == 1  # the xmlns only


def test_an_empty_timeline_says_so_and_sizes_follow_the_layout() -> None:
    root = parse(render(timeline(), Layout(width=800)))
    assert root.get("width") == "800"
    assert "no users" in "".join(root.itertext())


def test_elements_outside_the_window_are_left_out() -> None:
    outside = lane(
        presence=(PresenceSegment(minutes(-60), minutes(-30), "sick"),),
        polls=(PollTick(minutes(-5), "failed"),),
        calls=(Mark(minutes(200), "later"),),
    )
    root = parse(render(timeline(outside)))
    assert not by_class(root, "tl-presence")
    assert not [e for e in by_class(root, "tl-failed") if e.tag == f"{SVG}line"]
    assert not by_class(root, "tl-callmark")


@pytest.mark.parametrize("users", [1, 10])
def test_hours_of_polls_stay_small(users: int) -> None:
    ticks = tuple(PollTick(minutes(i / 2), "ok" if i % 50 else "failed") for i in range(480))
    lanes = tuple(lane(user=str(100 + n), polls=ticks) for n in range(users))
    svg = render(Timeline(T0, minutes(240), "UTC", lanes))
    assert len(svg) < 12_000 * users + 12_000  # runs of ok ticks are one element each
