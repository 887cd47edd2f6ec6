"""Writes through the ORM (admin, API, forms) mark the cached pages they affect as stale.

Bulk paths that bypass model signals (seed, imports) call caching.bump themselves.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from . import caching
from .models import Album, Artist, AudioFile, Genre, Playlist, PlaylistEntry, Song

AREA_OF = {
    Genre: caching.CATALOGUE,
    Artist: caching.CATALOGUE,
    Album: caching.CATALOGUE,
    Song: caching.CATALOGUE,
    AudioFile: caching.CATALOGUE,  # a page or an API answer names the file a song plays
    Playlist: caching.PLAYLISTS,
    PlaylistEntry: caching.PLAYLISTS,
}


def _changed(sender, **kwargs):
    caching.bump(AREA_OF[sender])


def _album_genres_changed(sender, action, **kwargs):
    if action.startswith("post_"):
        caching.bump(caching.CATALOGUE)


def connect():
    for model in AREA_OF:
        post_save.connect(_changed, sender=model, dispatch_uid=f"syro-bump-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"syro-bump-delete-{model.__name__}")
    m2m_changed.connect(_album_genres_changed, sender=Album.genres.through, dispatch_uid="syro-bump-album-genres")
