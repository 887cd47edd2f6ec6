"""Pages marked for the page cache that turn out personal while rendering (test_cache.py)."""

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import path

from SyroMusic.web.page_cache import cache_page_for_visitors


@cache_page_for_visitors("catalogue")
def uses_a_token(request):
    return HttpResponse(f"token {get_token(request)}")


@cache_page_for_visitors("catalogue")
def writes_the_session(request):
    request.session["seen"] = True
    return HttpResponse("seen")


@cache_page_for_visitors("catalogue")
def inner(request):
    get_token(request)
    return HttpResponse("inner")


def outer(request):
    """A view that answers with another marked view's page, as catalogue_tracks does."""
    return inner(request)


urlpatterns = [
    path("token/", uses_a_token),
    path("session/", writes_the_session),
    path("outer/", outer),
]
