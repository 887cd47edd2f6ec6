"""OpenAPI additions: every operation documents the problem-details answers it can give, and each
page shape and union of answers is a named component, so a client generated from the schema has a type
for every answer."""

from http import HTTPStatus

from drf_spectacular import openapi
from drf_spectacular.utils import PolymorphicProxySerializer

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
# 503: the database is unreachable, or stopped a statement that ran too long (SyroMusic.web.middleware).
ERROR_STATUSES = [400, 401, 403, 404, 405, 406, 415, 429, 500, 503]

# A unique name or number another request took at the same moment (SyroMusic.web.middleware.ConflictMiddleware).
WRITE_ERROR_STATUSES = [409]
WRITES = {"post", "put", "patch", "delete"}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, naming a page after its pagination's `schema_name` (SongPage, SongList): a
    serializer paged two ways gives two components, not whichever shape was registered first."""

    def get_paginated_name(self, serializer_name):
        schema_name = getattr(self._get_paginator(), "schema_name", None)
        return schema_name.format(serializer_name) if schema_name else super().get_paginated_name(serializer_name)


ANY_OF = set()


def any_of(component_name, serializers):
    """An answer that is one of several shapes which may overlap (an empty page of artists is an empty
    page of songs too): `anyOf` in the schema, where drf-spectacular writes `oneOf`."""
    ANY_OF.add(component_name)
    return PolymorphicProxySerializer(
        component_name=component_name, serializers=serializers, resource_type_field_name=None
    )


def name_union_members(result, generator, request, public):
    """Each page shape of a union (SyroMusic.api.pagination.CatalogueListPagination) becomes the named
    component its pagination alone would give (SongPage, SongCursorPage); the any_of() unions get anyOf."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in list(schemas.items()):
        if name in ANY_OF and "oneOf" in schema:
            schema["anyOf"] = schema.pop("oneOf")
        for index, member in enumerate(schema.get("anyOf", [])):
            if "x-page-shape" in member:
                member = dict(member)
                item = member["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[1]
                member_name = member.pop("x-page-shape").format(item)
                schemas.setdefault(member_name, member)
                schema["anyOf"][index] = {"$ref": f"#/components/schemas/{member_name}"}
    return result


def add_problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in ERROR_STATUSES + (WRITE_ERROR_STATUSES if method in WRITES else []):
                responses.setdefault(
                    str(status),
                    {
                        "description": HTTPStatus(status).phrase,
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                )
    return result
