"""Load scenario files: YAML -> validated, normalised ``scenarios.format.model.Scenario``.

The public entry points are ``load_scenario`` (one file), ``parse_scenario``
(text) and ``load_paths`` (files and folders, as ``harness run`` takes them).
Every problem of every file is collected and raised together as one
``ScenarioError`` of ``FILE:LINE: message`` lines; bad input never escapes as a
traceback. This module reads the top level, settings, users and public folders;
appointments and steps have their own modules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

from yaml.nodes import Node

from scenarios.format import bounds
from scenarios.format.appointments import Mailboxes, read_appointment
from scenarios.format.clocks import read_pbx, read_zone
from scenarios.format.commsteps import read_forward_to_mobile, read_smtp
from scenarios.format.model import (
    LANGUAGES,
    STATUSES,
    VARIANTS,
    WEBDAV_AUTH,
    CreateAppointment,
    EngineSettings,
    ExchangeSettings,
    Presence,
    Scenario,
    ScenarioError,
    SmtpSettings,
    Step,
    User,
)
from scenarios.format.stepcontext import Handle, StepContext
from scenarios.format.steps import read_steps, read_transitions
from scenarios.format.yamlnodes import Fields, Reader, compose, line_of, suggest
from simulators.exchange.lockout import MAX_THRESHOLD, LockoutPolicy
from simulators.exchange.seed import Seed, SeedContact, SeedFolder, SeedMailbox, ServiceAccount

TOP_KEYS = (
    "name",
    "description",
    "timezone",
    "start",
    "end",
    "variant",
    "engine",
    "exchange",
    "users",
    "appointments",
    "public_folders",
    "smtp",
    "pbx",
    "steps",
    "expect_transitions",
)
ENGINE_KEYS = ("poll_interval", "poll_offset", "lead_time", "catch_up", "read_timeout")
EXCHANGE_KEYS = (
    "clock_skew",
    "service_account",
    "webdav_auth",
    "allow_relay",
    "rights_delay",
    "account_lockout",
)
LOCKOUT_KEYS = ("threshold", "observation_window", "duration")
SERVICE_ACCOUNT_KEYS = (
    "user",
    "password",
    "impersonation",
    "full_access",
    "impersonation_on_server",
    "denied_mailboxes",
)
USER_KEYS = (
    "extension",
    "name",
    "email",
    "language",
    "auto_back_to_office",
    "calendar_integration",
    "mobile",
    "password",
    "mailbox",
    "presence",
    "forward_to_mobile",
    "timezone",
)
FOLDER_KEYS = ("name", "contacts", "folders")
# Contact keys of the file -> Exchange phone keys of a SeedContact.
PHONE_KEYS = {
    "business_phone": "BusinessPhone",
    "mobile_phone": "MobilePhone",
    "home_phone": "HomePhone",
}
CONTACT_KEYS = ("display_name", "given_name", "surname", "company", "email", "emails", *PHONE_KEYS)
MAX_FOLDERS = 10_000  # aliases can make a small file describe a huge tree
MAX_CONTACTS = 100_000
MAX_FOLDER_DEPTH = 64
DEFAULT_LENGTH = timedelta(hours=1)  # a file without steps or transitions runs this long
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_EXTENSION = re.compile(r"\d{1,15}")


def load_paths(paths: Iterable[str | Path]) -> list[Scenario]:
    """Every scenario of the files and folders (``*.yaml`` below, recursively, sorted)."""
    files: list[Path] = []
    problems: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.yaml") if p.is_file())
            if not found:
                problems.append(f"{path}: no scenario files (*.yaml) below this folder")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    scenarios: list[Scenario] = []
    seen: set[Path] = set()
    for path in files:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return scenarios


def load_scenario(path: str | Path) -> Scenario:
    if (big := bounds.file_too_big(Path(path))) is not None:
        raise ScenarioError([f"{path}:1: {big}"])  # refused before it is read
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{path}:1: the file is not UTF-8 text ({exc.reason})"]) from None
    except OSError as exc:
        raise ScenarioError([f"{path}:1: cannot read the file: {exc.strerror}"]) from None
    return parse_scenario(text, path)


def parse_scenario(text: str, path: str | Path = "<text>") -> Scenario:
    """The scenario in ``text``; ``path`` names it in problems and becomes ``Scenario.path``."""
    reader = Reader(str(path))
    if (big := bounds.text_too_big(len(text.encode("utf-8", "replace")))) is not None:
        raise ScenarioError([f"{path}:1: {big}"])
    root, problems = compose(text)
    reader.problems.extend(problems)
    scenario = None
    if root is None and not problems:
        reader.error(1, "the file is empty; a scenario is a mapping with at least 'start'")
    elif root is not None:
        scenario = _Builder(reader, Path(path)).build(root)
    if reader.problems or scenario is None:
        raise ScenarioError(reader.formatted())
    return scenario


def _zone(reader: Reader, node: Node) -> ZoneInfo | None:
    raw = reader.nonempty(node, "timezone")
    if raw is None:
        return None
    try:
        return ZoneInfo(raw.strip())
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        pass
    hint = suggest(raw, sorted(available_timezones()))
    if hint.startswith(";"):  # not all 600 names: an example
        hint = "; use an IANA name like Europe/Berlin or UTC"
    reader.error(node, f"unknown time zone {raw!r}{hint}")
    return None


@dataclass
class _Builder:
    reader: Reader
    path: Path

    def build(self, root: Node) -> Scenario | None:
        reader = self.reader
        top = reader.mapping(root, "the file", TOP_KEYS, required=("start",))
        if top is None:
            return None
        zone_node = top.get("timezone")
        zone = ZoneInfo("UTC") if zone_node is None else _zone(reader, zone_node)
        reader.zone = zone or ZoneInfo("UTC")
        start = top.moment("start") if "start" in top else None
        if start is not None:
            reader.day = start.astimezone(reader.zone).date()
        users = self.users(top.items("users"))
        mailboxes = Mailboxes({u.email.lower(): u for u in users if u.email})
        seed = Seed(
            mailboxes=[self.mailbox(u) for u in users if u.has_mailbox], time_zone=str(reader.zone)
        )
        exchange = self.exchange(top.get("exchange"), mailboxes)
        seed.service_account = exchange.service_account
        seed.webdav_auth = exchange.webdav_auth
        seed.allow_relay = exchange.allow_relay
        seed.account_lockout = exchange.account_lockout
        engine = self.engine(top.get("engine"))
        end = top.moment("end")
        anchor = start or datetime(2000, 1, 1, tzinfo=UTC)  # only while reporting problems
        if start is not None and end is not None and end < start:
            reader.error(top.key_line("end"), "end is before start")
        ctx = StepContext(
            reader,
            {u.extension: u for u in users},
            mailboxes,
            service_account=exchange.service_account.user,
            read_user=lambda node: next(iter(self.users([node])), None),
        )
        for node in top.items("appointments"):
            read = read_appointment(reader, node, "appointment", mailboxes, anchor)
            if read is None:
                continue
            handle, appointment = read
            seed.appointments.append(appointment)
            state = Handle.of(line_of(node), appointment)
            if handle is not None:
                ctx.add_handle(node, handle, state)
        seed.public_folders = self.folders(top.items("public_folders"), [0, 0], 1)
        steps = read_steps(ctx, top.items("steps"), anchor, end)
        transitions = read_transitions(ctx, top.items("expect_transitions"), anchor, end)
        if start is None or zone is None:
            return None
        last = end or _default_end(start, steps, [t.between[1] for t in transitions])
        if (long := bounds.too_long(start, last, engine.poll_interval)) is not None:
            reader.error(top.key_line("end") if end is not None else top.key_line("start"), long)
            return None
        handles = {a.handle: a for a in seed.appointments if a.handle}
        handles.update(
            {s.id: s.appointment for s in steps if isinstance(s, CreateAppointment) and s.id}
        )
        return Scenario(
            name=top.text("name") or self.path.stem,
            description=top.text("description", default="") or "",
            path=self.path,
            timezone=zone,
            start=start,
            end=last,
            variant=top.choice("variant", VARIANTS, default="both") or "both",
            engine=engine,
            exchange=exchange,
            smtp=read_smtp(reader, smtp) if (smtp := top.get("smtp")) else SmtpSettings(),
            pbx=read_pbx(reader, top.get("pbx"), zone),
            users=tuple(users),
            seed=seed,
            handles=handles,
            steps=tuple(steps),
            expect_transitions=tuple(transitions),
        )

    def engine(self, node: Node | None) -> EngineSettings:
        default = EngineSettings()
        fields = None if node is None else self.reader.mapping(node, "engine", ENGINE_KEYS)
        if fields is None:
            return default
        interval = fields.duration("poll_interval", default.poll_interval)
        offset = fields.duration("poll_offset", default.poll_offset)
        lead = fields.duration("lead_time", default.lead_time)
        timeout = fields.duration("read_timeout", default.read_timeout)
        if timeout is not None and not timedelta(seconds=1) <= timeout <= timedelta(minutes=2):
            self.reader.error(
                fields.key_line("read_timeout"), "engine read_timeout must be 1s to 2m"
            )
            timeout = None
        for key, value, low in (("poll_interval", interval, 1), ("poll_offset", offset, 0)):
            if value is not None and value < timedelta(seconds=low):
                rule = "positive" if low else "zero or more"
                self.reader.error(fields.key_line(key), f"engine {key} must be {rule}")
        if lead is not None and lead < timedelta(0):
            self.reader.error(fields.key_line("lead_time"), "engine lead_time must be zero or more")
        return EngineSettings(
            poll_interval=default.poll_interval if interval is None else interval,
            poll_offset=default.poll_offset if offset is None else offset,
            lead_time=default.lead_time if lead is None else lead,
            catch_up=fields.flag("catch_up", default.catch_up),
            read_timeout=default.read_timeout if timeout is None else timeout,
        )

    def exchange(self, node: Node | None, mailboxes: Mailboxes) -> ExchangeSettings:
        reader = self.reader
        fields = None if node is None else reader.mapping(node, "exchange", EXCHANGE_KEYS)
        if fields is None:
            return ExchangeSettings()
        account = ServiceAccount()
        sa_node = fields.get("service_account")
        sa = (
            None
            if sa_node is None
            else reader.mapping(sa_node, "service_account", SERVICE_ACCOUNT_KEYS)
        )
        if sa is not None:
            account.user = sa.text("user", default=account.user) or account.user
            if "@" not in account.user:
                reader.error(
                    sa.key_line("user"), "service_account user must be like OSOMX@domain.net"
                )
            account.password = sa.text("password", default=account.password) or ""
            account.impersonation = sa.flag("impersonation", True)
            account.full_access = sa.flag("full_access", True)
            if "impersonation_on_server" in sa:
                account.impersonation_on_server = sa.flag("impersonation_on_server", True)
            denied = [mailboxes.resolve(reader, n) for n in sa.items("denied_mailboxes")]
            account.denied_mailboxes = tuple(d for d in denied if d)
        delay = fields.duration("rights_delay", timedelta(0))
        if delay is not None and delay < timedelta(0):
            reader.error(fields.key_line("rights_delay"), "rights_delay must be zero or more")
        return ExchangeSettings(
            rights_delay=delay if delay is not None and delay >= timedelta(0) else timedelta(0),
            clock_skew=fields.duration("clock_skew", timedelta(0))
            or timedelta(0),  # None: reported
            service_account=account,
            webdav_auth=fields.choice("webdav_auth", WEBDAV_AUTH, default="basic") or "basic",
            allow_relay=fields.flag("allow_relay", False),
            account_lockout=self.lockout(fields.get("account_lockout")),
        )

    def lockout(self, node: Node | None) -> LockoutPolicy | None:
        """``exchange.account_lockout``: AD's account lock-out policy."""
        if node is None:
            return None
        reader = self.reader
        fields = reader.mapping(node, "account_lockout", LOCKOUT_KEYS, required=("threshold",))
        if fields is None:
            return None
        default = LockoutPolicy()
        threshold = fields.integer("threshold", 0, MAX_THRESHOLD)
        window = fields.duration("observation_window", default.observation_window)
        duration = fields.duration("duration", default.duration)
        if threshold is None or window is None or duration is None:
            return None  # reported
        try:
            return LockoutPolicy(threshold, window, duration)
        except ValueError as exc:
            reader.error(fields.line, f"account_lockout: {exc}")
            return None

    def users(self, nodes: list[Node]) -> list[User]:
        reader = self.reader
        users: list[User] = []
        extensions: dict[str, int] = {}
        emails: dict[str, int] = {}
        for node in nodes:
            fields = reader.mapping(node, "user", USER_KEYS, required=("extension",))
            if fields is None:
                continue
            extension = fields.text("extension")
            if extension is not None and not _EXTENSION.fullmatch(extension):
                reader.error(
                    fields.key_line("extension"), f"extension {extension!r} must be digits"
                )
                extension = None
            elif extension in extensions:
                reader.error(
                    fields.key_line("extension"),
                    f"extension {extension} is already used at line {extensions[extension]}",
                )
                extension = None
            email = fields.text("email")
            if email is not None:
                email = email.strip()
                if not _EMAIL.fullmatch(email):
                    reader.error(fields.key_line("email"), f"{email!r} is not an e-mail address")
                    email = None
                elif email.lower() in emails:
                    reader.error(
                        fields.key_line("email"),
                        f"e-mail {email} is already used at line {emails[email.lower()]}",
                    )
                    email = None
            mobile = fields.text("mobile")
            own_zone = None
            if (zone_node := fields.get("timezone")) is not None:
                found = read_zone(reader, zone_node, "user timezone")
                own_zone = found.key if found else None
            user = User(
                extension=extension or "",
                name=fields.text("name", default="") or "",
                email=email,
                language=fields.choice("language", LANGUAGES, default="en") or "en",
                auto_back_to_office=fields.flag("auto_back_to_office", False),
                calendar_integration=fields.flag("calendar_integration", True),
                mobile=mobile,
                password=fields.text("password"),
                mailbox=fields.flag("mailbox", True),
                presence=self.presence(fields),
                forward_to_mobile=read_forward_to_mobile(reader, fields, mobile),
                timezone=own_zone,
                line=fields.line,
            )
            if extension is not None:
                extensions[extension] = fields.line
                users.append(user)
            if email is not None:
                emails[email.lower()] = fields.line
        return users

    def presence(self, user: Fields) -> Presence:
        node = user.get("presence")
        fields = (
            None
            if node is None
            else self.reader.mapping(
                node, "presence", ("status", "return_time"), required=("status",)
            )
        )
        if fields is None:
            return Presence()
        return Presence(
            status=fields.choice("status", STATUSES, default="office") or "office",
            return_time=fields.moment("return_time"),
        )

    @staticmethod
    def mailbox(user: User) -> SeedMailbox:
        assert user.email is not None
        return SeedMailbox(
            smtp=user.email,
            display_name=user.name or user.email.split("@")[0],
            language=user.language,
            password=user.password,
            time_zone=user.timezone,
        )

    def folders(self, nodes: list[Node], count: list[int], depth: int) -> list[SeedFolder]:
        """Folders of one level; ``count`` is [folders, contacts] so far, over all levels."""
        reader = self.reader
        folders: list[SeedFolder] = []
        names: dict[str, int] = {}
        if nodes and depth > MAX_FOLDER_DEPTH:
            reader.error(nodes[0], f"public folders nest deeper than {MAX_FOLDER_DEPTH} levels")
            return folders
        for node in nodes:
            count[0] += 1
            if count[0] > MAX_FOLDERS or count[1] > MAX_CONTACTS:
                reader.error(node, f"more than {MAX_FOLDERS} folders or {MAX_CONTACTS} contacts")
                return folders
            fields = reader.mapping(node, "public folder", FOLDER_KEYS, required=("name",))
            if fields is None:
                continue
            name_node = fields.get("name")
            name = None if name_node is None else reader.nonempty(name_node, "folder name")
            if name is not None and name.lower() in names:
                reader.error(
                    fields.key_line("name"),
                    f"folder {name!r} is already at line {names[name.lower()]} (same parent)",
                )
            elif name is not None:
                names[name.lower()] = fields.line
            contact_nodes = fields.items("contacts")
            count[1] += len(contact_nodes)
            contacts = [c for c in map(self.contact, contact_nodes) if c]
            children = self.folders(fields.items("folders"), count, depth + 1)
            folders.append(SeedFolder(name or "", contacts, children))
        return folders

    def contact(self, node: Node) -> SeedContact | None:
        fields = self.reader.mapping(node, "contact", CONTACT_KEYS)
        if fields is None:
            return None
        given = fields.text("given_name", default="") or ""
        surname = fields.text("surname", default="") or ""
        company = fields.text("company", default="") or ""
        display = (
            fields.text("display_name") or " ".join(p for p in (given, surname) if p) or company
        )
        if not display.strip():
            self.reader.error(fields.line, "a contact needs a display_name (or names or a company)")
        emails = [fields.text("email")] if "email" in fields else []
        emails += [self.reader.text(n, "email") for n in fields.items("emails")]
        if len(emails) > 3:
            self.reader.error(
                fields.key_line("emails"),
                "a contact has at most 3 e-mail addresses (Exchange's EmailAddress1..3)",
            )
        phones = {
            exchange: phone
            for key, exchange in PHONE_KEYS.items()
            if (phone := fields.text(key)) is not None
        }
        return SeedContact(
            display_name=display,
            given_name=given,
            surname=surname,
            company=company,
            emails=[e for e in emails if e],
            phones=phones,
        )


def _default_end(start: datetime, steps: list[Step], bounds: list[datetime]) -> datetime:
    """The last step (or the end of its wait) or transition bound, whichever is later;
    an hour when there is neither."""
    moments = [s.until for s in steps] + bounds
    return max(moments) if moments else start + DEFAULT_LENGTH


__all__ = ["load_paths", "load_scenario", "parse_scenario"]
