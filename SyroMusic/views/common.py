"""What several page modules share: a page of a list with its navigation, and safe redirects."""

from django.utils.http import url_has_allowed_host_and_scheme

from SyroMusic import caching
from SyroMusic.pagination import CataloguePaginator, page_of, page_window

# Pages that show playlists change with the catalogue and with playlists.
BOTH = (caching.CATALOGUE, caching.PLAYLISTS)


def paginate(request, queryset, per_page, *, areas=(caching.CATALOGUE,), count=None):
    paginator = CataloguePaginator(queryset, per_page, areas=areas, count=count)
    page = page_of(request, paginator)
    return {"page_obj": page, "page_window": page_window(page)}


def safe_next(request, default):
    """Where a form asked to go back to (`next`), if it is on this site; else `default`."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default
