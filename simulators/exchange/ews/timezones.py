"""Windows time zone names as Exchange 2007 speaks them, and the 2007 TimeZoneType.

Items keep IANA zones; clients send Windows ids ("W. Europe Standard Time") or the
2007 display names ("(GMT+01:00) Amsterdam, Berlin, ..."): the table is
``simulators.exchange.windowszones``. The 2007 MeetingTimeZone describes a zone by
its bias and the yearly rules of its two transitions, derived here from the IANA
zone for one year.
"""

from __future__ import annotations

from simulators.exchange.ews.meetingzone import definition_text
from simulators.exchange.tzrules import rules_from_zone
from simulators.exchange.windowszones import WINDOWS_ZONES, iana_for, windows_name

__all__ = ["WINDOWS_ZONES", "iana_for", "time_zone_text", "windows_name"]


def time_zone_text(tag: str, iana: str, year: int) -> str:
    """A 2007 TimeZoneType element: TimeZoneName, BaseOffset and, with DST, both rules
    (the IANA zone's rules in ``year``)."""
    _, display = windows_name(iana)
    return definition_text(tag, rules_from_zone(iana, year, display))
