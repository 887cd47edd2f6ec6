"""The search page, the header box's suggestions, and a listener's search history."""

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from SyroMusic import caching
from SyroMusic import search as searching
from SyroMusic.models import Playlist, Song
from SyroMusic.pagination import page_of, page_window
from SyroMusic.web.page_cache import cache_page_for_visitors, mark_public

from .common import BOTH, safe_next


@cache_page_for_visitors(*BOTH)
def search_page(request):
    """/music/search/?q=: every type's best results with a "more" link each, or one type's (&type=), paginated."""
    raw, kind_name = request.GET.get("q", ""), request.GET.get("type", "")
    context = {"q": raw, "kind_name": kind_name, "kinds": searching.KINDS.values(), "groups": None, "page_obj": None}
    status = 200
    if kind_name and kind_name not in searching.KINDS:
        context["error"] = f"There is no type “{kind_name}” to search. Choose artist, album, song or playlist."
        status = 400
    elif "q" in request.GET:
        try:
            query = searching.parse(raw)
        except searching.SearchError as error:
            context["error"] = str(error)
            status = 200 if not raw.strip() else 400
        else:
            context["query"] = query
            # Songs as a song table's rows load them (two joins, not for_listing's five: see for_rows).
            loaded = {"song": Song.objects.for_rows().with_liked(request.user)}
            if kind_name:
                matches = searching.Matches(
                    searching.KINDS[kind_name], query, request.user, loaded.get(kind_name)
                )
                page = page_of(request, Paginator(matches, searching.PER_PAGE))
                context.update(
                    kind=searching.KINDS[kind_name], matches=matches, page_obj=page, page_window=page_window(page)
                )
                if matches.looked_for_typos:
                    context["did_you_mean"] = searching.correction(query)
            else:
                context["groups"] = searching.best(query, request.user, loaded=loaded)
                context["did_you_mean"] = searching.correction(query)
            if request.user.is_authenticated:
                searching.remember_search(request.user, query, kind_name)
    if request.user.is_authenticated:
        context["history"] = searching.history(request.user)
        context["my_playlists"] = list(Playlist.objects.editable_by(request.user).only("id", "name"))
    return render(request, "syromusic/search.html", context, status=status)


def search_suggest(request):
    """Suggestions for the header search box as JSON: {"query", "suggestions": [{type, label, detail, url}], "message"}.

    The same for everyone (catalogue names only), so remembered until the catalogue changes.
    """
    raw = request.GET.get("q", "")
    try:
        query = searching.parse(raw)
    except searching.SearchError as error:
        response = JsonResponse({"query": raw, "suggestions": [], "message": str(error)})
    else:
        digest = hashlib.sha256(query.key.encode()).hexdigest()
        items = caching.remember(f"suggest:{digest}", (caching.CATALOGUE,), lambda: searching.suggestions(query))
        response = JsonResponse({"query": raw, "suggestions": items, "message": "" if items else "No matches."})
    mark_public(response, max_age=60)  # the same for everyone: browsers keep it a minute
    return response


@login_required
@require_POST
def search_history_remove(request, entry_id):
    if not searching.forget_search(request.user, entry_id):
        raise Http404("There is no such search in your history.")
    return redirect(safe_next(request, reverse("music:search")))


@login_required
@require_POST
def search_history_clear(request):
    deleted = searching.forget_history(request.user)
    messages.success(request, f"Cleared your search history ({deleted} search{'es' if deleted != 1 else ''}).")
    return redirect(safe_next(request, reverse("music:search")))
