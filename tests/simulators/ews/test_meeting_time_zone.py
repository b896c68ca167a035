"""t:MeetingTimeZone: off by default, the 2007 shape when switched on, and what
exchangelib 5.6 does with that shape (it cannot read it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time

import pytest
from lxml import etree

from simulators.exchange.ews import EwsOptions
from simulators.exchange.ews.middleware import RequestJournal
from simulators.exchange.model import CalendarItem
from simulators.exchange.seed import Seed, SeedMailbox, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.exchange.tzrules import YearlyChange
from simulators.site import start_site
from tests.conftest import ALICE, DOMAIN, EwsServer, default_seed
from tests.schema_check import SKIP_REASON, load_schema, response_errors, schema_dir
from tests.seeds import old_us_rules_series
from tests.simulators.ews.soap import NS, distinguished, envelope, fault_code, messages, shape


def _get_mtz(server: EwsServer) -> bytes:
    master = server.handles["weekly"]
    body = (
        f"<m:GetItem>{shape('IdOnly', 'calendar:MeetingTimeZone')}"
        f'<m:ItemIds><t:ItemId Id="{master.id}"/></m:ItemIds></m:GetItem>'
    )
    return server.post(envelope(body, impersonate=ALICE)).content


@pytest.fixture(scope="module")
def with_mtz() -> Iterator[EwsServer]:
    store = ExchangeStore(domain=DOMAIN)
    site = start_site(store, options=EwsOptions(meeting_time_zone=True), journal=RequestJournal())
    server = EwsServer(site, apply_seed(store, default_seed()))
    yield server
    site.stop()


def test_not_sent_by_default_even_when_asked(ews: EwsServer) -> None:
    item = messages(_get_mtz(ews))[0].find("m:Items/t:CalendarItem", NS)
    assert [c.tag.rpartition("}")[2] for c in item] == ["ItemId"]


def test_the_2007_shape_when_switched_on(with_mtz: EwsServer) -> None:
    zone = messages(_get_mtz(with_mtz))[0].find(".//t:MeetingTimeZone", NS)
    assert zone.get("TimeZoneName") == (
        "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"
    )
    assert zone.get("Id") is None  # 2007 has no Id attribute

    def rule(tag: str) -> list[str]:
        change = zone.find(f"t:{tag}", NS)
        return [
            change.findtext("t:Offset", namespaces=NS),
            *(e.text for e in change.find("t:RelativeYearlyRecurrence", NS)),
            change.findtext("t:Time", namespaces=NS),
        ]

    assert zone.findtext("t:BaseOffset", namespaces=NS) == "-PT1H"
    assert rule("Standard") == ["PT0S", "Sunday", "Last", "October", "03:00:00"]
    assert rule("Daylight") == ["-PT1H", "Sunday", "Last", "March", "02:00:00"]


def test_exchangelib_cannot_read_the_2007_shape(with_mtz: EwsServer) -> None:
    # exchangelib 5.6 reads only Id/Name (2010) and asks for MeetingTimeZone whenever
    # it reads Start or End; on the 2007 shape it fails inside its time zone lookup.
    # This is why the front end leaves the element out unless told otherwise.
    account = with_mtz.account(ALICE)
    with pytest.raises(TypeError, match="NoneType"):
        account.calendar.get(id=with_mtz.handles["weekly"].id)


# ----------------------------------------------------------- stored definitions
OLD_EASTERN = (
    '<t:MeetingTimeZone TimeZoneName="(GMT-05:00) Eastern Time (US &amp; Canada)">'
    "<t:BaseOffset>PT5H</t:BaseOffset>"
    "<t:Standard><t:Offset>PT0M</t:Offset><t:RelativeYearlyRecurrence>"
    "<t:DaysOfWeek>Sunday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex>"
    "<t:Month>October</t:Month></t:RelativeYearlyRecurrence><t:Time>02:00:00</t:Time>"
    "</t:Standard>"
    "<t:Daylight><t:Offset>-PT1H</t:Offset><t:RelativeYearlyRecurrence>"
    "<t:DaysOfWeek>Sunday</t:DaysOfWeek><t:DayOfWeekIndex>First</t:DayOfWeekIndex>"
    "<t:Month>April</t:Month></t:RelativeYearlyRecurrence><t:Time>02:00:00</t:Time>"
    "</t:Daylight></t:MeetingTimeZone>"
)


def _create_series(server: EwsServer, zone_xml: str) -> bytes:
    item = (
        "<t:CalendarItem><t:Subject>NY standup</t:Subject>"
        "<t:Start>2026-03-02T14:00:00Z</t:Start><t:End>2026-03-02T14:30:00Z</t:End>"
        "<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval>"
        "<t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>"
        "<t:NumberedRecurrence><t:StartDate>2026-03-02</t:StartDate>"
        "<t:NumberOfOccurrences>6</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>"
        f"{zone_xml}</t:CalendarItem>"
    )
    body = f'<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items>{item}</m:Items></m:CreateItem>'
    return server.post(envelope(body, impersonate=ALICE)).content


def test_a_2007_client_s_definition_is_kept_and_the_series_expanded_with_it(
    with_mtz: EwsServer,
) -> None:
    apply_seed(with_mtz.store, default_seed())
    created = _create_series(with_mtz, OLD_EASTERN)
    assert [m.findtext("m:ResponseCode", namespaces=NS) for m in messages(created)] == ["NoError"]
    new_id = messages(created)[0].find(".//t:ItemId", NS).get("Id")
    stored = with_mtz.store.item(new_id)
    assert isinstance(stored, CalendarItem) and stored.time_zone_rules is not None
    assert stored.time_zone_rules.daylight_starts == YearlyChange(4, 1, 6, time(2, 0))
    assert stored.time_zone == "America/New_York"  # the name still maps to a zone
    # CalendarView: 9 March at 14:00 UTC (old rules: still standard time), 6 April 13:00.
    view = (
        f'<m:FindItem Traversal="Shallow">{shape("IdOnly", "calendar:Start")}'
        '<m:CalendarView StartDate="2026-03-09T00:00:00Z" EndDate="2026-04-07T00:00:00Z"/>'
        f"<m:ParentFolderIds>{distinguished('calendar', ALICE)}</m:ParentFolderIds></m:FindItem>"
    )
    content = with_mtz.post(envelope(view, impersonate=ALICE)).content
    starts = [e.text for e in etree.fromstring(content).iterfind(".//t:Start", NS)]
    assert "2026-03-09T14:00:00Z" in starts and "2026-04-06T13:00:00Z" in starts
    # GetItem answers with the definition as stored, and its name.
    body = (
        f"<m:GetItem>{shape('IdOnly', 'calendar:TimeZone', 'calendar:MeetingTimeZone')}"
        f'<m:ItemIds><t:ItemId Id="{new_id}"/></m:ItemIds></m:GetItem>'
    )
    item = messages(with_mtz.post(envelope(body, impersonate=ALICE)).content)[0]
    zone = item.find(".//t:MeetingTimeZone", NS)
    assert item.findtext(".//t:TimeZone", namespaces=NS) == "(GMT-05:00) Eastern Time (US & Canada)"
    assert zone.findtext("t:BaseOffset", namespaces=NS) == "PT5H"
    daylight = zone.find("t:Daylight/t:RelativeYearlyRecurrence", NS)
    assert [e.text for e in daylight] == ["Sunday", "First", "April"]
    assert zone.findtext("t:Daylight/t:Offset", namespaces=NS) == "-PT1H"


def test_a_seeded_definition_is_reported_as_stored(with_mtz: EwsServer) -> None:
    handles = apply_seed(
        with_mtz.store,
        Seed(
            service_account=default_seed().service_account,
            mailboxes=[SeedMailbox(ALICE, "Alice Example")],
            appointments=[old_us_rules_series(ALICE)],
        ),
    )
    body = (
        f"<m:GetItem>{shape('IdOnly', 'calendar:MeetingTimeZone')}"
        f'<m:ItemIds><t:ItemId Id="{handles["old-rules"].id}"/></m:ItemIds></m:GetItem>'
    )
    zone = messages(with_mtz.post(envelope(body, impersonate=ALICE)).content)[0].find(
        ".//t:MeetingTimeZone", NS
    )
    standard = zone.find("t:Standard/t:RelativeYearlyRecurrence", NS)
    assert [e.text for e in standard] == ["Sunday", "Last", "October"]
    apply_seed(with_mtz.store, default_seed())


@pytest.mark.parametrize(
    ("zone_xml", "code"),
    [
        (
            OLD_EASTERN.replace("<t:Daylight>", "<t:Dummy>").split("<t:Dummy>")[0]
            + "</t:MeetingTimeZone>",
            "ErrorCalendarInvalidTimeZone",
        ),
        (OLD_EASTERN.replace("PT5H", "PT15H"), "ErrorCalendarInvalidTimeZone"),
        (
            OLD_EASTERN.replace(
                "<t:Time>02:00:00</t:Time></t:Daylight>", "<t:Time>25:00:00</t:Time></t:Daylight>"
            ),
            "ErrorSchemaValidation",
        ),
    ],
    ids=["standard-without-daylight", "bias-out-of-range", "bad-time"],
)
def test_broken_definitions_are_refused(with_mtz: EwsServer, zone_xml: str, code: str) -> None:
    content = _create_series(with_mtz, zone_xml)
    found = [m.findtext("m:ResponseCode", namespaces=NS) for m in messages(content)]
    assert found == [code] or fault_code(content) == code


@pytest.mark.schema
@pytest.mark.skipif(schema_dir() is None, reason=SKIP_REASON)
def test_a_stored_definition_is_schema_valid(with_mtz: EwsServer) -> None:
    folder = schema_dir()
    assert folder is not None
    schema = load_schema(str(folder))
    handles = apply_seed(
        with_mtz.store,
        Seed(
            service_account=default_seed().service_account,
            mailboxes=[SeedMailbox(ALICE, "Alice Example")],
            appointments=[old_us_rules_series(ALICE)],
        ),
    )
    body = (
        f"<m:GetItem>{shape('AllProperties', 'calendar:MeetingTimeZone')}"
        f'<m:ItemIds><t:ItemId Id="{handles["old-rules"].id}"/></m:ItemIds></m:GetItem>'
    )
    content = with_mtz.post(envelope(body, impersonate=ALICE)).content
    assert b"<t:BaseOffset>PT5H</t:BaseOffset>" in content
    assert response_errors(content, schema) == []
    apply_seed(with_mtz.store, default_seed())
