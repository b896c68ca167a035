"""Validate EWS responses against the Exchange 2007 SP1 schema.

``EWS_SCHEMA_DIR`` names the folder with messages.xsd/types.xsd (CI points it at
the shared copy); without it, ``schema_dir()`` is None and schema tests skip.
The children of s:Body and s:Header are validated one by one, as the schema
describes them; SOAP faults are not part of messages.xsd and are checked by the
bad-input tests instead.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from lxml import etree

SCHEMA_ENV = "EWS_SCHEMA_DIR"
SKIP_REASON = "EWS_SCHEMA_DIR not set"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
CHECKED_NAMESPACES = (
    "http://schemas.microsoft.com/exchange/services/2006/messages",
    "http://schemas.microsoft.com/exchange/services/2006/types",
)


def schema_dir() -> Path | None:
    value = os.environ.get(SCHEMA_ENV)
    return Path(value) if value else None


@lru_cache(maxsize=4)
def load_schema(folder: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    document = etree.parse(str(Path(folder, "messages.xsd")), parser)
    return etree.XMLSchema(document)


def response_errors(document: bytes, schema: etree.XMLSchema) -> list[str]:
    """Schema errors of one SOAP response (empty when valid); non-SOAP bodies are skipped."""
    if not document.lstrip().startswith(b"<"):
        return []
    try:
        root = etree.fromstring(document)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed: {exc}"]
    if root.tag != f"{{{SOAP}}}Envelope":
        return []
    problems: list[str] = []
    for part in ("Header", "Body"):
        container = root.find(f"{{{SOAP}}}{part}")
        if container is None:
            continue
        for child in container:
            if not isinstance(child.tag, str):
                continue
            if not child.tag.startswith(tuple(f"{{{ns}}}" for ns in CHECKED_NAMESPACES)):
                continue
            standalone = etree.fromstring(etree.tostring(child))
            if not schema.validate(standalone):
                problems.extend(
                    f"{child.tag.rpartition('}')[2]} line {e.line}: {e.message}"
                    for e in schema.error_log
                )
    return problems
