"""The engine's mail side inside a scenario run, on the scenario clock.

Per run: a ``MailQueue`` in a temporary SQLite file (in memory where possible), an ``SmtpTransport`` set up
like the engine's ``[smtp]`` section (the environment's SMTP sink, the
scenario's ``smtp:`` security and log-in, the service account by default, the
sink's CA), a ``VoicemailForwarder`` fed by the in-process PBX's
``on_voicemail``, and a ``MailWorker`` whose ``run_due(now)`` the runner calls at
every instant it visits. The worker's retry times are instants too
(``next_due``), as the real worker sleeps until then. Mail goes over real SMTP
on loopback, through a ``ConnectionGate`` that a ``fault: {service: smtp}``
shuts. The retry policy is the engine's without jitter, so runs repeat exactly.

Also here: ``check_mail`` steps (the engine's test mail, straight to the server)
and ``expect_mail`` / ``expect_no_mail``, which look into the mailbox at each
instant until their deadline and never sleep.

A ``restart_engine`` ends the worker and the forwarder with the engine's process
(``stop_engine``); while the engine is down the PBX keeps the messages left, and the
new process (``start_engine``) opens the same queue file and re-reads the PBX's
voicemail feed: what was queued before is not queued again (the queue's key), what
was left meanwhile is queued now, and everything due is sent by the new worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, tzinfo
from fnmatch import fnmatch
from pathlib import Path

from integration.config import SmtpConfig, SmtpSecurity
from integration.mail import (
    Attempt,
    MailQueue,
    MailWorker,
    RetryPolicy,
    SmtpTransport,
    VoicemailEvent,
    VoicemailForwarder,
    check_mail,
)
from scenarios.format.model import CheckMail, ExpectMail, ExpectNoMail, Scenario
from simulators.netgate import ConnectionGate
from simulators.pbx import Pbx, Voicemail
from simulators.smtp import MailSummary, MessageWait, SmtpSink, matching
from simulators.smtp.inspection import parse_message

Note = Callable[[datetime, str], None]  # something worth a timeline line, at an instant
Fail = Callable[[int, str], None]  # a failed expectation: line, message
SMTP_TIMEOUT = timedelta(seconds=5)
# The engine's mail logger: quiet during a run, whose timeline shows every attempt.
MAIL_LOG = logging.getLogger("integration.mail")
# [smtp] security -> the sink's listener that speaks it.
LISTENERS: dict[str, str] = {"starttls": "smtp", "none": "smtp", "ssl": "smtps"}


def wanted(step: ExpectMail) -> str:
    """``a mail to x with subject 'y' and an attachment 'audio/wav'`` for messages."""
    traits = []
    if step.subject is not None:
        traits.append(f"subject {step.subject!r}")
    if step.subject_contains is not None:
        traits.append(f"{step.subject_contains!r} in the subject")
    if step.attachment is not None:
        traits.append(f"an attachment {step.attachment!r}")
    return f"a mail to {step.to}" + (" with " + " and ".join(traits) if traits else "")


def has_attachment(summary: MailSummary, wanted: str) -> bool:
    """An attachment of that content type, or whose file name matches the pattern."""
    folded = wanted.casefold()
    for attachment in parse_message(summary).attachments:
        if attachment.content_type.casefold() == folded:
            return True
        if attachment.filename and fnmatch(attachment.filename.casefold(), folded):
            return True
    return False


def describe_mail(summary: MailSummary) -> str:
    parts = [
        f"{a.content_type} {a.filename or ''}".strip() for a in parse_message(summary).attachments
    ]
    return repr(summary.subject) + (f" [{', '.join(parts)}]" if parts else "")


def scratch_folder() -> str | None:
    """Where a run's queue file goes: memory (``/dev/shm``) where there is one. The
    queue syncs every commit to disk (as the engine's must), which costs a scenario
    tens of milliseconds on a disk and nothing there; within a run it is the same file
    (a restarted engine reopens it). ``None``: the system's temporary folder."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


class _Wait:
    """One ``expect_mail``/``expect_no_mail`` until its deadline (inclusive)."""

    def __init__(self, step: ExpectMail, wait: MessageWait) -> None:
        self.step = step
        self.wait = wait


class MailSide:
    """Queue, worker, forwarder and SMTP gate of one run; see the module docstring."""

    def __init__(
        self,
        scenario: Scenario,
        sink: SmtpSink,
        pbx: Pbx,
        *,
        note: Note,
        fail: Fail,
        local: Callable[[datetime], str],
    ) -> None:
        self.scenario = scenario
        self.sink = sink
        self.pbx = pbx
        self.note = note
        self.fail = fail
        self.local = local
        self.zone: tzinfo = scenario.timezone
        listener = LISTENERS[scenario.smtp.security]
        self.gate = ConnectionGate(sink.host(listener), sink.port(listener))
        self._workdir = Path(tempfile.mkdtemp(prefix="harness-mail-", dir=scratch_folder()))
        self.queue = MailQueue(self._workdir / "mail-queue.sqlite3")
        self.attempts: list[Attempt] = []
        self.worker: MailWorker | None = None
        self.forwarder: VoicemailForwarder | None = None
        self._taking_messages = True
        self._hung_up: set[int] = set()  # PBX recordings of `call` steps: not messages
        self._waits: list[_Wait] = []
        self._notes: list[tuple[datetime, str]] = []  # told after the call that made them
        self._log_level = MAIL_LOG.level
        self._unsubscribe = pbx.on_voicemail(self.on_voicemail)

    # ------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        self._log_level = MAIL_LOG.level
        MAIL_LOG.setLevel(logging.CRITICAL)
        await self.gate.open()
        self._start_workers()

    def _start_workers(self) -> None:
        config = self.config()
        self.worker = MailWorker(
            self.queue, SmtpTransport(config), RetryPolicy(), on_attempt=self._attempted
        )
        self.forwarder = VoicemailForwarder(self.queue, config.sender, self.zone)

    @property
    def engine_running(self) -> bool:
        return self.worker is not None

    def stop_engine(self) -> None:
        """The engine's process ended: no worker, no forwarder. The queue file stays
        (every change was committed); the harness keeps reading it meanwhile."""
        self.worker = None
        self.forwarder = None

    def start_engine(self, now: datetime) -> None:
        """A new engine process: the same queue file, a new worker and forwarder, and
        the PBX's voicemail feed read again (each message is queued once, by its key)."""
        path = self.queue.path
        self.queue.close()
        self.queue = MailQueue(path)  # what the new process opens
        self._start_workers()
        assert self.forwarder is not None
        for message in self.pbx.voicemails():
            if message.id in self._hung_up:
                continue
            event = self._event(message)
            if self.queue.contains(event.key):
                continue  # queued (or sent) by the engine before the restart
            mail = self.forwarder.forward(event, now)
            if mail is not None:
                self._notes.append(
                    (
                        now,
                        f"voicemail for {message.extension} left while the engine was "
                        f"down queued as mail {mail.id}",
                    )
                )

    async def aclose(self) -> None:
        self._unsubscribe()
        MAIL_LOG.setLevel(self._log_level)
        try:
            await self.gate.close()
        finally:
            self.queue.close()
            shutil.rmtree(self._workdir, ignore_errors=True)

    def config(self) -> SmtpConfig:
        """The engine's [smtp] section for this run: the sink through the gate."""
        svc = self.scenario.seed.service_account
        smtp = self.scenario.smtp
        username = svc.user if smtp.username is None else smtp.username
        security: SmtpSecurity = smtp.security  # type: ignore[assignment]
        ca = self.sink.ca_cert_pem
        return SmtpConfig(
            server=self.gate.host,
            port=self.gate.port,
            security=security,
            sender=svc.user,
            username=username or None,  # empty: no log-in
            password=svc.password if smtp.password is None else smtp.password,
            ca_file=Path(ca) if ca else None,
            queue_path=self.queue.path,
            timeout=SMTP_TIMEOUT,
        )

    async def set_open(self, wanted: bool) -> None:
        """Open or shut the gate in front of the sink (a ``fault`` on smtp)."""
        await self.gate.set_open(wanted)

    # ------------------------------------------------------------ voicemail
    @contextlib.contextmanager
    def hang_up(self) -> Iterator[None]:
        """A ``call`` step: the caller hangs up after the announcement, so whatever the
        PBX recorded meanwhile is not a message and is not mailed."""
        self._taking_messages = False
        try:
            yield
        finally:
            self._taking_messages = True

    def on_voicemail(self, message: Voicemail) -> None:
        """The PBX recorded a message: queue its mail (``Pbx.on_voicemail`` listener)."""
        if not self._taking_messages:
            self._hung_up.add(message.id)
            return
        if self.forwarder is None:  # the engine is down: the PBX keeps the message
            self._notes.append(
                (message.at, f"voicemail for {message.extension} kept by the PBX (engine down)")
            )
            return
        event = self._event(message)
        mail = self.forwarder.forward(event, message.at)
        about = f"voicemail for {message.extension} ({message.duration_seconds:g} s)"
        if mail is None:
            self._notes.append((message.at, f"{about}: not mailed (no e-mail address)"))
        else:
            self._notes.append((message.at, f"{about} queued as mail {mail.id}"))

    def _event(self, message: Voicemail) -> VoicemailEvent:
        user = self.pbx.user(message.extension)
        return VoicemailEvent(
            voicemail_id=str(message.id),
            extension=message.extension,
            caller=message.caller,
            at=message.at,
            duration_seconds=message.duration_seconds,
            audio=message.audio,
            email=user.email,
            language=user.language,
            user_name=user.name,
        )

    def flush_notes(self) -> None:
        """Put what the forwarder did on the timeline (after the call's own line)."""
        notes, self._notes = self._notes, []
        for at, text in notes:
            self.note(at, text)

    # --------------------------------------------------------------- sending
    def _attempted(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        text = attempt.describe()
        if attempt.retry_at is not None:  # the retry in the scenario's local time
            mail = attempt.mail
            text = (
                f"mail {mail.id} to {', '.join(mail.recipients)} ({mail.subject!r}): attempt "
                f"{mail.attempts} failed ({attempt.result.describe()}); "
                f"next try at {self.local(attempt.retry_at)}"
            )
        self.note(attempt.at, text)

    async def run_due(self, now: datetime) -> None:
        """The worker's round at this instant: every message due is tried once (none
        while the engine is down)."""
        self.flush_notes()
        if self.worker is not None:
            await self.worker.run_due(now)

    def next_due(self) -> datetime | None:
        """When the queue next has something to send (a retry), if anything."""
        return self.queue.next_due()

    async def check(self, step: CheckMail, now: datetime) -> None:
        """``check_mail``: the engine's test mail now; its outcome must be ``expect``."""
        result = await check_mail(self.config(), step.to, now)
        got = result.outcome.value
        # A refusal with the server's words; an acceptance without them (a random queue id).
        reply = "" if result.delivered else f" ({result.describe()})"
        self.note(now, f"check-mail to {step.to}: {got}{reply}")
        if got != step.expect:
            self.fail(
                step.line,
                f"expected check_mail to {step.to} to end {step.expect} at {self.local(now)}, "
                f"got {got}: {result.describe()}",
            )

    # ---------------------------------------------------------- expectations
    def expect(self, step: ExpectMail) -> None:
        """Start an ``expect_mail``/``expect_no_mail``; decided now or at a later instant."""
        predicate = self._predicate(step)
        wait = self.sink.inspector.wait_for_message(predicate, step.within)
        pending = _Wait(step, wait)
        if not self._decide(pending, step.at):
            self._waits.append(pending)

    @staticmethod
    def _predicate(step: ExpectMail) -> Callable[[MailSummary], bool]:
        predicate = matching(
            mailbox=step.to, subject=step.subject, subject_contains=step.subject_contains
        )
        if step.attachment is None:
            return predicate
        attachment = step.attachment
        return lambda summary: predicate(summary) and has_attachment(summary, attachment)

    def check_waits(self, now: datetime) -> None:
        """Look again for every expectation still waiting (at each instant)."""
        self._waits = [w for w in self._waits if not self._decide(w, now)]

    def finish(self, now: datetime) -> None:
        """The run is over: whatever still waits is decided now."""
        for pending in self._waits:
            self._decide(pending, max(now, pending.wait.deadline))
        self._waits = []

    def _decide(self, pending: _Wait, now: datetime) -> bool:
        """True once the expectation has passed or failed."""
        step, found = pending.step, pending.wait.check()
        negative = isinstance(step, ExpectNoMail)
        if step.count is not None and not negative:
            return self._decide_count(pending, now)
        if found is not None:
            if negative:
                self.fail(
                    step.line,
                    f"expected no {wanted(step)[2:]} until {self.local(step.until)}; "
                    f"{describe_mail(found)} arrived at {self.local(found.received)}",
                )
            return True
        if now < pending.wait.deadline:
            return False
        if not negative:
            self.fail(
                step.line, f"expected {wanted(step)} by {self.local(step.until)}; {self._why(step)}"
            )
        return True

    def _decide_count(self, pending: _Wait, now: datetime) -> bool:
        """``count``: judged at the deadline, the number of such mails in the mailbox."""
        step = pending.step
        if now < pending.wait.deadline:
            return False
        predicate = self._predicate(step)
        found = [m for m in self.sink.inspector.messages(step.to) if predicate(m)]
        if len(found) != step.count:
            listed = ", ".join(describe_mail(m) for m in found) or "none"
            self.fail(
                step.line,
                f"expected exactly {step.count} mail(s) by {self.local(step.until)} like "
                f"this: {wanted(step)}; found {len(found)}: {listed}",
            )
        return True

    def _why(self, step: ExpectMail) -> str:
        """What the mailbox and the queue hold for that address, for the failure."""
        inbox = self.sink.inspector.messages(step.to)
        text = (
            f"the mailbox has {len(inbox)} mail(s): " + ", ".join(map(describe_mail, inbox))
            if inbox
            else "the mailbox is empty"
        )
        waiting = [
            mail
            for mail in self.queue.messages()
            if mail.status != "sent" and step.to.lower() in (r.lower() for r in mail.recipients)
        ]
        for mail in waiting:
            text += (
                f"; the queue holds mail {mail.id} {mail.subject!r}: {mail.status} after "
                f"{mail.attempts} attempt(s) ({mail.last_error or 'not tried yet'})"
            )
        return text


__all__ = ["MailSide", "has_attachment"]
