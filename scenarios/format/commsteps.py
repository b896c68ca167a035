"""Readers of the call, voicemail, mail and contact steps, and of ``smtp:`` and
``forward_to_mobile``.

Each ``read_*`` turns the arguments of one step (``verb: {...}``) into a step of
``scenarios.format.model`` or reports its problems through ``ctx.reader`` (``FILE:LINE:
message``) and returns None. They check what can be known before anything runs:
extensions, mailboxes, ids of earlier calls and searches, route and outcome
names, and expectations that contradict themselves.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from yaml.nodes import Node

from integration.contacts.model import MAX_LIMIT, InvalidQuery, check_query
from integration.mail.check import is_address
from scenarios.format.model import (
    MAIL_OUTCOMES,
    ROUTES,
    SMTP_SECURITIES,
    STATUSES,
    Call,
    CheckMail,
    ExpectCall,
    ExpectContacts,
    ExpectMail,
    ExpectNoMail,
    LeaveVoicemail,
    SearchContacts,
    SmtpSettings,
    Step,
)
from scenarios.format.stepcontext import StepContext
from scenarios.format.yamlnodes import Fields, Reader, suggest
from simulators.pbx.voicemail import MAX_SECONDS as MAX_MESSAGE_SECONDS

MAX_CALLER_LENGTH = 64  # the PBX's limit for a caller id
CALL_KEYS = ("to", "from", "id")
EXPECT_CALL_KEYS = (
    "call",
    "to",
    "routed_to",
    "destination",
    "announcement",
    "announcement_contains",
)
MAIL_KEYS = ("to", "subject", "subject_contains", "attachment", "within")
SMTP_KEYS = ("security", "username", "password")


def _caller(reader: Reader, fields: Fields) -> str | None:
    node = fields.get("from")
    raw = None if node is None else reader.nonempty(node, "from")
    if node is None or raw is None:
        return None
    text = raw.strip()
    if len(text) > MAX_CALLER_LENGTH:
        reader.error(node, f"from is longer than {MAX_CALLER_LENGTH} characters")
        return None
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        reader.error(node, "from contains a control character")
        return None
    return text


def _seconds(reader: Reader, fields: Fields, default: float) -> float | None:
    node = fields.get("seconds")
    if node is None:
        return default
    raw = reader.text(node, "seconds")
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        reader.error(node, f"seconds must be a number of seconds, not {raw!r}")
        return None
    if not 0 < value <= MAX_MESSAGE_SECONDS:
        reader.error(node, f"seconds must be more than 0 and at most {MAX_MESSAGE_SECONDS:g}")
        return None
    return value


def _call_fields(
    ctx: StepContext, node: Node, verb: str, keys: tuple[str, ...], line: int
) -> tuple[Fields, str, str, str | None] | None:
    """The fields, callee, caller and id shared by ``call`` and ``leave_voicemail``."""
    reader = ctx.reader
    fields = reader.mapping(node, verb, keys, required=("to", "from"))
    if fields is None:
        return None
    before = len(reader.problems)
    to_node = fields.get("to")
    to = None if to_node is None else ctx.extension(to_node, "to")
    caller = _caller(reader, fields)
    id_node = fields.get("id")
    call_id = None if id_node is None else ctx.new_id(id_node, ctx.calls, "call", line)
    if to is None or caller is None or len(reader.problems) > before:
        return None
    ctx.called[to] = line
    ctx.last_call = line
    return fields, to, caller, call_id


def read_call(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    read = _call_fields(ctx, node, "call", CALL_KEYS, line)
    if read is None:
        return None
    _, to, caller, call_id = read
    return Call(at=at, line=line, to=to, caller=caller, id=call_id)


def read_leave_voicemail(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    read = _call_fields(ctx, node, "leave_voicemail", (*CALL_KEYS, "seconds"), line)
    if read is None:
        return None
    fields, to, caller, call_id = read
    seconds = _seconds(ctx.reader, fields, LeaveVoicemail.seconds)
    if seconds is None:
        return None
    return LeaveVoicemail(at=at, line=line, to=to, caller=caller, id=call_id, seconds=seconds)


def read_expect_call(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    reader = ctx.reader
    fields = reader.mapping(node, "expect_call", EXPECT_CALL_KEYS)
    if fields is None:
        return None
    before = len(reader.problems)
    call_node, to_node = fields.get("call"), fields.get("to")
    call = to = None
    call_line = ctx.last_call
    if call_node is not None and to_node is not None:
        reader.error(node, "expect_call names a call by 'call' (its id) or 'to', not both")
    elif call_node is not None:
        call = ctx.known_id(call_node, ctx.calls, "call", "call or leave_voicemail")
        call_line = None if call is None else ctx.calls[call]
    elif to_node is not None:
        to = ctx.extension(to_node, "to")
        call_line = None if to is None else ctx.called.get(to)
        if to is not None and call_line is None:
            reader.error(to_node, f"no call to {to} before this step")
    elif call_line is None:
        reader.error(node, "no call before this step (expect_call checks the last call)")
    routed_to = fields.choice("routed_to", ROUTES)
    destination = fields.text("destination")
    exact = fields.text("announcement")
    contains = fields.text("announcement_contains")
    if exact is not None and contains is not None:
        reader.error(node, "give announcement (the exact text) or announcement_contains, not both")
    if routed_to == "extension" and (exact is not None or contains is not None):
        reader.error(
            fields.key_line("routed_to"), "a call that rings the extension has no announcement"
        )
    checks = ("routed_to", "destination", "announcement", "announcement_contains")
    if not any(key in fields for key in checks):
        reader.error(node, "expect_call checks nothing; give " + ", ".join(checks))
    if len(reader.problems) > before or call_line is None:
        return None
    return ExpectCall(
        at=at,
        line=line,
        call_line=call_line,
        call=call,
        to=to,
        routed_to=routed_to,
        destination=destination,
        announcement=exact,
        announcement_contains=contains,
    )


def _mailbox(ctx: StepContext, node: Node) -> str | None:
    """The address of a user with a mailbox: where a mail can be expected."""
    raw = ctx.reader.nonempty(node, "to")
    if raw is None:
        return None
    user = ctx.mailboxes.by_email.get(raw.strip().lower())
    if user is None or user.email is None:
        known = [u.email for u in ctx.mailboxes.by_email.values() if u.email and u.mailbox]
        hint = suggest(raw, known) if known else " (no user has a mailbox)"
        ctx.reader.error(node, f"no user has the mailbox {raw!r}{hint}")
        return None
    if not user.mailbox:
        ctx.reader.error(
            node, f"user {user.extension} has mailbox: false, so no mail reaches {raw!r}"
        )
        return None
    return user.email


def _mail_expectation(
    ctx: StepContext, node: Node, verb: str, at: datetime, line: int
) -> ExpectMail | None:
    reader = ctx.reader
    keys = (*MAIL_KEYS, "count") if verb == "expect_mail" else MAIL_KEYS
    fields = reader.mapping(node, verb, keys, required=("to",))
    if fields is None:
        return None
    before = len(reader.problems)
    count = fields.integer("count", 0, 10_000) if "count" in fields else None
    to_node = fields.get("to")
    to = None if to_node is None else _mailbox(ctx, to_node)
    within = fields.duration("within", timedelta(0))
    if within is not None and within < timedelta(0):
        reader.error(fields.key_line("within"), f"{verb} within must be zero or more")
    attachment = fields.get("attachment")
    if attachment is not None:
        reader.nonempty(attachment, "attachment")
    if to is None or within is None or len(reader.problems) > before:
        return None
    if verb == "expect_no_mail":
        return ExpectNoMail(
            at=at,
            line=line,
            to=to,
            subject=fields.text("subject"),
            subject_contains=fields.text("subject_contains"),
            attachment=fields.text("attachment"),
            within=within,
        )
    return ExpectMail(
        at=at,
        line=line,
        to=to,
        subject=fields.text("subject"),
        subject_contains=fields.text("subject_contains"),
        attachment=fields.text("attachment"),
        within=within,
        count=count,
    )


def read_expect_mail(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    return _mail_expectation(ctx, node, "expect_mail", at, line)


def read_expect_no_mail(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    return _mail_expectation(ctx, node, "expect_no_mail", at, line)


def read_check_mail(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    reader = ctx.reader
    fields = reader.mapping(node, "check_mail", ("to", "expect"), required=("to",))
    if fields is None:
        return None
    to_node = fields.get("to")
    to = None if to_node is None else reader.nonempty(to_node, "to")
    if to_node is not None and to is not None and not is_address(to.strip()):
        reader.error(to_node, f"{to!r} is not an e-mail address")
        to = None
    expect = fields.choice("expect", MAIL_OUTCOMES, default="delivered")
    if to is None or expect is None:
        return None
    return CheckMail(at=at, line=line, to=to.strip(), expect=expect)


def read_search_contacts(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    reader = ctx.reader
    fields = reader.mapping(node, "search_contacts", ("query", "id", "limit"), required=("query",))
    if fields is None:
        return None
    before = len(reader.problems)
    query_node = fields.get("query")
    query = None if query_node is None else reader.text(query_node, "query")
    limit = fields.integer("limit", 1, MAX_LIMIT) if "limit" in fields else SearchContacts.limit
    if query_node is not None and query is not None:
        try:
            query = check_query(query, limit or SearchContacts.limit)
        except InvalidQuery as exc:
            reader.error(query_node, f"search_contacts {exc}")
            query = None
    id_node = fields.get("id")
    search_id = None if id_node is None else ctx.new_id(id_node, ctx.searches, "search", line)
    if query is None or limit is None or len(reader.problems) > before:
        return None
    ctx.last_search = line
    return SearchContacts(at=at, line=line, query=query, id=search_id, limit=limit)


def read_expect_contacts(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    reader = ctx.reader
    fields = reader.mapping(node, "expect_contacts", ("search", "names", "count"))
    if fields is None:
        return None
    before = len(reader.problems)
    search_node = fields.get("search")
    search = None
    search_line = ctx.last_search
    if search_node is not None:
        search = ctx.known_id(search_node, ctx.searches, "search", "search_contacts")
        search_line = None if search is None else ctx.searches[search]
    elif search_line is None:
        reader.error(node, "no search_contacts before this step")
    names = None
    if "names" in fields:
        names = tuple(reader.text(n, "contact name") or "" for n in fields.items("names"))
    count = fields.integer("count", 0, MAX_LIMIT)
    if names is None and count is None and "count" not in fields:
        reader.error(node, "expect_contacts checks nothing; give names and/or count")
    if names is not None and count is not None and count != len(names):
        reader.error(fields.key_line("count"), f"count {count} but {len(names)} names are listed")
    if len(reader.problems) > before or search_line is None:
        return None
    return ExpectContacts(
        at=at, line=line, search_line=search_line, search=search, names=names, count=count
    )


def read_smtp(reader: Reader, node: Node) -> SmtpSettings:
    """``smtp:`` at the top level: how the engine logs in to the mail server."""
    fields = reader.mapping(node, "smtp", SMTP_KEYS)
    if fields is None:
        return SmtpSettings()
    return SmtpSettings(
        security=fields.choice("security", SMTP_SECURITIES, default="starttls") or "starttls",
        username=fields.text("username"),
        password=fields.text("password"),
    )


def read_forward_to_mobile(reader: Reader, user: Fields, mobile: str | None) -> tuple[str, ...]:
    """A user's ``forward_to_mobile``: statuses (not office) whose calls go to ``mobile``."""
    statuses: list[str] = []
    for node in user.items("forward_to_mobile"):
        status = reader.choice(node, "forward_to_mobile status", STATUSES)
        if status == "office":
            reader.error(node, "calls in office ring the extension; forward other statuses")
        elif status is not None and status not in statuses:
            statuses.append(status)
    if statuses and mobile is None:
        reader.error(user.key_line("forward_to_mobile"), "forward_to_mobile needs a mobile number")
    return tuple(statuses)


__all__ = [
    "read_call",
    "read_check_mail",
    "read_expect_call",
    "read_expect_contacts",
    "read_expect_mail",
    "read_expect_no_mail",
    "read_forward_to_mobile",
    "read_leave_voicemail",
    "read_search_contacts",
    "read_smtp",
]
