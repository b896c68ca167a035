"""The PBX simulator (modelled on OpenScape Business).

Users, presence with the 15-minute extension (R7), a journal of every change,
call routing with announcements (R14), voicemail, an in-process API (``Pbx``)
and the same over HTTP JSON (``simulators.pbx.api``, ``simulators.pbx.server``).
"""

from simulators.pbx.model import (
    CallResult,
    Conflict,
    InvalidInput,
    JournalEntry,
    PbxError,
    Presence,
    Status,
    UnknownUser,
    User,
    Voicemail,
)
from simulators.pbx.pbx import Pbx

__all__ = [
    "CallResult",
    "Conflict",
    "InvalidInput",
    "JournalEntry",
    "Pbx",
    "PbxError",
    "Presence",
    "Status",
    "UnknownUser",
    "User",
    "Voicemail",
]
