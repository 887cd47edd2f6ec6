"""Pages for the benchmark (bench/suite.py) only: mounted under /bench/ when BENCH_BASELINE=1, never otherwise.

- `minimal/`: a constant response through the same middleware and settings, the ceiling for any page.
- `before/...`: each page as the seed served it, to measure our improvement against: no
  select_related or prefetch (so the templates and serializers query once per row), an exact
  COUNT(*), no page cache, no gzip, and no pagination limit. "No limit" is capped at
  BASELINE_ROWS rows, so that a list of a million songs still finishes on a small machine.
"""

import functools
import os

from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from rest_framework import generics
from rest_framework.pagination import PageNumberPagination

from SyroMusic.api import serializers
from SyroMusic.models import Album, Artist, Playlist, PlaylistEntry, Song, catalogue_counts
from SyroMusic.pagination import page_window

# What two cores render in a few seconds with one query per row: the cap on "every row". The smoke run
# (BENCH_SMALL=1) lowers it through BENCH_BASELINE_ROWS: it checks that the pages work, not how slow they were.
BASELINE_ROWS = int(os.environ.get("BENCH_BASELINE_ROWS") or 1000)
MINIMAL_BODY = b"<!doctype html><title>ok</title><p>ok</p>\n"

app_name = "bench"


def minimal(request):
    return HttpResponse(MINIMAL_BODY, content_type="text/html; charset=utf-8")


def uncompressed(view):
    """The seed sent every page uncompressed: GZipMiddleware compresses only when the client accepts gzip."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        request.META.pop("HTTP_ACCEPT_ENCODING", None)
        return view(request, *args, **kwargs)

    return wrapper


def every_row(request, queryset):
    page = Paginator(queryset, BASELINE_ROWS).page(1)
    return {"page_obj": page, "page_window": page_window(page)}


@uncompressed
def home(request):
    context = {
        "counts": catalogue_counts(),
        "newest_albums": Album.objects.exclude(release_date=None).order_by("-release_date", "-id")[:12],
        "popular_songs": Song.objects.order_by("-popularity", "-id")[:10],
        "playlists": _playlists().order_by("-updated_at", "-id")[:6],
    }
    return render(request, "syromusic/home.html", context)


@uncompressed
def artist_list(request):
    return render(request, "syromusic/artist_list.html", every_row(request, Artist.objects.order_by("sort_name", "id")))


@uncompressed
def artist_detail(request, pk):
    artist = get_object_or_404(Artist, pk=pk)
    context = {
        "artist": artist,
        "top_songs": artist.songs.order_by("-popularity", "-id")[:10],
        **every_row(request, artist.albums.order_by("-release_date", "-id")),
    }
    return render(request, "syromusic/artist_detail.html", context)


@uncompressed
def album_list(request):
    return render(request, "syromusic/album_list.html", every_row(request, Album.objects.order_by("title", "id")))


@uncompressed
def album_detail(request, pk):
    album = get_object_or_404(Album, pk=pk)
    songs = list(album.songs.order_by("disc_number", "track_number", "id"))
    context = {
        "album": album,
        "songs": songs,
        "total_duration_ms": sum(song.duration_ms or 0 for song in songs),
        "other_albums": album.artist.albums.exclude(pk=album.pk).order_by("-release_date", "-id")[:12],
    }
    return render(request, "syromusic/album_detail.html", context)


@uncompressed
def song_list(request):
    return render(request, "syromusic/song_list.html", every_row(request, Song.objects.order_by("title", "id")))


@uncompressed
def song_detail(request, pk):
    song = get_object_or_404(Song, pk=pk)
    playlists = Playlist.objects.public().filter(entries__song=song).distinct().order_by("-updated_at", "-id")[:20]
    return render(request, "syromusic/song_detail.html", {"song": song, "playlists": playlists})


def _playlists():
    # The per-row figures the list shows, as the seed computed them: a GROUP BY over every playlist.
    return Playlist.objects.public().annotate(entry_count=Count("entries"), total_duration_ms=Sum("entries__song__duration_ms"))


@uncompressed
def playlist_list(request):
    return render(request, "syromusic/playlist_list.html", every_row(request, _playlists().order_by("-updated_at", "-id")))


@uncompressed
def playlist_detail(request, pk):
    playlist = get_object_or_404(Playlist.objects.public(), pk=pk)
    totals = PlaylistEntry.objects.filter(playlist=playlist).aggregate(count=Count("id"), duration_ms=Sum("song__duration_ms"))
    context = {
        "playlist": playlist,
        "is_owner": False,
        "can_edit": False,
        "can_manage": False,
        "entry_count": totals["count"],
        "total_duration_ms": totals["duration_ms"] or 0,
        **every_row(request, playlist.entries.order_by("position")),
    }
    return render(request, "syromusic/playlist_detail.html", context)


class EveryRow(PageNumberPagination):
    page_size = BASELINE_ROWS


class SongList(generics.ListAPIView):
    queryset = Song.objects.order_by("id")
    serializer_class = serializers.SongSerializer
    pagination_class = EveryRow


class AlbumList(generics.ListAPIView):
    queryset = Album.objects.order_by("id")
    serializer_class = serializers.AlbumSerializer
    pagination_class = EveryRow


urlpatterns = [
    path("minimal/", minimal, name="minimal"),
    path("before/", home, name="home"),
    path("before/music/artists/", artist_list, name="artist-list"),
    path("before/music/artists/<int:pk>/", artist_detail, name="artist-detail"),
    path("before/music/albums/", album_list, name="album-list"),
    path("before/music/albums/<int:pk>/", album_detail, name="album-detail"),
    path("before/music/songs/", song_list, name="song-list"),
    path("before/music/songs/<int:pk>/", song_detail, name="song-detail"),
    path("before/music/playlists/", playlist_list, name="playlist-list"),
    path("before/music/playlists/<int:pk>/", playlist_detail, name="playlist-detail"),
    path("before/api/v1/songs/", uncompressed(SongList.as_view()), name="api-song-list"),
    path("before/api/v1/albums/", uncompressed(AlbumList.as_view()), name="api-album-list"),
]
