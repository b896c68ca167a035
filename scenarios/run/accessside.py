"""Rights changes and users added while a scenario runs (``grant``, ``revoke``,
``add_user``), carried out on the store and the PBX simulator as an administrator's
changes would be: a rights change is made now and takes effect
``exchange.rights_delay`` later on Exchange's clock (the store applies it then); a
new user appears in the PBX's directory and gets its mailbox at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from scenarios.format.accesssteps import AddUser, Grant
from scenarios.format.model import Scenario, User
from simulators.exchange.rights import Right
from simulators.exchange.store import ExchangeStore
from simulators.pbx import Pbx
from simulators.pbx import User as PbxUser

Note = Callable[[datetime, str], None]


def add_pbx_user(pbx: Pbx, user: User) -> None:
    """``user`` as a PBX subscriber, in its starting presence."""
    pbx.add_user(
        PbxUser(
            extension=user.extension,
            name=user.name or user.extension,
            email=user.email,
            language=user.language,
            auto_back_to_office=user.auto_back_to_office,
            calendar_integration=user.calendar_integration,
            mobile=user.mobile,
            forward_to_mobile=frozenset(user.forward_to_mobile),  # type: ignore[arg-type]
        ),
        status=user.presence.status,
        return_time=user.presence.return_time,
    )


class AccessSide:
    """Applies ``grant``/``revoke``/``add_user`` of one run."""

    def __init__(
        self,
        scenario: Scenario,
        store: ExchangeStore,
        pbx: Pbx,
        *,
        note: Note,
        local: Callable[[datetime], str],
    ) -> None:
        self.scenario = scenario
        self.store = store
        self.pbx = pbx
        self.note = note
        self.local = local

    def change(self, step: Grant) -> None:
        change = self.store.change_rights(
            grant=step.grant,
            right=step.right,  # type: ignore[arg-type]  # checked by the loader (RIGHTS)
            account=step.account,
            mailbox=step.mailbox,
            delay=self.scenario.exchange.rights_delay,
        )
        delay = self.scenario.exchange.rights_delay
        when = "now" if not delay else f"from {self.local(step.at + delay)}"
        self.note(step.at, f"{step.verb}: {change.describe()}, in effect {when}")

    def add_user(self, step: AddUser) -> None:
        user = step.user
        if user.has_mailbox:
            assert user.email is not None
            self.store.add_mailbox(
                user.email,
                user.name or user.email.split("@")[0],
                user.language,
                user.password,
                time_zone=user.timezone or self.scenario.seed.time_zone,
            )
        add_pbx_user(self.pbx, user)
        mailbox = "with a mailbox" if user.has_mailbox else "without a mailbox"
        self.note(step.at, f"user {user.extension} ({user.email or 'no e-mail'}) added, {mailbox}")


__all__ = ["AccessSide", "Right", "add_pbx_user"]
