"""The fault applier of the SMTP sink: at which command each SMTP kind answers.

Each SMTP kind of the catalogue acts at one stage of a session: ``slow`` when
the connection opens (then every reply of it is late), ``smtp_421`` at MAIL FROM
(and the sink closes the channel, as 421 means), ``smtp_452`` at RCPT TO,
``smtp_535`` at AUTH, ``smtp_451``, ``smtp_554`` and ``disconnect_in_data`` after
the message's final dot, before it is stored: nothing a fault answered is kept,
so a client that retries is the only way the mail arrives. The sink's handler
and protocol (``simulators.smtp``) call ``at_stage`` with the addresses they know.
"""

from __future__ import annotations

from collections.abc import Iterable

from simulators.faults.injector import Fault, FaultInjector

STAGES: dict[str, str] = {
    "slow": "CONNECT",
    "smtp_421": "MAIL",
    "smtp_452": "RCPT",
    "smtp_535": "AUTH",
    "smtp_451": "DATA",
    "smtp_554": "DATA",
    "disconnect_in_data": "DATA",
}


def at_stage(injector: FaultInjector | None, stage: str, who: Iterable[str] = ()) -> Fault | None:
    """The SMTP fault that acts at ``stage`` of this session, if any (counted)."""
    if injector is None or not injector.windows():
        return None
    kinds = [kind for kind, where in STAGES.items() if where == stage]
    return injector.match("smtp", who, stage=stage, kinds=kinds)


def reply(fault: Fault) -> str:
    """The SMTP reply line of a reply kind (``421 4.3.2 ...``)."""
    return f"{fault.row.status} {fault.row.code}"


__all__ = ["STAGES", "at_stage", "reply"]
