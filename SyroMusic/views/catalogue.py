"""Home, artists, albums and songs."""

from django.shortcuts import get_object_or_404, render

from SyroMusic import caching
from SyroMusic.models import Album, Artist, Genre, Playlist, Song, catalogue_counts, may_listen
from SyroMusic.web.page_cache import cache_page_for_visitors

from .common import BOTH, paginate
from .forms import AlbumListForm, ArtistListForm, SongListForm

ARTISTS_PER_PAGE = 25
ALBUMS_PER_PAGE = 25
SONGS_PER_PAGE = 50
DISCOGRAPHY_PER_PAGE = 50


@cache_page_for_visitors(*BOTH)
def home(request):
    counts = caching.remember("catalogue-counts", BOTH, catalogue_counts)
    context = {
        "counts": counts,
        "newest_albums": Album.objects.for_listing().exclude(release_date=None).newest_first()[:12],
        "popular_songs": Song.objects.for_listing().most_popular()[:10],
        "playlists": Playlist.objects.public().for_listing().recently_updated()[:6],
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
    artist = get_object_or_404(Artist.objects.with_liked(request.user), pk=pk)
    context = {
        "artist": artist,
        "top_songs": artist.songs.for_listing().most_popular()[:10],
        "may_listen": may_listen(request.user),
        **paginate(request, artist.albums.in_discography_order(), DISCOGRAPHY_PER_PAGE),
    }
    return render(request, "syromusic/artist_detail.html", context)


@cache_page_for_visitors(caching.CATALOGUE)
def album_list(request):
    form = AlbumListForm(request.GET, genres=list(Genre.objects.all()))
    return filtered_list(request, form, Album.objects.for_listing(), ALBUMS_PER_PAGE, "syromusic/album_list.html")


@cache_page_for_visitors(caching.CATALOGUE)
def album_detail(request, pk):
    album = get_object_or_404(Album.objects.for_listing().with_genres().with_liked(request.user), pk=pk)
    songs = list(album.songs.for_listing().in_tracklist_order())
    context = {
        "album": album,
        "songs": songs,
        "total_duration_ms": sum(song.duration_ms or 0 for song in songs),
        "playable_count": sum(song.is_playable for song in songs),
        "other_albums": album.artist.albums.exclude(pk=album.pk).newest_first()[:12],
        # The same for every anonymous visitor (a setting), so the cached page may show it.
        "may_listen": may_listen(request.user),
    }
    if request.user.is_authenticated:
        context["my_playlists"] = Playlist.objects.editable_by(request.user).only("id", "name")
    return render(request, "syromusic/album_detail.html", context)


@cache_page_for_visitors(caching.CATALOGUE)
def song_list(request):
    form = SongListForm(request.GET, genres=list(Genre.objects.all()))
    return filtered_list(request, form, Song.objects.for_listing(), SONGS_PER_PAGE, "syromusic/song_list.html")


@cache_page_for_visitors(*BOTH)
def song_detail(request, pk):
    song = get_object_or_404(Song.objects.for_page().with_liked(request.user), pk=pk)
    playlists = (
        Playlist.objects.visible_to(request.user)
        .filter(entries__song=song)
        .select_related("owner")
        .distinct()
        .recently_updated()[:20]
    )
    context = {"song": song, "playlists": playlists, "may_listen": may_listen(request.user)}
    if request.user.is_authenticated:
        context["my_playlists"] = Playlist.objects.editable_by(request.user).only("id", "name")
    return render(request, "syromusic/song_detail.html", context)
