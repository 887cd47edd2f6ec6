"""Writes that span several models: sharing a playlist, and making one from an imported playlist file."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from . import caching
from .models import AudioFile, Collaborator, Playlist, PlaylistEntry, Share, Song
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
