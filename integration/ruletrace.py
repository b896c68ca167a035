"""The decision trace of one poll: a ``Decision`` for every appointment the rules saw.

``rules.step`` builds one ``PollTrace`` with the facts of the poll (the state
before it, the appointment shown, the commands) and asks it for each
appointment's decision; the data types are in ``integration.decisions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from integration import keywords
from integration.appointments import Appointment
from integration.decisions import VERDICT_RULES, Decision, Verdict
from integration.rulestate import (
    ENGINE_SET_BY,
    Command,
    CurrentPresence,
    EnginePresence,
    Phase,
    Reason,
    ReturnToOffice,
    RuleSettings,
    RuleUser,
    SetPresence,
    Tracked,
    UserRuleState,
    minute_of,
)


@dataclass(frozen=True, slots=True)
class PollTrace:
    """The facts of one poll that every decision of that poll refers to."""

    now: datetime
    before: UserRuleState
    settings: RuleSettings
    user: RuleUser
    shown: Tracked | None
    previous: EnginePresence | None  # owned by the engine before this poll's commands
    commands: list[Command]
    adopted: str | None
    current: CurrentPresence | None = None  # what the PBX showed right before the poll

    def decide(
        self, t: Tracked, match: keywords.KeywordMatch | None, started: Reason | None
    ) -> Decision:
        key = t.appointment.id
        shown = self.shown.appointment if self.shown is not None else None
        under = shown if shown is not None and shown.id != key else None
        command = next((c for c in self.commands if c.appointment_id == key), None)
        if t.appointment.cancelled and t.phase is not Phase.STARTED:
            verdict = Verdict.CANCELLED  # R11: whatever it was before, it is gone now
        elif t.phase is Phase.STARTED:
            if under is not None:
                verdict = Verdict.STANDING_BY  # R9
            elif started is not None:
                verdict = Verdict.CAUGHT_UP if started is Reason.CATCH_UP else Verdict.SET
            elif key == self.adopted:
                verdict = Verdict.SHOWN
            elif isinstance(command, SetPresence):
                verdict = Verdict.RESUMED if command.reason is Reason.RESUME else Verdict.CHANGED
            else:
                verdict = Verdict.SHOWN
        elif t.phase is Phase.OVERRIDDEN:
            verdict = Verdict.OVERRIDDEN
        elif match is None and t.why in (None, Verdict.NO_KEYWORD, Verdict.PASSED):
            verdict = Verdict.NO_KEYWORD  # waiting or ignored alike: it can never set presence
        elif t.phase is Phase.WAITING:
            verdict = Verdict.WAITING
        elif t.phase is Phase.IGNORED:
            verdict = Verdict.IGNORED
        elif t.why is Verdict.NO_KEYWORD:
            verdict = Verdict.PASSED  # it got a keyword after its start minute (R3)
        else:
            assert t.why is not None  # DONE always says why (_done)
            verdict = t.why
        return self._decision(t, verdict, match, under)

    def vanished(self, t: Tracked) -> Decision | None:
        """An appointment the previous poll read and this one did not: it ended, or
        was deleted or moved out of the window (R11). Nothing to say of one that
        was done or ignored and simply ended."""
        a = t.appointment
        ended = self.now >= minute_of(a.end)
        if t.phase in (Phase.IGNORED, Phase.DONE) and ended:
            return None
        verdict = Verdict.ENDED if ended and t.phase is not Phase.IGNORED else Verdict.REMOVED
        return self._decision(t, verdict, None, None)

    def _shown_by_someone_else(self, match: keywords.KeywordMatch | None) -> str | None:
        """Who set the presence the PBX shows, when it is this appointment's status and
        not the engine's: the client that wrote the appointment when it set presence."""
        current = self.current
        if match is None or current is None or current.status != match.status:
            return None
        if current.set_by in (None, ENGINE_SET_BY):
            return None
        return current.set_by

    def orphaned(self, presence: CurrentPresence) -> Decision:
        """The engine's first poll found the PBX showing a presence the engine set that
        no appointment in progress explains: its appointment went while it was down."""
        back = any(isinstance(c, ReturnToOffice) for c in self.commands)
        until = presence.return_time or self.now
        return Decision(
            appointment_id="",
            subject="",
            start=self.now,
            end=until,
            verdict=Verdict.ORPHANED,
            rule=VERDICT_RULES[Verdict.ORPHANED],
            language=self.user.language,
            status=presence.status,
            lead_time=self.settings.lead_time.total_seconds(),
            last_good_poll=None,
            catch_up=self.settings.catch_up,
            back_to_office=back,
        )

    def _decision(
        self,
        t: Tracked,
        verdict: Verdict,
        match: keywords.KeywordMatch | None,
        under: Appointment | None,
    ) -> Decision:
        a = t.appointment
        rule = VERDICT_RULES[verdict]
        if a.all_day and verdict in (Verdict.SET, Verdict.CAUGHT_UP, Verdict.PASSED):
            rule = "R12"
        elif verdict is Verdict.ENDED and t.manual is not None:
            rule = "R8"  # it ended, but presence had been someone else's since
        last_good = t.missed_after if verdict is Verdict.MISSED else self.before.last_poll
        keyword_lost = verdict is Verdict.REMOVED and match is None and t.why is Verdict.REMOVED
        back: bool | None = None
        if verdict in (Verdict.ENDED, Verdict.REMOVED, Verdict.CANCELLED) and (
            self.previous is not None and self.previous.appointment_id == a.id
        ):
            back = any(isinstance(c, ReturnToOffice) for c in self.commands)
        return Decision(
            appointment_id=a.id,
            subject=a.subject,
            start=a.start,
            end=a.end,
            verdict=verdict,
            rule=rule,
            all_day=a.all_day,
            language=self.user.language,
            keyword=match.keyword if match else None,
            status=match.status if match else None,
            first_seen=t.first_seen,
            dated_after_gap=t.dated_after_gap,
            lead_time=self.settings.lead_time.total_seconds(),
            last_good_poll=last_good,
            catch_up=self.settings.catch_up,
            under=under.id if under is not None else None,
            under_subject=under.subject if under is not None else None,
            manual=t.manual,
            back_to_office=back,
            keyword_lost=keyword_lost,
            presence_set_by=(
                self._shown_by_someone_else(match) if verdict is Verdict.IGNORED else None
            ),
        )
