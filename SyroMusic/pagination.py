"""Pagination for the catalogue pages: forgiving page numbers, cached counts, cheap last pages."""

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connections
from django.utils.functional import cached_property

from . import caching

# Above this many rows, an unfiltered list on PostgreSQL shows the planner's estimate of its size:
# an exact COUNT(*) of a million rows takes longer than the rest of the page.
ESTIMATE_ABOVE = 100_000


def count_rows(queryset):
    """(number of rows, whether it is an estimate), in one query.

    An unfiltered table on PostgreSQL bigger than ESTIMATE_ABOVE gives the
    planner's estimate (kept current by autovacuum's ANALYZE); anything else an
    exact COUNT(*). The exact count is an InitPlan, which PostgreSQL runs only
    if the CASE needs it.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or queryset.query.where or queryset.query.distinct:
        return queryset.count(), False
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT CASE WHEN reltuples >= %s THEN reltuples::bigint ELSE (SELECT COUNT(*) FROM {table}) END, "
            "reltuples >= %s FROM pg_class WHERE oid = %s::regclass",
            [ESTIMATE_ABOVE, ESTIMATE_ABOVE, table],
        )
        count, estimated = cursor.fetchone()
    return count, estimated


class CataloguePaginator(Paginator):
    """A Paginator whose count is cached until the catalogue changes, and whose far pages are cheap.

    OFFSET costs as many rows as it skips. So a page past the middle is read
    with the ordering reversed and the smaller offset from the end, then
    flipped (the last page of a million songs costs what the first does), and
    the skipping is done on ids alone, in a subquery, before any join.
    The queryset's ordering must end in a unique column (every list orders by ..., id).
    """

    def __init__(self, object_list, per_page, *, areas=caching.AREAS, count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.areas = areas
        self.known_count = count
        self.estimated = False

    @cached_property
    def count(self):
        if self.known_count is not None:
            return self.known_count
        count, self.estimated = caching.cached_count(self.object_list, self.areas, counter=count_rows)
        return count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        rows = self.object_list
        if bottom > self.count // 2 and hasattr(rows, "reverse"):
            rows, bottom, top, flipped = rows.reverse(), self.count - top, self.count - bottom, True
        else:
            flipped = False
        if hasattr(rows, "values") and bottom > 0:
            # Skip rows through the ids alone (an index-only scan), then load just this page's rows
            # with their joins: the joins are not made for the rows skipped.
            rows = rows.filter(pk__in=rows.values("pk")[bottom:top])
        else:
            rows = rows[bottom:top]
        rows = list(rows)
        if flipped:
            rows.reverse()
        return self._get_page(rows, number, self)


def page_of(request, paginator, parameter="page"):
    """The requested page, forgiving bad input: `abc`, `0` or `-3` give page 1, a page past the end the last."""
    raw = request.GET.get(parameter, "1")
    try:
        number = int(raw)
    except (TypeError, ValueError):
        number = 1
    number = min(max(number, 1), paginator.num_pages)
    try:
        return paginator.page(number)
    except (EmptyPage, PageNotAnInteger):
        return paginator.page(1)


def page_window(page, radius=2):
    """Page numbers to show around the current one, with None where numbers are skipped: 1 … 4 5 6 7 8 … 40."""
    last = page.paginator.num_pages
    shown = {1, last, *range(max(1, page.number - radius), min(last, page.number + radius) + 1)}
    window, previous = [], 0
    for number in sorted(shown):
        if number - previous > 1:
            window.append(None)
        window.append(number)
        previous = number
    return window
