"""The play queue on the server (/api/v1/me/queue/): private, replaced whole (last write wins), checked
field by field, and read in a constant number of queries however long it is."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from SyroMusic.models import PlayQueue, Song
from SyroMusic.services import queue_load, queue_replace

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_artist, make_song

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/queue/"
PROBLEM = "application/problem+json"
COVER = "c0" * 32


@pytest.fixture
def songs():
    """Three songs: one playable on an album with a cover of its own, two without audio on one with a cover elsewhere."""
    artist = make_artist("Aphex Twin")
    syro = make_album("Syro", artist=artist, cover_hash=COVER)
    drukqs = make_album("Drukqs", artist=artist, cover_url="https://images.example/drukqs.jpg")
    first = make_song("minipops 67", album=syro, duration_ms=289_000)
    second = make_song("Avril 14th", album=drukqs, duration_ms=125_000)
    third = make_song("Vordhosbn", album=drukqs, duration_ms=None)
    give_audio(first)
    return [first, second, third]


def problem(response):
    assert response["Content-Type"] == PROBLEM, response.content
    body = response.json()
    assert body["status"] == response.status_code
    return body


def item(song):
    """What the queue says of a song: a player row."""
    playable = song.audio_id is not None
    cover = (
        f"http://testserver/media/covers/c0/{COVER}-64.webp" if song.album.cover_hash else song.album.cover_url or None
    )
    return {
        "id": song.pk,
        "url": f"http://testserver/api/v1/songs/{song.pk}/",
        "title": song.title,
        "artist_name": song.artist.name,
        "album_title": song.album.title,
        "duration_ms": song.duration_ms,
        "cover_url": cover,
        "playable": playable,
        "audio_url": f"http://testserver{song.audio.get_absolute_url()}" if playable else None,
    }


def put(client, **body):
    return client.put(URL, body, format="json")


def test_a_listener_without_a_queue_gets_an_empty_one(alice):
    assert logged_in(alice, api=True).get(URL).json() == {
        "songs": [], "current": None, "position_ms": 0, "updated_at": None, "items": [],
    }


def test_put_replaces_the_queue_and_answers_with_it_as_stored(alice, songs):
    client = logged_in(alice, api=True)
    first, second, third = (Song.objects.for_listing().get(pk=song.pk) for song in songs)
    response = put(client, songs=[second.pk, first.pk, second.pk, third.pk], current=1, position_ms=42_000)
    assert response.status_code == HTTPStatus.OK
    stored = PlayQueue.objects.get(user=alice)
    body = response.json()
    assert body == {
        "songs": [second.pk, first.pk, second.pk, third.pk],
        "current": 1,
        "position_ms": 42_000,
        "updated_at": stored.updated_at.isoformat().replace("+00:00", "Z"),
        "items": [item(second), item(first), item(second), item(third)],
    }
    assert client.get(URL).json() == body


def test_the_last_write_wins(alice, songs):
    phone, laptop = logged_in(alice, api=True), logged_in(alice, api=True)
    first, second, _ = songs
    put(phone, songs=[first.pk], current=0, position_ms=1_000)
    put(laptop, songs=[second.pk, first.pk], current=1, position_ms=0)
    assert phone.get(URL).json()["songs"] == [second.pk, first.pk]
    assert PlayQueue.objects.count() == 1


def test_each_listener_has_a_queue_of_their_own(alice, bob, charlie, songs):
    first, second, third = songs
    put(logged_in(alice, api=True), songs=[first.pk], current=0)
    put(logged_in(bob, api=True), songs=[second.pk, third.pk], current=None)
    assert logged_in(alice, api=True).get(URL).json()["songs"] == [first.pk]
    assert logged_in(bob, api=True).get(URL).json()["songs"] == [second.pk, third.pk]
    assert logged_in(charlie, api=True).get(URL).json()["songs"] == []


@pytest.mark.parametrize("method", ["get", "put"])
def test_anonymous_visitors_have_no_queue(method):
    response = getattr(logged_in(None, api=True), method)(URL, {"songs": []}, format="json")
    assert problem(response)["status"] == HTTPStatus.UNAUTHORIZED
    assert PlayQueue.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"songs": [1, 999, 998], "current": 0}, {"songs": ["No songs have the ids 998, 999."]}),
        ({"songs": [999]}, {"songs": ["No song has the id 999."]}),
        ({"songs": [1, 2], "current": 2}, {"current": ["Must be null or between 0 and 1 (an index into songs); got 2."]}),
        ({"songs": [], "current": 0}, {"current": ["The queue is empty: current must be null."]}),
        ({"songs": [1], "current": 0, "position_ms": -1}, {"position_ms": ["Ensure this value is greater than or equal to 0."]}),
        ({"songs": [1], "current": -1}, {"current": ["Ensure this value is greater than or equal to 0."]}),
        ({"songs": [0]}, {"songs": {"0": ["Ensure this value is greater than or equal to 1."]}}),
        ({"songs": "1,2"}, {"songs": ['Expected a list of items but got type "str".']}),
        ({"current": 0}, {"songs": ["This field is required."]}),
        ({"songs": [1], "shuffle": True}, {"shuffle": ["Unknown field. This endpoint accepts: current, position_ms, songs."]}),
        ({"songs": [1] * 1_001}, {"songs": ["Ensure this field has no more than 1000 elements."]}),
    ],
)
def test_a_bad_queue_is_a_400_that_names_what_is_wrong(alice, songs, body, errors):
    client = logged_in(alice, api=True)
    ids = {1: songs[0].pk, 2: songs[1].pk}
    if isinstance(body.get("songs"), list):
        body = {**body, "songs": [ids.get(song_id, song_id) for song_id in body["songs"]]}
    assert problem(client.put(URL, body, format="json"))["errors"] == errors
    assert PlayQueue.objects.count() == 0


def test_a_queue_holds_up_to_max_songs_and_may_repeat_one(alice, songs):
    response = put(logged_in(alice, api=True), songs=[songs[0].pk] * PlayQueue.MAX_SONGS, current=999)
    assert response.status_code == HTTPStatus.OK
    assert len(response.json()["items"]) == PlayQueue.MAX_SONGS


def test_the_service_refuses_more_than_max_songs_too(alice, songs):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        queue_replace(user=alice, song_ids=[songs[0].pk] * (PlayQueue.MAX_SONGS + 1))
    assert refused.value.message_dict == {"songs": ["A queue holds at most 1,000 songs; got 1,001."]}


def test_nothing_playing_means_position_zero(alice, songs):
    body = put(logged_in(alice, api=True), songs=[songs[0].pk], current=None, position_ms=5_000).json()
    assert (body["current"], body["position_ms"]) == (None, 0)


def test_the_read_only_fields_a_client_got_may_come_back(alice, songs):
    client = logged_in(alice, api=True)
    body = put(client, songs=[songs[0].pk], current=0).json()
    assert put(client, **{**body, "position_ms": 7}).json()["position_ms"] == 7


@pytest.mark.parametrize(
    ("queue", "current", "position", "deleted", "expected"),
    [
        # The current song stays the current one, wherever it moved to.
        ("ABC", 2, 5_000, "A", ("BC", 1, 5_000)),
        ("ABC", 0, 5_000, "C", ("AB", 0, 5_000)),
        # The current song went: the next one plays, from its start.
        ("ABC", 1, 5_000, "B", ("AC", 1, 0)),
        ("ABAC", 2, 5_000, "A", ("BC", 1, 0)),
        # ... or the new last one, when nothing followed it.
        ("ABC", 2, 5_000, "C", ("AB", 1, 0)),
        # Everything went.
        ("AA", 1, 5_000, "A", ("", None, 0)),
        ("ABC", None, 0, "B", ("AC", None, 0)),
    ],
)
def test_a_song_deleted_from_the_catalogue_drops_out_of_the_stored_queue(alice, queue, current, position, deleted, expected):
    album = make_album()
    letters = {letter: make_song(letter, album=album) for letter in "ABC"}
    queue_replace(user=alice, song_ids=[letters[letter].pk for letter in queue], current=current, position_ms=position)
    Song.objects.filter(title__in=list(deleted)).delete()
    written = PlayQueue.objects.get(user=alice).updated_at
    body = logged_in(alice, api=True).get(URL).json()
    songs, current, position = expected
    assert (body["songs"], body["current"], body["position_ms"]) == ([letters[letter].pk for letter in songs], current, position)
    assert [entry["title"] for entry in body["items"]] == list(songs)
    stored = PlayQueue.objects.get(user=alice)
    assert (stored.song_ids, stored.current_index, stored.position_ms) == (body["songs"], current, position)
    assert stored.updated_at == written


def test_a_queue_goes_with_its_listener(alice, songs):
    queue_replace(user=alice, song_ids=[songs[0].pk])
    alice.delete()
    assert PlayQueue.objects.count() == 0


def test_the_database_refuses_a_negative_index_or_position(alice):
    from django.db import IntegrityError, transaction

    for fields in ({"current_index": -1}, {"position_ms": -1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            PlayQueue.objects.create(user=alice, **fields)


def many_songs(count):
    album = make_album(cover_hash=COVER)
    made = Song.objects.bulk_create(
        Song(title=f"Song {number}", album=album, artist=album.artist, track_number=number, duration_ms=1_000)
        for number in range(1, count + 1)
    )
    give_audio(*made[::2])
    return made


# The queue, then its songs with their albums, artists and files (Song.for_listing).
GET_QUERIES = 2
# The song ids checked, the queue row looked up and written (update_or_create: a savepoint around it),
# then read back as GET reads it.
PUT_QUERIES = 7


@pytest.mark.parametrize("count", [3, 300])
def test_reading_the_queue_takes_the_same_queries_at_any_length(alice, django_assert_num_queries, count):
    made = many_songs(count)
    queue_replace(user=alice, song_ids=[song.pk for song in made] * 2, current=0)
    client = logged_in(alice, api=True)
    with django_assert_num_queries(GET_QUERIES):
        body = client.get(URL).json()
    assert len(body["items"]) == 2 * count


@pytest.mark.parametrize("count", [3, 300])
def test_writing_the_queue_takes_the_same_queries_at_any_length(alice, django_assert_num_queries, count):
    made = many_songs(count)
    client = logged_in(alice, api=True)
    queue_replace(user=alice, song_ids=[made[0].pk])
    with django_assert_num_queries(PUT_QUERIES):
        response = put(client, songs=[song.pk for song in made], current=count - 1)
    assert response.status_code == HTTPStatus.OK


def test_a_queue_with_a_deleted_song_takes_one_more_query_to_store_the_change(alice, django_assert_num_queries):
    made = many_songs(3)
    queue_replace(user=alice, song_ids=[song.pk for song in made], current=0)
    made[1].delete()
    with django_assert_num_queries(GET_QUERIES + 1):
        logged_in(alice, api=True).get(URL)
    with django_assert_num_queries(GET_QUERIES):
        logged_in(alice, api=True).get(URL)


def test_queue_load_is_what_the_api_reads(alice, songs):
    queue_replace(user=alice, song_ids=[songs[2].pk, songs[0].pk], current=1, position_ms=3)
    queue = queue_load(user=alice)
    assert ([song.pk for song in queue.songs], queue.current_index, queue.position_ms) == ([songs[2].pk, songs[0].pk], 1, 3)


def test_the_queue_is_in_the_schema(alice):
    schema = logged_in(alice, api=True).get("/api/v1/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/me/queue/"]
    assert set(operations) == {"get", "put"}
    assert schema["components"]["schemas"]["Queue"]["properties"]["songs"]["maxItems"] == PlayQueue.MAX_SONGS


def test_staff_see_queues_in_the_admin_but_do_not_edit_them(alice, songs, django_user_model):
    queue = queue_replace(user=alice, song_ids=[songs[0].pk, songs[1].pk], current=0)
    staff = logged_in(django_user_model.objects.create_superuser("root", "root@example.com", "correct horse battery"))
    changelist = staff.get(reverse("admin:SyroMusic_playqueue_changelist") + "?q=ali")
    assert changelist.status_code == HTTPStatus.OK
    assert "alice" in changelist.content.decode()
    assert staff.get(reverse("admin:SyroMusic_playqueue_change", args=[queue.pk])).status_code == HTTPStatus.OK
    assert staff.get(reverse("admin:SyroMusic_playqueue_add")).status_code == HTTPStatus.FORBIDDEN
