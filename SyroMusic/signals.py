"""Writes through the ORM (admin, API, forms) mark the cached pages they affect as stale.

Bulk paths that bypass model signals (seed, imports) call caching.bump themselves.
"""

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from . import caching, search
from .models import (
    Album,
    Artist,
    AudioFile,
    Collaborator,
    Genre,
    ListenAlbumTally,
    ListenArtistTally,
    ListenTally,
    Playlist,
    PlaylistEntry,
    Profile,
    SearchHistory,
    Song,
)

AREA_OF = {
    Genre: caching.CATALOGUE,
    Artist: caching.CATALOGUE,
    Album: caching.CATALOGUE,
    Song: caching.CATALOGUE,
    AudioFile: caching.CATALOGUE,  # a page or an API answer names the file a song plays
    Playlist: caching.PLAYLISTS,
    PlaylistEntry: caching.PLAYLISTS,
    Collaborator: caching.PLAYLISTS,  # who may see a private playlist: a listener's kept answers list it
}


def _changed(sender, **kwargs):
    caching.bump(AREA_OF[sender])


def _album_genres_changed(sender, action, **kwargs):
    if action.startswith("post_"):
        caching.bump(caching.CATALOGUE)


# A song, album or artist leaving the catalogue takes its tallies with it (CASCADE): the listeners who had
# listened to it no longer have the unique counts their profiles keep. Those are dropped, and counted again
# at the next look at the stats (SyroMusic.listening.stats).
TALLY_OF = {Song: (ListenTally, "song"), Album: (ListenAlbumTally, "album"), Artist: (ListenArtistTally, "artist")}


def _uniques_go_stale(sender, instance, **kwargs):
    tally, field = TALLY_OF[sender]
    listeners = tally.objects.filter(**{field: instance}, listens__gt=0).values("user_id")
    Profile.objects.filter(user_id__in=listeners).exclude(listen_uniques={}).update(listen_uniques={})


def _user_saved(sender, instance, created=False, update_fields=None, **kwargs):
    """Kept playlist pages and answers name each playlist's owner: a renamed listener shows renamed at once.
    A new account is on no page yet, and a log-in's save (last_login alone) changes no name."""
    if not created and (update_fields is None or "username" in update_fields):
        caching.bump(caching.PLAYLISTS)


def _user_changed(sender, instance, **kwargs):
    """A logged-in request's user may come from the cache (caching.kept_user): not once it changed."""
    caching.forget_user(instance.pk)


def _search_deleted(sender, instance, **kwargs):
    """search.remember_search keeps what it last wrote to skip writing it again: not once it is gone."""
    search.forget_remembered(instance.user_id)


def connect():
    for model in AREA_OF:
        post_save.connect(_changed, sender=model, dispatch_uid=f"syro-bump-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"syro-bump-delete-{model.__name__}")
    post_save.connect(_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="syro-bump-user-save")
    post_save.connect(_user_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="syro-user-kept-save")
    post_delete.connect(_user_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="syro-user-kept-delete")
    post_delete.connect(_search_deleted, sender=SearchHistory, dispatch_uid="syro-search-deleted")
    m2m_changed.connect(_album_genres_changed, sender=Album.genres.through, dispatch_uid="syro-bump-album-genres")
    for model in TALLY_OF:
        pre_delete.connect(_uniques_go_stale, sender=model, dispatch_uid=f"syro-uniques-{model.__name__}")
