"""Home, artists, albums and songs."""

from django.db.models import Count, Max, OuterRef, Prefetch, Subquery
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
# An artist without a picture shows their four newest covers (templatetags artist_picture: two by two).
COLLAGE_SIZE = 4


@cache_page_for_visitors(*BOTH)
def home(request):
    counts = caching.remember("catalogue-counts", BOTH, catalogue_counts)
    context = {
        "counts": counts,
        "newest_albums": Album.objects.for_listing().exclude(release_date=None).newest_first()[:12],
        "popular_songs": Song.objects.for_rows().most_popular()[:10],
        "playlists": Playlist.objects.public().for_listing().recently_updated()[:6],
    }
    return render(request, "syromusic/home.html", context)


def filtered_list(request, form, queryset, per_page, template):
    """A list page: the form's filters and sort applied, then the requested page."""
    context = {"form": form, **paginate(request, form.apply(queryset), per_page, count=form.count())}
    return render(request, template, context)


def artist_cover_albums():
    """The newest covers of each artist (artist.cover_albums), for the collage of an artist without a picture:
    one query for all the artists of a page (a sliced prefetch: a window function per artist)."""
    covered = Album.objects.exclude(cover_hash="", cover_url="").newest_first().only(
        "id", "artist_id", "cover_hash", "cover_url"
    )
    return Prefetch("albums", queryset=covered[:COLLAGE_SIZE], to_attr="cover_albums")


@cache_page_for_visitors(caching.CATALOGUE, listeners=True)
def artist_list(request):
    form = ArtistListForm(request.GET)
    artists = Artist.objects.prefetch_related(artist_cover_albums())
    return filtered_list(request, form, artists, ARTISTS_PER_PAGE, "syromusic/artist_list.html")


@cache_page_for_visitors(caching.CATALOGUE)
def artist_detail(request, pk):
    artist = get_object_or_404(Artist.objects.with_liked(request.user).prefetch_related(artist_cover_albums()), pk=pk)
    context = {
        "artist": artist,
        "top_songs": artist.songs.for_rows().most_popular()[:10],
        "may_listen": may_listen(request.user),
        **paginate(request, artist.albums.in_discography_order(), DISCOGRAPHY_PER_PAGE),
    }
    return render(request, "syromusic/artist_detail.html", context)


@cache_page_for_visitors(caching.CATALOGUE, listeners=True)
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


@cache_page_for_visitors(caching.CATALOGUE, listeners=True)
def song_list(request):
    form = SongListForm(request.GET, genres=list(Genre.objects.all()))
    return filtered_list(request, form, Song.objects.for_rows(), SONGS_PER_PAGE, "syromusic/song_list.html")


def _with_album_place(songs):
    """"Track 1 of 12" and "Disc 2 of 2" on the song page: the counts come in the song's own query.
    (A candidate for SongQuerySet.for_page once the schema owner takes it.)"""
    album_songs = Song.objects.filter(album=OuterRef("album")).order_by().values("album")
    return songs.annotate(
        tracks_on_disc=Subquery(
            album_songs.filter(disc_number=OuterRef("disc_number")).annotate(n=Count("pk")).values("n")
        ),
        disc_count=Subquery(album_songs.annotate(n=Max("disc_number")).values("n")),
    )


@cache_page_for_visitors(*BOTH)
def song_detail(request, pk):
    song = get_object_or_404(_with_album_place(Song.objects.for_page().with_liked(request.user)), pk=pk)
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
