"""Small builders for test data: each returns a saved object with sensible defaults."""

import json
import re
from itertools import count

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

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


def seed_catalogue(songs=300, **options):
    """The generated demo catalogue (the same data for the same arguments), built quietly."""
    call_command("seed_catalogue", songs=songs, no_progress=True, stdout=None, **options)


def text(response):
    """A response's body as text."""
    return response.content.decode()


def json_ld(response):
    """The page's JSON-LD description."""
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text(response), re.S).group(1))


def logged_in(user, *, api=False):
    """A test client logged in as user, or anonymous for None; with api=True, an API client authenticated as user."""
    if api:
        client = APIClient()
        if user:
            client.force_authenticate(user)
    else:
        client = Client()
        if user:
            client.force_login(user)
    return client
