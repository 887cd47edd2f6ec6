"""Listening stats: a listener's own, and another's when their profile shares them.

Never cached on the server (they change with every listen and belong to one listener); browsers must ask
again each time."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import cache_control

from SyroMusic.listening.stats import DEFAULT_RANGE, RANGES, stats_for
from SyroMusic.models import Profile

from . import charts
from .stats_text import stats_rows


@login_required
@cache_control(private=True, no_cache=True)
def my_stats(request):
    return _stats_page(request, request.user)


@cache_control(private=True, no_cache=True)
def user_stats(request, username):
    """Another listener's stats: 404 unless their profile is public and shares them (yours always)."""
    person = get_object_or_404(get_user_model().objects.select_related("profile"), username=username)
    if not Profile.of(person).stats_visible_to(request.user):
        raise Http404("No such listener's stats.")
    return _stats_page(request, person)


def _stats_page(request, person):
    # Like the list pages, a range the page does not know shows the default and says so.
    chosen = request.GET.get("range", DEFAULT_RANGE)
    ignored = None if chosen in RANGES else chosen
    stats = stats_for(person, DEFAULT_RANGE if ignored is not None else chosen)
    own = request.user.pk == person.pk
    context = {
        "person": person,
        "own": own,
        "heading": "Your stats" if own else f"{person.get_username()}’s stats",
        "stats": stats,
        "ranges": RANGES,
        "ignored": ignored,
        "hours_chart": charts.hours_chart(stats),
        "weekdays_chart": charts.weekdays_chart(stats),
        "months_chart": charts.months_chart(stats),
        **stats_rows(stats),
    }
    response = render(request, "syromusic/stats.html", context)
    patch_vary_headers(response, ["Cookie"])
    return response
