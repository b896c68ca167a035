"""The PBX's HTTP JSON API on a real socket (``simulators.wsgi_server``), started and
stopped in-process.

    server = PbxServer(pbx, host="127.0.0.1", port=0).start()
    server.url        # "http://127.0.0.1:54321/" -- the engine's [pbx] url
    server.stop()

or ``with PbxServer(pbx) as server: ...``. Port 0 picks a free port. The server
is threaded (slow clients hold no thread); the ``Pbx`` is thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from simulators.pbx.api import PbxApi
from simulators.pbx.pbx import Pbx
from simulators.wsgi_server import WsgiServer

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PbxServer:
    """Serves ``PbxApi(pbx)`` on ``host:port`` in a background thread."""

    def __init__(
        self,
        pbx: Pbx,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        threads: int = 8,
        middleware: Callable[[WsgiApp], WsgiApp] | None = None,
    ) -> None:
        self.pbx = pbx
        self._api = PbxApi(pbx)
        app: WsgiApp = middleware(self._api) if middleware else self._api
        self._app, self._threads = app, threads
        self._server = WsgiServer(app, host, port, threads=threads, name="pbx-http")
        self._running = False
        self._down = False

    def start(self) -> PbxServer:
        """Bind and start serving; returns self once the socket listens."""
        if self._running:
            raise RuntimeError("the PBX server is already running")
        self._server.start()
        self._running = True
        return self

    def go_down(self) -> None:
        """Stop listening (connections refused, open ones cut); ``come_back`` listens
        again on the same port. Idempotent."""
        if self._running:
            self._server.stop()
            self._running, self._down = False, True

    def come_back(self) -> None:
        if not self._down:
            return
        host, port = self._server.bind_addr
        self._server = WsgiServer(self._app, host, port, threads=self._threads, name="pbx-http")
        self._server.start()
        self._running, self._down = True, False

    def replace_pbx(self, pbx: Pbx) -> None:
        """Serve ``pbx`` from now on (``harness serve`` after a reset or a new seed)."""
        self.pbx = pbx
        self._api.pbx = pbx

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        self._down = False
        if not self._running:
            return
        self._server.stop()
        self._running = False

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``; the real port once started."""
        return self._server.bind_addr

    @property
    def url(self) -> str:
        """The API's base URL, e.g. ``http://127.0.0.1:54321/``."""
        host, port = self.address
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}/"

    def __enter__(self) -> PbxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
