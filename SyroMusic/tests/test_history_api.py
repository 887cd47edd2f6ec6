"""/api/v1/me/listens/: the player's batches (validated, idempotent), the history in cursor pages with constant
queries, forgetting one or all; nobody reads or removes another listener's listens."""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from SyroMusic.listening import record
from SyroMusic.models import Listen, ListenDay

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_artist, make_song

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/listens/"
START = datetime(2026, 11, 25, 21, 4, 5, 123000, tzinfo=UTC)


@pytest.fixture
def song():
    artist = make_artist("Boards of Canada")
    return make_song("Roygbiv", album=make_album("Music Has the Right to Children", artist=artist), duration_ms=151_000)


def item(client_id="a1", song=None, **fields):
    return {"client_id": client_id, "song": song, "started_at": "2026-11-25T21:04:05.123Z", "heard_ms": 100_000, **fields}


def post(client, *items):
    return client.post(URL, {"listens": list(items)}, format="json")


def listen(user, song, client_id, started_at=START, heard_ms=100_000):
    return record.record(user, [record.Event(client_id, song.pk, started_at, heard_ms, client="SyroMusic web")]).listens[0]


class TestRecording:
    def test_a_batch_is_recorded_and_answered_with_ids_and_whether_each_counts(self, alice, song):
        response = post(logged_in(alice, api=True), item("a1", song.pk), item("a2", song.pk, heard_ms=10_000))
        assert response.status_code == HTTPStatus.OK
        first, second = Listen.objects.order_by("id")
        assert response.json() == {
            "recorded": [
                {"client_id": "a1", "id": first.pk, "counted": True},
                {"client_id": "a2", "id": second.pk, "counted": False},
            ],
            "duplicates": [],
            "skipped": [],
        }
        assert (first.user, first.song, first.started_at, first.heard_ms, first.client, first.source) == (
            alice, song, START, 100_000, "", Listen.Source.API
        )

    def test_the_same_client_id_again_is_a_duplicate_and_recorded_once(self, alice, song):
        client = logged_in(alice, api=True)
        post(client, item("a1", song.pk))
        response = post(client, item("a1", song.pk), item("a2", song.pk), item("a2", song.pk))
        assert response.json()["duplicates"] == ["a1", "a2"]
        assert [row["client_id"] for row in response.json()["recorded"]] == ["a2"]
        assert Listen.objects.count() == 2
        assert ListenDay.objects.get().listens == 2

    def test_a_song_not_in_the_catalogue_is_skipped_not_an_error(self, alice, song):
        response = post(logged_in(alice, api=True), item("a1", song.pk + 1000))
        assert response.status_code == HTTPStatus.OK
        assert response.json() == {
            "recorded": [], "duplicates": [], "skipped": [{"client_id": "a1", "reason": f"No song with id {song.pk + 1000}."}]
        }

    @pytest.mark.parametrize(
        ("client", "source"),
        [("SyroMusic web", "player"), ("SyroMusic web 1.2", "player"), ("Other app", "api"), ("", "api")],
    )
    def test_the_web_players_listens_are_the_players_others_the_apis(self, alice, song, client, source):
        post(logged_in(alice, api=True), item("a1", song.pk, client=client))
        assert Listen.objects.get().source == source

    def test_heard_time_is_capped_at_the_songs_length(self, alice, song):
        post(logged_in(alice, api=True), item("a1", song.pk, heard_ms=10_000_000))
        assert Listen.objects.get().heard_ms == 152_000


class TestValidation:
    def test_an_invalid_item_is_a_400_that_names_it_and_nothing_is_recorded(self, alice, song):
        response = post(
            logged_in(alice, api=True), item("a1", song.pk), item("a2", song.pk), item("a3", song.pk, heard_ms=-1)
        )
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"listens": {"2": {"heard_ms": ["Ensure this value is greater than or equal to 0."]}}}
        assert not Listen.objects.exists()

    @pytest.mark.parametrize(
        ("fields", "errors"),
        [
            ({"client_id": "not ok!"}, {"client_id": ["Use letters, digits and . _ : - only."]}),
            ({"client_id": "x" * 65}, {"client_id": ["Ensure this field has no more than 64 characters."]}),
            ({"client": "x" * 65}, {"client": ["Ensure this field has no more than 64 characters."]}),
            ({"started_at": "1999-12-31T23:59:59Z"}, {"started_at": ["Must not be before 2000-01-01."]}),
            ({"song": "twelve"}, {"song": ["A valid integer is required."]}),
            ({"volume": 3}, {"volume": ["Unknown field. This endpoint accepts: client, client_id, heard_ms, song, started_at."]}),
        ],
    )
    def test_a_bad_value_is_refused_on_its_field(self, alice, song, fields, errors):
        response = post(logged_in(alice, api=True), {**item("a1", song.pk), **fields})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"listens": {"0": errors}}

    @pytest.mark.parametrize("ahead", [timedelta(minutes=4), timedelta(minutes=6), timedelta(days=400)])
    def test_a_start_in_the_future_is_recorded_as_the_servers_time_of_the_request(self, alice, song, ahead):
        # A client clock running fast: refused, the player would drop the listen for good.
        client = logged_in(alice, api=True)
        before = timezone.now()
        response = post(client, item("a1", song.pk, started_at=(before + ahead).isoformat()))
        after = timezone.now()
        assert response.status_code == HTTPStatus.OK
        assert before <= Listen.objects.get().started_at <= after

    def test_a_batch_holds_1_to_100_listens(self, alice, song):
        client = logged_in(alice, api=True)
        too_many = post(client, *[item(f"a{number}", song.pk) for number in range(101)])
        assert too_many.status_code == HTTPStatus.BAD_REQUEST
        assert too_many.json()["errors"] == {"listens": ["Ensure this field has no more than 100 elements."]}
        assert post(client).json()["errors"] == {"listens": ["Ensure this field has at least 1 elements."]}
        assert not Listen.objects.exists()
        assert len(post(client, *[item(f"a{number}", song.pk) for number in range(100)]).json()["recorded"]) == 100

    def test_a_body_without_listens_is_refused(self, alice):
        client = logged_in(alice, api=True)
        assert client.post(URL, {}, format="json").json()["errors"] == {"listens": ["This field is required."]}
        assert client.post(URL, {"songs": []}, format="json").json()["errors"] == {
            "songs": ["Unknown field. This endpoint accepts: listens."]
        }


class TestReading:
    def test_an_item_says_what_was_heard_and_the_song_as_a_player_row(self, alice, song):
        give_audio(song, duration_ms=151_000)
        song.refresh_from_db()
        made = listen(alice, song, "a1")
        body = logged_in(alice, api=True).get(URL).json()
        assert body == {
            "next": None,
            "previous": None,
            "results": [
                {
                    "id": made.pk, "client_id": "a1", "started_at": "2026-11-25T21:04:05.123000Z", "heard_ms": 100_000,
                    "counted": True, "client": "SyroMusic web", "source": "player",
                    "song": {
                        "id": song.pk, "url": f"http://testserver/api/v1/songs/{song.pk}/", "title": "Roygbiv",
                        "artist_name": "Boards of Canada", "album_title": "Music Has the Right to Children",
                        "duration_ms": 151_000, "cover_url": None, "playable": True,
                        "audio_url": f"http://testserver{song.audio.get_absolute_url()}",
                    },
                }
            ],
        }

    def test_a_listen_of_a_deleted_song_has_no_song(self, alice, song):
        listen(alice, song, "a1")
        song.delete()
        assert logged_in(alice, api=True).get(URL).json()["results"][0]["song"] is None

    def test_pages_walk_newest_first_and_back(self, alice, song):
        # Two listens at the same moment: the id settles the order, and no page repeats or skips one.
        times = [START, START, START - timedelta(hours=1), START - timedelta(hours=2), START - timedelta(hours=3)]
        made = [listen(alice, song, f"a{number}", started_at=at) for number, at in enumerate(times)]
        newest_first = [made[1].pk, made[0].pk, made[2].pk, made[3].pk, made[4].pk]
        client = logged_in(alice, api=True)
        first = client.get(URL, {"page_size": 2}).json()
        assert [row["id"] for row in first["results"]] == newest_first[:2]
        assert first["previous"] is None
        second = client.get(first["next"]).json()
        assert [row["id"] for row in second["results"]] == newest_first[2:4]
        third = client.get(second["next"]).json()
        assert [row["id"] for row in third["results"]] == newest_first[4:]
        assert third["next"] is None
        back = client.get(third["previous"]).json()
        assert [row["id"] for row in back["results"]] == newest_first[2:4]
        top = client.get(back["previous"]).json()
        assert [row["id"] for row in top["results"]] == newest_first[:2]
        assert top["previous"] is None
        assert "page_size=2" in top["next"]

    @pytest.mark.parametrize("cursor", ["abc", "bzoxMjM0", "MTIzLjQ1", "%%%", "by4tOTk5OTk5OTk5OTk5OTk5OTkuMQ"])
    def test_a_cursor_it_did_not_make_is_a_400(self, alice, cursor):
        response = logged_in(alice, api=True).get(URL, {"cursor": cursor})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert list(response.json()["errors"]) == ["cursor"]

    @pytest.mark.parametrize("size", ["0", "201", "ten", "10000", ""])
    def test_page_size_is_1_to_200(self, alice, size):
        response = logged_in(alice, api=True).get(URL, {"page_size": size})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert list(response.json()["errors"]) == ["page_size"]

    @pytest.mark.parametrize("size", ["٣", "１０", " 3", "3 ", "+3", "3.0"])
    def test_page_size_takes_ascii_digits_only(self, alice, size):
        # int() would read Arabic-Indic or full-width digits, spaces and a sign.
        response = logged_in(alice, api=True).get(URL, {"page_size": size})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"page_size": [f"{size!r} is not a whole number."]}

    @pytest.mark.parametrize("count", [1, 60])
    def test_a_page_takes_one_query_whatever_its_size(self, alice, django_assert_num_queries, count):
        songs = [make_song(duration_ms=100_000) for _ in range(3)]
        give_audio(*songs)
        record.record(
            alice, [record.Event(f"a{number}", songs[number % 3].pk, START - timedelta(minutes=number), 60_000) for number in range(count)]
        )
        client = logged_in(alice, api=True)
        with django_assert_num_queries(1):
            body = client.get(URL, {"page_size": 200}).json()
        assert len(body["results"]) == count

    def test_nobody_reads_another_listeners_history(self, alice, bob, song):
        listen(alice, song, "a1")
        assert logged_in(bob, api=True).get(URL).json() == {"next": None, "previous": None, "results": []}


class TestForgetting:
    def test_delete_forgets_the_whole_history(self, alice, bob, song):
        listen(alice, song, "a1")
        listen(alice, song, "a2")
        listen(bob, song, "b1")
        response = logged_in(alice, api=True).delete(URL)
        assert response.status_code == HTTPStatus.NO_CONTENT
        assert list(Listen.objects.values_list("client_id", flat=True)) == ["b1"]
        assert list(ListenDay.objects.values_list("user__username", flat=True)) == ["bob"]

    def test_delete_one_forgets_it(self, alice, song):
        kept, gone = listen(alice, song, "a1"), listen(alice, song, "a2")
        response = logged_in(alice, api=True).delete(f"{URL}{gone.pk}/")
        assert response.status_code == HTTPStatus.NO_CONTENT
        assert list(Listen.objects.all()) == [kept]
        assert ListenDay.objects.get().listens == 1

    def test_another_listeners_listen_or_one_gone_is_404(self, alice, bob, song):
        made = listen(alice, song, "a1")
        assert logged_in(bob, api=True).delete(f"{URL}{made.pk}/").status_code == HTTPStatus.NOT_FOUND
        assert Listen.objects.filter(pk=made.pk).exists()
        assert logged_in(alice, api=True).delete(f"{URL}{made.pk + 1}/").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path"), [("get", URL), ("post", URL), ("delete", URL), ("delete", f"{URL}1/")]
)
def test_anonymous_visitors_have_no_history(method, path, song):
    response = getattr(logged_in(None, api=True), method)(path, {"listens": [item("a1", song.pk)]} if method == "post" else None, format="json")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not Listen.objects.exists()
