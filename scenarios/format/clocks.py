"""Zones and clocks of a scenario file: a zone key, a series' stored time-zone
definition (``timezone_rules``), and the PBX's own zone and clock (``pbx:``).

``timezone_rules`` is the definition the creating client stored with a series, as
Exchange 2007 keeps it; Exchange expands the series with it, so outdated rules move
occurrences. It is written either as a zone's rules in some year
(``{zone: America/New_York, year: 2006}``: what a client not updated since then
writes) or spelt out (``standard_offset``, ``daylight_offset``, ``daylight_starts``,
``daylight_ends``; no daylight keys: a definition without daylight time).
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from yaml.nodes import Node

from scenarios.format import times
from scenarios.format.model import PBX_CLOCKS, PbxSettings
from scenarios.format.yamlnodes import Fields, Reader
from simulators.exchange.tzrules import (
    DAY_NAMES,
    WEEK_NAMES,
    YearlyChange,
    ZoneRules,
    ZoneRulesError,
    rules_from_zone,
)
from simulators.exchange.windowszones import windows_name

RULES_KEYS = (
    "name",
    "zone",
    "year",
    "standard_offset",
    "daylight_offset",
    "daylight_starts",
    "daylight_ends",
)
PBX_KEYS = ("timezone", "clock_skew", "clock")
MONTH_NAMES = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_OFFSET = re.compile(r"(?:UTC|GMT)?\s*(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?")
_CHANGE = re.compile(
    r"(?P<week>\w+)\s+(?P<day>\w+)\s+(?:of|in)\s+(?P<month>\w+)(?:\s+at)?\s+(?P<clock>\d{1,2}:\d{2})"
)
CHANGE_HINT = "write it like 'last sunday of march 02:00' (first..fourth or last)"


def read_zone(reader: Reader, node: Node, what: str = "timezone") -> ZoneInfo | None:
    """An IANA zone named in ``node``; reported when unknown."""
    raw = reader.nonempty(node, what)
    if raw is None:
        return None
    try:
        return times.named_zone(raw.strip())
    except ValueError as exc:
        reader.error(node, str(exc))
        return None


def _offset(reader: Reader, fields: Fields, key: str) -> timedelta | None:
    raw = fields.text(key)
    if raw is None:
        return None
    match = _OFFSET.fullmatch(raw.strip())
    if not match or int(match["h"]) > 14 or int(match["m"] or 0) > 59:
        reader.error(fields.key_line(key), f"{key} {raw!r} is not a UTC offset like +01:00")
        return None
    span = timedelta(hours=int(match["h"]), minutes=int(match["m"] or 0))
    return -span if match["sign"] == "-" else span


def _change(reader: Reader, fields: Fields, key: str) -> YearlyChange | None:
    raw = fields.text(key)
    if raw is None:
        return None
    match = _CHANGE.fullmatch(" ".join(raw.lower().split()))
    problem = None
    if not match:
        problem = CHANGE_HINT
    elif match["week"] not in WEEK_NAMES:
        problem = f"week {match['week']!r} is not one of {', '.join(WEEK_NAMES)}"
    elif match["day"] not in DAY_NAMES:
        problem = f"{match['day']!r} is not a day of the week"
    elif match["month"] not in MONTH_NAMES:
        problem = f"{match['month']!r} is not a month"
    if problem is not None or match is None:
        reader.error(fields.key_line(key), f"{key} {raw!r}: {problem}")
        return None
    try:
        at = times.parse_clock(match["clock"])
    except ValueError as exc:
        reader.error(fields.key_line(key), f"{key}: {exc}")
        return None
    return YearlyChange(
        MONTH_NAMES.index(match["month"]) + 1,
        WEEK_NAMES.index(match["week"]) + 1,
        DAY_NAMES.index(match["day"]),
        time(at.hour, at.minute),
    )


def read_rules(reader: Reader, node: Node, zone: ZoneInfo, year: int) -> ZoneRules | None:
    """``timezone_rules`` of an appointment whose zone is ``zone`` and which starts in
    ``year`` (the defaults of ``zone`` and ``year`` in a derived definition)."""
    fields = reader.mapping(node, "timezone_rules", RULES_KEYS)
    if fields is None:
        return None
    spelt = [k for k in RULES_KEYS[3:] if k in fields]
    derived = [k for k in ("zone", "year") if k in fields]
    if spelt and derived:
        reader.error(
            fields.key_line(spelt[0]),
            f"timezone_rules are either a zone's rules in a year ({', '.join(derived)}) "
            "or spelt out (standard_offset, ...), not both",
        )
        return None
    if not spelt:
        source = zone
        if (zone_node := fields.get("zone")) is not None:
            found = read_zone(reader, zone_node, "timezone_rules zone")
            if found is None:
                return None
            source = found
        in_year = fields.integer("year", 1970, 2100) if "year" in fields else year
        if in_year is None:
            return None
        name = fields.text("name") or windows_name(source.key)[1]
        return rules_from_zone(source.key, in_year, name)
    if "standard_offset" not in fields:
        reader.error(fields.line, "timezone_rules spelt out need standard_offset")
        return None
    standard = _offset(reader, fields, "standard_offset")
    daylight = _offset(reader, fields, "daylight_offset")
    starts = _change(reader, fields, "daylight_starts")
    ends = _change(reader, fields, "daylight_ends")
    if standard is None or any(
        (k in fields) != (v is not None)
        for k, v in (
            ("daylight_offset", daylight),
            ("daylight_starts", starts),
            ("daylight_ends", ends),
        )
    ):
        return None
    try:
        return ZoneRules(fields.text("name") or zone.key, standard, daylight, starts, ends)
    except ZoneRulesError as exc:
        reader.error(fields.line, f"timezone_rules: {exc}")
        return None


def read_pbx(reader: Reader, node: Node | None, scenario_zone: ZoneInfo) -> PbxSettings:
    """``pbx:``: the PBX's zone (default the scenario's), clock skew and clock mode."""
    fields = None if node is None else reader.mapping(node, "pbx", PBX_KEYS)
    if fields is None:
        return PbxSettings(timezone=scenario_zone)
    zone = scenario_zone
    if (zone_node := fields.get("timezone")) is not None:
        zone = read_zone(reader, zone_node, "pbx timezone") or scenario_zone
    skew = fields.duration("clock_skew", timedelta(0))
    clock = fields.choice("clock", PBX_CLOCKS, default="ntp") or "ntp"
    if clock == "wall" and "timezone" not in fields:
        reader.error(
            fields.key_line("clock"),
            "pbx clock: wall only differs from ntp with a pbx timezone other than the "
            "scenario's; give pbx timezone",
        )
    return PbxSettings(timezone=zone, clock_skew=skew or timedelta(0), clock=clock)


__all__ = ["PBX_KEYS", "RULES_KEYS", "read_pbx", "read_rules", "read_zone"]
