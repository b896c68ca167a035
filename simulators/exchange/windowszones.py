"""Windows time zone names as Exchange 2007 speaks them, mapped to IANA zones.

Items keep IANA zones; clients send Windows ids ("W. Europe Standard Time") or the
2007 display names ("(GMT+01:00) Amsterdam, Berlin, ..."). Pure data and look-ups,
shared by the EWS front end and the scenario format.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Windows id -> (IANA zone, 2007 display name)
WINDOWS_ZONES: dict[str, tuple[str, str]] = {
    "UTC": ("UTC", "(GMT) Coordinated Universal Time"),
    "GMT Standard Time": (
        "Europe/London",
        "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London",
    ),
    "W. Europe Standard Time": (
        "Europe/Berlin",
        "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
    ),
    "Romance Standard Time": ("Europe/Paris", "(GMT+01:00) Brussels, Copenhagen, Madrid, Paris"),
    "Central Europe Standard Time": (
        "Europe/Budapest",
        "(GMT+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague",
    ),
    "Central European Standard Time": (
        "Europe/Warsaw",
        "(GMT+01:00) Sarajevo, Skopje, Warsaw, Zagreb",
    ),
    "GTB Standard Time": ("Europe/Athens", "(GMT+02:00) Athens, Bucharest, Istanbul"),
    "FLE Standard Time": (
        "Europe/Helsinki",
        "(GMT+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius",
    ),
    "Russian Standard Time": ("Europe/Moscow", "(GMT+03:00) Moscow, St. Petersburg, Volgograd"),
    "Arabian Standard Time": ("Asia/Dubai", "(GMT+04:00) Abu Dhabi, Muscat"),
    "India Standard Time": ("Asia/Kolkata", "(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi"),
    "Singapore Standard Time": ("Asia/Singapore", "(GMT+08:00) Kuala Lumpur, Singapore"),
    "China Standard Time": (
        "Asia/Shanghai",
        "(GMT+08:00) Beijing, Chongqing, Hong Kong, Urumqi",
    ),
    "Tokyo Standard Time": ("Asia/Tokyo", "(GMT+09:00) Osaka, Sapporo, Tokyo"),
    "AUS Eastern Standard Time": ("Australia/Sydney", "(GMT+10:00) Canberra, Melbourne, Sydney"),
    "South Africa Standard Time": ("Africa/Johannesburg", "(GMT+02:00) Harare, Pretoria"),
    "E. South America Standard Time": ("America/Sao_Paulo", "(GMT-03:00) Brasilia"),
    "Eastern Standard Time": ("America/New_York", "(GMT-05:00) Eastern Time (US & Canada)"),
    "Central Standard Time": ("America/Chicago", "(GMT-06:00) Central Time (US & Canada)"),
    "Mountain Standard Time": ("America/Denver", "(GMT-07:00) Mountain Time (US & Canada)"),
    "Pacific Standard Time": (
        "America/Los_Angeles",
        "(GMT-08:00) Pacific Time (US & Canada); Tijuana",
    ),
}
_BY_DISPLAY = {display: iana for iana, display in WINDOWS_ZONES.values()}
_BY_IANA = {iana: (win, display) for win, (iana, display) in WINDOWS_ZONES.items()}
_BY_IANA["Etc/UTC"] = _BY_IANA["UTC"]


def iana_for(name: str | None) -> str | None:
    """The IANA zone for a Windows id, a 2007 display name or an IANA name; else None."""
    if not name:
        return None
    name = name.strip()
    if name in WINDOWS_ZONES:
        return WINDOWS_ZONES[name][0]
    if name in _BY_DISPLAY:
        return _BY_DISPLAY[name]
    if "/" in name or name == "UTC":
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return None
        return name
    return None


def windows_name(iana: str) -> tuple[str, str]:
    """(Windows id, 2007 display name) of an IANA zone; unknown zones keep their name."""
    known = _BY_IANA.get(iana)
    if known:
        return known
    offset = datetime.now(ZoneInfo(iana)).utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return iana, f"(GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}) {iana}"
