"""The error catalogue of the EWS front end and the two error shapes of Exchange 2007.

1. ``EwsFault``: a SOAP fault answered with HTTP 500 (header and security failures,
   schema validation, unknown operations, a busy server). Built here, never by spyne,
   whose own fault writer uses the wrong code prefix and doubles ``<detail>``.
2. ``ResponseError``: a per-message error inside an HTTP 200 response
   (``<m:FindItemResponseMessage ResponseClass="Error">``), children in the order
   MessageText, ResponseCode, DescriptiveLinkKey, MessageXml.
"""

from __future__ import annotations

from lxml import etree

from simulators.exchange.ews.xmlkit import E, Element, M, S, SchemaViolation, T, m, new_element, sub
from simulators.exchange.store import StoreError

# The texts Exchange 2007 sends with each code (where one is fixed).
MESSAGES: dict[str, str] = {
    "ErrorAccessDenied": "Access is denied. Check credentials and try again.",
    "ErrorCalendarViewRangeTooBig": "The calendar view range is larger than the maximum "
    "of two years.",
    "ErrorCalendarEndDateIsEarlierThanStartDate": "EndDate is earlier than StartDate",
    "ErrorCalendarInvalidRecurrence": "The recurrence pattern is invalid.",
    "ErrorCalendarFolderIsInvalidForCalendarView": "The folder is not a calendar folder.",
    "ErrorFolderNotFound": "The specified folder could not be found in the store.",
    "ErrorImpersonateUserDenied": "The account does not have permission to impersonate "
    "the requested user.",
    "ErrorImpersonationDenied": "The server to which the application is connected cannot "
    "impersonate the requested user due to insufficient permission.",
    "ErrorImpersonationFailed": "Impersonation failed.",
    "ErrorIncorrectUpdatePropertyCount": "An object within a change description must contain "
    "one and only one property to modify.",
    "ErrorInternalServerError": "An internal server error occurred. The operation failed.",
    "ErrorInvalidExchangeImpersonationHeaderData": "The ExchangeImpersonation SOAP header must "
    "contain a user identity to impersonate.",
    "ErrorInvalidIdMalformed": "Id is malformed.",
    "ErrorInvalidOperation": "The operation is invalid.",
    "ErrorInvalidPagingMaxRows": "The maximum number of rows to return must be greater than zero.",
    "ErrorInvalidPropertyAppend": "This property does not support append.",
    "ErrorInvalidPropertyDelete": "This property cannot be deleted.",
    "ErrorInvalidPropertySet": "Set action is invalid for property.",
    "ErrorInvalidRequest": "The request is invalid.",
    "ErrorInvalidRestriction": "Restrictions and sort order may not be specified for a "
    "CalendarView.",
    "ErrorInvalidServerVersion": "The specified server version is invalid.",
    "ErrorIrresolvableConflict": "The send or update operation could not be performed because "
    "the change key passed in the request does not match the current change key for the item.",
    "ErrorItemNotFound": "The specified object was not found in the store.",
    "ErrorMailboxStoreUnavailable": "The mailbox database is temporarily unavailable.",
    "ErrorMissingEmailAddress": "When making a request as an account that does not have a "
    "mailbox, you must specify the mailbox primary SMTP address for any distinguished folder Ids.",
    "ErrorNameResolutionMultipleResults": "Multiple results were found.",
    "ErrorNameResolutionNoResults": "No results were found.",
    "ErrorNonExistentMailbox": "The SMTP address has no mailbox associated with it.",
    "ErrorSchemaValidation": "The request failed schema validation.",
    "ErrorSendMeetingCancellationsRequired": "SendMeetingCancellations attribute is required "
    "for Calendar items.",
    "ErrorSendMeetingInvitationsRequired": "SendMeetingInvitations attribute is required for "
    "Calendar items.",
    "ErrorServerBusy": "The server cannot service this request right now. Try again later.",
    "ErrorUnsupportedPathForQuery": "The property path is not supported for this type of query.",
}


def message_for(code: str) -> str:
    return MESSAGES.get(code, code)


class EwsFault(Exception):
    """A SOAP fault (HTTP 500). ``values`` go into detail/MessageXml as t:Value."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        values: dict[str, str] | None = None,
        violation: SchemaViolation | None = None,
    ) -> None:
        self.code = code
        self.message = message or message_for(code)
        self.values = values or {}
        self.violation = violation
        super().__init__(f"{code}: {self.message}")

    @classmethod
    def schema(cls, violation: SchemaViolation) -> EwsFault:
        return cls("ErrorSchemaValidation", violation=violation)

    @property
    def faultstring(self) -> str:
        if self.violation is not None:
            return f"The request failed schema validation: {self.violation.violation}"
        return self.message


class ResponseError(Exception):
    """A per-message error (or warning) of one response message."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        values: dict[str, str] | None = None,
        response_class: str = "Error",
    ) -> None:
        self.code = code
        self.message = message or message_for(code)
        self.values = values or {}
        self.response_class = response_class
        super().__init__(f"{code}: {self.message}")

    @classmethod
    def from_store(cls, error: StoreError) -> ResponseError:
        return cls(error.code, error.message)


def fault_document(fault: EwsFault) -> bytes:
    """The whole SOAP envelope Exchange 2007 sends for a fault."""
    envelope = etree.Element(f"{{{S}}}Envelope", nsmap={"s": S})
    body = sub(envelope, f"{{{S}}}Body")
    node = sub(body, f"{{{S}}}Fault")
    code = etree.SubElement(node, "faultcode", nsmap={"a": T})
    code.text = f"a:{fault.code}"
    string = sub(node, "faultstring", fault.faultstring)
    string.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    detail = sub(node, "detail")
    etree.SubElement(detail, f"{{{E}}}ResponseCode", nsmap={"e": E}).text = fault.code
    etree.SubElement(detail, f"{{{E}}}Message", nsmap={"e": E}).text = fault.message
    if fault.violation is not None or fault.values:
        xml = etree.SubElement(detail, f"{{{T}}}MessageXml", nsmap={"t": T})
        if fault.violation is not None:
            sub(xml, f"{{{T}}}LineNumber", str(fault.violation.line or 0))
            sub(xml, f"{{{T}}}LinePosition", str(fault.violation.position or 0))
            sub(xml, f"{{{T}}}Violation", fault.violation.violation)
        for name, value in fault.values.items():
            sub(xml, f"{{{T}}}Value", value, Name=name)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def success_message(tag: str) -> Element:
    """``<m:{tag} ResponseClass="Success"><m:ResponseCode>NoError`` (caller appends the rest)."""
    message = new_element(m(tag), ResponseClass="Success")
    sub(message, f"{{{M}}}ResponseCode", "NoError")
    return message


def error_message(tag: str, error: ResponseError, containers: tuple[str, ...] = ()) -> Element:
    """A per-message error; ``containers`` are required children left empty (m:Items)."""
    message = new_element(m(tag), ResponseClass=error.response_class)
    sub(message, m("MessageText"), error.message)
    sub(message, m("ResponseCode"), error.code)
    sub(message, m("DescriptiveLinkKey"), "0")
    if error.values:
        xml = sub(message, m("MessageXml"))
        for name, value in error.values.items():
            sub(xml, f"{{{T}}}Value", value, Name=name)
    for container in containers:
        sub(message, m(container))
    return message


__all__ = [
    "EwsFault",
    "MESSAGES",
    "ResponseError",
    "error_message",
    "fault_document",
    "message_for",
    "success_message",
]
