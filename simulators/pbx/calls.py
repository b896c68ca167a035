"""Where a call to a user goes and what the caller hears (contract R14).

Office: the extension rings. Any other status: the caller hears the status and
the return time in the user's voicemail language, then the call goes to the
user's mobile number when the user forwards that status there, or else to
voicemail, where the caller leaves a message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from simulators.pbx.announcements import announcement
from simulators.pbx.model import CallResult, Presence, Status, User, Voicemail


def route_call(
    user: User,
    presence: Presence,
    caller: str,
    now: datetime,
    zone: tzinfo,
    *,
    seconds: float,
    next_voicemail_id: Callable[[], int],
) -> CallResult:
    """Route one call; a voicemail route carries the message left (``seconds`` long)."""
    common: dict[str, Any] = {
        "to": user.extension,
        "caller": caller,
        "at": now,
        "status": presence.status,
        "return_time": presence.return_time,
        "language": user.language,
    }
    if presence.status == Status.OFFICE:
        return CallResult(
            routed_to="extension", destination=user.extension, announcement=None, **common
        )
    to_mobile = presence.status in user.forward_to_mobile and user.mobile is not None
    text = announcement(
        user.language,
        user.name,
        presence.status,
        presence.return_time,
        now,
        zone,
        to_mobile=to_mobile,
    )
    if to_mobile and user.mobile is not None:
        return CallResult(routed_to="mobile", destination=user.mobile, announcement=text, **common)
    message = Voicemail(
        id=next_voicemail_id(),
        extension=user.extension,
        caller=caller,
        at=now,
        duration_seconds=seconds,
        announcement=text,
    )
    return CallResult(
        routed_to="voicemail",
        destination=user.extension,
        announcement=text,
        voicemail=message,
        **common,
    )
