"""``harness serve``: the simulators in real time, for engineers and support.

One HTTPS site like one IIS site (EWS at /EWS/Exchange.asmx, any case) with a
certificate from a CA generated at start, the SMTP sink (STARTTLS on ``smtp``,
implicit TLS on ``smtps``; its inspection API under ``mail``), the PBX
simulator's JSON API, and the control API. ``--seed`` takes a scenario or seed file (its users become PBX
users and mailboxes); without it a small demo organisation is served. When
everything listens, ``--ready-file`` receives the endpoints as JSON, and an
engine configuration pointing at them is written beside the CA.

Everything served reads one ``ControlledClock`` (the control API sets it), and
the live view (``scenarios.commands.liveview``) is at the control server's root
and at ``/_harness/`` on the site.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from integration.config import load_config
from scenarios.commands.control import ControlApi
from scenarios.commands.directory import ExchangeDirectory
from scenarios.commands.liveview import HARNESS_PREFIX, LiveView
from scenarios.commands.served import Loaded, Served, pbx_journaled
from scenarios.format.loader import load_scenario
from scenarios.format.model import User
from scenarios.run.runner import pbx_for
from simulators.clock import Clock, ControlledClock
from simulators.exchange.ews.middleware import RequestJournal
from simulators.exchange.history import ChangeHistory
from simulators.exchange.seed import Seed, SeedMailbox, ServiceAccount, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.faults.catalogue import HTTP_SERVICES
from simulators.faults.gates import Port, RefusalGates
from simulators.pbx import Pbx
from simulators.pbx.server import PbxServer
from simulators.site import start_site
from simulators.smtp import SinkSettings, SmtpSink
from simulators.wsgi_server import WsgiServer

log = logging.getLogger(__name__)

DEMO_USERS = (
    User(extension="100", name="Anna Berg", email="user1@domain.net", auto_back_to_office=True),
    User(extension="101", name="Bernd Krause", email="user2@domain.net", language="de"),
)


def _demo() -> Loaded:
    seed = Seed(
        service_account=ServiceAccount(),
        mailboxes=[SeedMailbox(u.email or "", u.name, u.language) for u in DEMO_USERS],
    )
    polling = {"interval": "30s", "lead_time": "3m", "catch_up": False}
    return Loaded(seed, DEMO_USERS, "UTC", polling, name="demo organisation")


def engine_config_text(
    ews_url: str,
    svc: ServiceAccount,
    ca_file: str,
    pbx_url: str,
    polling: dict[str, Any],
    smtp: str,
) -> str:
    """The engine's TOML for the served simulators (quoted with json: TOML strings
    accept JSON's escapes)."""
    q = json.dumps
    return "\n".join(
        [
            "# Written by `harness serve`: the engine against the served simulators.",
            "[exchange]",
            "enabled = true",
            'variant = "ews"',
            f"server_url = {q(ews_url)}",
            f"username = {q(svc.user)}",
            f"password = {q(svc.password)}",
            f"ca_file = {q(ca_file)}",
            "",
            "[polling]",
            f"interval = {q(polling['interval'])}",
            f"lead_time = {q(polling['lead_time'])}",
            f"catch_up = {'true' if polling['catch_up'] else 'false'}",
            "",
            "[pbx]",
            f"url = {q(pbx_url)}",
            "",
            "[smtp]",
            f"server = {q(smtp.rsplit(':', 1)[0])}",
            f"port = {smtp.rsplit(':', 1)[1]}",
            'security = "starttls"',
            f"username = {q(svc.user)}",
            f"password = {q(svc.password)}",
            f"sender = {q(svc.user)}",
            f"ca_file = {q(ca_file)}",
            "",
        ]
    )


def _not_yet(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The control server's app until the live view is built (a moment at start)."""
    body = b"starting"
    start_response("503 Service Unavailable", [("Content-Length", str(len(body)))])
    return [body]


def start_serving(
    loaded: Loaded, host: str = "127.0.0.1", port: int = 0
) -> tuple[Served, dict[str, str], Callable[[], None]]:
    """Start every simulator, the control server and the live view for ``loaded``;
    returns the served state, the ready-file keys and the function that stops it all."""
    seed, users, zone = loaded.seed, loaded.users, loaded.zone
    clock = ControlledClock()  # what every served simulator reads (the control API sets it)
    store = ExchangeStore(Clock(skew=loaded.skew, base=clock.now))
    history = ChangeHistory().attach(store)
    apply_seed(store, seed)
    site = start_site(
        store, host=host, port=port, tls=True, clock=clock.now, webdav_auth=seed.webdav_auth
    )
    pbx = pbx_for(users, zone, clock.now)
    pbx_journal = RequestJournal(clock=clock.now)
    pbx_server = PbxServer(
        pbx,
        host=host,
        middleware=pbx_journaled(pbx_journal, lambda: pbx_server.pbx, site.faults),
    ).start()
    sink = SmtpSink(store, SinkSettings(host=host, allow_relay=seed.allow_relay)).start()
    sink.faults = site.faults  # one set of faults in force for every served service
    gates = RefusalGates(
        site.faults,
        [
            Port(HTTP_SERVICES, site.go_down, site.come_back),
            Port(("smtp",), sink.go_down, sink.come_back),
            Port(("pbx",), pbx_server.go_down, pbx_server.come_back),
        ],
    ).start()
    control = WsgiServer(_not_yet, host, 0, threads=4, name="control").start()
    root = f"http://{host}:{control.bind_addr[1]}/"
    control_url = root + "control/"
    services = {
        "ews": site.ews_url,
        "webdav": site.webdav_url,
        "owa": site.owa_url,
        "pbx": pbx_server.url,
        **sink.endpoints,
        "control": control_url,
        "dashboard": root,
    }
    served = Served(clock, store, history, site, sink, pbx_server, pbx_journal, loaded, services)
    mail_api = sink.wsgi_app()
    control_api = ControlApi(served)
    control.app = LiveView(control_api, mail_api)
    site.mount_internal(HARNESS_PREFIX, LiveView(control_api, mail_api, read_only=True))
    workdir = Path(tempfile.mkdtemp(prefix="harness-serve-"))
    # One trust file for everything served: the site's CA and the mail sink's.
    ca_bundle = workdir / "ca.pem"
    ca_bundle.write_bytes(
        b"".join(Path(p).read_bytes() for p in (site.ca_cert_pem, sink.ca_cert_pem) if p)
    )
    config_path = workdir / "engine.toml"
    directories: list[ExchangeDirectory] = []

    def on_load(current: Loaded, new_pbx: Pbx) -> None:
        """The engine configuration for this seed; the PBX's phone book searches
        Exchange's public folders through the engine, as the seed's service account."""
        config_path.write_text(
            engine_config_text(
                site.ews_url,
                current.seed.service_account,
                str(ca_bundle),
                pbx_server.url,
                current.polling,
                sink.endpoints["smtp"],
            ),
            encoding="utf-8",
        )
        directories.append(ExchangeDirectory(load_config(config_path).exchange))
        new_pbx.external_directory = directories[-1]
        while len(directories) > 1:
            directories.pop(0).close()

    on_load(loaded, pbx)
    served.on_load = on_load
    ready = {
        "ews": site.ews_url,
        "webdav": site.webdav_url,
        "owa": site.owa_url,
        "pbx": pbx_server.url,
        "smtp": sink.endpoints["smtp"],
        "smtps": sink.endpoints["smtps"],
        "control": control_url,
        "mail": f"{root}api/mail/",
        "dashboard": root,
        "ca_cert": str(ca_bundle),
        "engine_config": str(config_path),
    }

    def stop() -> None:
        gates.stop()
        control.stop()
        for directory in directories:
            directory.close()
        sink.stop()
        pbx_server.stop()
        site.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    return served, ready, stop


def serve(seed_path: str | None, host: str, port: int, ready_file: str | None) -> int:
    loaded = Loaded.from_scenario(load_scenario(seed_path), seed_path) if seed_path else _demo()
    _served, ready, stop_serving = start_serving(loaded, host, port)
    if ready_file:
        tmp = f"{ready_file}.tmp"
        Path(tmp).write_text(json.dumps(ready, indent=2), encoding="utf-8")
        os.replace(tmp, ready_file)  # readers never see half a file
    print(json.dumps(ready, indent=2), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        stop_serving()
    return 0
