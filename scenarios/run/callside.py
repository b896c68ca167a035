"""Calls in a scenario run: ``call``, ``leave_voicemail`` and ``expect_call`` (R14).

The PBX simulator routes each call at the instant of its step from the user's
presence at that instant: office rings the extension; any other status plays
the announcement (status and return time in the user's language) and then goes
to the mobile number, when the user forwards that status there, or to
voicemail. ``call`` hangs up after the announcement; ``leave_voicemail`` must
reach voicemail and leaves a message, which the mail side then mails.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from scenarios.format.model import Call, ExpectCall, LeaveVoicemail
from scenarios.run.mailside import MailSide
from simulators.pbx import CallResult, Pbx

Note = Callable[[datetime, str], None]
Fail = Callable[[int, str], None]


def describe(result: CallResult) -> str:
    """``+4930555 -> 100: voicemail ("Anna Berg is at lunch ...")`` for the timeline."""
    where = result.routed_to
    if result.routed_to == "mobile":
        where += f" {result.destination}"
    heard = f' "{result.announcement}"' if result.announcement else ""
    return f"call {result.caller} -> {result.to}: {where}{heard}"


class CallSide:
    """Places the run's calls and checks what became of them."""

    def __init__(
        self, pbx: Pbx, mail: MailSide, *, note: Note, fail: Fail, local: Callable[[datetime], str]
    ) -> None:
        self.pbx = pbx
        self.mail = mail
        self.note = note
        self.fail = fail
        self.local = local
        self.results: list[tuple[Call, CallResult]] = []

    def place(self, step: Call) -> None:
        """Route the call now; ``leave_voicemail`` fails its line unless voicemail answers."""
        if isinstance(step, LeaveVoicemail):
            result = self.pbx.call(step.to, step.caller, message_seconds=step.seconds)
        else:
            with self.mail.hang_up():
                result = self.pbx.call(step.to, step.caller)
        self.results.append((step, result))
        self.note(step.at, describe(result))
        self.mail.flush_notes()
        if isinstance(step, LeaveVoicemail) and result.routed_to != "voicemail":
            status = f"presence {result.status}"
            self.fail(
                step.line,
                f"expected the call to {step.to} at {self.local(step.at)} to reach voicemail, "
                f"but it went to the {result.routed_to} ({status}); no message was left",
            )

    def expect(self, step: ExpectCall) -> None:
        found = next((r for r in self.results if r[0].line == step.call_line), None)
        if found is None:  # the loader makes sure a call came first
            self.fail(step.line, "no call was placed before this expectation")
            return
        placed, result = found
        which = f"the call to {placed.to} at {self.local(placed.at)} (line {placed.line})"
        heard = result.announcement
        problems: list[str] = []
        if step.routed_to is not None and result.routed_to != step.routed_to:
            problems.append(f"went to the {result.routed_to}, not the {step.routed_to}")
        if step.destination is not None and result.destination != step.destination:
            problems.append(f"went to {result.destination}, not {step.destination}")
        if step.announcement is not None and heard != step.announcement:
            problems.append(
                f"announced {heard!r}, expected {step.announcement!r}"
                if heard
                else f"had no announcement, expected {step.announcement!r}"
            )
        contains = step.announcement_contains
        if contains is not None and (heard is None or contains not in heard):
            problems.append(
                f"announced {heard!r}, which lacks {contains!r}"
                if heard
                else f"had no announcement, expected one with {contains!r}"
            )
        if problems:
            self.fail(step.line, f"{which} " + "; it ".join(problems))


__all__ = ["CallSide", "describe"]
