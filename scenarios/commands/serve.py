"""``harness serve``: the simulators in real time, for engineers and support.

One HTTPS site like one IIS site (EWS at /EWS/Exchange.asmx, any case) with a
certificate from a CA generated at start, the SMTP sink (STARTTLS on ``smtp``,
implicit TLS on ``smtps``; its inspection API under ``mail``), the PBX
simulator's JSON API, and the control API. ``--seed`` takes a scenario or seed file (its users become PBX
users and mailboxes); without it a small demo organisation is served. When
everything listens, ``--ready-file`` receives the endpoints as JSON, and an
engine configuration pointing at them is written beside the CA.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

from cheroot import wsgi

from integration.config import load_config
from scenarios.commands.control import ControlApi
from scenarios.commands.directory import ExchangeDirectory
from scenarios.format.loader import load_scenario
from scenarios.format.model import Scenario, User
from scenarios.run.runner import pbx_for
from simulators.clock import Clock
from simulators.exchange.seed import Seed, SeedMailbox, ServiceAccount, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.http_gateway import guard
from simulators.pbx.server import PbxServer
from simulators.site import start_site
from simulators.smtp import SinkSettings, SmtpSink

log = logging.getLogger(__name__)

DEMO_USERS = (
    User(extension="100", name="Anna Berg", email="user1@domain.net", auto_back_to_office=True),
    User(extension="101", name="Bernd Krause", email="user2@domain.net", language="de"),
)


def _demo() -> tuple[Seed, tuple[User, ...], str, dict[str, Any]]:
    seed = Seed(
        service_account=ServiceAccount(),
        mailboxes=[SeedMailbox(u.email or "", u.name, u.language) for u in DEMO_USERS],
    )
    return seed, DEMO_USERS, "UTC", {"interval": "30s", "lead_time": "3m", "catch_up": False}


def _from_scenario(scenario: Scenario) -> tuple[Seed, tuple[User, ...], str, dict[str, Any]]:
    engine = scenario.engine
    polling = {
        "interval": f"{int(engine.poll_interval.total_seconds())}s",
        "lead_time": f"{int(engine.lead_time.total_seconds())}s",
        "catch_up": engine.catch_up,
    }
    return scenario.seed, scenario.users, str(scenario.timezone), polling


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


def serve(seed_path: str | None, host: str, port: int, ready_file: str | None) -> int:
    if seed_path:
        seed, users, zone, polling = _from_scenario(load_scenario(seed_path))
    else:
        seed, users, zone, polling = _demo()
    store = ExchangeStore(Clock())
    apply_seed(store, seed)
    site = start_site(store, host=host, port=port, tls=True)
    pbx = pbx_for(users, zone)
    pbx_server = PbxServer(pbx, host=host).start()
    sink = SmtpSink(store, SinkSettings(host=host, allow_relay=seed.allow_relay)).start()
    services = {"ews": site.ews_url, "pbx": pbx_server.url, **sink.endpoints}
    mail_api = sink.wsgi_app()
    control_api = ControlApi(site, services)

    def control_app(environ: dict[str, Any], start_response: Any) -> Any:
        # /api/mail/... inspects the SMTP sink; everything else is /control/.
        if environ.get("PATH_INFO", "").startswith("/api/mail/"):
            return mail_api(environ, start_response)
        return control_api(environ, start_response)

    control = guard(wsgi.Server((host, 0), control_app, numthreads=4))
    control.prepare()
    threading.Thread(target=control.serve, name="control", daemon=True).start()
    control_url = f"http://{host}:{control.bind_addr[1]}/control/"
    workdir = Path(tempfile.mkdtemp(prefix="harness-serve-"))
    # One trust file for everything served: the site's CA and the mail sink's.
    ca_bundle = workdir / "ca.pem"
    ca_bundle.write_bytes(
        b"".join(Path(p).read_bytes() for p in (site.ca_cert_pem, sink.ca_cert_pem) if p)
    )
    config_path = workdir / "engine.toml"
    config_path.write_text(
        engine_config_text(
            site.ews_url,
            seed.service_account,
            str(ca_bundle),
            pbx_server.url,
            polling,
            sink.endpoints["smtp"],
        ),
        encoding="utf-8",
    )
    # The PBX's phone book searches Exchange's public folders through the engine.
    directory = ExchangeDirectory(load_config(config_path).exchange)
    pbx.external_directory = directory
    ready = {
        "ews": site.ews_url,
        "pbx": pbx_server.url,
        "smtp": sink.endpoints["smtp"],
        "smtps": sink.endpoints["smtps"],
        "control": control_url,
        "mail": f"http://{host}:{control.bind_addr[1]}/api/mail/",
        "ca_cert": str(ca_bundle),
        "engine_config": str(config_path),
    }
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
        control.stop()
        directory.close()
        sink.stop()
        pbx_server.stop()
        site.stop()
    return 0
