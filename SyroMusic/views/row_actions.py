"""A song row's personal actions: like it, add it to one of the listener's playlists or to a new one.

The row's menu (templatetag queue_menu) is the same for every visitor, so cached pages stay shared; a
listener's liked state and playlists come from `song_row_actions`, fetched by row-actions.js when the menu
opens. Without JavaScript the menu links to `song_add_to_playlist`, a small page that does the same.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from SyroMusic.models import Playlist, PlaylistEntry, Song
from SyroMusic.services import playlist_add_song

from .forms import PlaylistForm


def _song(request, pk):
    return get_object_or_404(Song.objects.select_related("artist").with_liked(request.user), pk=pk)


def _choices(user, song):
    """The playlists the user may add to, each saying whether it holds the song already: one query."""
    holds = Exists(PlaylistEntry.objects.filter(playlist=OuterRef("pk"), song=song))
    return Playlist.objects.editable_by(user).only("id", "name").annotate(has_song=holds)


def _next(request):
    """Where to return to: the page the listener came from (`next`, on this site), else the song's page."""
    target = request.POST.get("next") or request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if safe else reverse("music:song-detail", args=[request.resolver_match.kwargs["pk"]])


@login_required
def song_row_actions(request, pk):
    """The menu's personal part, as HTML for row-actions.js: the heart and the playlists."""
    song = _song(request, pk)
    context = {"song": song, "playlists": _choices(request.user, song), "next": _next(request)}
    return render(request, "syromusic/_row_actions.html", context)


@login_required
def song_add_to_playlist(request, pk):
    """GET: the page without JavaScript (the heart, a button per playlist, "New playlist"). POST `playlist`:
    add the song there (404 for a playlist the listener may not edit); POST `name`: a new playlist with it.
    Answers JSON to row-actions.js (it asks for it), else goes back to `next` with a message."""
    song = _song(request, pk)
    back = _next(request)
    if request.method != "POST":
        context = {"song": song, "playlists": _choices(request.user, song), "next": back}
        return render(request, "syromusic/song_add_to_playlist.html", context)
    if "name" in request.POST:
        done, status = _add_to_new(request, song)
    else:
        playlist = get_object_or_404(Playlist.objects.editable_by(request.user), pk=_digits(request.POST.get("playlist")))
        done, status = _add(request, song, playlist)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"message": done}, status=status)
    (messages.success if status < 300 else messages.error)(request, done)
    return redirect(back)


def _digits(value):
    # isascii: "²".isdigit() is true, and int("²") fails.
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 19 else 0


def _add(request, song, playlist):
    try:
        added = playlist_add_song(playlist=playlist, song=song, by=request.user)
    except ValidationError as error:
        return " ".join(error.messages), 409
    if not added:
        return f"“{song.title}” is already in {playlist.name}.", 409
    return f"Added “{song.title}” to {playlist.name}.", 200


def _add_to_new(request, song):
    form = PlaylistForm({"name": request.POST["name"]}, owner=request.user)
    if not form.is_valid():
        return " ".join(form.errors["name"]), 400
    playlist = form.save(commit=False)
    playlist.owner = request.user
    try:
        with transaction.atomic():
            playlist.save_with_unique_name()
            playlist.add_songs([song], by=request.user)
    except ValidationError as error:
        return " ".join(error.messages), 400
    return f"Created {playlist.name} with “{song.title}” in it.", 201
