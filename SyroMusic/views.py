"""The listener's pages. Each runs a fixed number of queries, stated in its test.

List pages and the home page are cached for anonymous visitors (see caching.py);
detail pages are too, keyed by the same versions, so a write anywhere shows on
the very next request.
"""

import logging

from django.db.models import Count, Sum
from django.http import HttpResponseServerError
from django.shortcuts import get_object_or_404, render

from . import caching
from .api.errors import problem_response
from .caching import cache_page_for_visitors
from .forms import AlbumListForm, ArtistListForm, SongListForm
from .models import Album, Artist, Genre, Playlist, PlaylistEntry, Song, catalogue_counts
from .pagination import CataloguePaginator, page_of, page_window

ARTISTS_PER_PAGE = 25
ALBUMS_PER_PAGE = 25
SONGS_PER_PAGE = 50
PLAYLISTS_PER_PAGE = 20
DISCOGRAPHY_PER_PAGE = 50
ENTRIES_PER_PAGE = 100
BOTH = (caching.CATALOGUE, caching.PLAYLISTS)
PLAIN_500 = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong · SyroMusic</title>'
    "</head><body><h1>Something went wrong</h1><p>The server could not show this page. Please try again in a "
    'moment.</p><p><a href="/">Go to the home page</a></p></body></html>'
)

logger = logging.getLogger(__name__)


def paginate(request, queryset, per_page, *, areas=(caching.CATALOGUE,), count=None):
    paginator = CataloguePaginator(queryset, per_page, areas=areas, count=count)
    page = page_of(request, paginator)
    return {"page_obj": page, "page_window": page_window(page)}


@cache_page_for_visitors(*BOTH)
def home(request):
    counts = caching.remember("catalogue-counts", BOTH, catalogue_counts)
    context = {
        "counts": counts,
        "newest_albums": Album.objects.for_listing().exclude(release_date=None).order_by("-release_date", "-id")[:12],
        "popular_songs": Song.objects.for_listing().order_by("-popularity", "-id")[:10],
        "playlists": Playlist.objects.public().for_listing().order_by("-updated_at", "-id")[:6],
    }
    return render(request, "syromusic/home.html", context)


def filtered_list(request, form, queryset, per_page, template):
    """A list page: the form's filters and sort applied, then the requested page."""
    context = {"form": form, **paginate(request, form.apply(queryset), per_page)}
    return render(request, template, context)


@cache_page_for_visitors(caching.CATALOGUE)
def artist_list(request):
    form = ArtistListForm(request.GET)
    return filtered_list(request, form, Artist.objects.all(), ARTISTS_PER_PAGE, "syromusic/artist_list.html")


@cache_page_for_visitors(caching.CATALOGUE)
def artist_detail(request, pk):
    artist = get_object_or_404(Artist, pk=pk)
    albums = artist.albums.in_discography_order()
    context = {
        "artist": artist,
        "top_songs": artist.songs.for_listing().order_by("-popularity", "-id")[:10],
        **paginate(request, albums, DISCOGRAPHY_PER_PAGE),
    }
    return render(request, "syromusic/artist_detail.html", context)


@cache_page_for_visitors(caching.CATALOGUE)
def album_list(request):
    form = AlbumListForm(request.GET, genres=list(Genre.objects.all()))
    return filtered_list(request, form, Album.objects.for_listing(), ALBUMS_PER_PAGE, "syromusic/album_list.html")


@cache_page_for_visitors(caching.CATALOGUE)
def album_detail(request, pk):
    album = get_object_or_404(Album.objects.for_listing().with_genres(), pk=pk)
    songs = list(album.songs.for_listing().in_tracklist_order())
    context = {
        "album": album,
        "songs": songs,
        "total_duration_ms": sum(song.duration_ms or 0 for song in songs),
        "other_albums": album.artist.albums.exclude(pk=album.pk).order_by("-release_date", "-id")[:12],
    }
    return render(request, "syromusic/album_detail.html", context)


@cache_page_for_visitors(caching.CATALOGUE)
def song_list(request):
    form = SongListForm(request.GET, genres=list(Genre.objects.all()))
    return filtered_list(request, form, Song.objects.for_listing(), SONGS_PER_PAGE, "syromusic/song_list.html")


@cache_page_for_visitors(*BOTH)
def song_detail(request, pk):
    song = get_object_or_404(Song.objects.for_listing(), pk=pk)
    playlists = (
        Playlist.objects.visible_to(request.user)
        .filter(entries__song=song)
        .select_related("owner")
        .distinct()
        .order_by("-updated_at", "-id")[:20]
    )
    return render(request, "syromusic/song_detail.html", {"song": song, "playlists": playlists})


@cache_page_for_visitors(*BOTH)
def playlist_list(request):
    playlists = Playlist.objects.public().for_listing().order_by("-updated_at", "-id")
    context = paginate(request, playlists, PLAYLISTS_PER_PAGE, areas=BOTH)
    return render(request, "syromusic/playlist_list.html", context)


@cache_page_for_visitors(*BOTH)
def playlist_detail(request, pk):
    # Private playlists answer 404 to everyone but their owner: their existence is not ours to reveal.
    playlist = get_object_or_404(Playlist.objects.visible_to(request.user).select_related("owner"), pk=pk)
    totals = PlaylistEntry.objects.filter(playlist=playlist).aggregate(
        count=Count("id"), duration_ms=Sum("song__duration_ms")
    )
    entries = playlist.entries_in_order()
    context = {
        "playlist": playlist,
        "entry_count": totals["count"],
        "total_duration_ms": totals["duration_ms"] or 0,
        **paginate(request, entries, ENTRIES_PER_PAGE, areas=BOTH, count=totals["count"]),
    }
    return render(request, "syromusic/playlist_detail.html", context)


def page_not_found(request, exception):
    if request.path.startswith("/api/"):
        return problem_response(request, 404, "There is no API endpoint at this address.")
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith("/api/"):
        return problem_response(request, 500, "The server failed to answer this request. It has been logged.")
    # No context processors: whatever failed may be what they would call. And if the
    # layout itself cannot render (say, static files were never collected), say so plainly.
    try:
        return render(None, "500.html", status=500)
    except Exception:
        logger.exception("the 500 page could not be rendered")
        return HttpResponseServerError(PLAIN_500, content_type="text/html; charset=utf-8")
