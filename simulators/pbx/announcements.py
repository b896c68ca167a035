"""What a caller hears when the user is not in the office (contract R14).

Data, one table per voicemail language: a phrase per status, a sentence
template with and without a return time, and how times and dates are spoken.
Add a language by adding a ``Language`` to ``LANGUAGES`` (and to
``simulators.pbx.model.SUPPORTED_LANGUAGES``). Dates and times are rendered
from these tables, not from the process locale, so output never depends on
the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from simulators.pbx.model import Status


@dataclass(frozen=True)
class Language:
    """Everything needed to announce a presence in one language."""

    phrases: dict[Status, str]
    with_return: str  # {name} {phrase} {when}
    without_return: str  # {name} {phrase}
    same_day: str  # {time}
    other_day: str  # {time} {day} {month} {year_suffix}
    year_suffix: str  # {year}
    months: tuple[str, ...]
    time_format: str  # "12h" or "24h"
    to_voicemail: str
    to_mobile: str


ENGLISH = Language(
    phrases={
        Status.MEETING: "in a meeting",
        Status.SICK: "off sick",
        Status.BREAK: "on a break",
        Status.OUT_OF_OFFICE: "out of the office",
        Status.VACATION: "on vacation",
        Status.LUNCH: "at lunch",
        Status.GONE_HOME: "at home",
    },
    with_return="{name} is {phrase} until {when}.",
    without_return="{name} is {phrase}.",
    same_day="{time}",
    other_day="{time} on {month} {day}{year_suffix}",
    year_suffix=", {year}",
    months=(
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    time_format="12h",
    to_voicemail="Please leave a message after the tone.",
    to_mobile="Your call is being forwarded to a mobile phone.",
)

GERMAN = Language(
    phrases={
        Status.MEETING: "in einer Besprechung",
        Status.SICK: "krank",
        Status.BREAK: "in der Pause",
        Status.OUT_OF_OFFICE: "außer Haus",
        Status.VACATION: "im Urlaub",
        Status.LUNCH: "in der Mittagspause",
        Status.GONE_HOME: "zu Hause",
    },
    with_return="{name} ist {when} {phrase}.",
    without_return="{name} ist {phrase}.",
    same_day="bis {time} Uhr",
    other_day="bis zum {day}. {month}{year_suffix} um {time} Uhr",
    year_suffix=" {year}",
    months=(
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    time_format="24h",
    to_voicemail="Bitte hinterlassen Sie eine Nachricht nach dem Signalton.",
    to_mobile="Ihr Anruf wird auf ein Mobiltelefon weitergeleitet.",
)

LANGUAGES: dict[str, Language] = {"en": ENGLISH, "de": GERMAN}


def _clock_time(moment: datetime, time_format: str) -> str:
    if time_format == "12h":
        hour = moment.hour % 12 or 12
        return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"
    return f"{moment.hour}:{moment.minute:02d}"


def spoken_return(language: str, return_time: datetime, now: datetime, zone: tzinfo) -> str:
    """The return time as the caller hears it, in the PBX's local time.

    Only the time when it is today; with the date otherwise, and the year only
    when it is not this year. English puts ``until`` in the sentence template;
    German puts ``bis`` (``bis zum`` before a date) in this part.
    """
    table = LANGUAGES[language]
    local, today = return_time.astimezone(zone), now.astimezone(zone)
    time = _clock_time(local, table.time_format)
    if local.date() == today.date():
        return table.same_day.format(time=time)
    year_suffix = table.year_suffix.format(year=local.year) if local.year != today.year else ""
    return table.other_day.format(
        time=time, day=local.day, month=table.months[local.month - 1], year_suffix=year_suffix
    )


def status_sentence(
    language: str,
    name: str,
    status: Status,
    return_time: datetime | None,
    now: datetime,
    zone: tzinfo,
) -> str:
    """``"Anna Test is at lunch until 1:00 PM."`` / ``"Anna Test ist bis 13:00 Uhr in der
    Mittagspause."``; without a return time the ``until`` part is left out."""
    table = LANGUAGES[language]
    phrase = table.phrases[status]
    if return_time is None:
        return table.without_return.format(name=name, phrase=phrase)
    when = spoken_return(language, return_time, now, zone)
    return table.with_return.format(name=name, phrase=phrase, when=when)


def announcement(
    language: str,
    name: str,
    status: Status,
    return_time: datetime | None,
    now: datetime,
    zone: tzinfo,
    *,
    to_mobile: bool,
) -> str:
    """The status sentence followed by where the call goes next."""
    table = LANGUAGES[language]
    routing = table.to_mobile if to_mobile else table.to_voicemail
    return f"{status_sentence(language, name, status, return_time, now, zone)} {routing}"
