"""The typed, validated form of a scenario file (see docs/scenario-format.md).

Everything here is already checked and normalised by the loader
(``scenarios.format.loader``): times are timezone-aware UTC datetimes, durations are
timedeltas, users and appointment ids are resolved, and the Exchange side is a
``Seed`` ready for ``simulators.exchange.seed.apply_seed``. Every step and
expectation carries the line it came from, so the runner can report a failure as
``FILE:LINE: ...``. The value tables (statuses, languages, ...) are data: extend
them here and the loader accepts the new values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from integration.mail.outcome import Outcome
from simulators.exchange.lockout import LockoutPolicy
from simulators.exchange.model import BusyStatus
from simulators.exchange.recurrence import Recurrence
from simulators.exchange.seed import Seed, SeedAppointment, ServiceAccount
from simulators.faults.catalogue import KINDS, SERVICES

# Presence statuses of the PBX, as scenario files spell them.
STATUSES: tuple[str, ...] = (
    "office",
    "meeting",
    "sick",
    "break",
    "out_of_office",
    "vacation",
    "lunch",
    "gone_home",
)
# Voicemail languages with a keyword table (R5); add one here when its table exists.
LANGUAGES: tuple[str, ...] = ("en", "de")
VARIANTS: tuple[str, ...] = ("ews", "webdav", "both")
WEBDAV_AUTH: tuple[str, ...] = ("basic", "forms")
BUSY_STATUSES: dict[str, BusyStatus] = {
    "free": "Free",
    "tentative": "Tentative",
    "busy": "Busy",
    "oof": "OOF",
}
# What a `fault` step can break, and how: the one catalogue (simulators.faults).
FAULT_SERVICES: tuple[str, ...] = SERVICES
FAULT_KINDS: tuple[str, ...] = tuple(dict.fromkeys(kind for _, kind in KINDS))
# Where the PBX sends a call (R14): it rings, voicemail answers, or it goes to the mobile.
ROUTES: tuple[str, ...] = ("extension", "voicemail", "mobile")
# How the engine talks to the mail server (the [smtp] security of its configuration).
SMTP_SECURITIES: tuple[str, ...] = ("starttls", "ssl", "none")
# What a `check_mail` may expect: the engine's outcomes of one attempt to send.
MAIL_OUTCOMES: tuple[str, ...] = tuple(outcome.value for outcome in Outcome)
# How the PBX's clock was set: kept right in UTC (ntp), or typed in as the local
# wall-clock time (wall: with a wrong pbx timezone, its UTC clock is off).
PBX_CLOCKS: tuple[str, ...] = ("ntp", "wall")


class ScenarioError(ValueError):
    """One or more files were rejected; ``problems`` holds ``FILE:LINE: message`` lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class EngineSettings:
    """``engine:`` of a scenario: how the sync engine under test is configured."""

    poll_interval: timedelta = timedelta(seconds=30)
    poll_offset: timedelta = timedelta(0)  # first poll at start + offset
    lead_time: timedelta = timedelta(minutes=3)  # the 3-minute rule (R4)
    catch_up: bool = False
    # How long the engine waits for an answer (its [exchange] timeout). A `timeout`
    # fault costs this much real time while the scenario clock stands still.
    read_timeout: timedelta = timedelta(seconds=5)


@dataclass(frozen=True)
class ExchangeSettings:
    """``exchange:`` of a scenario: the simulated server's clock and access."""

    clock_skew: timedelta = timedelta(0)  # Exchange clock minus the scenario (PBX) clock
    service_account: ServiceAccount = field(default_factory=ServiceAccount)
    webdav_auth: str = "basic"  # basic | forms
    allow_relay: bool = False  # SMTP: accept mail for other domains (else 550 5.7.1)
    rights_delay: timedelta = timedelta(0)  # until a grant or revoke takes effect
    account_lockout: LockoutPolicy | None = None  # AD's account lock-out policy


@dataclass(frozen=True)
class PbxSettings:
    """``pbx:`` of a scenario: the PBX's own zone and clock (R13).

    ``timezone`` None means the scenario's. ``clock_skew`` is PBX clock minus the
    scenario clock; with ``clock == "wall"`` the PBX's clock shows the scenario's
    wall-clock time but is read in ``timezone``.
    """

    timezone: tzinfo | None = None
    clock_skew: timedelta = timedelta(0)
    clock: str = "ntp"  # ntp | wall


@dataclass(frozen=True)
class SmtpSettings:
    """``smtp:`` of a scenario: how the engine's mail side logs in to the SMTP sink.

    ``username``/``password`` None mean the service account's; an empty
    ``username`` means no log-in at all.
    """

    security: str = "starttls"  # starttls | ssl | none
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class Presence:
    """A presence state: status plus optional return time."""

    status: str = "office"
    return_time: datetime | None = None


@dataclass(frozen=True)
class User:
    """A PBX user (``users:``); ``email`` joins it to its Exchange mailbox."""

    extension: str
    name: str = ""
    email: str | None = None
    language: str = "en"
    auto_back_to_office: bool = False
    calendar_integration: bool = True
    mobile: str | None = None
    password: str | None = None
    mailbox: bool = True  # False: the e-mail address has no mailbox in Exchange
    presence: Presence = Presence()
    forward_to_mobile: tuple[str, ...] = ()  # statuses whose calls go to ``mobile`` (R14)
    timezone: str | None = None  # the mailbox's own IANA zone (OWA, its appointments)
    line: int = 0

    @property
    def has_mailbox(self) -> bool:
        return self.email is not None and self.mailbox


@dataclass(frozen=True, kw_only=True)
class Step:
    """One entry of ``steps:``; ``verb`` is the key that names its kind in the file."""

    verb: ClassVar[str] = ""
    # Expectations run after the instant's poll and mail round; other steps before them.
    is_expectation: ClassVar[bool] = False
    at: datetime  # aware UTC, on the scenario clock (the PBX's unless ``pbx:`` skews it)
    line: int

    @property
    def until(self) -> datetime:
        """The last instant the step looks at (later than ``at`` for a wait)."""
        return self.at


@dataclass(frozen=True, kw_only=True)
class CreateAppointment(Step):
    """An appointment appears in Exchange at ``at`` (its ``created`` is left to the store)."""

    verb: ClassVar[str] = "create_appointment"
    id: str | None
    appointment: SeedAppointment

    @property
    def mailbox(self) -> str:
        return self.appointment.mailbox

    @property
    def subject(self) -> str:
        return self.appointment.subject

    @property
    def start(self) -> datetime:
        return self.appointment.start

    @property
    def end(self) -> datetime:
        return self.appointment.end

    @property
    def all_day(self) -> bool:
        return self.appointment.all_day

    @property
    def busy_status(self) -> BusyStatus:
        return self.appointment.busy_status

    @property
    def recurrence(self) -> Recurrence | None:
        return self.appointment.recurrence


@dataclass(frozen=True, kw_only=True)
class UpdateAppointment(Step):
    """Changes to an appointment (or series) by id; ``None`` means unchanged.

    When the file moves only the start, the loader sets ``end`` too so the
    duration stays (as dragging it in Outlook does).
    """

    verb: ClassVar[str] = "update_appointment"
    id: str
    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool | None = None
    busy_status: BusyStatus | None = None
    location: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeleteAppointment(Step):
    verb: ClassVar[str] = "delete_appointment"
    id: str


@dataclass(frozen=True, kw_only=True)
class SetPresence(Step):
    """A manual presence change in the PBX client (R8)."""

    verb: ClassVar[str] = "set_presence"
    user: str  # extension
    status: str
    return_time: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ExpectPresence(Step):
    """The state at ``at``; ``return_time`` None means "any"."""

    verb: ClassVar[str] = "expect_presence"
    is_expectation: ClassVar[bool] = True
    user: str
    status: str
    return_time: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Fault(Step):
    """``service`` fails in the way ``kind`` (a row of ``simulators.faults.catalogue``)
    from ``at`` for ``duration`` (None: to the end), on the requests its triggers
    pick, with the values the kind takes."""

    verb: ClassVar[str] = "fault"
    service: str
    kind: str
    duration: timedelta | None = None
    first: int | None = None
    every: int | None = None
    mailbox: str | None = None  # lower case; a user's e-mail (or extension, without one)
    probability: float | None = None
    seed: int = 0
    latency: timedelta | None = None
    retry_after: int | None = None
    back_off: timedelta | None = None


@dataclass(frozen=True, kw_only=True)
class Call(Step):
    """A call from ``caller`` to extension ``to``: the PBX routes it now (R14). The
    caller listens to the announcement and hangs up, so no message is left."""

    verb: ClassVar[str] = "call"
    to: str  # extension
    caller: str  # `from` in the file
    id: str | None = None


@dataclass(frozen=True, kw_only=True)
class LeaveVoicemail(Call):
    """A call that must reach voicemail, where the caller speaks for ``seconds``."""

    verb: ClassVar[str] = "leave_voicemail"
    seconds: float = 3.0


@dataclass(frozen=True, kw_only=True)
class ExpectCall(Step):
    """Where a call went and what the caller heard; ``None`` means "any".

    The call is ``call`` (an id), else the last call to ``to`` before this step in
    the file, else the last call before it; ``call_line`` is that call step's line.
    """

    verb: ClassVar[str] = "expect_call"
    is_expectation: ClassVar[bool] = True
    call_line: int
    call: str | None = None
    to: str | None = None
    routed_to: str | None = None
    destination: str | None = None
    announcement: str | None = None
    announcement_contains: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExpectMail(Step):
    """A mail in ``to``'s mailbox by ``at + within`` (checked at every instant until then)."""

    verb: ClassVar[str] = "expect_mail"
    is_expectation: ClassVar[bool] = True
    to: str  # a user's mailbox address
    subject: str | None = None
    subject_contains: str | None = None
    attachment: str | None = None  # a content type (audio/wav) or a file name pattern
    within: timedelta = timedelta(0)
    count: int | None = None  # exactly this many such mails at ``at + within`` (None: any)

    @property
    def until(self) -> datetime:
        return self.at + self.within


@dataclass(frozen=True, kw_only=True)
class ExpectNoMail(ExpectMail):
    """No such mail in the mailbox at ``at``, nor arriving until ``at + within``."""

    verb: ClassVar[str] = "expect_no_mail"


@dataclass(frozen=True, kw_only=True)
class SearchContacts(Step):
    """The engine's public folder contact search (EWS or WebDAV per the run) now."""

    verb: ClassVar[str] = "search_contacts"
    query: str
    id: str | None = None
    limit: int = 50


@dataclass(frozen=True, kw_only=True)
class ExpectContacts(Step):
    """What a search found: display ``names`` in order and/or their ``count``.

    The search is ``search`` (an id), else the last one before this step in the
    file; ``search_line`` is that search step's line.
    """

    verb: ClassVar[str] = "expect_contacts"
    is_expectation: ClassVar[bool] = True
    search_line: int
    search: str | None = None
    names: tuple[str, ...] | None = None
    count: int | None = None


@dataclass(frozen=True, kw_only=True)
class CheckMail(Step):
    """The engine's 'check e-mail forwarding' to ``to`` now; ``expect`` is its outcome."""

    verb: ClassVar[str] = "check_mail"
    to: str
    expect: str = "delivered"


@dataclass(frozen=True)
class ExpectTransition:
    """One presence change the run must make, at a moment within ``between`` (inclusive)."""

    user: str
    status: str
    between: tuple[datetime, datetime]
    return_time: datetime | None = None
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A whole scenario (or seed) file."""

    name: str
    path: Path
    timezone: ZoneInfo
    start: datetime  # aware UTC
    end: datetime  # aware UTC; explicit or derived (see docs/scenario-format.md)
    description: str = ""
    variant: str = "both"
    engine: EngineSettings = EngineSettings()
    exchange: ExchangeSettings = field(default_factory=ExchangeSettings)
    smtp: SmtpSettings = SmtpSettings()
    pbx: PbxSettings = PbxSettings()
    users: tuple[User, ...] = ()
    seed: Seed = field(default_factory=Seed)
    # Every appointment id of the file: seed ones are the very objects in seed.appointments,
    # step-created ones the CreateAppointment step's appointment.
    handles: Mapping[str, SeedAppointment] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    expect_transitions: tuple[ExpectTransition, ...] = ()

    @property
    def variants(self) -> tuple[str, ...]:
        """The engine variants to run: ('ews',), ('webdav',) or both."""
        return ("ews", "webdav") if self.variant == "both" else (self.variant,)

    def user(self, extension: str) -> User:
        for user in self.users:
            if user.extension == extension:
                return user
        raise KeyError(extension)


__all__ = [
    "BUSY_STATUSES",
    "FAULT_KINDS",
    "FAULT_SERVICES",
    "LANGUAGES",
    "MAIL_OUTCOMES",
    "PBX_CLOCKS",
    "ROUTES",
    "SMTP_SECURITIES",
    "STATUSES",
    "VARIANTS",
    "WEBDAV_AUTH",
    "Call",
    "CheckMail",
    "CreateAppointment",
    "DeleteAppointment",
    "EngineSettings",
    "ExchangeSettings",
    "ExpectCall",
    "ExpectContacts",
    "ExpectMail",
    "ExpectNoMail",
    "ExpectPresence",
    "ExpectTransition",
    "Fault",
    "LeaveVoicemail",
    "PbxSettings",
    "Presence",
    "Scenario",
    "ScenarioError",
    "SearchContacts",
    "SetPresence",
    "SmtpSettings",
    "Step",
    "UpdateAppointment",
    "User",
]
