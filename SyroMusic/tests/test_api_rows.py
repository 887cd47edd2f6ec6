"""The rows the API writes out by hand (SongSerializer and PlaylistSerializer's to_representation) are exactly
what DRF's generic walk over the same fields gives, for every kind of song and playlist, and the querysets the
API lists them with (for_api, for_listing) hold every column a row reads: writing the rows costs no query."""

import datetime

import pytest
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers as drf
from rest_framework.request import Request

from SyroMusic.api.serializers import PlaylistSerializer, SongSerializer
from SyroMusic.models import AudioFile, Like, Playlist, Song

from .factories import make_album, make_artist, make_genre, make_playlist, make_song, make_user

pytestmark = pytest.mark.django_db


def songs_of_every_kind():
    listener = make_user("alice")
    band = make_artist("Band & Co")
    dated = make_album("Dated <b>", artist=band, release_date=datetime.date(1999, 12, 31))
    undated = make_album("Undated", artist=band, release_date=None)
    rows = [
        make_song("Plain", album=dated, genre=make_genre("Jazz")),
        make_song("Bare", album=undated, genre=None, track_number=12, disc_number=2, composer="", explicit=True),
        make_song("Other artist “quoted”", album=dated, artist=make_artist("Guest"), popularity=100, composer="Ann Ó"),
    ]
    with_audio = make_song("Heard", album=undated)
    with_audio.audio = AudioFile.objects.create(
        song=with_audio, path="/music/heard.flac", format="flac", codec="flac", bitrate=900_000, sample_rate=44_100,
        channels=2, duration_ms=187_001, size=21_000_000, mtime_ns=1, content_hash="ab" * 32,
    )
    with_audio.save()
    Like.objects.create(user=listener, song=rows[0])
    Song.objects.filter(pk=rows[1].pk).update(created_at=timezone.now().replace(microsecond=0))
    return listener


@pytest.mark.parametrize("logged_in", [False, True])
def test_the_written_out_row_is_the_generic_one(logged_in, settings, django_assert_num_queries):
    settings.ALLOWED_HOSTS = ["music.example"]
    listener = songs_of_every_kind()
    http_request = RequestFactory().get("/api/v1/songs/", HTTP_HOST="music.example:8443")
    http_request.user = listener if logged_in else None
    request = Request(http_request)
    songs = Song.objects.for_api().order_by("id")
    if logged_in:
        songs = songs.with_liked(listener)
    serializer = SongSerializer(context={"request": request})
    rows = list(songs)
    assert len(rows) == 4
    for song in rows:
        with django_assert_num_queries(0):
            written = serializer.to_representation(song)
            generic = drf.HyperlinkedModelSerializer.to_representation(serializer, song)
        assert written == dict(generic)
        assert list(written) == list(generic)  # the same order of keys
        assert [type(value) for value in written.values()] == [type(value) for value in generic.values()]
    assert [serializer.to_representation(song)["liked"] for song in rows] == [logged_in, False, False, False]


def test_the_written_out_playlist_row_is_the_generic_one(settings, django_assert_num_queries):
    settings.ALLOWED_HOSTS = ["music.example"]
    owner = make_user("bob")
    band = make_artist("Band")
    album = make_album("Album", artist=band)
    songs = [make_song("One", album=album, duration_ms=61_000), make_song("Two", album=album, duration_ms=None),
             make_song("Three", album=album, duration_ms=120_500)]
    make_playlist(owner=owner, name="Mixed <b> “quoted”", songs=songs, description="A & B", is_public=True)
    make_playlist(owner=owner, name="Empty", description="", is_public=False)
    http_request = RequestFactory().get("/api/v1/playlists/", HTTP_HOST="music.example")
    http_request.user = owner
    serializer = PlaylistSerializer(context={"request": Request(http_request)})
    rows = list(Playlist.objects.for_listing().order_by("id"))
    assert [(row.entry_count, row.total_duration_ms) for row in rows] == [(3, 181_500), (0, 0)]
    for playlist in rows:
        with django_assert_num_queries(0):
            written = serializer.to_representation(playlist)
            generic = drf.HyperlinkedModelSerializer.to_representation(serializer, playlist)
        assert written == dict(generic)
        assert list(written) == list(generic)
        assert [type(value) for value in written.values()] == [type(value) for value in generic.values()]
    assert serializer.to_representation(rows[0])["owner"] == "bob"
