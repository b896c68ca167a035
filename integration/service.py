"""``harness engine``: the sync engine as a long-running service.

Builds the calendar source and the PBX gateway from the configuration and polls
in real time until stopped. The source is EWS or WebDAV, as ``[exchange] variant`` says.
With an [smtp] section it also mails voicemails and works off the mail queue; with
[health] it answers ``GET /health`` (``integration.health``).

``reload`` (SIGHUP in ``harness engine``) re-reads the configuration without a
restart: a file with problems is refused with its problems logged and the engine
goes on as it was; a good one replaces the settings between two polls. The users'
rule states are kept (what each appointment was first seen at, R4; who changed
presence, R8) unless the engine now reads another Exchange (``server_url``,
``variant`` or the account changed), where they mean nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from integration.config import ConfigError, EngineConfig
from integration.health import HealthServer
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


def poll_settings(config: EngineConfig) -> PollSettings:
    polling = config.polling
    return PollSettings(
        interval=polling.interval, lead_time=polling.lead_time, catch_up=polling.catch_up
    )


def _same_exchange(old: EngineConfig, new: EngineConfig) -> bool:
    a, b = old.exchange, new.exchange
    return (a.variant, a.server_url, a.username) == (b.variant, b.server_url, b.username)


def _describe(config: EngineConfig) -> str:
    return f"Exchange ({config.exchange.variant}) at {config.exchange.server_url}"


async def run_engine(
    config: EngineConfig,
    stop: asyncio.Event,
    *,
    shard: Shard | None = None,
    reload: asyncio.Event | None = None,
    load: Callable[[], EngineConfig] | None = None,
) -> None:
    """Poll (and mail) until ``stop``; re-read the configuration with ``load`` each
    time ``reload`` is set."""
    if not config.exchange.enabled:
        log.warning("[exchange] enabled = false: calendar integration is off, nothing to poll")
        await stop.wait()
        return
    if config.pbx is None:
        raise ServiceError("[pbx] url: needed to run the engine on its own")
    source = build_source(config)
    gateway = HttpPbxGateway(config.pbx.url, token=config.pbx.token)
    engine = Engine(source, gateway, poll_settings(config), shard=shard, service=_describe(config))
    health: HealthServer | None = None
    try:
        if config.health is not None:
            health = await HealthServer(
                lambda: engine.health(), config.health.host, config.health.port
            ).start()
            log.info("health at %s", health.url)
        while True:
            log.info(
                "polling %s every %s%s",
                config.exchange.server_url,
                config.polling.interval,
                f" (shard {shard}: the users whose mailbox hashes to it)" if shard else "",
            )
            turn = asyncio.Event()  # this configuration's run; set to end it
            # Mail (voicemail to e-mail, the durable queue) runs beside the polls.
            running = asyncio.gather(engine.run(turn), run_mail(config, turn))
            new = await _next_config(running, stop, reload, load)
            turn.set()
            await running
            if new is None:
                return
            if not new.exchange.enabled or new.pbx is None:
                log.error(
                    "reloaded configuration turns the integration off or has no [pbx] url: "
                    "restart the engine to apply it; going on as before"
                )
                continue
            if not _same_exchange(config, new) or new.polling != config.polling:
                await source.aclose()
                source = build_source(new)
            if new.pbx != config.pbx:
                await gateway.aclose()
                gateway = HttpPbxGateway(new.pbx.url, token=new.pbx.token)
            if _same_exchange(config, new):
                engine.source, engine.pbx = source, gateway
                engine.settings = poll_settings(new)
                engine.service = _describe(new)
            else:
                log.info("now reading another Exchange: every user's rule state starts afresh")
                engine = Engine(
                    source, gateway, poll_settings(new), shard=shard, service=_describe(new)
                )
            config = new
            log.info("configuration reloaded")
    finally:
        if health is not None:
            await health.aclose()
        await source.aclose()
        await gateway.aclose()


async def _next_config(
    running: asyncio.Future[Any],
    stop: asyncio.Event,
    reload: asyncio.Event | None,
    load: Callable[[], EngineConfig] | None,
) -> EngineConfig | None:
    """Wait for ``stop`` (None) or a ``reload`` whose file is good (the new config);
    a reload with problems is logged and waited past. Returns None at once if the
    ``running`` polls and mail end by themselves (a bug: the caller re-raises it)."""
    while True:
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
        if reload is not None and load is not None:
            waits.append(asyncio.ensure_future(reload.wait()))
        try:
            await asyncio.wait([*waits, running], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        if stop.is_set() or running.done():
            return None
        assert reload is not None and load is not None
        reload.clear()
        try:
            return load()
        except ConfigError as exc:
            log.error("reload refused, going on with the running configuration:")
            for problem in exc.problems:
                log.error("  %s", problem)
