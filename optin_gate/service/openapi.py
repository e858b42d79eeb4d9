"""`/openapi.json`: the service's OpenAPI 3.1 description, built here and only here.

The tests validate it against the OpenAPI 3.1 schema and check that every route the app
answers is described, so the document cannot drift from the server.
"""

from __future__ import annotations

from typing import Any

from optin_gate.rules import Reason
from optin_gate.service.params import MAX_NUMBERS

__all__ = ["document"]

_VERSION = "1"
_TEXT = {"text/plain": {"schema": {"type": "string"}}}


def _query(name: str, description: str, *, required: bool = False, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


_CAMPAIGN = {
    "controller": "The calling company; a token with one controller may leave it out.",
    "call_type": "live (a person speaks, the default) or automated.",
    "at": "Decide as of this ISO 8601 time (default now; no zone = Prague time).",
    "purpose": "The campaign's purpose: a consent for other purposes does not count.",
    "sector": "The campaign's marketing sector.",
    "caller_id": "The number the call is made from.",
}


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description + " Text bodies start with `0 ERROR`.",
        "content": {
            **_TEXT,
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
        },
    }


_ERRORS = {
    "400": _error("Bad request."),
    "401": _error("No token, or an unknown one."),
    "403": _error("The token may not use this controller."),
    "503": _error("Not ready: the dial index is being built, too old or unreadable."),
}


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the gate service."""
    result_props: dict[str, Any] = {
        "number": {**_nullable("string"), "description": "The number as sent."},
        "e164": {**_nullable("string"), "description": "E.164; null unless valid."},
        "allowed": {"type": "boolean"},
        "reason": {"type": "string", "enum": [r.value for r in Reason]},
        "evidence": _nullable("string"),
        "rule_set": {"type": "string"},
        "controller": {"type": "string"},
        "call_type": {"type": "string", "enum": ["live", "automated"]},
        "at": {"type": "string", "format": "date-time", "description": "Prague time."},
        "ref": _nullable("string"),
    }
    campaign_props = {
        name: {**_nullable("string"), "description": text} for name, text in _CAMPAIGN.items()
    }
    check_params = [
        _query("number", "The number to check, e.g. +420601234567.", required=True),
        *(_query(n, text) for n, text in _CAMPAIGN.items()),
        _query("ref", "Echoed back in JSON answers (e.g. the dialler's call id)."),
        _query(
            "format",
            "json for a JSON answer (as with Accept: application/json).",
            enum=["json", "text"],
        ),
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "optin-gate service",
            "version": _VERSION,
            "description": "May this number be called for marketing now? One answer per "
            "number; a text answer's first character is 1 to dial, anything else not to.",
        },
        "servers": [{"url": "http://127.0.0.1:8787"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Result": {
                    "type": "object",
                    "properties": result_props,
                    "required": list(result_props),
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "integer"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
            },
        },
        "security": [{"bearer": []}, {}],
        "paths": {
            "/v1/check": {
                "get": {
                    "summary": "Check one number.",
                    "operationId": "check",
                    "parameters": check_params,
                    "responses": {
                        "200": {
                            "description": "The decision: `1 CONSENT consent:C-1` (text) or JSON.",
                            "content": {
                                **_TEXT,
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Result"}
                                },
                            },
                        },
                        **_ERRORS,
                    },
                },
                "post": {
                    "summary": f"Check up to {MAX_NUMBERS} numbers at one time.",
                    "operationId": "checkMany",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        **campaign_props,
                                        "numbers": {
                                            "type": "array",
                                            "maxItems": MAX_NUMBERS,
                                            "items": _nullable("string"),
                                        },
                                        "refs": {"type": "array", "items": _nullable("string")},
                                    },
                                    "required": ["numbers"],
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "One result per number, in order.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "results": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Result"},
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        **_ERRORS,
                        "413": _error(f"More than {MAX_NUMBERS} numbers."),
                    },
                },
            },
            "/v1/objections": {
                "post": {
                    "summary": "Record an objection; durable before the answer.",
                    "operationId": "recordObjection",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "number": {"type": "string"},
                                        "controller": {
                                            **_nullable("string"),
                                            "description": "null: every controller.",
                                        },
                                        "at": _nullable("string"),
                                        "source": _nullable("string"),
                                        "objection_id": _nullable("string"),
                                    },
                                    "required": ["number"],
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Recorded: the next check of it answers OBJECTION.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "objection_id": {"type": "string"},
                                            "e164": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        },
                        **_ERRORS,
                    },
                },
            },
            "/healthz": {
                "get": {
                    "summary": "Whether the server answers from a fresh index.",
                    "operationId": "health",
                    "security": [{}],
                    "responses": {
                        "200": {
                            "description": "ok, with index_age_s.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "503": {
                            "description": "Starting, or the index is older than --max-index-age.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus text exposition.",
                    "operationId": "metrics",
                    "security": [{}],
                    "responses": {"200": {"description": "The metrics.", "content": _TEXT}},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "operationId": "openapi",
                    "security": [{}],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
    }
