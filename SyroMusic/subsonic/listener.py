"""Subsonic's methods of the listener's own things: playlists, likes (stars), listens (scrobbles), lyrics,
the play queue and what is playing now.

Every rule is the site's: a playlist is seen, changed and deleted under Playlist.allows (a private playlist
of another listener is "not found", 70, never "not authorized", 50, so that its existence stays private),
likes go through services.like_set, listens through listening.record, the queue through services.queue_load
and queue_replace: the web player and an app share one queue.
"""

from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from SyroMusic import services
from SyroMusic.listening import record
from SyroMusic.models import Album, Artist, Like, Listen, Need, Playlist, PlaylistEntry, PlayQueue, Profile, Song

from . import entries, ids
from .core import GENERIC, MISSING_PARAMETER, NOT_AUTHORIZED, NOT_FOUND, SubsonicError, method

# getPlaylists lists at most this many (the listener's own first): an answer stays a bounded size however
# many public playlists others make.
MAX_PLAYLISTS = 500
# getStarred2 lists at most this many of each kind, the latest liked first (as many as a playlist holds).
MAX_STARRED = Playlist.MAX_ENTRIES
# Things one star or unstar names, and listens one scrobble reports (the listens API's batch).
MAX_STARS = 500
MAX_SCROBBLES = 100
# Listens before this are refused, as by the listens API: a clock that far off is not a real play.
LATEST_MS = 10**13  # year 2286: past it a time is garbage, not a moment
# "Now playing" lasts the song's length (or this when unknown), at most an hour.
NOW_PLAYING_DEFAULT = timedelta(minutes=10)
NOW_PLAYING_MAX = timedelta(hours=1)
# Subsonic's "unknown language" (ISO 639-2 "und").
UNKNOWN_LANGUAGE = "und"


def _message(error):
    return " ".join(error.messages)


# Playlists

def _playlists(user):
    """Playlists with what a Subsonic playlist shows (owner, count, duration, the user's access, a cover)."""
    with_cover = (
        PlaylistEntry.objects.filter(playlist=OuterRef("pk")).exclude(song__album__cover_hash="")
        .order_by("position").values("song__album_id")[:1]
    )
    return Playlist.objects.for_listing().with_access_for(user).annotate(cover_album=Subquery(with_cover))


def _playlist(playlist, user, *, songs=None):
    entry = {
        "id": ids.of_playlist(playlist.pk),
        "name": playlist.name,
        "comment": playlist.description or None,
        "owner": playlist.owner.get_username(),
        "public": playlist.is_public,
        "songCount": playlist.entry_count,
        "duration": round(playlist.total_duration_ms / 1000),
        "created": entries.when(playlist.created_at),
        "changed": entries.when(playlist.updated_at),
        "coverArt": ids.of_album(playlist.cover_album) if playlist.cover_album else None,
        # OpenSubsonic: the listener cannot change its songs.
        "readonly": not playlist.allows(user, Need.EDIT_ENTRIES),
    }
    if songs is not None:
        entry["entry"] = [entries.child(song) for song in songs]
    return entry


def _visible_playlist(user, raw_id):
    """The playlist, if the user may see it; a private one of another listener is not found (70), as on the site."""
    playlist = _playlists(user).visible_to(user).filter(pk=ids.playlist(raw_id)).first()
    if playlist is None:
        raise SubsonicError(NOT_FOUND, f"Playlist not found: {raw_id.strip()[:40]!r}")
    return playlist


def _check(playlist, user, need):
    """50 when the user sees the playlist but may not do this with it."""
    if not playlist.allows(user, need):
        raise SubsonicError(NOT_AUTHORIZED, f"This needs {need} rights on the playlist {playlist.name!r}.")


def _songs_of(playlist, user):
    """The playlist's songs in its order, repeats included: one query."""
    return (
        entries.songs(user).filter(playlist_entries__playlist=playlist)
        .annotate(position=F("playlist_entries__position")).order_by("position")
    )


def _reloaded(playlist, user):
    return _playlists(user).get(pk=playlist.pk)


def _named_songs(raw_ids):
    """The songs named by these ids, in their order (repeats kept); 70 for any that is not ours."""
    pks = [ids.song(raw) for raw in raw_ids]
    if len(pks) > Playlist.MAX_ENTRIES:
        raise SubsonicError(GENERIC, f"At most {Playlist.MAX_ENTRIES:,} songs at once; got {len(pks):,}.")
    found = Song.objects.only("id").in_bulk(set(pks))
    missing = [pk for pk in pks if pk not in found]
    if missing:
        raise SubsonicError(NOT_FOUND, f"Song not found: {missing[0]}")
    return [found[pk] for pk in pks]


@method("getPlaylists")
def get_playlists(request, params):
    """The playlists the listener may play: their own first, then those they collaborate on and the public
    ones, by name. With `username`: that listener's, as their profile page shows them to this one."""
    user = request.user
    playlists = _playlists(user).visible_to(user)
    username = params.get("username")
    if username and username != user.get_username():
        person = get_user_model().objects.select_related("profile").filter(username=username).first()
        if person is None:
            raise SubsonicError(NOT_FOUND, f"User not found: {username[:40]!r}")
        if not Profile.of(person).visible_to(user):
            return {"playlists": {"playlist": []}}
        playlists = playlists.filter(owner=person)
    own_first = Case(When(owner=user, then=Value(0)), default=Value(1), output_field=IntegerField())
    playlists = playlists.order_by(own_first, Lower("name"), "id")[:MAX_PLAYLISTS]
    return {"playlists": {"playlist": [_playlist(playlist, user) for playlist in playlists]}}


@method("getPlaylist")
def get_playlist(request, params):
    playlist = _visible_playlist(request.user, params.require("id"))
    return {"playlist": _playlist(playlist, request.user, songs=_songs_of(playlist, request.user))}


@method("createPlaylist")
def create_playlist(request, params):
    """A new playlist of `name` holding the songs `songId` (in order), or, with `playlistId`, an existing one's
    songs replaced by them (which needs edit rights; `name` is then left alone). Answers the playlist."""
    user = request.user
    raw_id, name = params.get("playlistId"), params.get("name")
    if not raw_id and not name:
        raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: name (or playlistId)")
    songs = _named_songs(params.list("songId"))
    try:
        with transaction.atomic():
            if raw_id:
                playlist = _visible_playlist(user, raw_id)
                _check(playlist, user, Need.EDIT_ENTRIES)
                # Locked first, as every change to a playlist's entries is: concurrent changes take turns.
                Playlist.objects.select_for_update().only("id").get(pk=playlist.pk)
                playlist.entries.all().delete()
            else:
                playlist = Playlist(owner=user, name=name.strip())
                # The fields' own checks; the unique name is save_with_unique_name's (the other constraints
                # repeat the fields' checks in the database).
                playlist.full_clean(exclude={"owner"}, validate_unique=False, validate_constraints=False)
                playlist.save_with_unique_name()
            if songs:
                playlist.add_songs(songs, by=user)
    except ValidationError as error:
        raise SubsonicError(GENERIC, _message(error)) from None
    playlist = _reloaded(playlist, user)
    return {"playlist": _playlist(playlist, user, songs=_songs_of(playlist, user))}


@method("updatePlaylist")
def update_playlist(request, params):
    """Rename, describe, publish or hide (admin rights), and remove songs at `songIndexToRemove` (0 = first, of
    the playlist as it was) then append `songIdToAdd` (edit rights). All or nothing."""
    user = request.user
    playlist = _visible_playlist(user, params.require("playlistId"))
    details = {
        field: value for field, value in (
            ("name", params.get("name")), ("description", params.get("comment")),
            ("is_public", params.bool("public") if "public" in params else None),
        ) if value is not None
    }
    removing = _indexes(params.list("songIndexToRemove"))
    adding = _named_songs(params.list("songIdToAdd"))
    if details:
        _check(playlist, user, Need.MANAGE)
    if removing or adding:
        _check(playlist, user, Need.EDIT_ENTRIES)
    try:
        with transaction.atomic():
            if details:
                for field, value in details.items():
                    setattr(playlist, field, value.strip() if field == "name" else value)
                playlist.full_clean(exclude={"owner"}, validate_unique=False, validate_constraints=False)
                playlist.save_with_unique_name()
            if removing:
                _remove_at(playlist, removing)
            if adding:
                playlist.add_songs(adding, by=user)
    except ValidationError as error:
        raise SubsonicError(GENERIC, _message(error)) from None
    return {}


def _indexes(raws):
    indexes = set()
    for raw in raws:
        text = raw.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 6:
            raise SubsonicError(GENERIC, f"songIndexToRemove must be a position in the playlist (0 = first), not {raw[:40]!r}")
        indexes.add(int(text))
    return sorted(indexes)


def _remove_at(playlist, indexes):
    """Remove the entries at these 0-based indexes, the last first so that each index still means what the
    client saw. The playlist is locked first (the caller's transaction): a removal at the same moment waits,
    so the positions read here are still the playlist's when each entry goes."""
    list(Playlist.objects.select_for_update().filter(pk=playlist.pk).values_list("pk", flat=True))
    count = playlist.entries.count()
    if indexes and indexes[-1] >= count:
        raise SubsonicError(GENERIC, f"No song at index {indexes[-1]}: the playlist has {count}.")
    by_position = {entry.position: entry for entry in playlist.entries.filter(position__in=[i + 1 for i in indexes])}
    for index in reversed(indexes):
        playlist.remove_entry(by_position[index + 1])


@method("deletePlaylist")
def delete_playlist(request, params):
    playlist = _visible_playlist(request.user, params.require("id"))
    _check(playlist, request.user, Need.DELETE)
    playlist.delete()
    return {}


# Likes

def _things(params):
    """(kind, pk) of everything star/unstar name: `id` (a song, or an "al-"/"ar-" id), `albumId`, `artistId`."""
    named = [ids.kind(raw) for raw in params.list("id")]
    named += [("album", ids.album(raw)) for raw in params.list("albumId")]
    named += [("artist", ids.artist(raw)) for raw in params.list("artistId")]
    if not named:
        raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: id, albumId or artistId")
    if len(named) > MAX_STARS:
        raise SubsonicError(GENERIC, f"At most {MAX_STARS} things at once; got {len(named)}.")
    models = {"song": Song, "album": Album, "artist": Artist}
    found = {}
    for kind, model in models.items():
        pks = {pk for named_kind, pk in named if named_kind == kind}
        if pks:
            found[kind] = model.objects.only("id").in_bulk(pks)
    things = []
    for kind, pk in dict.fromkeys(named):
        thing = found[kind].get(pk)
        if thing is None:
            raise SubsonicError(NOT_FOUND, f"{kind.capitalize()} not found: {pk}")
        things.append(thing)
    return things


def _star(request, params, liked):
    with transaction.atomic():
        for thing in _things(params):
            services.like_set(user=request.user, thing=thing, liked=liked)
    return {}


@method("star")
def star(request, params):
    return _star(request, params, True)


@method("unstar")
def unstar(request, params):
    return _star(request, params, False)


def _liked(user, field):
    return Like.objects.filter(user=user, **{f"{field}__isnull": False}).values(field)


@method("getStarred2")
def get_starred2(request, params):
    """The listener's likes, the latest first: songs, albums and artists."""
    user = request.user
    songs = entries.songs(user).filter(pk__in=_liked(user, "song")).order_by("-starred_at", "-id")[:MAX_STARRED]
    albums = entries.albums(user).filter(pk__in=_liked(user, "album")).order_by("-starred_at", "-id")[:MAX_STARRED]
    artists = entries.artists(user).filter(pk__in=_liked(user, "artist")).order_by("-starred_at", "-id")[:MAX_STARRED]
    return {
        "starred2": {
            "artist": [entries.artist_id3(artist) for artist in artists],
            "album": [entries.album_id3(album) for album in albums],
            "song": [entries.child(song) for song in songs],
        }
    }


# Listens

def _now_playing_key(user):
    return f"subsonic:now-playing:{user.pk}"


def _started_at(raw_ms, now):
    if raw_ms is None:
        return now
    try:
        return record.started_at(datetime.fromtimestamp(raw_ms / 1000, tz=UTC), now)
    except ValueError:
        raise SubsonicError(GENERIC, "time must not be before 2000-01-01.") from None


@method("scrobble")
def scrobble(request, params):
    """submission=true (the default): the songs `id` were heard, each whole, at `time` (ms since 1970, one per
    id; default now): listens, as the web player records them, once each however often the app retries.
    submission=false: the song is playing now (getNowPlaying); nothing is recorded."""
    user = request.user
    pks = [ids.song(raw) for raw in params.list("id")]
    if not pks:
        raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: id")
    if len(pks) > MAX_SCROBBLES:
        raise SubsonicError(GENERIC, f"At most {MAX_SCROBBLES} scrobbles at once; got {len(pks)}.")
    times = params.list("time")
    if times and len(times) != len(pks):
        raise SubsonicError(GENERIC, "Give one time per id, or none.")
    times_ms = [_time_ms(raw) for raw in times] or [None] * len(pks)
    lengths = dict(
        Song.objects.filter(pk__in=set(pks)).annotate(length=Coalesce("audio__duration_ms", "duration_ms"))
        .values_list("pk", "length")
    )
    missing = [pk for pk in pks if pk not in lengths]
    if missing:
        raise SubsonicError(NOT_FOUND, f"Song not found: {missing[0]}")
    now = timezone.now()
    client = (params.get("c") or "")[:64]
    if not params.bool("submission", True):
        length = timedelta(milliseconds=lengths[pks[-1]]) if lengths[pks[-1]] else NOW_PLAYING_DEFAULT
        playing = {"song": pks[-1], "at": now.timestamp(), "client": client}
        cache.set(_now_playing_key(user), playing, timeout=min(length, NOW_PLAYING_MAX).total_seconds())
        return {}
    events = []
    for pk, time_ms in zip(pks, times_ms, strict=True):
        started_at = _started_at(time_ms, now)
        # The same song at the same time (as the app said it) is the same listen: a retry is recorded once.
        moment_ms = time_ms if time_ms is not None else round(now.timestamp() * 1000)
        events.append(record.Event(
            client_id=f"subsonic:{pk}:{moment_ms}", song_id=pk, started_at=started_at,
            heard_ms=lengths[pk] or 0, client=client, counted=True,
        ))
    record.record(user, events, source=Listen.Source.API)
    # A song scrobbled as heard is no longer playing.
    playing = cache.get(_now_playing_key(user))
    if playing and playing["song"] in pks:
        cache.delete(_now_playing_key(user))
    return {}


def _time_ms(raw):
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or int(text) > LATEST_MS:
        raise SubsonicError(GENERIC, f"time must be milliseconds since 1970, not {raw[:40]!r}")
    return int(text)


@method("getNowPlaying")
def get_now_playing(request, params):
    """What the listener's own apps said is playing (scrobble with submission=false). Only their own: what a
    listener hears is private, like their history."""
    user = request.user
    playing = cache.get(_now_playing_key(user))
    song = entries.songs(user).filter(pk=playing["song"]).first() if playing else None
    if song is None:
        return {"nowPlaying": {"entry": []}}
    since = timezone.now() - datetime.fromtimestamp(playing["at"], tz=UTC)
    entry = {
        **entries.child(song), "username": user.get_username(), "minutesAgo": int(since.total_seconds() // 60),
        "playerId": 0, "playerName": playing["client"] or None,
    }
    return {"nowPlaying": {"entry": [entry]}}


# Lyrics

@method("getLyricsBySongId")
def get_lyrics_by_song_id(request, params):
    """OpenSubsonic's songLyrics: the song's lyrics as structured lyrics, synced (each line with its start in
    ms) when they are timed; an empty list when it has none."""
    pk = ids.song(params.require("id"))
    song = Song.objects.select_related("artist").only("id", "title", "lyrics", "synced_lyrics", "artist__name")
    song = song.filter(pk=pk).first()
    if song is None:
        raise SubsonicError(NOT_FOUND, f"Song not found: {pk}")
    structured = []
    if song.synced_lyrics:
        lines = [{"start": int(ms), "value": words} for ms, words in song.synced_lyrics]
        structured.append(_structured(song, lines, synced=True))
    elif song.lyrics:
        structured.append(_structured(song, [{"value": line} for line in song.lyrics.split("\n")], synced=False))
    return {"lyricsList": {"structuredLyrics": structured}}


def _structured(song, lines, *, synced):
    return {
        "displayArtist": song.artist.name, "displayTitle": song.title, "lang": UNKNOWN_LANGUAGE, "offset": 0,
        "synced": synced, "line": lines,
    }


@method("getLyrics")
def get_lyrics(request, params):
    """Subsonic's older lyrics call, by artist and title: the plain lyrics of the first such song that has any."""
    artist, title = (params.get("artist") or "").strip(), (params.get("title") or "").strip()
    found = Song.objects.exclude(lyrics="").select_related("artist").only("id", "title", "lyrics", "artist__name")
    if artist:
        found = found.filter(artist__name__iexact=artist)
    if title:
        found = found.filter(title__iexact=title)
    song = found.order_by("id").first() if artist or title else None
    if song is None:
        return {"lyrics": {"artist": artist or None, "title": title or None}}
    return {"lyrics": {"artist": song.artist.name, "title": song.title, "value": song.lyrics}}


# The play queue

@method("getPlayQueue")
def get_play_queue(request, params):
    """The listener's queue, the one the web player keeps too; nothing when they have none yet."""
    queue = services.queue_load(user=request.user)
    if queue.pk is None:
        return {}
    current = queue.song_ids[queue.current_index] if queue.current_index is not None else None
    return {
        "playQueue": {
            "current": ids.of_song(current) if current is not None else None,
            "position": queue.position_ms if current is not None else None,
            "username": request.user.get_username(),
            "changed": entries.when(queue.updated_at),
            "changedBy": "",
            "entry": [entries.child(song) for song in queue.songs],
        }
    }


@method("savePlayQueue")
def save_play_queue(request, params):
    """Replace the listener's queue with the songs `id` (in order; none empties it), `current` (a song id of
    them: the first time it appears plays) and `position` (ms into it). The last write wins."""
    pks = [ids.song(raw) for raw in params.list("id")]
    if len(pks) > PlayQueue.MAX_SONGS:
        raise SubsonicError(GENERIC, f"A queue holds at most {PlayQueue.MAX_SONGS:,} songs; got {len(pks):,}.")
    raw_current = params.get("current")
    current = None
    if raw_current:
        playing = ids.song(raw_current)
        if playing not in pks:
            raise SubsonicError(GENERIC, f"current ({playing}) is not one of the queue's songs.")
        current = pks.index(playing)
    position = params.int("position", 0, minimum=0, maximum=2**31 - 1)
    try:
        services.queue_replace(user=request.user, song_ids=pks, current=current, position_ms=position)
    except ValidationError as error:
        if "songs" in error.message_dict:
            raise SubsonicError(NOT_FOUND, _message(error)) from None
        raise SubsonicError(GENERIC, _message(error)) from None
    return {}
