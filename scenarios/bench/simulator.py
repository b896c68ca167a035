"""The simulator side of ``harness bench``: one process serving one partition.

``serve(connection, spec)`` runs in a process of its own: it seeds a store with its
partition's mailboxes (timed), serves it on the HTTPS site and the PBX's API, tells
the driver where, then answers the driver's requests over the pipe until "stop":

- ``("stats",)``: CPU seconds, RSS, connections the site accepted so far;
- ``("probes", [SeedAppointment, ...])``: add the real-time run's probe appointments;
- ``("journal", [extension, ...])``: the PBX journal entries of those users.

With ``floor`` set the site's server answers every request with one fixed answer (a
real FindItem or SEARCH answer of a seeded mailbox, captured first): the cost of the
HTTP serving alone, against which the simulator is measured.
"""

from __future__ import annotations

import io
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

from scenarios.bench import population
from scenarios.bench.figures import rss_bytes
from simulators.exchange.seed import add_appointment, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.pbx import Pbx, User
from simulators.pbx.server import PbxServer
from simulators.site import RunningSite, start_site


def _accepted(server: Any) -> int:
    """Connections ``server`` (a ``WsgiServer``) accepted so far."""
    return int(server.connections_accepted)


Request = tuple[str, str, bytes, dict[str, str]]


def _answer(site: RunningSite, request: Request) -> tuple[str, list[Any], bytes]:
    """``site``'s answer to one request, called in-process."""
    method, path, body, headers = request
    headers = dict(headers)
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": str(site.port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": headers.pop("Content-Type", ""),
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    status: list[Any] = []
    chunks = site.dispatcher(environ, lambda s, h, e=None: status.extend((s, h)))
    return status[0], status[1], b"".join(chunks)


def _fixed_answers(site: RunningSite, requests: list[Request]) -> tuple[Any, int]:
    """A WSGI app answering each method with ``site``'s answer to that method's request."""
    answers = {request[0]: _answer(site, request) for request in requests}

    def fixed(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        status, headers, body = answers[environ["REQUEST_METHOD"]]
        start_response(status, headers)
        return [body]

    return fixed, max(len(a[2]) for a in answers.values())


def serve(connection: Any, spec: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.ERROR)  # failures are counted and shown by the driver
    users = population.partition(spec["size"], spec["part"], spec["parts"])
    rss_start = rss_bytes()
    began = time.perf_counter()
    cpu_began = time.process_time()
    store = ExchangeStore(domain=population.DOMAIN)
    apply_seed(store, population.seed(users, datetime.now(UTC).date()))
    seeding = time.perf_counter() - began
    seeding_cpu = time.process_time() - cpu_began
    rss_seeded = rss_bytes()
    site = start_site(store, tls=True, threads=spec.get("threads", 16))
    pbx = Pbx(timezone="UTC")
    for u in users:
        pbx.add_user(User(extension=u.extension, name=u.name, email=u.email))
    pbx_server = PbxServer(pbx).start()
    answer_bytes = 0
    if spec.get("floor"):
        app, answer_bytes = _fixed_answers(site, spec["floor"])
        assert site._server is not None
        site._server.app = app  # the same server, the app replaced
    connection.send(
        {
            "ews": site.ews_url,
            "webdav": site.webdav_url,
            "pbx": pbx_server.url,
            "ca": site.ca_cert_pem,
            "mailboxes": len(users),
            "seeding_s": seeding,
            "seeding_cpu_s": seeding_cpu,
            "rss_start": rss_start,
            "rss_seeded": rss_seeded,
            "floor_answer_bytes": answer_bytes,
            "pid": os.getpid(),
        }
    )
    try:
        while True:
            request = connection.recv()
            if request[0] == "stop":
                break
            if request[0] == "stats":
                connection.send(
                    {
                        "cpu": time.process_time(),
                        "rss": rss_bytes(),
                        "accepted": _accepted(site._server),
                        "pbx_accepted": _accepted(pbx_server._server),
                    }
                )
            elif request[0] == "probes":
                for appointment in request[1]:
                    add_appointment(store, appointment)
                connection.send(len(request[1]))
            elif request[0] == "journal":
                wanted = set(request[1])
                connection.send(
                    [
                        (e.user, e.at, e.new_status.value, e.set_by)
                        for e in pbx.journal()
                        if e.user in wanted
                    ]
                )
            else:
                connection.send(ValueError(f"unknown request {request[0]!r}"))
    finally:
        pbx_server.stop()
        site.stop()


__all__ = ["serve"]
