"""The spyne application: one bare-body rpc per EWS operation.

spyne dispatches on the body's root element (clients send no SOAPAction) and runs
the operation; the protocol subclass below takes the envelope the endpoint already
parsed safely (no second parse), skips spyne's per-request validation and object
mapping (operations read the lxml tree themselves), and writes the response
itself: the ``s:``/``m:``/``t:`` envelope with ServerVersionInfo 8.3.83.6, or the
EWS fault shape for any exception an operation raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from lxml import etree
from spyne import AnyXml, Application, Fault, ServiceBase, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from simulators import _spyne_compat
from simulators.exchange.ews import contacts, convertid, finditem, folder_ops, folders, items, moves
from simulators.exchange.ews.context import EwsCall
from simulators.exchange.ews.errors import EwsFault, ResponseError, fault_document
from simulators.exchange.ews.itemxml import RawXml
from simulators.exchange.ews.middleware import FAULT_KEY
from simulators.exchange.ews.xmlkit import DateOutOfRange, Element, M, S, SchemaViolation, T

log = logging.getLogger(__name__)
_spyne_compat.tune()  # the EWS app is spyne's only user: its settings belong here

CALL_KEY = "ews.call"  # environ: the EwsCall the endpoint built
DOCUMENT_KEY = "ews.document"  # environ: the parsed request envelope
FAULT_OBJECT_KEY = "ews.fault"  # environ: the EwsFault an operation raised

# 2007 SP3 RTM; real 2007 servers send no Version attribute.
SERVER_VERSION = (
    f'<t:ServerVersionInfo xmlns:t="{T}" MajorVersion="8" MinorVersion="3" '
    'MajorBuildNumber="83" MinorBuildNumber="6"/>'
)
_HEAD = (
    f'<?xml version="1.0" encoding="utf-8"?>\n<s:Envelope xmlns:s="{S}"><s:Header>'
    f"{SERVER_VERSION}</s:Header><s:Body>"
).encode()
_TAIL = b"</s:Body></s:Envelope>"

# Expected faults are answers, not incidents: keep spyne from logging each one.
logging.getLogger("spyne.application.client").setLevel(logging.CRITICAL)

Handler = Callable[[EwsCall, Element], Element | RawXml]


def _run(ctx: Any, handler: Handler) -> Element | RawXml:
    environ = ctx.transport.req_env
    try:
        return handler(environ[CALL_KEY], ctx.in_body_doc)
    except SchemaViolation as violation:
        fault = EwsFault.schema(violation)
    except DateOutOfRange as out_of_range:
        fault = EwsFault("ErrorCalendarOutOfRange", str(out_of_range))
    except EwsFault as raised:
        fault = raised
    except ResponseError as raised:
        # A request-wide problem found before any response message (a bad shape):
        # the whole request fails with that code, never as an internal error.
        fault = EwsFault(raised.code, raised.message)
    except Exception:
        log.exception("EWS operation %s failed", ctx.in_body_doc.tag)
        fault = EwsFault("ErrorInternalServerError")
    environ[FAULT_OBJECT_KEY] = fault
    raise Fault("Client.Ews", fault.code)


def _op(name: str) -> dict[str, Any]:
    return {
        "_body_style": "bare",
        "_in_message_name": name,
        "_returns": AnyXml,
        "_out_message_name": f"{name}Response",
    }


class ExchangeServicePort(ServiceBase):
    """The operations of /ews/exchange.asmx this simulator implements."""

    @rpc(AnyXml, **_op("GetFolder"))
    def GetFolder(ctx, request):  # noqa: N802,N805
        return _run(ctx, folders.get_folder)

    @rpc(AnyXml, **_op("FindFolder"))
    def FindFolder(ctx, request):  # noqa: N802,N805
        return _run(ctx, folders.find_folder)

    @rpc(AnyXml, **_op("FindItem"))
    def FindItem(ctx, request):  # noqa: N802,N805
        return _run(ctx, finditem.find_item)

    @rpc(AnyXml, **_op("GetItem"))
    def GetItem(ctx, request):  # noqa: N802,N805
        return _run(ctx, items.get_item)

    @rpc(AnyXml, **_op("CreateItem"))
    def CreateItem(ctx, request):  # noqa: N802,N805
        return _run(ctx, items.create_item)

    @rpc(AnyXml, **_op("UpdateItem"))
    def UpdateItem(ctx, request):  # noqa: N802,N805
        return _run(ctx, items.update_item)

    @rpc(AnyXml, **_op("DeleteItem"))
    def DeleteItem(ctx, request):  # noqa: N802,N805
        return _run(ctx, items.delete_item)

    @rpc(AnyXml, **_op("ResolveNames"))
    def ResolveNames(ctx, request):  # noqa: N802,N805
        return _run(ctx, contacts.resolve_names)

    @rpc(AnyXml, **_op("ConvertId"))
    def ConvertId(ctx, request):  # noqa: N802,N805
        return _run(ctx, convertid.convert_id)

    @rpc(AnyXml, **_op("MoveItem"))
    def MoveItem(ctx, request):  # noqa: N802,N805
        return _run(ctx, moves.move_item)

    @rpc(AnyXml, **_op("CopyItem"))
    def CopyItem(ctx, request):  # noqa: N802,N805
        return _run(ctx, moves.copy_item)

    @rpc(AnyXml, **_op("CreateFolder"))
    def CreateFolder(ctx, request):  # noqa: N802,N805
        return _run(ctx, folder_ops.create_folder)

    @rpc(AnyXml, **_op("DeleteFolder"))
    def DeleteFolder(ctx, request):  # noqa: N802,N805
        return _run(ctx, folder_ops.delete_folder)

    @rpc(AnyXml, **_op("UpdateFolder"))
    def UpdateFolder(ctx, request):  # noqa: N802,N805
        return _run(ctx, folder_ops.update_folder)

    @rpc(AnyXml, **_op("MoveFolder"))
    def MoveFolder(ctx, request):  # noqa: N802,N805
        return _run(ctx, folder_ops.move_folder)


OPERATIONS = frozenset(
    (
        "GetFolder",
        "FindFolder",
        "FindItem",
        "GetItem",
        "CreateItem",
        "UpdateItem",
        "DeleteItem",
        "ResolveNames",
        "ConvertId",
        "MoveItem",
        "CopyItem",
        "CreateFolder",
        "DeleteFolder",
        "UpdateFolder",
        "MoveFolder",
    )
)


class EwsSoap11(Soap11):
    """Soap11 with the EWS envelope, the EWS fault shape and no second parse."""

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        ctx.in_document = (ctx.transport.req_env[DOCUMENT_KEY], {})

    def deserialize(self, ctx: Any, message: Any) -> None:
        # Operations read the lxml tree; spyne's object mapping would only copy it.
        ctx.in_header = None
        ctx.in_object = ctx.in_body_doc

    def serialize(self, ctx: Any, message: Any) -> None:
        if ctx.out_error is not None:
            environ = ctx.transport.req_env
            fault = environ.get(FAULT_OBJECT_KEY)
            if not isinstance(fault, EwsFault):
                fault = EwsFault("ErrorInternalServerError")
            environ[FAULT_KEY] = fault.code
            ctx.out_document = fault
            return
        # method_request_string is the body's root tag, "{messages-ns}FindItem".
        name = ctx.method_request_string.rpartition("}")[2] + "Response"
        ctx.out_document = (name, ctx.out_object[0])

    def create_out_string(self, ctx: Any, charset: str | None = None) -> None:
        if isinstance(ctx.out_document, EwsFault):
            ctx.out_string = [fault_document(ctx.out_document)]
            return
        ctx.out_string = response_chunks(*ctx.out_document)

    def fault_to_http_response_code(self, fault: Any) -> str:
        return "500 Internal Server Error"


def response_chunks(name: str, payload: Element | RawXml) -> list[bytes]:
    """The envelope of a successful answer: ``<m:{name}>`` holding ``payload``."""
    text = payload.encode() if isinstance(payload, RawXml) else etree.tostring(payload)
    return [
        _HEAD,
        f'<m:{name} xmlns:m="{M}" xmlns:t="{T}">'.encode(),
        text,
        f"</m:{name}>".encode(),
        _TAIL,
    ]


def spyne_app() -> WsgiApplication:
    application = Application(
        [ExchangeServicePort],
        tns=M,
        name="ExchangeServices",
        in_protocol=EwsSoap11(validator=None),
        out_protocol=EwsSoap11(),
    )
    return WsgiApplication(application)
