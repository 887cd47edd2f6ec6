"""JSON for the player in the browser (player.js): the tracks to queue, and what it shows of the song playing.

    GET /player/tracks/?ids=3,1,3 | ?album=ID | ?artist=ID | ?playlist=ID | ?liked=1  -> {"tracks": [...]}
    GET /player/tracks/<id>/  -> {"id", "lyrics", "synced_lyrics", "peaks", "liked"}

Each answer runs a fixed number of queries whatever its size (pinned in tests/test_player_json.py).
A bad request is a 400 with {"detail": "..."} saying what was wrong; what is not there (or not the
listener's to see) a 404 in the same shape.
"""

import re

from django.http import JsonResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe

from SyroMusic import caching
from SyroMusic.models import Album, Artist, Playlist, PlayQueue, Song
from SyroMusic.web.page_cache import cache_page_for_visitors

KINDS = ("ids", "album", "artist", "playlist", "liked")
# An id is a positive whole number the database's bigint holds: 18 digits always fit.
ID = re.compile(r"[0-9]{1,18}")


class BadRequest(Exception):
    """What was wrong with the request's parameters, in words for the 400's `detail`."""


def track(song):
    """A song as the player queues it. No query: for_listing() joined everything read here."""
    album = song.album
    return {
        "id": song.pk,
        "title": song.title,
        "url": song.get_absolute_url(),
        "artist": song.artist.name,
        "artist_url": song.artist.get_absolute_url(),
        "album": album.title,
        "album_url": album.get_absolute_url(),
        "cover": cover(album, 64),
        "artwork": cover(album, 600),
        "duration_ms": song.duration_ms,
        "audio": song.audio.get_absolute_url() if song.is_playable else None,
    }


def cover(album, size):
    return album.cover_image_url(size) if album.cover_hash else (album.cover_url or None)


def bad_request(detail):
    return JsonResponse({"detail": detail}, status=400)


def not_found(detail):
    return JsonResponse({"detail": detail}, status=404)


def tracks_response(songs):
    return JsonResponse({"tracks": [track(song) for song in songs]})


def private(response):
    """An answer about the listener asking: browsers may keep it, shared caches must not."""
    patch_cache_control(response, private=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def parse_id(name, text):
    if not ID.fullmatch(text):
        raise BadRequest(f"{name} must be an id (a whole number of at most 18 digits), not {text[:40]!r}.")
    return int(text)


def parse_ids(text):
    """ "3,1,3" -> [3, 1, 3]: order and repeats kept, at most a queue's worth."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > PlayQueue.MAX_SONGS:
        raise BadRequest(f"ids holds at most {PlayQueue.MAX_SONGS:,} song ids; this one has {len(parts):,}.")
    if parts == [""]:
        raise BadRequest("ids is empty: give song ids separated by commas, e.g. ids=3,1,3.")
    return [parse_id("Each of ids", part) for part in parts]


def parse(query):
    """The one kind of list asked for, and its value; BadRequest for anything else."""
    given = [kind for kind in KINDS if kind in query]
    if not given:
        raise BadRequest(f"Say which songs: one of {', '.join(KINDS)} (e.g. ?album=5).")
    if len(given) > 1:
        raise BadRequest(f"Give one of {', '.join(KINDS)}, not several (this request gives {', '.join(given)}).")
    kind = given[0]
    values = query.getlist(kind)
    if len(values) > 1:
        raise BadRequest(f"Give {kind} once, not {len(values)} times.")
    value = values[0]
    if kind == "ids":
        return kind, parse_ids(value)
    if kind == "liked":
        if value != "1":
            raise BadRequest(f"liked must be 1, not {value[:40]!r}.")
        return kind, True
    return kind, parse_id(kind, value)


@require_safe
def player_tracks(request):
    """The songs of a list, for the player to queue: `{"tracks": [TRACK, ...]}` (see track())."""
    try:
        kind, value = parse(request.GET)
    except BadRequest as error:
        return bad_request(str(error))
    if kind == "playlist":
        return private(playlist_tracks(request, value))
    if kind == "liked":
        return private(liked_tracks(request))
    return catalogue_tracks(request, kind, value)


@cache_page_for_visitors(caching.CATALOGUE)
def catalogue_tracks(request, kind, value):
    """The same for every listener: anonymous visitors share one answer until the catalogue changes."""
    songs = Song.objects.for_listing()
    if kind == "ids":
        by_id = {song.pk: song for song in songs.filter(pk__in=set(value))}
        # Unknown ids (songs since deleted) drop out; the others keep the order and repeats asked for.
        return tracks_response(by_id[song_id] for song_id in value if song_id in by_id)
    if kind == "album":
        found = list(songs.filter(album_id=value).in_tracklist_order())
        owner = Album
    else:
        found = list(songs.filter(artist_id=value).most_popular()[: PlayQueue.MAX_SONGS])
        owner = Artist
    # Only an empty answer asks whether the album or artist is there at all.
    if not found and not owner.objects.filter(pk=value).exists():
        return not_found(f"There is no {kind} {value}.")
    return tracks_response(found)


def playlist_tracks(request, pk):
    # The playlist page's rule: a playlist the listener may not see is a 404, its existence not ours to reveal.
    playlist = Playlist.objects.visible_to(request.user).only("id").filter(pk=pk).first()
    if playlist is None:
        return not_found(f"There is no playlist {pk} you may see.")
    songs = (
        Song.objects.for_listing()
        .filter(playlist_entries__playlist=playlist)
        .order_by("playlist_entries__position")[: PlayQueue.MAX_SONGS]
    )
    return tracks_response(songs)


def liked_tracks(request):
    if not request.user.is_authenticated:
        return not_found("Log in to play the songs you like.")
    return tracks_response(Song.objects.for_listing().liked_by(request.user)[: PlayQueue.MAX_SONGS])


@require_safe
def player_track(request, pk):
    """What the player shows of the song playing: its lyrics, its waveform, and whether the listener likes it."""
    pk = int(pk)
    song = Song.objects.for_player_details().with_liked(request.user).filter(pk=pk).first()
    if song is None:
        return private(not_found(f"There is no song {pk}."))
    peaks = song.audio.peaks if song.is_playable else b""
    return private(JsonResponse({
        "id": song.pk,
        "lyrics": song.lyrics,
        "synced_lyrics": song.synced_lyrics,
        "peaks": list(bytes(peaks)),
        "liked": song.liked if request.user.is_authenticated else None,
    }))
