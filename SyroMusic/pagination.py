"""Pagination for the catalogue pages: forgiving page numbers, cached counts, cheap last pages."""

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

from . import caching


class CataloguePaginator(Paginator):
    """A Paginator whose count is cached until the catalogue changes, and whose far pages read backwards.

    OFFSET costs as many rows as it skips, so a page past the middle is read
    with the ordering reversed and the smaller offset from the end, then
    flipped: the last page of a million songs costs what the first does.
    The queryset's ordering must end in a unique column (every list orders by ..., id).
    """

    def __init__(self, object_list, per_page, *, areas=caching.AREAS, count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.areas = areas
        self.known_count = count

    @cached_property
    def count(self):
        if self.known_count is not None:
            return self.known_count
        return caching.cached_count(self.object_list, self.areas)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if bottom > self.count // 2 and hasattr(self.object_list, "reverse"):
            from_end = self.count - top
            rows = list(self.object_list.reverse()[from_end : from_end + (top - bottom)])
            rows.reverse()
        else:
            rows = self.object_list[bottom:top]
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
