"""The checks of ``harness doctor`` as a table, and the run that walks it.

Each row names a check, the checks it needs (it is skipped, with the reason, when
one of them did not pass) and the variants it applies to. Checks run in table
order; later ones use what earlier ones found (``Run``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from integration.config import EngineConfig
from integration.doctor import exchange, mail, network
from integration.doctor.report import CheckResult, Status, fail, ok
from integration.pbx import HttpPbxGateway, PbxError, PbxUser

Verdict = tuple[Status, str, str]


@dataclass
class Run:
    """One doctor run: the configuration and what the checks found so far."""

    config: EngineConfig
    mailbox: str | None
    timeout: float = 10.0
    users: list[PbxUser] = field(default_factory=list)
    state: exchange.ExchangeState | None = None

    @property
    def ex(self) -> exchange.ExchangeState:
        assert self.state is not None
        return self.state

    @property
    def addresses(self) -> list[str]:
        return [u.email for u in self.users if u.email and u.calendar_integration]


async def _pbx_users(run: Run) -> Verdict:
    if run.config.pbx is None:
        if run.mailbox:
            return ok("no [pbx] url: only --mailbox is checked")
        return fail("no [pbx] section", "set [pbx] url, or give --mailbox ADDRESS")
    gateway = HttpPbxGateway(run.config.pbx.url, timeout=run.timeout, token=run.config.pbx.token)
    try:
        run.users = await gateway.users()
    except PbxError as exc:
        return fail(f"the PBX user list cannot be read: {exc}", "check [pbx] url")
    finally:
        await gateway.aclose()
    if run.mailbox is None and run.addresses:
        run.ex.target = run.addresses[0]
    with_mail = len(run.addresses)
    return ok(f"{len(run.users)} users, {with_mail} with an e-mail address")


async def _exchange_tcp(run: Run) -> Verdict:
    host, port, _ = network.endpoint(run.config.exchange.server_url)
    return await network.resolve_and_connect(host, port, run.timeout, "[exchange] server_url")


async def _exchange_tls(run: Run) -> Verdict:
    exchange_cfg = run.config.exchange
    host, port, tls = network.endpoint(exchange_cfg.server_url)
    if not tls:
        return ok("none: server_url is http://, so the password travels unencrypted")
    return await network.check_certificate(
        host,
        port,
        exchange_cfg.verify_tls,
        exchange_cfg.ca_file,
        run.timeout,
        "[exchange] server_url",
    )


async def _mailboxes(run: Run) -> Verdict:
    addresses = list(dict.fromkeys([*([run.mailbox] if run.mailbox else []), *run.addresses]))
    no_address = [u.extension for u in run.users if not u.email]
    return await exchange.mailboxes(run.ex, addresses, no_address)


async def _smtp(run: Run) -> Verdict:
    smtp = run.config.smtp
    assert smtp is not None
    to = run.mailbox or (run.addresses[0] if run.addresses else smtp.sender)
    return await mail.smtp_submission(smtp, to)


async def _smtp_tcp(run: Run) -> Verdict:
    smtp = run.config.smtp
    assert smtp is not None
    return await network.resolve_and_connect(
        smtp.server, smtp.port, run.timeout, "[smtp] server and port"
    )


@dataclass(frozen=True)
class Check:
    key: str
    title: str
    run: Callable[[Run], Awaitable[Verdict]]
    needs: tuple[str, ...] = ()
    variants: tuple[str, ...] = ("ews", "webdav")
    needs_smtp: bool = False


CHECKS: tuple[Check, ...] = (
    Check("pbx", "PBX users", _pbx_users),
    Check("tcp", "name resolution and TCP", _exchange_tcp),
    Check("tls", "TLS certificate and host name", _exchange_tls, ("tcp",)),
    Check("auth", "authentication", lambda r: exchange.authentication(r.ex), ("tls",)),
    Check("version", "server version", lambda r: exchange.server_version(r.ex), ("auth",)),
    Check(
        "impersonation",
        "impersonation right on the server",
        lambda r: exchange.impersonation_server(r.ex),
        ("auth", "pbx"),
        ("ews",),
    ),
    Check(
        "may-impersonate",
        "impersonation right on the mailboxes",
        lambda r: exchange.impersonation_mailbox(r.ex),
        ("impersonation",),
        ("ews",),
    ),
    Check(
        "full-access",
        "FullAccess to the mailboxes",
        lambda r: exchange.full_access(r.ex),
        ("auth", "pbx"),
        ("webdav",),
    ),
    Check(
        "mailboxes",
        "every PBX user's mailbox",
        _mailboxes,
        ("auth", "impersonation", "pbx"),
    ),
    Check(
        "calendar",
        "calendar read with recurring series",
        lambda r: exchange.calendar_read(r.ex),
        ("auth", "impersonation", "pbx"),
    ),
    Check(
        "public-folders",
        "public folders (first level)",
        lambda r: exchange.public_folders(r.ex),
        ("auth",),
    ),
    Check("smtp-tcp", "SMTP server reachable", _smtp_tcp, needs_smtp=True),
    Check("smtp", "SMTP submission", _smtp, ("smtp-tcp",), needs_smtp=True),
)


async def run_checks(config: EngineConfig, mailbox: str | None = None) -> list[CheckResult]:
    """Every check of the table that applies to ``config``, in order."""
    run = Run(config, mailbox, timeout=config.polling.request_timeout.total_seconds())
    run.state = exchange.ExchangeState(
        config.exchange, run.timeout, exchange.open_source(config.exchange, run.timeout)
    )
    run.ex.target = mailbox
    variant = config.exchange.variant
    applying = [
        c for c in CHECKS if variant in c.variants and (config.smtp is not None or not c.needs_smtp)
    ]
    keys = {c.key for c in applying}
    passed: set[str] = set()
    results: list[CheckResult] = []
    try:
        for check in applying:
            blocked = [k for k in check.needs if k in keys and k not in passed]
            if blocked:
                titles = ", ".join(_title(k) for k in blocked)
                results.append(CheckResult(check.key, check.title, Status.SKIP, f"needs {titles}"))
                continue
            try:
                status, detail, advice = await check.run(run)
            except Exception as exc:  # a check must never end the report
                status, detail, advice = fail(
                    f"the check itself failed: {exc!r}", "report this to the PBX vendor"
                )
            if status is Status.OK:
                passed.add(check.key)
            results.append(CheckResult(check.key, check.title, status, detail, advice))
    finally:
        await run.ex.source.aclose()
    return results


def _title(key: str) -> str:
    return next(c.title for c in CHECKS if c.key == key)


__all__ = ["CHECKS", "Check", "Run", "run_checks"]
