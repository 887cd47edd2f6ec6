"""Writes that span several models: sharing a playlist, and making one from an imported playlist file."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from . import caching
from .models import AudioFile, Collaborator, Like, Playlist, PlaylistEntry, PlayQueue, Share, Song
from .playlist_files import match_items


def find_listener(username):
    """The listener with this username, for forms and API calls that name one."""
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise ValidationError(f"There is no listener called {username!r}.") from None


@transaction.atomic
def playlist_share(*, playlist, sender, recipient, message=""):
    """Send a playlist to a listener. A private playlist lets them in to view it, or it would be a 404.

    What counts is the recipient's access, never the sender's: a collaborator keeps their level, and
    sharing again with the same listener replaces the message (one share per recipient).
    """
    share, _ = Share.objects.update_or_create(
        playlist=playlist, recipient=recipient,
        defaults={"sender": sender, "message": message, "created_at": timezone.now()},
    )
    if not playlist.is_public:
        # get_or_create: an existing collaborator (at any level) is left as they are.
        Collaborator.objects.get_or_create(playlist=playlist, user=recipient, defaults={"level": Collaborator.Level.VIEW})
    caching.bump(caching.PLAYLISTS)
    return share


@dataclass
class FileImport:
    """What importing a playlist file made: the playlist, and (item, song or None, note) for each entry of the file."""

    playlist: Playlist
    matches: list

    # The report rows that pages and the API show: a file of thousands of entries is summed up, not echoed.
    REPORTED_ROWS = 500

    @property
    def reported(self):
        """The first REPORTED_ROWS matches, in the file's order."""
        return self.matches[: self.REPORTED_ROWS]

    @property
    def unreported(self):
        """How many rows the report leaves out."""
        return max(0, len(self.matches) - self.REPORTED_ROWS)

    @property
    def found(self):
        return sum(1 for _, song, _ in self.matches if song is not None)

    @property
    def missed(self):
        return len(self.matches) - self.found


@transaction.atomic
def playlist_import_file(*, owner, name, items, is_public=False):
    """A new playlist holding the catalogue songs that a playlist file's items match, in the file's order."""
    matches = match_items(items)
    songs = [song for _, song, _ in matches if song is not None]
    Playlist.check_room(0, len(songs))
    playlist = Playlist.objects.create(owner=owner, name=name, is_public=is_public)
    PlaylistEntry.objects.bulk_create(
        PlaylistEntry(playlist=playlist, song=song, position=position, added_by=owner)
        for position, song in enumerate(songs, start=1)
    )
    caching.bump(caching.PLAYLISTS)
    return FileImport(playlist, matches)


@transaction.atomic
def song_pick_audio(*, song_ids):
    """Point each song at the file it plays: the best available of its audio files (AudioFile best_first),
    or none. Call it after any change to a song's files; returns how many songs it changed."""
    song_ids = list(song_ids)
    best = AudioFile.objects.available().filter(song_id=OuterRef("pk")).best_first().values("id")[:1]
    changed = 0
    # One UPDATE per slice, only of the songs whose pick differs (the scan passes thousands at once).
    for start in range(0, len(song_ids), 1000):
        songs = Song.objects.filter(id__in=song_ids[start:start + 1000])
        stale = songs.alias(best=Subquery(best)).filter(
            Q(audio__isnull=True, best__isnull=False) | Q(audio__isnull=False, best__isnull=True)
            | (Q(audio__isnull=False) & ~Q(audio_id=F("best")))
        )
        changed += stale.update(audio_id=Subquery(best))
    if changed:
        caching.bump(caching.CATALOGUE)  # bulk writes send no model signals
    return changed


@transaction.atomic
def playlist_add_song(*, playlist, song, by):
    """Append a song from a row's "Add to playlist" unless the playlist holds it already: a second click
    there is a slip more often than a wish (an album's or a file's songs may repeat). Returns whether it
    was added; ValidationError when the playlist is full."""
    # Locked first, as every entry change does, so two clicks at once cannot both add it.
    Playlist.objects.select_for_update().only("id").get(pk=playlist.pk)
    if playlist.entries.filter(song=song).exists():
        return False
    playlist.add_songs([song], by=by)
    return True


def like_set(*, user, thing, liked):
    """The user likes (liked=True) or no longer likes a song, album or artist. Idempotent: liking twice
    keeps the first like (and its time); unliking what is not liked does nothing. The pages' hearts and
    the API's PUT/DELETE both come here. Returns whether the user now likes it."""
    kind = Like.kind_of(thing)
    if liked:
        # get_or_create: a second request racing this one finds the row the unique constraint kept.
        Like.objects.get_or_create(user=user, **{kind: thing})
    else:
        Like.objects.filter(user=user, **{kind: thing}).delete()
    return liked


def liked_among(user, ids):
    """{kind: the ids among ids[kind] the user likes}, kind "song", "album" or "artist": one query for all.

    Written as SQL: the ORM took ~0.6 ms to build and compile the three IN lists, against ~0.1 ms for
    PostgreSQL to plan and run them; every listener's kept list answer and search answer asks it."""
    found = {kind: set() for kind in ids}
    wanted = {kind: [int(pk) for pk in some] for kind, some in ids.items() if some}
    if not wanted or user is None or user.pk is None:
        return found
    quote = connection.ops.quote_name
    columns = {kind: quote(Like._meta.get_field(kind).column) for kind in wanted}  # a FieldDoesNotExist for others
    if connection.vendor == "postgresql":  # one array a kind: psycopg splits hundreds of placeholders slowly
        conditions = [f"{columns[kind]} = ANY(%s::bigint[])" for kind in wanted]
        params = list(wanted.values())
    else:
        conditions = [f"{columns[kind]} IN ({', '.join(['%s'] * len(some))})" for kind, some in wanted.items()]
        params = [pk for some in wanted.values() for pk in some]
    sql = (
        f"SELECT {', '.join(columns.values())} FROM {quote(Like._meta.db_table)}"
        f" WHERE {quote(Like._meta.get_field('user').column)} = %s AND ({' OR '.join(conditions)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, *params])
        for row in cursor.fetchall():
            for kind, pk in zip(wanted, row, strict=True):
                if pk is not None:
                    found[kind].add(pk)
    return found


def queue_load(*, user):
    """The user's play queue (an empty unsaved one if they have none) with `songs`: the Song of each
    entry, in order, ready for a row (Song.for_listing). Songs deleted from the catalogue since the
    queue was written drop out of it here, and the stored queue is updated (its updated_at kept: it is
    the same queue, minus what can no longer play)."""
    queue = PlayQueue.of(user)
    by_id = Song.objects.for_listing().in_bulk(set(queue.song_ids))
    if queue.without_missing(by_id.keys()) and queue.pk is not None:
        PlayQueue.objects.filter(pk=queue.pk).update(
            song_ids=queue.song_ids, current_index=queue.current_index, position_ms=queue.position_ms
        )
    queue.songs = [by_id[song_id] for song_id in queue.song_ids]
    return queue


def queue_replace(*, user, song_ids, current=None, position_ms=0):
    """Replace the user's play queue with these songs (ids, in order; repeats allowed), the entry that
    plays (0-based index, or None) and how far into it. The last write wins: a client sends the whole
    queue, and no merge is attempted. Raises ValidationError naming each field it refuses."""
    song_ids = list(song_ids)
    errors = {}
    if len(song_ids) > PlayQueue.MAX_SONGS:
        errors["songs"] = [f"A queue holds at most {PlayQueue.MAX_SONGS:,} songs; got {len(song_ids):,}."]
    else:
        known = set(Song.objects.filter(pk__in=set(song_ids)).values_list("pk", flat=True))
        unknown = sorted(set(song_ids) - known)
        if unknown:
            listed = ", ".join(map(str, unknown[:20])) + (", ..." if len(unknown) > 20 else "")
            errors["songs"] = [f"No song has the id {listed}." if len(unknown) == 1 else f"No songs have the ids {listed}."]
    if current is not None and not 0 <= current < len(song_ids):
        errors["current"] = [
            "The queue is empty: current must be null." if not song_ids
            else f"Must be null or between 0 and {len(song_ids) - 1} (an index into songs); got {current}."
        ]
    if position_ms < 0:
        errors["position_ms"] = [f"Cannot be negative; got {position_ms}."]
    if errors:
        raise ValidationError(errors)
    queue, _ = PlayQueue.objects.update_or_create(
        user=user,
        defaults={
            "song_ids": song_ids, "current_index": current, "position_ms": position_ms if current is not None else 0,
            "updated_at": timezone.now(),
        },
    )
    return queue
