"""Active Directory's account lock-out policy: the counting rules, and what a locked
account meets on the wire (IIS Basic on EWS and WebDAV, OWA's forms, SMTP AUTH):
401 like a wrong password, until the duration has passed on the simulators' clock."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from scenarios.format.loader import parse_scenario
from scenarios.format.model import ScenarioError
from simulators.clock import Clock
from simulators.exchange.lockout import AccountLockout, LockoutPolicy
from simulators.exchange.seed import Seed, SeedMailbox, ServiceAccount, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.site import RunningSite, start_site
from simulators.smtp import SinkSettings, SmtpSink
from simulators.smtp.settings import ListenerSpec

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANNA = "anna@domain.net"
POLICY = LockoutPolicy(
    threshold=3, observation_window=timedelta(minutes=10), duration=timedelta(minutes=30)
)


def test_threshold_bad_passwords_in_a_row_lock_the_account() -> None:
    lockout = AccountLockout(POLICY)
    assert not lockout.failed(ANNA, T0)
    assert not lockout.failed(ANNA, T0 + timedelta(minutes=1))
    assert lockout.failed(ANNA, T0 + timedelta(minutes=2))
    assert lockout.locked(ANNA.upper(), T0 + timedelta(minutes=3))  # names in any case
    assert lockout.locked_until(ANNA) == T0 + timedelta(minutes=32)
    # Attempts while locked do not extend the lock-out.
    assert not lockout.failed(ANNA, T0 + timedelta(minutes=20))
    assert lockout.locked(ANNA, T0 + timedelta(minutes=31, seconds=59))
    assert not lockout.locked(ANNA, T0 + timedelta(minutes=32))
    # Unlocked with a count of 0: it takes threshold bad passwords again.
    assert not lockout.failed(ANNA, T0 + timedelta(minutes=33))
    assert not lockout.failed(ANNA, T0 + timedelta(minutes=34))


def test_the_observation_window_and_a_good_password_reset_the_count() -> None:
    lockout = AccountLockout(POLICY)
    lockout.failed(ANNA, T0)
    lockout.failed(ANNA, T0 + timedelta(minutes=1))
    # Ten minutes after the last bad password the count starts again.
    assert not lockout.failed(ANNA, T0 + timedelta(minutes=11))
    assert not lockout.failed(ANNA, T0 + timedelta(minutes=12))
    lockout.succeeded(ANNA)
    assert not lockout.failed(ANNA, T0 + timedelta(minutes=13))
    assert not lockout.locked(ANNA, T0 + timedelta(minutes=13))


def test_duration_zero_locks_until_an_administrator_unlocks() -> None:
    lockout = AccountLockout(LockoutPolicy(1, timedelta(minutes=30), timedelta(0)))
    assert lockout.failed(ANNA, T0)
    assert lockout.locked(ANNA, T0 + timedelta(days=365))
    lockout.unlock(ANNA)
    assert not lockout.locked(ANNA, T0 + timedelta(days=365))


def test_threshold_zero_never_locks() -> None:
    lockout = AccountLockout(LockoutPolicy(0))
    assert not any(lockout.failed(ANNA, T0 + timedelta(seconds=n)) for n in range(50))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": -1}, "threshold"),
        ({"threshold": 1000}, "threshold"),
        ({"threshold": 3, "observation_window": timedelta(0)}, "observation_window"),
        ({"threshold": 3, "duration": timedelta(minutes=-1)}, "duration"),
        (
            {
                "threshold": 3,
                "observation_window": timedelta(hours=1),
                "duration": timedelta(minutes=5),
            },
            "longer than duration",
        ),
    ],
)
def test_a_policy_ad_would_refuse_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LockoutPolicy(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- on the wire
@pytest.fixture
def site() -> Iterator[RunningSite]:
    store = ExchangeStore(Clock())
    apply_seed(
        store,
        Seed(
            service_account=ServiceAccount(),
            mailboxes=[SeedMailbox(ANNA, "Anna", password="annapw")],
            account_lockout=POLICY,
        ),
    )
    running = start_site(store, "127.0.0.1", 0, False)
    try:
        yield running
    finally:
        running.stop()


def _ews(site: RunningSite, password: str) -> int:
    answer = httpx.post(site.ews_url, content=b"<x/>", auth=(ANNA, password), timeout=10)
    return answer.status_code


def _propfind(site: RunningSite, password: str) -> int:
    answer = httpx.request(
        "PROPFIND", f"{site.webdav_url}{ANNA}/", auth=(ANNA, password), timeout=10
    )
    return answer.status_code


def test_a_locked_account_gets_401_everywhere_until_the_duration_has_passed(
    site: RunningSite,
) -> None:
    assert _ews(site, "annapw") != 401
    for _ in range(POLICY.threshold):
        assert _ews(site, "wrong") == 401
    # Locked: the right password is refused like a wrong one, on EWS and WebDAV alike.
    assert _ews(site, "annapw") == 401
    assert _propfind(site, "annapw") == 401
    denied = httpx.post(site.ews_url, content=b"<x/>", auth=(ANNA, "annapw"), timeout=10)
    assert denied.headers["www-authenticate"] == 'Basic realm="127.0.0.1"'
    # Other accounts are not affected.
    svc = httpx.post(site.ews_url, content=b"<x/>", auth=("OSOMX@domain.net", "secret"), timeout=10)
    assert svc.status_code != 401
    site.store.clock.skew = POLICY.duration - timedelta(seconds=5)
    assert _ews(site, "annapw") == 401
    site.store.clock.skew = POLICY.duration + timedelta(seconds=1)  # Exchange's clock
    assert _ews(site, "annapw") != 401
    assert _propfind(site, "annapw") == 207


def test_owa_forms_log_in_meets_the_lock_out(site: RunningSite) -> None:
    site.set_webdav_auth("forms")
    for _ in range(POLICY.threshold):
        assert _ews(site, "wrong") == 401

    def owa_inbox(password: str) -> httpx.Response:
        with httpx.Client(base_url=site.url, timeout=10) as browser:
            browser.post(
                "/owa/auth/owaauth.dll",
                data={"destination": f"{site.url}/owa/", "username": ANNA, "password": password},
            )
            return browser.get("/owa/")

    locked = owa_inbox("annapw")
    assert locked.status_code == 302 and "logon.aspx" in locked.headers["location"]
    site.store.clock.skew = POLICY.duration + timedelta(seconds=1)
    assert owa_inbox("annapw").status_code == 200


def test_smtp_auth_of_a_locked_account_is_535(site: RunningSite) -> None:
    sink = SmtpSink(
        site.store,
        SinkSettings(listeners=(ListenerSpec("smtp", "plain"),), allow_plaintext_auth=True),
    ).start()
    try:
        for _ in range(POLICY.threshold):
            assert _ews(site, "wrong") == 401
        with smtplib.SMTP(sink.host("smtp"), sink.port("smtp"), timeout=10) as client:
            client.ehlo()
            with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                client.login(ANNA, "annapw")
        assert refused.value.smtp_code == 535
    finally:
        sink.stop()


# ---------------------------------------------------------------- the scenario format
def test_the_seed_option_reads_ads_three_settings() -> None:
    text = """\
name: Lock-out
start: 2026-03-02 09:00
exchange:
  account_lockout: {threshold: 5, observation_window: 15m, duration: 30m}
users:
  - {extension: "100", name: Anna, email: anna@domain.net}
"""
    scenario = parse_scenario(text, "case.yaml")
    assert scenario.seed.account_lockout == LockoutPolicy(
        5, timedelta(minutes=15), timedelta(minutes=30)
    )
    assert (
        parse_scenario(
            text.replace(
                "  account_lockout: {threshold: 5, observation_window: 15m, duration: 30m}\n",
                "  allow_relay: false\n",
            ),
            "case.yaml",
        ).seed.account_lockout
        is None
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{threshold: 1000}", "case.yaml:4: account_lockout threshold"),
        ("{duration: 30m}", "case.yaml:4: account_lockout needs 'threshold'"),
        ("{threshold: 3, window: 5m}", "case.yaml:4: unknown"),
        (
            "{threshold: 3, observation_window: 1h, duration: 5m}",
            "case.yaml:4: account_lockout: observation_window must not be longer than duration",
        ),
    ],
)
def test_a_bad_lock_out_policy_is_a_file_line_error(value: str, message: str) -> None:
    text = f"""\
name: Lock-out
start: 2026-03-02 09:00
exchange:
  account_lockout: {value}
users:
  - {{extension: "100", name: Anna, email: anna@domain.net}}
"""
    with pytest.raises(ScenarioError) as failed:
        parse_scenario(text, "case.yaml")
    assert any(p.startswith(message) for p in failed.value.problems), failed.value.problems
