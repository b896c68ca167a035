"""Rights and users that change while a scenario runs: ``grant``, ``revoke``, ``add_user``.

``grant: {right: full_access, mailbox: user3@domain.net}`` (and ``revoke``) changes a
right as an Exchange administrator does; it takes effect ``exchange.rights_delay``
later (``simulators.exchange.rights``). Rights: ``impersonation``
(ms-Exch-EPI-May-Impersonate; ``mailbox: all`` is the mailbox database, covering
mailboxes created later), ``impersonation_on_server`` (ms-Exch-EPI-Impersonation, a
server right: no mailbox) and ``full_access`` (FullAccess; ``mailbox: all`` is every
mailbox that exists when it takes effect). ``to`` is the account: the service
account (default) or a user's own account, by its e-mail address.

``add_user: {extension: "103", email: user4@domain.net, ...}`` takes the keys of a
``users:`` entry: the PBX user and its mailbox appear at that instant; later steps
and ``expect_transitions`` may name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from yaml.nodes import Node

from scenarios.format.appointments import Mailboxes
from scenarios.format.model import Step, User
from scenarios.format.stepcontext import StepContext
from simulators.exchange.model import ALL_MAILBOXES
from simulators.exchange.rights import RIGHTS

RIGHT_KEYS = ("right", "mailbox", "to")
SERVER_RIGHTS = ("impersonation_on_server",)  # rights without a mailbox


@dataclass(frozen=True, kw_only=True)
class Grant(Step):
    """A right granted to ``account`` (a UPN) on ``mailbox`` (an address, ``ALL_MAILBOXES``
    or None for the server right), effective ``exchange.rights_delay`` later."""

    verb: ClassVar[str] = "grant"
    right: str
    account: str
    mailbox: str | None = None

    @property
    def grant(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class Revoke(Grant):
    verb: ClassVar[str] = "revoke"

    @property
    def grant(self) -> bool:
        return False


@dataclass(frozen=True, kw_only=True)
class AddUser(Step):
    """A PBX user (and, unless ``mailbox: false``, its mailbox) created at ``at``."""

    verb: ClassVar[str] = "add_user"
    user: User


def _rights_change(ctx: StepContext, node: Node, verb: str) -> tuple[str, str, str | None] | None:
    reader = ctx.reader
    fields = reader.mapping(node, verb, RIGHT_KEYS, required=("right",))
    if fields is None:
        return None
    before = len(reader.problems)
    right = fields.choice("right", RIGHTS)
    mailbox: str | None = None
    box_node = fields.get("mailbox")
    if right in SERVER_RIGHTS and box_node is not None:
        reader.error(
            fields.key_line("mailbox"),
            f"{right} is a right on the Client Access server, not on a mailbox",
        )
    elif right is not None and right not in SERVER_RIGHTS:
        if box_node is None:
            fields.require("mailbox")
        else:
            raw = reader.nonempty(box_node, "mailbox")
            if raw is not None and raw.strip().lower() == "all":
                mailbox = ALL_MAILBOXES
            elif raw is not None:
                mailbox = ctx.mailboxes.resolve(reader, box_node)
    account = _account(ctx, fields.get("to"))
    if right is None or account is None or len(reader.problems) > before:
        return None
    if right not in SERVER_RIGHTS and mailbox is None:
        return None
    return right, account, mailbox


def _account(ctx: StepContext, node: Node | None) -> str | None:
    """The account a right is for: the service account, or a user's own."""
    if node is None:
        return ctx.service_account
    reader = ctx.reader
    raw = reader.nonempty(node, "to")
    if raw is None:
        return None
    name = raw.strip().lower()
    if name == ctx.service_account.lower():
        return ctx.service_account
    user = ctx.mailboxes.by_email.get(name)
    if user is None or not user.mailbox:
        known = [ctx.service_account] + [
            u.email for u in ctx.mailboxes.by_email.values() if u.email and u.mailbox
        ]
        reader.error(
            node,
            f"no account {raw!r}: rights go to the service account or a user's own account "
            f"(known: {', '.join(known)})",
        )
        return None
    return user.email


def read_grant(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    read = _rights_change(ctx, node, "grant")
    if read is None:
        return None
    right, account, mailbox = read
    return Grant(at=at, line=line, right=right, account=account, mailbox=mailbox)


def read_revoke(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    read = _rights_change(ctx, node, "revoke")
    if read is None:
        return None
    right, account, mailbox = read
    return Revoke(at=at, line=line, right=right, account=account, mailbox=mailbox)


def read_add_user(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    reader = ctx.reader
    if ctx.read_user is None:  # pragma: no cover - the loader always gives one
        raise RuntimeError("add_user needs StepContext.read_user")
    before = len(reader.problems)
    user = ctx.read_user(node)
    if user is None or len(reader.problems) > before:
        return None
    if user.extension in ctx.users:
        known = ctx.users[user.extension]
        reader.error(node, f"extension {user.extension} is already used at line {known.line}")
        return None
    if user.email is not None and user.email.lower() in ctx.mailboxes.by_email:
        known = ctx.mailboxes.by_email[user.email.lower()]
        reader.error(node, f"e-mail {user.email} is already used at line {known.line}")
        return None
    users = dict(ctx.users)
    users[user.extension] = user
    ctx.users = users
    if user.email is not None:
        ctx.mailboxes = Mailboxes({**ctx.mailboxes.by_email, user.email.lower(): user})
    return AddUser(at=at, line=line, user=user)


__all__ = [
    "RIGHT_KEYS",
    "AddUser",
    "Grant",
    "Revoke",
    "read_add_user",
    "read_grant",
    "read_revoke",
]
