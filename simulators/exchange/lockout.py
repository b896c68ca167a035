"""Active Directory's account lock-out policy, as Exchange's log-ins meet it.

Every log-in of the simulated organisation (IIS Basic on EWS and WebDAV, OWA's
forms, SMTP AUTH) asks ``ExchangeStore.authenticate``, which asks this. The three
settings are the domain policy's (Default Domain Policy > Account Lockout Policy):

- ``threshold`` (lockoutThreshold): bad passwords in a row that lock the account;
  0 never locks (AD's default).
- ``observation_window`` (lockOutObservationWindow): a bad password longer ago than
  this no longer counts (badPwdCount starts again from 0).
- ``duration`` (lockoutDuration): how long the account stays locked; 0 means until an
  administrator unlocks it (``unlock``).

As in AD: a good password resets the count; while locked even the right password is
refused (IIS answers 401 as for a wrong one) and attempts do not extend the lock-out;
when the duration has passed the account logs in again, with a count of 0. Time is
the store's clock, so a scenario or the control API's clock moves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_THRESHOLD = 999  # AD accepts 0..999


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 0
    observation_window: timedelta = timedelta(minutes=30)
    duration: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= MAX_THRESHOLD:
            raise ValueError(f"threshold must be 0..{MAX_THRESHOLD}")
        if self.observation_window <= timedelta(0):
            raise ValueError("observation_window must be more than 0")
        if self.duration < timedelta(0):
            raise ValueError("duration must be 0 (until unlocked) or more")
        if self.duration and self.observation_window > self.duration:
            # AD refuses this combination in the policy editor too.
            raise ValueError("observation_window must not be longer than duration")


@dataclass
class _Record:
    bad_count: int = 0
    last_bad: datetime | None = None
    locked_at: datetime | None = None


class AccountLockout:
    """Bad-password counts and lock-outs per account under one policy (not
    thread-safe: the store calls it under its lock)."""

    def __init__(self, policy: LockoutPolicy | None = None) -> None:
        self.policy = policy or LockoutPolicy()
        self._records: dict[str, _Record] = {}

    def locked(self, account: str, now: datetime) -> bool:
        """Whether ``account`` is locked out at ``now`` (an expired lock-out ends here)."""
        record = self._records.get(account.lower())
        if record is None or record.locked_at is None:
            return False
        duration = self.policy.duration
        if duration and now >= record.locked_at + duration:
            self._records.pop(account.lower(), None)
            return False
        return True

    def failed(self, account: str, now: datetime) -> bool:
        """Count a bad password for ``account`` at ``now``; True when it locks it."""
        if self.policy.threshold == 0 or self.locked(account, now):
            return False
        record = self._records.setdefault(account.lower(), _Record())
        window = self.policy.observation_window
        if record.last_bad is not None and now - record.last_bad >= window:
            record.bad_count = 0
        record.bad_count += 1
        record.last_bad = now
        if record.bad_count >= self.policy.threshold:
            record.locked_at = now
            return True
        return False

    def succeeded(self, account: str) -> None:
        """A good password: the bad-password count starts again from 0."""
        self._records.pop(account.lower(), None)

    def unlock(self, account: str) -> None:
        """What an administrator's "Unlock account" does."""
        self._records.pop(account.lower(), None)

    def locked_until(self, account: str) -> datetime | None:
        """When the lock-out of ``account`` ends (None: not locked, or until unlocked)."""
        record = self._records.get(account.lower())
        if record is None or record.locked_at is None or not self.policy.duration:
            return None
        return record.locked_at + self.policy.duration


__all__ = ["MAX_THRESHOLD", "AccountLockout", "LockoutPolicy"]
