"""The JSON Schemas of the control server's answers (``scenarios.commands.openapi``
puts them under ``components/schemas``; a test validates real answers against them).

OpenAPI 3.1 schemas are JSON Schema 2020-12: ``"type": ["string", "null"]`` is a
nullable string, ``$ref`` points into ``#/components/schemas``.
"""

from __future__ import annotations

from typing import Any

NULL_STR: dict[str, Any] = {"type": ["string", "null"]}
TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
NULL_TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
NULL_INT: dict[str, Any] = {"type": ["integer", "null"]}
NULL_NUM: dict[str, Any] = {"type": ["number", "null"]}


def obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
    }


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


MARK = obj({"at": TIME, "text": {"type": "string"}})

SCHEMAS: dict[str, Any] = {
    "Error": obj(
        {
            "error": {"type": "string"},
            "problems": {"type": "array", "items": {"type": "string"}},
            "field": NULL_STR,
        },
        ["error"],
    ),
    "Index": obj(
        {
            "name": {"type": "string"},
            "links": {
                "type": "array",
                "items": obj(
                    {
                        "rel": {"type": "string"},
                        "href": {"type": "string"},
                        "title": {"type": "string"},
                        "methods": {"type": "array", "items": {"type": "string"}},
                    },
                    ["rel", "href"],
                ),
            },
        }
    ),
    "Clock": obj(
        {
            "mode": {"enum": ["real", "offset", "frozen"]},
            "now": TIME,
            "offset_seconds": {"type": "integer"},
            "exchange_now": TIME,
            "exchange_skew_seconds": {"type": "integer"},
            "timezone": {"type": "string"},
        }
    ),
    "Seed": obj(
        {
            "name": {"type": "string"},
            "source": NULL_STR,
            "timezone": {"type": "string"},
            "users": {"type": "integer"},
            "appointments": {"type": "integer"},
            "loaded_at": NULL_TIME,
        }
    ),
    "SeedAnswer": obj({"seed": ref("Seed")}),
    "Status": obj(
        {
            "services": {"type": "object", "additionalProperties": {"type": "string"}},
            "now": TIME,
            "clock": ref("Clock"),
            "seed": ref("Seed"),
        }
    ),
    "Request": obj(
        {
            "at": TIME,
            "service": {"type": "string"},
            "method": {"type": "string"},
            "path": {"type": "string"},
            "status": {"type": "integer"},
            "operation": NULL_STR,
            "mailbox": NULL_STR,
            "impersonated": NULL_STR,
            "account": NULL_STR,
            "fault": NULL_STR,
            "injected": NULL_STR,
        }
    ),
    "Journal": obj({"requests": {"type": "array", "items": ref("Request")}}),
    "Activity": obj(
        {
            "activity": {
                "type": "array",
                "items": obj(
                    {
                        "at": TIME,
                        "service": {"type": "string"},
                        "summary": {"type": "string"},
                        "status": {"type": "integer"},
                        "mailbox": NULL_STR,
                        "account": NULL_STR,
                        "fault": NULL_STR,
                    }
                ),
            }
        }
    ),
    "User": obj(
        {
            "extension": {"type": "string"},
            "name": {"type": "string"},
            "email": NULL_STR,
            "calendar_integration": {"type": "boolean"},
            "auto_back_to_office": {"type": "boolean"},
            "status": {"type": "string"},
            "return_time": NULL_TIME,
            "set_by": {"type": "string"},
            "since": TIME,
        }
    ),
    "Users": obj({"users": {"type": "array", "items": ref("User")}}),
    "Fault": obj(
        {"service": {"type": "string"}, "kind": {"type": "string"}, "start": TIME, "end": TIME}
    ),
    "FaultInForce": obj(
        {
            "id": {"type": "integer"},
            "service": {"type": "string"},
            "kind": {"type": "string"},
            "answer": {"type": "string"},
            "start": TIME,
            "end": TIME,
            "first": NULL_INT,
            "every": NULL_INT,
            "mailbox": NULL_STR,
            "probability": NULL_NUM,
            "seed": {"type": "integer"},
            "latency": NULL_NUM,
            "retry_after": NULL_INT,
            "back_off": NULL_NUM,
            "seen": {"type": "integer"},
            "acted": {"type": "integer"},
        }
    ),
    "Faults": obj(
        {
            "faults": {"type": "array", "items": ref("FaultInForce")},
            "applied": {
                "type": "array",
                "items": obj(
                    {
                        "at": TIME,
                        "fault": {"type": "string"},
                        "who": {"type": "string"},
                        "stage": {"type": "string"},
                    }
                ),
            },
        }
    ),
    "Timeline": obj(
        {
            "start": TIME,
            "end": TIME,
            "timezone": {"type": "string"},
            "now": NULL_TIME,
            "title": {"type": "string"},
            "notes": {"type": "array", "items": {"type": "string"}},
            "faults": {"type": "array", "items": ref("Fault")},
            "lanes": {"type": "array", "items": ref("Lane")},
        }
    ),
    "Lane": obj(
        {
            "user": {"type": "string"},
            "title": {"type": "string"},
            "mailbox": NULL_STR,
            "presence": {
                "type": "array",
                "items": obj(
                    {
                        "start": TIME,
                        "end": TIME,
                        "status": {"type": "string"},
                        "return_time": NULL_TIME,
                        "set_by": {"type": "string"},
                        "reason": {"type": "string"},
                    }
                ),
            },
            "appointments": {
                "type": "array",
                "items": obj(
                    {
                        "id": {"type": "string"},
                        "occurrence": {"type": "boolean"},
                        "versions": {
                            "type": "array",
                            "minItems": 1,
                            "items": obj(
                                {
                                    "at": TIME,
                                    "subject": {"type": "string"},
                                    "start": TIME,
                                    "end": TIME,
                                    "change": {"type": "string"},
                                }
                            ),
                        },
                    }
                ),
            },
            "polls": {
                "type": "array",
                "items": obj(
                    {
                        "at": TIME,
                        "outcome": {"enum": ["ok", "failed", "skipped"]},
                        "detail": {"type": "string"},
                    }
                ),
            },
            "calls": {"type": "array", "items": MARK},
            "mails": {"type": "array", "items": MARK},
            "failures": {"type": "array", "items": MARK},
            "decisions": {
                "type": "array",
                "items": obj(
                    {
                        "at": TIME,
                        "user": {"type": "string"},
                        "appointment_id": {"type": "string"},
                        "subject": {"type": "string"},
                        "verdict": {"type": "string"},
                    }
                ),
            },
        }
    ),
    "MailSummary": obj(
        {
            "id": {"type": "string"},
            "mailbox": {"type": "string"},
            "folder": {"type": "string"},
            "subject": {"type": "string"},
            "sender": {"type": "string"},
            "recipients": {"type": "array", "items": {"type": "string"}},
            "received": TIME,
            "size": {"type": "integer"},
            "sha256": {"type": "string"},
            "smtp": {"type": ["object", "null"]},
        }
    ),
    "MailDetail": {
        "allOf": [
            ref("MailSummary"),
            obj(
                {
                    "headers": {
                        "type": "array",
                        "items": {
                            "type": "array",
                            "prefixItems": [{"type": "string"}, {"type": "string"}],
                        },
                    },
                    "parts": {"type": "array", "items": {"type": "object"}},
                    "text_parts": {
                        "type": "array",
                        "items": obj(
                            {
                                "content_type": {"type": "string"},
                                "charset": NULL_STR,
                                "text": {"type": "string"},
                            }
                        ),
                    },
                    "attachments": {
                        "type": "array",
                        "items": obj(
                            {
                                "index": {"type": "integer"},
                                "filename": NULL_STR,
                                "content_type": {"type": "string"},
                                "size": {"type": "integer"},
                            }
                        ),
                    },
                    "defects": {"type": "array", "items": {"type": "string"}},
                }
            ),
        ]
    },
}


__all__ = ["NULL_STR", "NULL_TIME", "SCHEMAS", "TIME", "obj", "ref"]
