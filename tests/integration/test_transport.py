"""The engine's connection pool (``PoolTransport``) under httpx, against raw servers on
real sockets: keep-alive reuse, the answer framings, the keep-alive race, timeouts,
refused connections, TLS trust and the connection limit."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable

import httpx
import pytest
import trustme

from integration.transport import PoolTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


def answer(body: bytes, *extra: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body),
        b"".join(e + b"\r\n" for e in extra),
        body,
    )


async def serve(handler: Handler, context: ssl.SSLContext | None = None) -> asyncio.Server:
    return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=context)


def port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


def test_sequential_requests_share_one_connection() -> None:
    async def main() -> None:
        seen: list[bytes] = []

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while not reader.at_eof():
                try:
                    seen.append(await read_request(reader))
                except asyncio.IncompleteReadError:
                    return
                writer.write(answer(b"hello"))

        server = await serve(handler)
        transport = PoolTransport(max_connections=5)
        async with httpx.AsyncClient(transport=transport) as client:
            for n in range(5):
                response = await client.post(
                    f"http://127.0.0.1:{port(server)}/p?n={n}", content=b"x"
                )
                assert response.status_code == 200 and response.text == "hello"
        assert transport.connections_opened == 1
        assert seen[2].startswith(b"POST /p?n=2 HTTP/1.1\r\n") and seen[2].endswith(b"\r\n\r\nx")
        server.close()

    asyncio.run(main())


def test_chunked_and_close_framed_answers_are_read_whole() -> None:
    async def main() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            request = await read_request(reader)
            if b" /chunked " in request:
                writer.write(
                    b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"
                )
                await writer.drain()
                await read_request(reader)  # the connection is kept for the next request
                writer.write(answer(b"again", b"Connection: close"))
                await writer.drain()
                writer.close()
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
                await writer.drain()
                writer.close()

        server = await serve(handler)
        transport = PoolTransport()
        base = f"http://127.0.0.1:{port(server)}"
        async with httpx.AsyncClient(transport=transport) as client:
            chunked = await client.get(base + "/chunked")
            assert chunked.status_code == 207 and chunked.reason_phrase == "Multi-Status"
            assert chunked.text == "hello, world"
            assert (await client.get(base + "/next")).text == "again"
            closed = await client.get(base + "/close")
            assert closed.text == "until the end"
        assert transport.connections_opened == 2
        server.close()

    asyncio.run(main())


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    async def main() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.write(answer(b"once"))
            await writer.drain()
            writer.close()  # keep-alive promised, then closed by the server

        server = await serve(handler)
        transport = PoolTransport()
        async with httpx.AsyncClient(transport=transport) as client:
            url = f"http://127.0.0.1:{port(server)}/"
            assert (await client.get(url)).text == "once"
            await asyncio.sleep(0.1)
            assert (await client.get(url)).text == "once"
        assert transport.connections_opened == 2
        server.close()

    asyncio.run(main())


def test_read_timeout_and_refused_connection_are_httpx_errors() -> None:
    async def main() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            # Answer nothing until the client gives up, then close: since 3.12.1
            # Server.wait_closed() waits for every connection to be closed.
            try:
                await asyncio.wait_for(reader.read(), 5)
            except TimeoutError:
                pass
            finally:
                writer.close()

        server = await serve(silent)
        async with httpx.AsyncClient(transport=PoolTransport(), timeout=0.3) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(f"http://127.0.0.1:{port(server)}/")
        free = port(server)
        server.close()
        await server.wait_closed()
        async with httpx.AsyncClient(transport=PoolTransport(), timeout=2) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{free}/")

    asyncio.run(main())


def test_server_disconnecting_mid_answer_is_a_protocol_error() -> None:
    async def main() -> None:
        async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
            await writer.drain()
            writer.close()

        server = await serve(cut)
        async with httpx.AsyncClient(transport=PoolTransport()) as client:
            with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
                await client.get(f"http://127.0.0.1:{port(server)}/")
        server.close()

    asyncio.run(main())


def test_tls_trust_from_a_ca_context_and_an_untrusted_certificate() -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)

    async def main() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            writer.write(answer(b"secure"))
            await writer.drain()

        server = await serve(handler, server_context)
        url = f"https://127.0.0.1:{port(server)}/"
        async with httpx.AsyncClient(transport=PoolTransport(verify=trusting)) as client:
            assert (await client.get(url)).text == "secure"
        async with httpx.AsyncClient(transport=PoolTransport(verify=True)) as client:
            with pytest.raises(httpx.ConnectError) as caught:
                await client.get(url)
            assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        server.close()

    asyncio.run(main())


def test_connections_never_exceed_the_limit() -> None:
    async def main() -> None:
        open_now = 0
        most = 0

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal open_now, most
            open_now += 1
            most = max(most, open_now)
            try:
                while True:
                    await read_request(reader)
                    await asyncio.sleep(0.01)
                    writer.write(answer(b"ok"))
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                open_now -= 1

        server = await serve(handler)
        transport = PoolTransport(max_connections=4)
        async with httpx.AsyncClient(transport=transport) as client:
            url = f"http://127.0.0.1:{port(server)}/"
            statuses = await asyncio.gather(*(client.get(url) for _ in range(40)))
            assert [r.status_code for r in statuses] == [200] * 40
        assert most <= 4 and transport.connections_opened == 4
        server.close()

    asyncio.run(main())


def test_prepared_requests_send_httpx_headers_plus_their_own() -> None:
    from integration.transport import PreparedRequests

    async def main() -> None:
        seen: list[bytes] = []

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                try:
                    seen.append(await read_request(reader))
                except asyncio.IncompleteReadError:
                    return
                writer.write(answer(b"fine", b"Set-Cookie: affinity=1; Path=/"))

        server = await serve(handler)
        base = f"http://127.0.0.1:{port(server)}/"
        client = httpx.AsyncClient(
            transport=PoolTransport(), headers={"User-Agent": "probe", "Accept": "text/xml"}
        )
        prepared = PreparedRequests(client, "SEARCH", base)
        assert prepared.usable
        response = await prepared.send(b"/exchange/a%20b/", b"<q/>", {"Range": "rows=0-9"})
        assert response.status_code == 200 and response.text == "fine"
        head = seen[0].split(b"\r\n\r\n")[0].split(b"\r\n")
        assert head[0] == b"SEARCH /exchange/a%20b/ HTTP/1.1"
        fields = dict(line.split(b": ", 1) for line in head[1:])
        assert fields[b"User-Agent"] == b"probe" and fields[b"Range"] == b"rows=0-9"
        assert fields[b"Content-Length"] == b"4" and fields[b"Host"].startswith(b"127.0.0.1:")
        assert b"Accept-Encoding" in fields
        # the cookie it set is kept as httpx keeps it, and the client's own path takes over
        assert client.cookies.get("affinity") == "1" and not prepared.usable
        await client.aclose()
        server.close()

    asyncio.run(main())
