"""Shared fixtures: a running Exchange site per xdist worker, reset for every test.

``ews`` (plain HTTP) and ``ews_tls`` (HTTPS, CA generated at start) give an
``EwsServer``: the site with the default seed applied, an empty journal and no
fault windows. The site's journal keeps every response body; when
``EWS_SCHEMA_DIR`` is set, each test's EWS responses are validated against the
2007 SP1 schema at teardown and the test errors on the first invalid one.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from simulators.exchange.model import CalendarItem
from simulators.exchange.seed import (
    Seed,
    SeedAppointment,
    SeedContact,
    SeedFolder,
    SeedMailbox,
    ServiceAccount,
    apply_seed,
)
from simulators.exchange.store import ExchangeStore
from simulators.site import RunningSite, start_site
from tests.schema_check import load_schema, response_errors, schema_dir
from tests.seeds import dst_weekly_series

DOMAIN = "w03ex07.net"
SERVICE_USER = f"OSOMX@{DOMAIN}"
SERVICE_PASSWORD = "secret"
ALICE = f"alice@{DOMAIN}"
BOB = f"bob@{DOMAIN}"
ROBERTA = f"roberta@{DOMAIN}"
CAROL = f"carol@{DOMAIN}"  # the service account may not impersonate her (denied)
BERLIN = ZoneInfo("Europe/Berlin")


def default_seed() -> Seed:
    """Alice's weekly 09:00 Berlin series across the 2026-03-29 DST change.

    Six Mondays from 2026-03-16; the 23rd moved to 14:00 and renamed, the 6 April
    deleted; plus a single lunch on 30 March. Public folders hold contacts.
    """
    return Seed(
        service_account=ServiceAccount(
            user=SERVICE_USER, password=SERVICE_PASSWORD, denied_mailboxes=(CAROL,)
        ),
        mailboxes=[
            SeedMailbox(ALICE, "Alice Example"),
            SeedMailbox(BOB, "Bob Builder", password="bobpw"),
            SeedMailbox(ROBERTA, "Roberta Bobson"),
            SeedMailbox(CAROL, "Carol Denied", language="de"),
        ],
        appointments=[
            dst_weekly_series(ALICE),
            SeedAppointment(
                mailbox=ALICE,
                handle="lunch",
                subject="Lunch",
                start=datetime(2026, 3, 30, 12, 0, tzinfo=BERLIN),
                end=datetime(2026, 3, 30, 13, 0, tzinfo=BERLIN),
                created=datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN),
                busy_status="OOF",
                time_zone="Europe/Berlin",
            ),
            SeedAppointment(
                mailbox=BOB,
                handle="bob-dentist",
                subject="Dentist",
                start=datetime(2026, 3, 17, 8, 0, tzinfo=BERLIN),
                end=datetime(2026, 3, 17, 9, 0, tzinfo=BERLIN),
            ),
        ],
        public_folders=[
            SeedFolder(
                "Customers",
                contacts=[
                    SeedContact(
                        "Carla Customer",
                        "Carla",
                        "Customer",
                        "Kunde GmbH",
                        ["carla@kunde.de"],
                        {"BusinessPhone": "+49 30 5550", "MobilePhone": "+49 171 555"},
                    ),
                    SeedContact("Carlos Other", "Carlos", "Other", "Andere AG", ["co@andere.de"]),
                    SeedContact(
                        "Dieter Kunde",
                        "Dieter",
                        "Kunde",
                        "Kunde GmbH",
                        [],
                        {"HomePhone": "+49 30 777"},
                    ),
                ],
                folders=[SeedFolder("Archive", contacts=[SeedContact("Old Contact")])],
            ),
            SeedFolder("Suppliers", contacts=[SeedContact("Sam Supplier", "Sam", "Supplier")]),
        ],
    )


@dataclass
class EwsServer:
    """A running site plus helpers for raw and exchangelib clients."""

    site: RunningSite
    handles: dict[str, CalendarItem]

    @property
    def store(self) -> ExchangeStore:
        return self.site.store

    @property
    def url(self) -> str:
        return self.site.ews_url

    def seed(self, seed: Seed) -> dict[str, CalendarItem]:
        self.handles = apply_seed(self.store, seed)
        return self.handles

    def post(
        self,
        body: bytes | str,
        *,
        auth: tuple[str, str] | None = (SERVICE_USER, SERVICE_PASSWORD),
        headers: dict[str, str] | None = None,
        method: str = "POST",
        path: str = "/EWS/Exchange.asmx",
    ) -> httpx.Response:
        sent = {"Content-Type": "text/xml; charset=utf-8", **(headers or {})}
        verify: Any = True
        if self.site.ca_cert_pem:
            verify = ssl.create_default_context(cafile=self.site.ca_cert_pem)
        with httpx.Client(verify=verify, timeout=10) as client:
            return client.request(
                method,
                self.site.url + path,
                content=body.encode() if isinstance(body, str) else body,
                headers=sent,
                auth=auth,
            )

    def account(self, smtp: str, user: str = SERVICE_USER, password: str = SERVICE_PASSWORD) -> Any:
        """An exchangelib Account impersonating ``smtp``, as the captures were made."""
        from exchangelib import (
            BASIC,
            IMPERSONATION,
            Account,
            Configuration,
            Credentials,
            EWSTimeZone,
            Version,
        )
        from exchangelib.version import EXCHANGE_2007_SP1

        config = Configuration(
            service_endpoint=self.url,
            credentials=Credentials(user, password),
            version=Version(build=EXCHANGE_2007_SP1),
            auth_type=BASIC,
        )
        return Account(
            smtp,
            config=config,
            autodiscover=False,
            access_type=IMPERSONATION,
            default_timezone=EWSTimeZone("Europe/Berlin"),
        )


def _start(tls: bool) -> RunningSite:
    from simulators.exchange.ews.middleware import RequestJournal

    store = ExchangeStore(domain=DOMAIN)
    return start_site(store, "127.0.0.1", 0, tls, journal=RequestJournal(keep_bodies=True))


@pytest.fixture(scope="session")
def ews_site() -> Iterator[RunningSite]:
    """One plain-HTTP site per xdist worker (session scope = per worker process)."""
    site = _start(tls=False)
    yield site
    site.stop()


@pytest.fixture(scope="session")
def ews_tls_site() -> Iterator[RunningSite]:
    """One HTTPS site per xdist worker, certificate from a CA generated at start."""
    site = _start(tls=True)
    yield site
    site.stop()


def _serve(site: RunningSite) -> Iterator[EwsServer]:
    site.journal.clear()
    site.faults.clear()
    server = EwsServer(site, apply_seed(site.store, default_seed()))
    yield server
    folder = schema_dir()
    if folder is None:
        return
    schema = load_schema(str(folder))
    for entry in site.journal.entries(service="ews"):
        problems = response_errors(entry.body or b"", schema)
        if problems:
            pytest.fail(
                f"{entry.operation} response does not validate against the 2007 SP1 schema:\n"
                + "\n".join(problems[:10]),
                pytrace=False,
            )


@pytest.fixture
def ews(ews_site: RunningSite) -> Iterator[EwsServer]:
    """The plain-HTTP site, reset to the default seed; responses schema-checked after."""
    yield from _serve(ews_site)


@pytest.fixture
def ews_tls(ews_tls_site: RunningSite) -> Iterator[EwsServer]:
    """The HTTPS site, reset to the default seed; responses schema-checked after."""
    yield from _serve(ews_tls_site)
