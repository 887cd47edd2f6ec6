"""Subsonic's browsing methods: the catalogue as the listener's apps see it.

Every list loads its rows through entries.songs/albums/artists (what an entry shows, joined once), so each
method runs a fixed number of queries whatever the size of the answer.
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, OuterRef, Subquery
from django.db.models.functions import Lower

from SyroMusic import search as searching
from SyroMusic.listening import record
from SyroMusic.models import Album, Artist, Genre, Listen, ListenAlbumTally, ListenTally, Song

from . import entries, ids
from .core import GENERIC, NOT_AUTHORIZED, NOT_FOUND, SubsonicError, method

# Subsonic's own limit on a list's size (getAlbumList2, getRandomSongs, search3): larger asks get this many.
MAX_SIZE = 500
# Past this, an offset only walks the database for nothing.
MAX_OFFSET = 1_000_000
FOLDER = {"id": 1, "name": "Music"}
# Articles the index letters skip: an artist's sort_name already files "The Beatles" under B.
IGNORED_ARTICLES = "The El La Los Las Le Les Die Das Der"
EXTENSIONS = ("apiKeyAuthentication", "formPost", "songLyrics", "transcodeOffset")
YEARS = {"minimum": 1, "maximum": 9999}


def _size(params, name, default):
    return min(params.int(name, default, minimum=0), MAX_SIZE)


def _offset(params, name="offset"):
    return params.int(name, 0, minimum=0, maximum=MAX_OFFSET)


def _one(queryset, what, pk):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise SubsonicError(NOT_FOUND, f"{what} not found: {pk}")
    return found


@method("ping")
def ping(request, params):
    return {}


@method("getLicense")
def get_license(request, params):
    return {"license": {"valid": True}}


@method("getOpenSubsonicExtensions", public=True)
def get_open_subsonic_extensions(request, params):
    return {"openSubsonicExtensions": [{"name": name, "versions": [1]} for name in EXTENSIONS]}


@method("getMusicFolders")
def get_music_folders(request, params):
    return {"musicFolders": {"musicFolder": [FOLDER]}}


def _letter(artist):
    first = (artist.sort_name or artist.name)[:1].upper()
    return first if first.isalpha() else "#"


def _index(artists):
    """Artists grouped by the first letter of their sort name, in sort order ("#" for digits and signs)."""
    groups = {}
    for artist in artists:
        groups.setdefault(_letter(artist), []).append(entries.artist_id3(artist))
    return [{"name": letter, "artist": rows} for letter, rows in groups.items()]


def _album_artists(user):
    # Artists a client can open: those with an album (one heard only on a compilation has nothing to show).
    return entries.artists(user).filter(album_count__gt=0).order_by(Lower("sort_name"), "id")


@method("getIndexes")
def get_indexes(request, params):
    since = params.int("ifModifiedSince", 0, minimum=0)
    changed = max(
        (moment for moment in (Artist.objects.aggregate(at=Max("created_at"))["at"],
                               Album.objects.aggregate(at=Max("created_at"))["at"]) if moment is not None),
        default=None,
    )
    modified = int(changed.timestamp() * 1000) if changed else 0
    index = [] if since and modified <= since else _index(_album_artists(request.user))
    return {"indexes": {"lastModified": modified, "ignoredArticles": IGNORED_ARTICLES, "index": index}}


@method("getMusicDirectory")
def get_music_directory(request, params):
    """Folder browsing (getIndexes, then folders), which older apps such as DSub use: an artist's folder holds
    their albums, an album's its songs."""
    raw = params.require("id")
    kind, pk = ids.kind(raw)
    if kind == "artist":
        artist = _one(entries.artists(request.user), "Artist", pk)
        albums = entries.albums(request.user).filter(artist=artist).in_discography_order()
        return {"directory": {
            "id": ids.of_artist(artist.pk), "name": artist.name,
            "starred": entries.when(artist.starred_at), "child": [entries.album_child(album) for album in albums],
        }}
    if kind == "album":
        album = _one(entries.albums(request.user), "Album", pk)
        songs = entries.songs(request.user).filter(album=album).in_tracklist_order()
        return {"directory": {
            "id": ids.of_album(album.pk), "parent": ids.of_artist(album.artist_id), "name": album.title,
            "starred": entries.when(album.starred_at), "child": [entries.child(song) for song in songs],
        }}
    raise SubsonicError(NOT_FOUND, f"Directory not found: {raw[:40]!r}")


@method("getArtists")
def get_artists(request, params):
    return {"artists": {"ignoredArticles": IGNORED_ARTICLES, "index": _index(_album_artists(request.user))}}


@method("getArtist")
def get_artist(request, params):
    artist = _one(entries.artists(request.user), "Artist", ids.artist(params.require("id")))
    albums = entries.albums(request.user).filter(artist=artist).in_discography_order()
    return {"artist": entries.artist_id3(artist, albums=albums)}


@method("getAlbum")
def get_album(request, params):
    album = _one(entries.albums(request.user), "Album", ids.album(params.require("id")))
    songs = entries.songs(request.user).filter(album=album).in_tracklist_order()
    return {"album": entries.album_id3(album, songs=songs)}


@method("getSong")
def get_song(request, params):
    return {"song": entries.child(_one(entries.songs(request.user), "Song", ids.song(params.require("id"))))}


def _year_range(params, required):
    take = params.require if required else params.get
    low, high = take("fromYear"), take("toYear")
    low = params.int("fromYear", **YEARS) if low else None
    high = params.int("toYear", **YEARS) if high else None
    return low, high


def _albums_in_years(albums, low, high):
    """byYear: fromYear > toYear lists the years backwards (Subsonic's rule)."""
    backwards = low > high
    first, last = (high, low) if backwards else (low, high)
    albums = albums.filter(release_date__year__gte=first, release_date__year__lte=last)
    if backwards:
        return albums.order_by(F("release_date").desc(nulls_last=True), "-id")
    return albums.order_by(F("release_date").asc(nulls_last=True), "id")


def _album_list(user, params):
    kind = params.require("type")
    albums = entries.albums(user)
    if kind == "random":
        return albums.order_by("?")
    if kind == "newest":
        return albums.order_by("-created_at", "-id")
    if kind == "alphabeticalByName":
        return albums.order_by(Lower("title"), "id")
    if kind == "alphabeticalByArtist":
        return albums.order_by(Lower("artist__sort_name"), "artist_id", Lower("title"), "id")
    if kind == "starred":
        return albums.filter(starred_at__isnull=False).order_by("-starred_at", "-id")
    if kind == "frequent":
        record.fold(user)  # listens the API deferred join the tallies before they are read
        tallies = ListenAlbumTally.objects.filter(user=user, month=ListenTally.ALL_TIME, album=OuterRef("pk"))
        return (
            albums.annotate(plays=Subquery(tallies.values("listens")[:1]))
            .filter(plays__gt=0)
            .order_by("-plays", "-id")
        )
    if kind == "recent":
        last = Listen.objects.filter(user=user, album=OuterRef("pk")).order_by("-started_at").values("started_at")[:1]
        return (
            albums.filter(pk__in=Listen.objects.filter(user=user).values("album"))
            .annotate(played_at=Subquery(last))
            .order_by("-played_at", "-id")
        )
    if kind == "byYear":
        return _albums_in_years(albums, *_year_range(params, required=True))
    if kind == "byGenre":
        return albums.filter(genres__name=params.require("genre")).order_by(Lower("title"), "id")
    raise SubsonicError(GENERIC, f"Unknown album list type: {kind[:40]!r}")


def _album_page(request, params):
    albums = _album_list(request.user, params)
    low, high = _year_range(params, required=False)
    if params.get("type") != "byYear":
        if low is not None:
            albums = albums.filter(release_date__year__gte=low)
        if high is not None:
            albums = albums.filter(release_date__year__lte=high)
        if params.get("genre") and params.get("type") != "byGenre":
            albums = albums.filter(genres__name=params.get("genre"))
    offset = _offset(params)
    return albums[offset:offset + _size(params, "size", 10)]


@method("getAlbumList2")
def get_album_list2(request, params):
    return {"albumList2": {"album": [entries.album_id3(album) for album in _album_page(request, params)]}}


@method("getAlbumList")
def get_album_list(request, params):
    """getAlbumList2 for folder-browsing apps: the same lists, each album as a folder."""
    return {"albumList": {"album": [entries.album_child(album) for album in _album_page(request, params)]}}


@method("getRandomSongs")
def get_random_songs(request, params):
    songs = entries.songs(request.user)
    if params.get("genre"):
        songs = songs.filter(genre__name=params.get("genre"))
    low, high = _year_range(params, required=False)
    if low is not None:
        songs = songs.filter(album__release_date__year__gte=low)
    if high is not None:
        songs = songs.filter(album__release_date__year__lte=high)
    rows = songs.order_by("?")[: _size(params, "size", 10)]
    return {"randomSongs": {"song": [entries.child(song) for song in rows]}}


@method("getGenres")
def get_genres(request, params):
    # Counted in subqueries: joining songs and albums at once would multiply the rows before counting.
    song_count = Song.objects.filter(genre=OuterRef("pk")).order_by().values("genre").annotate(n=Count("pk"))
    album_count = Album.genres.through.objects.filter(genre=OuterRef("pk")).order_by().values("genre").annotate(
        n=Count("pk")
    )
    genres = Genre.objects.annotate(
        songs_in=Subquery(song_count.values("n")[:1]), albums_in=Subquery(album_count.values("n")[:1])
    ).order_by("name")
    return {"genres": {"genre": [
        {"value": genre.name, "songCount": genre.songs_in or 0, "albumCount": genre.albums_in or 0}
        for genre in genres
    ]}}


@method("getSongsByGenre")
def get_songs_by_genre(request, params):
    genre = params.require("genre")
    offset = _offset(params)
    songs = entries.songs(request.user).filter(genre__name=genre).order_by("-popularity", "id")
    rows = songs[offset:offset + _size(params, "count", 10)]
    return {"songsByGenre": {"song": [entries.child(song) for song in rows]}}


SEARCHED = {
    "artist": (entries.artists, entries.artist_id3, (Lower("sort_name"), "id")),
    "album": (entries.albums, entries.album_id3, (Lower("title"), "id")),
    "song": (entries.songs, entries.child, (Lower("title"), "id")),
}


def _search_rows(kind, query, user, offset, count):
    """One type's page of search3: ranked as the site's search ranks, or, for an empty query, everything
    in name order (how apps such as Symfonium copy the whole library)."""
    load, _, order = SEARCHED[kind]
    if count == 0:
        return []
    if query is None:
        return list(load(user).order_by(*order)[offset:offset + count])
    found = [row.pk for row in searching.Matches(searching.KINDS[kind], query, user)[offset:offset + count]]
    # The search's own rows carry `liked`, not when: reload the page with what entries show.
    loaded = {row.pk: row for row in load(user).filter(pk__in=found)}
    return [loaded[pk] for pk in found if pk in loaded]


@method("search3")
def search3(request, params):
    raw = (params.get("query") or "").strip()
    # Some clients send the empty search quoted: '""' means "everything" as well.
    if raw in ("", '""', "''", "*"):
        query = None
    else:
        try:
            query = searching.parse(raw)
        except searching.SearchError as error:
            raise SubsonicError(GENERIC, str(error)) from None
    result = {}
    for kind, (_, shape, _) in SEARCHED.items():
        count = _size(params, f"{kind}Count", 20)
        rows = _search_rows(kind, query, request.user, _offset(params, f"{kind}Offset"), count)
        result[kind] = [shape(row) for row in rows]
    return {"searchResult3": result}


def _user_entry(user, *, own):
    return {
        "username": user.get_username(),
        "email": user.email if own and user.email else None,
        "scrobblingEnabled": True,
        "adminRole": user.is_staff,
        "settingsRole": True,
        "downloadRole": True,
        "uploadRole": False,
        "playlistRole": True,
        "coverArtRole": True,
        "commentRole": False,
        "podcastRole": False,
        "streamRole": True,
        "jukeboxRole": False,
        "shareRole": False,
        "videoConversionRole": False,
        "folder": [FOLDER["id"]],
    }


@method("getUser")
def get_user(request, params):
    username = params.require("username")
    own = username == request.user.get_username()
    if not own and not request.user.is_staff:
        raise SubsonicError(NOT_AUTHORIZED, "You may only look up your own account.")
    user = request.user if own else get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise SubsonicError(NOT_FOUND, "User not found.")
    return {"user": _user_entry(user, own=own)}
