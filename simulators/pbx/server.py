"""The PBX's HTTP JSON API on a real socket (cheroot), started and stopped in-process.

    server = PbxServer(pbx, host="127.0.0.1", port=0).start()
    server.url        # "http://127.0.0.1:54321/" -- the engine's [pbx] url
    server.stop()

or ``with PbxServer(pbx) as server: ...``. Port 0 picks a free port. The server
is threaded; the ``Pbx`` is thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from cheroot import wsgi

from simulators.pbx.api import PbxApi
from simulators.pbx.pbx import Pbx

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
        self._server = wsgi.Server((host, port), app, numthreads=threads)
        # cheroot's serve loop wakes this often; stop() waits for it (default 0.5 s).
        self._server.expiration_interval = 0.05
        self._thread: threading.Thread | None = None

    def start(self) -> PbxServer:
        """Bind and start serving; returns self once the socket listens."""
        if self._thread is not None:
            raise RuntimeError("the PBX server is already running")
        self._server.prepare()  # binds now, so the port is known when start returns
        self._thread = threading.Thread(target=self._server.serve, name="pbx-http", daemon=True)
        self._thread.start()
        return self

    def replace_pbx(self, pbx: Pbx) -> None:
        """Serve ``pbx`` from now on (``harness serve`` after a reset or a new seed)."""
        self.pbx = pbx
        self._api.pbx = pbx

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._thread is None:
            return
        self._server.stop()
        self._thread.join(timeout=10)
        self._thread = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``; the real port once started."""
        host, port = self._server.bind_addr[:2]  # type: ignore[index]
        return str(host), int(port)

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
