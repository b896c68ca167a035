"""The real engine service (``integration.service.run_engine``) with a bad mail queue file:
the calendar side keeps polling, the mail side starts a fresh queue, and a queue that
was emptied does not mail a voicemail a second time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integration.config import EngineConfig, ExchangeConfig, PbxConfig, PollingConfig
from integration.mail.queue import MailQueue
from integration.rules import ENGINE_SET_BY
from integration.service import run_engine
from simulators.exchange.model import ALL_MAILBOXES
from simulators.pbx import Pbx, User
from simulators.pbx.server import PbxServer
from simulators.site import RunningSite, start_site
from tests.integration.mail.conftest import PASSWORD, SERVICE, USER1, MailRig


@pytest.fixture
def site(rig: MailRig) -> Iterator[RunningSite]:
    account = rig.store.accounts[SERVICE.lower()]
    account.impersonation_on_server = account.may_impersonate = True
    account.full_access = {ALL_MAILBOXES}
    calendar = rig.store.distinguished_folder("calendar", USER1)
    now = datetime.now(UTC)
    rig.store.create_calendar_item(  # created well before it began (R4), caught up (R3)
        calendar,
        subject="Budget meeting",
        start=now - timedelta(minutes=5),
        end=now + timedelta(hours=2),
        created=now - timedelta(days=1),
    )
    with start_site(rig.store) as running:
        yield running


def _config(rig: MailRig, site: RunningSite, pbx_url: str, queue: Path) -> EngineConfig:
    exchange = ExchangeConfig(True, "ews", site.ews_url, SERVICE, PASSWORD)
    polling = PollingConfig(interval=timedelta(seconds=1), catch_up=True)
    smtp = replace(rig.config(), queue_path=queue)
    return EngineConfig(exchange, polling, pbx=PbxConfig(pbx_url), smtp=smtp)


async def _until(condition: Callable[[], object], seconds: float = 15.0) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return False


def _pbx() -> Pbx:
    pbx = Pbx(timezone="Europe/Berlin")
    pbx.add_user(User("100", "User Test", USER1))
    return pbx


def test_a_corrupt_queue_file_does_not_stop_calendar_polling(
    rig: MailRig, site: RunningSite, tmp_path: Path
) -> None:
    queue_path = tmp_path / "mail-queue.sqlite3"
    queue_path.write_bytes(b"\x00garbage, not a database\n" * 200)
    pbx = _pbx()
    with PbxServer(pbx) as server:

        async def main() -> tuple[bool, bool, int]:
            stop = asyncio.Event()
            engine = asyncio.create_task(
                run_engine(_config(rig, site, server.url, queue_path), stop)
            )
            busy = await _until(lambda: pbx.presence("100").set_by == ENGINE_SET_BY)
            polls_before = len(site.journal.entries(service="ews"))
            pbx.call("100", "+4930555", message_seconds=1)
            mailed = await _until(lambda: rig.inbox(USER1))
            # Polling goes on after the mail side recovered.
            more = await _until(lambda: len(site.journal.entries(service="ews")) > polls_before + 2)
            stop.set()
            await asyncio.wait_for(engine, 15)
            return busy, mailed and more, len(rig.inbox(USER1))

        busy, mailed, count = asyncio.run(main())
    assert busy and mailed and count == 1
    [aside] = tmp_path.glob("mail-queue.sqlite3.corrupt-*")
    assert aside.read_bytes().startswith(b"\x00garbage")
    with MailQueue(queue_path) as queue:
        assert queue.counts()["sent"] == 1


def test_an_emptied_queue_file_does_not_mail_voicemails_again(
    rig: MailRig, site: RunningSite, tmp_path: Path
) -> None:
    queue_path = tmp_path / "mail-queue.sqlite3"
    pbx = _pbx()
    with PbxServer(pbx) as server:
        config = _config(rig, site, server.url, queue_path)

        async def run_until(condition: Callable[[], object], seconds: float = 15.0) -> bool:
            stop = asyncio.Event()
            engine = asyncio.create_task(run_engine(config, stop))
            held = await _until(condition, seconds)
            stop.set()
            await asyncio.wait_for(engine, 15)
            return held

        assert asyncio.run(run_until(lambda: pbx.presence("100").set_by == ENGINE_SET_BY))
        pbx.call("100", "+4930555", message_seconds=1)
        assert asyncio.run(run_until(lambda: rig.inbox(USER1)))
        # The administrator empties the queue file (or it is replaced by a fresh one).
        queue_path.write_bytes(b"")
        polls = len(site.journal.entries(service="ews"))
        # The engine runs until it polled Exchange and read the PBX's voicemails again.
        assert asyncio.run(
            run_until(lambda: len(site.journal.entries(service="ews")) > polls + 3, 20)
        )
    assert len(rig.inbox(USER1)) == 1
    with MailQueue(queue_path) as queue:
        assert queue.counts() == {"pending": 0, "sent": 0, "failed": 0}
