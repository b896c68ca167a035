"""``harness engine``: the sync engine as a long-running service.

Builds the calendar source and the PBX gateway from the configuration and polls
in real time until stopped. The source is EWS or WebDAV, as ``[exchange] variant`` says.
With an [smtp] section it also mails voicemails and works off the mail queue.
"""

from __future__ import annotations

import asyncio
import logging

from integration.config import EngineConfig
from integration.mail.service import run_mail
from integration.pbx import HttpPbxGateway
from integration.scheduler import Engine, PollSettings
from integration.shard import Shard
from integration.sources.ews import EwsCalendarSource
from integration.sources.webdav import WebDavCalendarSource

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """The configuration asks for something this build cannot do."""


def build_source(config: EngineConfig) -> EwsCalendarSource | WebDavCalendarSource:
    exchange = config.exchange
    if exchange.variant == "webdav":
        return WebDavCalendarSource.from_config(exchange, config.polling)
    if exchange.variant != "ews":
        raise ServiceError(f"[exchange] variant: {exchange.variant!r} is not available yet")
    return EwsCalendarSource(
        exchange.server_url,
        exchange.username,
        exchange.password,
        verify=exchange.verify_tls,
        ca_file=str(exchange.ca_file) if exchange.ca_file else None,
        concurrency=config.polling.concurrency,
        timeout=config.polling.request_timeout.total_seconds(),
    )


async def run_engine(
    config: EngineConfig, stop: asyncio.Event, *, shard: Shard | None = None
) -> None:
    if not config.exchange.enabled:
        log.warning("[exchange] enabled = false: calendar integration is off, nothing to poll")
        await stop.wait()
        return
    if config.pbx is None:
        raise ServiceError("[pbx] url: needed to run the engine on its own")
    source = build_source(config)
    gateway = HttpPbxGateway(config.pbx.url)
    polling = config.polling
    engine = Engine(
        source,
        gateway,
        PollSettings(
            interval=polling.interval, lead_time=polling.lead_time, catch_up=polling.catch_up
        ),
        shard=shard,
    )
    log.info(
        "polling %s every %s%s",
        config.exchange.server_url,
        polling.interval,
        f" (shard {shard}: the users whose mailbox hashes to it)" if shard else "",
    )
    try:
        # Mail (voicemail to e-mail, the durable queue) runs beside the polls.
        await asyncio.gather(engine.run(stop), run_mail(config, stop))
    finally:
        await source.aclose()
        await gateway.aclose()
