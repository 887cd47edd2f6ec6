"""Page-number pagination that says what was wrong, and cursor pagination for walking a collection."""

import re

from django.core.paginator import Paginator
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

from SyroMusic import search as searching
from SyroMusic.pagination import CataloguePaginator


class CataloguePageNumberPagination(PageNumberPagination):
    page_size = 50
    max_page_size = 100
    page_size_query_param = "page_size"
    django_paginator_class = CataloguePaginator
    schema_name = "{}Page"  # the page's component in the schema, from the item's (SongPage)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"page_size": [f"{raw!r} is not a whole number."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [f"Must be between 1 and {self.max_page_size}; got {size}."]})
        return size

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            number = int(raw)
        except ValueError:
            raise ValidationError({"page": [f"{raw!r} is not a whole number."]}) from None
        if number < 1:
            raise ValidationError({"page": [f"Pages start at 1; got {number}."]})
        if number > paginator.num_pages:
            raise NotFound(f"Page {number} does not exist: the last page is {paginator.num_pages}.")
        self.page = paginator.page(number)
        return list(self.page)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_is_estimate": self.page.paginator.estimated,
                "page": self.page.number,
                "pages": self.page.paginator.num_pages,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"].update(
            {
                "count_is_estimate": {"type": "boolean", "description": "True when count is PostgreSQL's estimate."},
                "page": {"type": "integer", "example": 1},
                "pages": {"type": "integer", "example": 20},
            }
        )
        schema["required"] = list(schema["properties"])  # every page has them all
        return schema

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:  # page and page_size: whole numbers from 1, page_size up to its maximum
            parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


class SearchPaginator(Paginator):
    estimated = False


class SearchPagination(CataloguePageNumberPagination):
    """Search results: PER_PAGE a page, the best MAX_RESULTS at most (see SyroMusic.search)."""

    page_size = searching.PER_PAGE
    django_paginator_class = SearchPaginator


class IdCursorPagination(CursorPagination):
    """Walks a whole collection in id order; every page costs the same however deep (WHERE id > ...)."""

    ordering = "id"
    page_size = 50
    max_page_size = 100
    page_size_query_param = "page_size"
    schema_name = "{}CursorPage"
    invalid_cursor_message = (
        "Not a cursor of this list: follow the next and previous links, or give cursor= empty to start."
    )
    # A position is an id: digits, few enough to fit the id column (a bigint).
    position_pattern = re.compile(r"[0-9]{1,18}")

    get_page_size = CataloguePageNumberPagination.get_page_size

    def get_ordering(self, request, queryset, view):
        return (self.ordering,)  # whatever ?ordering= says: a cursor walks by id

    def decode_cursor(self, request):
        """DRF's, but any cursor it did not make is a 400 naming the parameter: not a 404 (the list is
        there), and not a 500 for a position that is not an id (`p=abc`)."""
        try:
            cursor = super().decode_cursor(request)
            valid = cursor is None or cursor.position is None or self.position_pattern.fullmatch(cursor.position)
        except NotFound:
            valid = False
        if not valid:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return cursor

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["required"] = list(schema["properties"])
        return schema


class CatalogueListPagination:
    """Page numbers by default; `?cursor=` (empty to start) switches to cursor pages."""

    cursor_query_param = "cursor"
    schema_name = "{}List"  # SongList: a SongPage or a SongCursorPage
    display_page_controls = False  # the browsable API shows `next`/`previous` in the body

    def __init__(self):
        self.numbered = CataloguePageNumberPagination()
        self.cursor = IdCursorPagination()
        self.active = self.numbered

    def paginate_queryset(self, queryset, request, view=None):
        self.active = self.cursor if self.cursor_query_param in request.query_params else self.numbered
        return self.active.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return self.active.get_paginated_response(data)

    def get_results(self, data):
        return self.active.get_results(data)

    def get_paginated_response_schema(self, schema):
        # A numbered page (with count) or, with ?cursor=, a cursor page (next/previous/results only).
        # Not oneOf: a numbered page is a cursor page too, with more fields. SyroMusic.api.schema names
        # each shape as its pagination alone would (SongPage, SongCursorPage).
        return {
            "anyOf": [
                {**self.numbered.get_paginated_response_schema(schema), "x-page-shape": self.numbered.schema_name},
                {**self.cursor.get_paginated_response_schema(schema), "x-page-shape": self.cursor.schema_name},
            ]
        }

    def get_schema_operation_parameters(self, view):
        return [
            *self.numbered.get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Walk the collection in id order instead of by page number: give it empty to "
                "start, then follow `next`. Deep pages cost the same as the first. Ordering is ignored.",
                "schema": {"type": "string"},
            },
        ]
