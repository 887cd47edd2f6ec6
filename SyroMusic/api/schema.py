"""OpenAPI additions: every operation documents the problem-details answers it can give."""

from http import HTTPStatus

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "example": "Bad Request"},
        "status": {"type": "integer", "example": 400},
        "detail": {"type": "string", "example": "The request has invalid fields: see errors."},
        "instance": {"type": "string", "example": "/api/v1/songs/?page=abc"},
        "errors": {
            "type": "object",
            "additionalProperties": True,
            "description": "Field name -> messages, for invalid input.",
        },
        "retry_after_seconds": {"type": "integer", "description": "With 429: when to try again."},
    },
    "required": ["type", "title", "status", "detail"],
}
ERROR_STATUSES = [400, 401, 403, 404, 405, 406, 415, 429, 500]


def add_problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in ERROR_STATUSES:
                responses.setdefault(
                    str(status),
                    {
                        "description": HTTPStatus(status).phrase,
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                )
    return result
