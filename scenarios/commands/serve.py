"""``harness serve``: the simulators in real time, for engineers and support.

One HTTPS site like one IIS site (EWS at /EWS/Exchange.asmx, any case) with a
certificate from one CA (``scenarios.commands.servestate``), the SMTP sink (STARTTLS
on ``smtp``, implicit TLS on ``smtps``; its inspection API under ``mail``), the PBX
simulator's JSON API, and the control API. ``--seed`` takes a scenario or seed file
(its users become PBX users and mailboxes); without it a small demo organisation is
served. When everything listens, ``--ready-file`` receives the endpoints as JSON, and
an engine configuration pointing at them (mode 0600: it holds passwords) is written
beside the CA.

Every port can be pinned (``ServeOptions``); with ``--state-dir`` the CA, the keys,
the ports, the token, the PBX's presence (``scenarios.commands.pbxstate``) and the
mailboxes (``scenarios.commands.storestate``) are kept, so serving again looks like
a restarted Exchange: same addresses, same certificates, the same ready file and
engine configuration, the same appointments, a PBX that still shows what the engine
set, and a running engine reconnects by itself. A port that is taken is a clear error
(``ServeError``, exit 2). Bound off loopback, the PBX and control APIs (and the
site's read-only live view) need the token (``simulators.bearer``).

Everything served reads one ``ControlledClock`` (the control API sets it), and
the live view (``scenarios.commands.liveview``) is at the control server's root
and at ``/_harness/`` on the site.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from integration.config import load_config
from scenarios.commands.control import ControlApi
from scenarios.commands.directory import ExchangeDirectory
from scenarios.commands.liveview import HARNESS_PREFIX, LiveView
from scenarios.commands.pbxstate import PbxKeeper
from scenarios.commands.pbxstate import restore as restore_pbx
from scenarios.commands.served import Loaded, Served, pbx_journaled
from scenarios.commands.servestate import ServeState, StateError, write_private
from scenarios.commands.storestate import StoreKeeper, retold, seed_identity
from scenarios.commands.storestate import restore as restore_store
from scenarios.format.loader import load_scenario
from scenarios.format.model import User
from scenarios.run.runner import pbx_for
from simulators.bearer import gated, is_loopback
from simulators.clock import Clock, ControlledClock
from simulators.exchange.ews.middleware import RequestJournal
from simulators.exchange.history import ChangeHistory
from simulators.exchange.seed import Seed, SeedMailbox, ServiceAccount, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.faults.catalogue import HTTP_SERVICES
from simulators.faults.gates import Port, RefusalGates
from simulators.pbx import Pbx
from simulators.pbx.server import PbxServer
from simulators.site import site_names, start_site
from simulators.smtp import SinkSettings, SmtpSink
from simulators.smtp.settings import ListenerSpec
from simulators.smtp.tls import certificate_names
from simulators.wsgi_server import WsgiServer

log = logging.getLogger(__name__)
T = TypeVar("T")
SERVICES = ("site", "smtp", "smtps", "pbx", "control")  # what listens, each on its port


class ServeError(Exception):
    """``harness serve`` cannot start as asked (a port taken, a state folder unusable)."""


@dataclass(frozen=True)
class ServeOptions:
    """Where ``harness serve`` listens and what it keeps. A port None is the one of
    the last start with the same ``state_dir``, else a free one; 0 always a free one."""

    host: str = "127.0.0.1"
    port: int | None = None  # the HTTPS site (EWS, WebDAV, OWA)
    smtp_port: int | None = None
    smtps_port: int | None = None
    pbx_port: int | None = None
    control_port: int | None = None
    state_dir: str | None = None
    token: str | None = None  # the PBX and control APIs' token; required off loopback

    def asked(self, service: str) -> int | None:
        return {
            "site": self.port,
            "smtp": self.smtp_port,
            "smtps": self.smtps_port,
            "pbx": self.pbx_port,
            "control": self.control_port,
        }[service]


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
    pbx_token: str | None = None,
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
            *([f"token = {q(pbx_token)}"] if pbx_token else []),
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


def _taken(host: str, port: int) -> bool:
    """Whether something else listens on ``host:port`` now (to name it in an error)."""
    if port == 0:
        return False
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


FLAGS = {
    "site": "--port",
    "smtp": "--smtp-port",
    "smtps": "--smtps-port",
    "pbx": "--pbx-port",
    "control": "--control-port",
}


def _listening(what: str, host: str, ports: dict[str, int], start: Callable[[], T]) -> T:
    """``start()``, with a bind failure told as the address that could not be had
    and the option that sets it."""
    try:
        return start()
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        busy = {n: p for n, p in ports.items() if _taken(host, p)} or ports
        shown = f"[{host}]" if ":" in host else host
        where = ", ".join(f"{shown}:{port} ({FLAGS[name]})" for name, port in busy.items())
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ServeError(f"cannot listen for {what} on {where}: {reason}") from None


def start_serving(
    loaded: Loaded,
    host: str = "127.0.0.1",
    port: int = 0,
    options: ServeOptions | None = None,
) -> tuple[Served, dict[str, str], Callable[[], None]]:
    """Start every simulator, the control server and the live view for ``loaded``;
    returns the served state, the ready-file keys and the function that stops it all.
    ``options`` (else ``host`` and ``port``) say where; raises ``ServeError``."""
    options = options or ServeOptions(host=host, port=port)
    host = options.host
    try:
        state = ServeState(options.state_dir)
    except StateError as exc:
        raise ServeError(str(exc)) from None
    with contextlib.ExitStack() as undo:  # a failed start leaves nothing listening
        undo.callback(state.close)
        try:
            served, ready, stop_parts = _start_parts(loaded, options, state, undo)
        except StateError as exc:
            raise ServeError(str(exc)) from None
        undo.pop_all()

    def stop() -> None:
        stop_parts()
        state.close()

    return served, ready, stop


def _start_parts(
    loaded: Loaded, options: ServeOptions, state: ServeState, undo: contextlib.ExitStack
) -> tuple[Served, dict[str, str], Callable[[], None]]:
    seed, users, zone, host = loaded.seed, loaded.users, loaded.zone, options.host
    ports = {name: state.port(name, options.asked(name)) for name in SERVICES}
    token = state.token(options.token, needed=not is_loopback(host))
    gate = gated(token)
    clock = ControlledClock()  # what every served simulator reads (the control API sets it)
    store = ExchangeStore(Clock(skew=loaded.skew, base=clock.now))
    history = ChangeHistory().attach(store)
    apply_seed(store, seed)
    seed_id = seed_identity(loaded.source) if state.kept else ""
    # The mailboxes as they were at the last stop, when the seed is the same.
    if state.kept and restore_store(store, state.store_path, seed_id):
        retold(history, store)
    ca = state.ca()
    chain, key = state.server_certificate("site", site_names(host))
    site = _listening(
        "the HTTPS site",
        host,
        {"site": ports["site"]},
        lambda: start_site(
            store,
            host=host,
            port=ports["site"],
            tls=True,
            clock=clock.now,
            webdav_auth=seed.webdav_auth,
            certificate=(str(state.ca_path), chain, key),
        ),
    )
    undo.callback(site.stop)
    pbx = pbx_for(users, zone, clock.now)
    if state.kept:  # the PBX comes back as it was, like one an Exchange restart leaves alone
        restore_pbx(pbx, state.pbx_path)
    pbx_journal = RequestJournal(clock=clock.now)
    journaled = pbx_journaled(pbx_journal, lambda: pbx_server.pbx, site.faults)
    pbx_server = PbxServer(
        pbx, host=host, port=ports["pbx"], middleware=lambda app: journaled(gate(app))
    )
    _listening("the PBX API", host, {"pbx": ports["pbx"]}, pbx_server.start)
    undo.callback(pbx_server.stop)
    listeners = (
        ListenerSpec("smtp", "starttls", port=ports["smtp"]),
        ListenerSpec("smtps", "tls", port=ports["smtps"]),
    )
    sink = SmtpSink(
        store, SinkSettings(host=host, allow_relay=seed.allow_relay, listeners=listeners, ca=ca)
    )
    sink.settings.certificate = state.server_certificate(
        "smtp", certificate_names(host, sink.server_name)
    )
    smtp_ports = {"smtp": ports["smtp"], "smtps": ports["smtps"]}
    _listening("SMTP", host, smtp_ports, sink.start)
    undo.callback(sink.stop)
    sink.faults = site.faults  # one set of faults in force for every served service
    gates = RefusalGates(
        site.faults,
        [
            Port(HTTP_SERVICES, site.go_down, site.come_back),
            Port(("smtp",), sink.go_down, sink.come_back),
            Port(("pbx",), pbx_server.go_down, pbx_server.come_back),
        ],
    ).start()
    undo.callback(gates.stop)
    control = WsgiServer(_not_yet, host, ports["control"], threads=4, name="control")
    _listening("the control API", host, {"control": ports["control"]}, control.start)
    undo.callback(control.stop)
    state.remember_ports(
        {
            "site": site.port,
            "smtp": sink.port("smtp"),
            "smtps": sink.port("smtps"),
            "pbx": pbx_server.address[1],
            "control": control.bind_addr[1],
        }
    )
    shown = f"[{host}]" if ":" in host else host
    root = f"http://{shown}:{control.bind_addr[1]}/"
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
    keepers: list[PbxKeeper | StoreKeeper] = []
    if state.kept:
        keepers.append(PbxKeeper(state.pbx_path, lambda: pbx_server.pbx))
        keepers.append(
            StoreKeeper(state.store_path, store, seed_id, lambda: served.loaded is loaded)
        )
    for keeper in keepers:
        keeper.start()
        undo.callback(keeper.stop)
    mail_api = sink.wsgi_app()
    control_api = ControlApi(served)
    control.app = gate(LiveView(control_api, mail_api))
    site.mount_internal(HARNESS_PREFIX, gate(LiveView(control_api, mail_api, read_only=True)))
    # One trust file for everything served: the one CA issued the site's and the sink's.
    ca_bundle = state.ca_path
    config_path = state.folder / "engine.toml"
    directories: list[ExchangeDirectory] = []

    def on_load(current: Loaded, new_pbx: Pbx) -> None:
        """The engine configuration for this seed; the PBX's phone book searches
        Exchange's public folders through the engine, as the seed's service account."""
        write_private(  # it holds the service account's password
            config_path,
            engine_config_text(
                site.ews_url,
                current.seed.service_account,
                str(ca_bundle),
                pbx_server.url,
                current.polling,
                sink.endpoints["smtp"],
                token,
            ),
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
        **({"token": token} if token else {}),
    }

    def close_directories() -> None:
        for directory in directories:
            directory.close()

    undo.callback(close_directories)

    def stop() -> None:
        gates.stop()
        control.stop()
        close_directories()
        sink.stop()
        pbx_server.stop()
        site.stop()
        for keeper in keepers:
            keeper.stop()  # after the servers: nothing changes what they keep any more

    return served, ready, stop


def serve(
    seed_path: str | None,
    host: str = "127.0.0.1",
    port: int | None = None,
    ready_file: str | None = None,
    options: ServeOptions | None = None,
) -> int:
    """``harness serve`` until SIGINT or SIGTERM; 0, or 2 when it cannot start."""
    loaded = Loaded.from_scenario(load_scenario(seed_path), seed_path) if seed_path else _demo()
    try:
        _served, ready, stop_serving = start_serving(
            loaded, options=options or ServeOptions(host=host, port=port)
        )
    except ServeError as exc:
        print(f"harness serve: {exc}", file=sys.stderr)
        return 2
    if ready_file:
        try:
            # Replaced in one step (readers never see half a file); owner-readable only,
            # like engine.toml: it may name the token.
            write_private(Path(ready_file), json.dumps(ready, indent=2))
        except OSError as exc:
            stop_serving()
            print(
                f"harness serve: --ready-file {ready_file}: {exc.strerror or exc}", file=sys.stderr
            )
            return 2
    print(json.dumps(ready, indent=2), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        stop_serving()
    return 0
