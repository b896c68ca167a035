"""The Exchange 2007 SP3 Web Services front end (spyne) over the shared store.

``make_ews_app(store)`` is the WSGI app of /ews/exchange.asmx: IIS Basic
authentication, then the envelope checks and impersonation, then spyne dispatching
to one module per family of operations (``folders``, ``finditem``, ``items``,
``contacts``). The front end only translates protocol; every rule about what is
stored lives in ``simulators.exchange.store``.
"""

from __future__ import annotations

from simulators.exchange.ews.auth import BasicAuth
from simulators.exchange.ews.context import EwsOptions
from simulators.exchange.ews.envelope import EwsEndpoint
from simulators.exchange.ews.middleware import JournalEntry, RequestJournal, WsgiApp
from simulators.exchange.ews.service import spyne_app
from simulators.exchange.store import ExchangeStore
from simulators.faults.injector import FaultInjector, FaultWindow

EWS_PATH = "/ews/exchange.asmx"


def make_ews_app(store: ExchangeStore, options: EwsOptions | None = None) -> WsgiApp:
    """The EWS WSGI app (without journal and fault injection, which the site adds)."""
    return BasicAuth(EwsEndpoint(store, options or EwsOptions(), spyne_app()), store)


__all__ = [
    "EWS_PATH",
    "EwsOptions",
    "FaultInjector",
    "FaultWindow",
    "JournalEntry",
    "RequestJournal",
    "make_ews_app",
]
