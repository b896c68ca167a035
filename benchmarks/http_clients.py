"""Benchmark: the engine's HTTP client side by side with the alternatives, by CPU.

A server process (the simulators' ``WsgiServer``, HTTPS, a fixed 2.6 KB answer) and,
in this process, one client at a time sending the same POST with 50 requests in
flight over a keep-alive pool of 50: httpx with its own transport (httpcore), httpx
with the engine's ``PoolTransport``, and aiohttp when it is installed (it is not a
dependency: ``pip install aiohttp`` to compare). Prints each client's CPU per request
(this process's counters) and the server's, with the machine load. Not a test.

    .venv/bin/python benchmarks/http_clients.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import ssl
import tempfile
import time
from pathlib import Path
from typing import Any

ANSWER = b"<x>" + b"y" * 2600 + b"</x>"
REQUEST = b"<q>" + b"z" * 900 + b"</q>"


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(ANSWER)))])
    return [ANSWER]


def _serve(folder: str, connection: Any) -> None:
    import trustme

    from simulators.wsgi_server import WsgiServer

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(Path(folder, "ca.pem")))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = WsgiServer(_app, ssl_context=context).start()
    connection.send(server.bind_addr[1])
    while connection.recv() == "cpu":
        connection.send(time.process_time())
    server.stop()


async def _httpx(url: str, ca: str, count: int, pool: bool) -> None:
    import httpx

    from integration.transport import PoolTransport

    context = ssl.create_default_context(cafile=ca)
    transport: httpx.AsyncBaseTransport = (
        PoolTransport(verify=context, max_connections=50)
        if pool
        else httpx.AsyncHTTPTransport(
            verify=context, limits=httpx.Limits(max_connections=50, max_keepalive_connections=50)
        )
    )
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        slots = asyncio.Semaphore(50)

        async def one() -> None:
            async with slots:
                response = await client.post(url, content=REQUEST)
                assert response.status_code == 200 and response.content == ANSWER

        await asyncio.gather(*(one() for _ in range(count)))


async def _aiohttp(url: str, ca: str, count: int) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=50, ssl=ssl.create_default_context(cafile=ca))
    async with aiohttp.ClientSession(connector=connector) as session:
        slots = asyncio.Semaphore(50)

        async def one() -> None:
            async with slots, session.post(url, data=REQUEST) as response:
                assert response.status == 200 and await response.read() == ANSWER

        await asyncio.gather(*(one() for _ in range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    clients: dict[str, Any] = {
        "httpx + httpcore (httpx's own)": lambda u, c, n: _httpx(u, c, n, pool=False),
        "httpx + PoolTransport (engine)": lambda u, c, n: _httpx(u, c, n, pool=True),
    }
    try:
        import aiohttp  # noqa: F401

        clients["aiohttp"] = _aiohttp
    except ImportError:
        print("aiohttp not installed: not compared")
    with tempfile.TemporaryDirectory() as folder:
        context = mp.get_context("spawn")
        ours, theirs = context.Pipe()
        server = context.Process(target=_serve, args=(folder, theirs), daemon=True)
        server.start()
        url = f"https://127.0.0.1:{ours.recv()}/x"
        ca = str(Path(folder, "ca.pem"))
        for name, client in clients.items():
            asyncio.run(client(url, ca, 200))  # connections and caches warm
            ours.send("cpu")
            server_cpu = ours.recv()
            cpu, began = time.process_time(), time.perf_counter()
            asyncio.run(client(url, ca, args.requests))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - began
            ours.send("cpu")
            server_cpu = ours.recv() - server_cpu
            print(
                f"{name:32} client {cpu / args.requests * 1000:.3f} ms CPU/request,"
                f" server {server_cpu / args.requests * 1000:.3f} ms,"
                f" {args.requests / wall:.0f} requests/s  [load {os.getloadavg()[0]:.2f}]",
                flush=True,
            )
        ours.send("stop")
        server.join(timeout=10)


if __name__ == "__main__":
    main()
