"""The OpenAPI 3.1 description of the control server of ``harness serve``.

Every route of ``scenarios.commands.control.ControlApi`` with its query
parameters, request bodies and the JSON Schema of each answer, plus the SMTP
sink's inspection API (``/api/mail/``) that the same server answers. A test
keeps this document and the router in step and validates real answers
against the schemas here, so edit both together.
"""

from __future__ import annotations

from typing import Any

from scenarios.commands.apischemas import SCHEMAS, TIME, obj, ref
from simulators.faults.catalogue import ALIASES, KINDS, SERVICES


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(ref("Error"), description)


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


WINDOW = [
    _query(
        "from",
        "start of the window, ISO 8601 with offset (default: a minute before the last reset, "
        "at most 2 h back)",
        TIME,
    ),
    _query(
        "to", "end of the window (default: 10 min ahead, 30 min after the start at least)", TIME
    ),
]

BAD = _error("bad input (the message says which)")
_COUNT = {"type": "integer", "minimum": 1, "maximum": 1_000_000}
_DURATION = {"type": "string", "examples": ["5m", "30s"]}
# The same fields as a scenario's fault step (scenarios.format.faultsteps).
FAULT_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["service"],
    "additionalProperties": False,
    "properties": {
        "service": {"enum": list(SERVICES)},
        "kind": {
            "enum": sorted({k for _, k in KINDS} | {a for _, a in ALIASES}),
            "description": "a kind of the service (docs/faults.md); default unavailable "
            "(= refused)",
        },
        "duration": {**_DURATION, "description": "the window; without it, until cleared"},
        "start": TIME,
        "first": {**_COUNT, "description": "only the first N requests in the window"},
        "every": {**_COUNT, "description": "only every Nth request in the window"},
        "mailbox": {"type": "string", "description": "only requests for this mailbox or user"},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "seed": {"type": "integer", "minimum": 0, "description": "with probability"},
        "latency": {**_DURATION, "description": "latency, slow: the delay of each answer"},
        "retry_after": {"type": "integer", "minimum": 0, "maximum": 86400},
        "back_off": {**_DURATION, "description": "ErrorServerBusy: BackOffMilliseconds"},
    },
}


def _paths() -> dict[str, Any]:
    return {
        "/control/": {
            "get": {
                "summary": "Index: links to every resource (HTML when the client accepts it)",
                "responses": {
                    "200": {
                        "description": "the index",
                        "content": {
                            "application/json": {"schema": ref("Index")},
                            "text/html": {"schema": {"type": "string"}},
                        },
                    }
                },
            }
        },
        "/control/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
            }
        },
        "/control/status": {
            "get": {
                "summary": "Served endpoints, the clock and the seed",
                "responses": {"200": _json(ref("Status"), "status")},
            }
        },
        "/control/journal": {
            "get": {
                "summary": "HTTP requests answered by the site (ews, webdav, owa, site) and the "
                "PBX API (pbx), oldest first",
                "parameters": [
                    _query("service", "only this service"),
                    _query("operation", "only this operation (FindItem, SEARCH, presence, ...)"),
                    _query("mailbox", "only requests for this mailbox"),
                    _query("since", "at or after this instant", TIME),
                    _query("limit", "only the latest N", {"type": "integer", "minimum": 1}),
                ],
                "responses": {"200": _json(ref("Journal"), "requests"), "400": BAD},
            }
        },
        "/control/activity": {
            "get": {
                "summary": "The latest requests of every protocol, SMTP transactions too, "
                "newest first",
                "parameters": [
                    _query("service", "only this service (ews, webdav, owa, pbx, smtp, site)"),
                    _query("limit", "how many (default 100, at most 1000)", {"type": "integer"}),
                ],
                "responses": {"200": _json(ref("Activity"), "activity"), "400": BAD},
            }
        },
        "/control/users": {
            "get": {
                "summary": "PBX users with their presence now",
                "responses": {"200": _json(ref("Users"), "users")},
            }
        },
        "/control/faults": {
            "get": {
                "summary": "Faults in force (past, active and future) and the latest "
                "requests they acted on",
                "responses": {"200": _json(ref("Faults"), "faults")},
            },
            "post": {
                "summary": "Put a fault of the catalogue in force (docs/faults.md): a kind "
                "of a service, for a window, on the requests its triggers pick",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": FAULT_REQUEST}},
                },
                "responses": {
                    "201": _json(ref("FaultInForce"), "the fault in force"),
                    "400": BAD,
                    "415": _error("not JSON"),
                },
            },
            "delete": {
                "summary": "End every fault",
                "responses": {"200": _json(ref("Faults"), "no faults")},
            },
        },
        "/control/reset": {
            "post": {
                "summary": "Empty the journals, fault windows and mail; restore the seed "
                "(the clock stays as set)",
                "responses": {"200": _json(ref("SeedAnswer"), "the seed restored")},
            }
        },
        "/control/seed": {
            "get": {
                "summary": "The seed served now",
                "responses": {"200": _json(ref("SeedAnswer"), "the seed")},
            },
            "post": {
                "summary": "Load a scenario or seed file (its path, or the YAML itself) in place "
                "of the current one",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["path"],
                                "additionalProperties": False,
                                "properties": {"path": {"type": "string"}},
                            }
                        },
                        "application/yaml": {"schema": {"type": "string"}},
                    },
                },
                "responses": {
                    "200": _json(ref("SeedAnswer"), "the seed loaded"),
                    "400": _error("rejected: problems holds FILE:LINE: message lines"),
                    "413": _error("too large"),
                    "415": _error("neither YAML nor JSON"),
                },
            },
        },
        "/control/clock": {
            "get": {
                "summary": "The clock the served simulators and the PBX read",
                "responses": {"200": _json(ref("Clock"), "the clock")},
            },
            "post": {
                "summary": "Set the clock: real, offset (by offset or to at), frozen (at, "
                "default now), or advance it",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "mode": {"enum": ["real", "offset", "frozen"]},
                                    "offset": {"type": "string", "examples": ["-1h"]},
                                    "at": TIME,
                                    "advance": {"type": "string", "examples": ["5m"]},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(ref("Clock"), "the clock as set"),
                    "400": BAD,
                    "415": _error("not JSON"),
                },
            },
        },
        "/control/timeline": {
            "get": {
                "summary": "The timeline model of a window, one lane per user",
                "parameters": WINDOW,
                "responses": {"200": _json(ref("Timeline"), "the timeline"), "400": BAD},
            }
        },
        "/control/timeline.svg": {
            "get": {
                "summary": "The same timeline, drawn (self-contained SVG)",
                "parameters": [
                    *WINDOW,
                    _query("width", "pixels (400 to 4000, default 1200)", {"type": "integer"}),
                ],
                "responses": {
                    "200": {
                        "description": "SVG",
                        "content": {"image/svg+xml": {"schema": {"type": "string"}}},
                    },
                    "400": BAD,
                },
            }
        },
        **_mail_paths(),
    }


def _mail_paths() -> dict[str, Any]:
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    missing = _error("no such message, mailbox or attachment")
    return {
        "/api/mail/mailboxes": {
            "get": {
                "summary": "Messages per mailbox",
                "responses": {
                    "200": _json(
                        obj(
                            {
                                "mailboxes": {
                                    "type": "object",
                                    "additionalProperties": {"type": "integer"},
                                }
                            }
                        ),
                        "counts",
                    )
                },
            }
        },
        "/api/mail/messages": {
            "get": {
                "summary": "Stored messages in delivery order",
                "parameters": [_query("mailbox", "only this mailbox")],
                "responses": {
                    "200": _json(
                        obj({"messages": {"type": "array", "items": ref("MailSummary")}}),
                        "messages",
                    ),
                    "404": missing,
                },
            }
        },
        "/api/mail/messages/{id}": {
            "get": {
                "summary": "One message: headers, parts, text, attachments",
                "parameters": [id_param],
                "responses": {"200": _json(ref("MailDetail"), "the message"), "404": missing},
            }
        },
        "/api/mail/messages/{id}/raw": {
            "get": {
                "summary": "The message as received",
                "parameters": [id_param],
                "responses": {
                    "200": {
                        "description": "the bytes",
                        "content": {"message/rfc822": {"schema": {"type": "string"}}},
                    },
                    "404": missing,
                },
            }
        },
        "/api/mail/messages/{id}/attachments/{n}": {
            "get": {
                "summary": "One attachment, decoded",
                "parameters": [
                    id_param,
                    {"name": "n", "in": "path", "required": True, "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": {
                        "description": "the attachment's bytes (its own content type)",
                        "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                    },
                    "404": missing,
                },
            }
        },
        "/api/mail/outbound": {
            "get": {
                "summary": "Mail accepted for other domains (relaying allowed), never sent",
                "responses": {
                    "200": _json(
                        obj({"messages": {"type": "array", "items": {"type": "object"}}}),
                        "messages",
                    )
                },
            }
        },
    }


def document(server: str = "/") -> dict[str, Any]:
    """The OpenAPI document, with ``server`` as the base the paths hang from."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "harness serve: control API",
            "version": "1",
            "description": "Control the served simulators (seed, reset, clock, faults) and "
            "look at them (journal, activity, users, timeline, mail). Answers are JSON; "
            'errors are {"error": "..."}.',
        },
        "servers": [{"url": server}],
        "paths": _paths(),
        # Open on loopback; bound elsewhere (or with --token) every request needs it.
        "security": [{}, {"token": []}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the ready file's token; required when harness serve "
                    "is bound off loopback or started with --token (docs/serving.md)",
                }
            },
        },
    }


__all__ = ["SCHEMAS", "document"]
