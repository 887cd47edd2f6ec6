"""Small builders for test data: each returns a saved object with sensible defaults."""

from itertools import count

from django.contrib.auth import get_user_model
from django.test import Client

from SyroMusic.models import Album, Artist, Genre, Playlist, PlaylistEntry, Song

_numbers = count(1)


def make_user(username=None, **fields):
    username = username or f"listener{next(_numbers)}"
    return get_user_model().objects.create_user(username=username, password="correct horse battery", **fields)


def make_genre(name=None, **fields):
    name = name or f"Genre {next(_numbers)}"
    return Genre.objects.create(name=name, slug=fields.pop("slug", name.lower().replace(" ", "-")), **fields)


def make_artist(name=None, **fields):
    return Artist.objects.create(name=name or f"Artist {next(_numbers)}", **fields)


def make_album(title=None, artist=None, **fields):
    return Album.objects.create(title=title or f"Album {next(_numbers)}", artist=artist or make_artist(), **fields)


def make_song(title=None, album=None, **fields):
    album = album or make_album()
    fields.setdefault("artist", album.artist)
    if "track_number" not in fields:
        fields["track_number"] = album.songs.filter(disc_number=fields.get("disc_number", 1)).count() + 1
    return Song.objects.create(title=title or f"Song {next(_numbers)}", album=album, **fields)


def make_playlist(owner=None, name=None, songs=(), **fields):
    playlist = Playlist.objects.create(owner=owner or make_user(), name=name or f"Playlist {next(_numbers)}", **fields)
    PlaylistEntry.objects.bulk_create(
        PlaylistEntry(playlist=playlist, song=song, position=position, added_by=playlist.owner)
        for position, song in enumerate(songs, start=1)
    )
    return playlist


def text(response):
    """A response's body as text."""
    return response.content.decode()


def logged_in(user):
    """A test client logged in as user."""
    client = Client()
    client.force_login(user)
    return client
