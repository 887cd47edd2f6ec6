"""/api/v1/me/stats/ and /api/v1/users/<name>/stats/: the page's figures as JSON, the same privacy rule as
the page, exact query counts; /api/v1/me/ PATCH of the time zone and sharing."""

import datetime
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from SyroMusic.listening import record
from SyroMusic.models import ListenDay, Profile

from .factories import logged_in, make_album, make_artist, make_song

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
TESTSERVER = "http://testserver"


def play(user, song, *times, heard_ms=180_000):
    record.record(user, [record.Event(f"{user.pk}-{time.isoformat()}-{song.pk}", song.pk, time, heard_ms) for time in times])


def share_stats(user, *, is_public=True, stats_public=True):
    Profile.objects.update_or_create(user=user, defaults={"is_public": is_public, "stats_public": stats_public})


def with_token(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def song():
    return make_song("Anthem", album=make_album("First", artist=make_artist("The Band")), duration_ms=180_000)


def refs(song):
    artist = {"id": song.artist_id, "url": f"{TESTSERVER}/api/v1/artists/{song.artist_id}/",
              "web_url": f"{TESTSERVER}/music/artists/{song.artist_id}/", "name": "The Band"}
    album = {"id": song.album_id, "url": f"{TESTSERVER}/api/v1/albums/{song.album_id}/",
             "web_url": f"{TESTSERVER}/music/albums/{song.album_id}/", "title": "First"}
    return artist, album


class TestMyStats:
    def test_it_gives_the_figures_of_the_range_with_links(self, alice, song):
        now = timezone.now()
        play(alice, song, now - datetime.timedelta(minutes=5), now - datetime.timedelta(days=1))
        body = logged_in(alice, api=True).get("/api/v1/me/stats/?range=7d").json()
        today = now.date()
        artist, album = refs(song)
        ranked_song = {
            "id": song.pk, "url": f"{TESTSERVER}/api/v1/songs/{song.pk}/", "web_url": f"{TESTSERVER}/music/songs/{song.pk}/",
            "title": "Anthem", "artist": artist, "album": album, "listens": 2, "minutes": 6,
        }
        hours = [0] * 24
        for moment in (now - datetime.timedelta(minutes=5), now - datetime.timedelta(days=1)):
            hours[moment.hour] += 1
        weekdays = [0] * 7
        for moment in (now - datetime.timedelta(minutes=5), now - datetime.timedelta(days=1)):
            weekdays[moment.weekday()] += 1
        assert {key: value for key, value in body.items() if key != "months"} == {
            "username": "alice", "range": "7d", "time_zone": "UTC",
            "start": (today - datetime.timedelta(days=6)).isoformat(), "end": today.isoformat(),
            "listens": 2, "minutes": 6, "unique_songs": 1, "unique_albums": 1, "unique_artists": 1,
            "current_streak": 2, "longest_streak": 2, "hours": hours, "weekdays": weekdays,
            "most_active_hour": hours.index(max(hours)),
            "most_active_weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][
                weekdays.index(max(weekdays))
            ],
            "top_songs": [ranked_song],
            "top_albums": [{**album, "artist": artist, "listens": 2, "minutes": 6}],
            "top_artists": [{**artist, "listens": 2, "minutes": 6}],
        }
        assert len(body["months"]) == 12
        assert body["months"][-1]["month"] == f"{today:%Y-%m}"

    def test_the_monthly_summary_names_the_top_artist_and_song(self, alice, song):
        moment = timezone.now() - datetime.timedelta(days=40)
        play(alice, song, moment)
        body = logged_in(alice, api=True).get("/api/v1/me/stats/?range=7d").json()
        artist, album = refs(song)
        assert [month for month in body["months"] if month["listens"]] == [
            {
                "month": f"{moment:%Y-%m}", "minutes": 3, "listens": 1, "top_artist": artist,
                "top_song": {"id": song.pk, "url": f"{TESTSERVER}/api/v1/songs/{song.pk}/",
                             "web_url": f"{TESTSERVER}/music/songs/{song.pk}/", "title": "Anthem", "artist": artist,
                             "album": album, "listens": 1, "minutes": 3},
            }
        ]

    def test_the_default_range_is_the_last_30_days(self, alice):
        body = logged_in(alice, api=True).get("/api/v1/me/stats/").json()
        assert (body["range"], body["listens"], body["top_songs"], body["most_active_hour"]) == ("30d", 0, [], None)

    @pytest.mark.parametrize("value", ["1y", "", "7D", "all "])
    def test_an_unknown_range_is_400_naming_the_allowed_values(self, alice, value):
        response = logged_in(alice, api=True).get("/api/v1/me/stats/", {"range": value})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"range": [f"Must be one of 7d, 30d, 12m, all; got {value!r}."]}

    def test_anonymous_callers_are_refused(self):
        response = APIClient().get("/api/v1/me/stats/")
        assert response.status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)

    @pytest.mark.parametrize("songs", [1, 8])
    def test_a_token_authenticated_answer_takes_four_queries(self, alice, django_assert_num_queries, songs):
        now = timezone.now()
        for index in range(songs):
            song = make_song(duration_ms=180_000)
            play(alice, song, *(now - datetime.timedelta(days=day, minutes=index) for day in range(0, 400, 37)))
        client = with_token(alice)
        client.get("/api/v1/me/stats/?range=12m")  # the month's first look at 12 months builds its window
        for period in ("7d", "30d", "12m", "all"):
            with django_assert_num_queries(4):  # the token with its user, the profile, the days, the ranking
                response = client.get(f"/api/v1/me/stats/?range={period}")
            assert response.status_code == HTTPStatus.OK
            assert response.json()["unique_songs"] == songs

    def test_it_is_private_to_caches(self, alice):
        response = with_token(alice).get("/api/v1/me/stats/")
        assert response["Cache-Control"] == "private, no-cache"
        assert {"Cookie", "Authorization"} <= {value.strip() for value in response["Vary"].split(",")}


def ask(face, viewer, username):
    """The same question to the page and to the API: the status of another listener's stats."""
    if face == "page":
        client = Client()
        if viewer:
            client.force_login(viewer)
        return client.get(f"/music/users/{username}/stats/").status_code
    return logged_in(viewer, api=True).get(f"/api/v1/users/{username}/stats/").status_code


class TestTheirStats:
    @pytest.mark.parametrize("face", ["page", "api"])
    @pytest.mark.parametrize(
        ("viewer", "is_public", "stats_public", "status"),
        [
            ("alice", False, False, HTTPStatus.OK),
            ("bob", True, True, HTTPStatus.OK),
            ("anonymous", True, True, HTTPStatus.OK),
            ("bob", True, False, HTTPStatus.NOT_FOUND),
            ("bob", False, True, HTTPStatus.NOT_FOUND),
            ("anonymous", True, False, HTTPStatus.NOT_FOUND),
            ("anonymous", False, True, HTTPStatus.NOT_FOUND),
        ],
    )
    def test_page_and_api_show_them_only_when_the_profile_shares_them(
        self, alice, bob, face, viewer, is_public, stats_public, status
    ):
        share_stats(alice, is_public=is_public, stats_public=stats_public)
        assert ask(face, {"alice": alice, "bob": bob}.get(viewer), "alice") == status

    @pytest.mark.parametrize("face", ["page", "api"])
    def test_an_unknown_listener_is_404(self, bob, face):
        assert ask(face, bob, "nobody") == HTTPStatus.NOT_FOUND

    def test_shared_stats_are_the_listeners_figures(self, alice, bob, song):
        share_stats(alice)
        play(alice, song, timezone.now() - datetime.timedelta(minutes=5))
        body = logged_in(bob, api=True).get("/api/v1/users/alice/stats/?range=all").json()
        assert (body["username"], body["listens"], [item["title"] for item in body["top_songs"]]) == ("alice", 1, ["Anthem"])

    def test_a_bad_range_is_400_once_the_stats_may_be_seen(self, alice, bob):
        share_stats(alice)
        response = logged_in(bob, api=True).get("/api/v1/users/alice/stats/?range=week")
        assert response.json()["errors"] == {"range": ["Must be one of 7d, 30d, 12m, all; got 'week'."]}
        share_stats(alice, stats_public=False)
        assert logged_in(bob, api=True).get("/api/v1/users/alice/stats/?range=week").status_code == HTTPStatus.NOT_FOUND

    def test_they_take_four_queries_with_a_token(self, alice, bob, song, django_assert_num_queries):
        share_stats(alice)
        play(alice, song, timezone.now() - datetime.timedelta(minutes=5))
        client = with_token(bob)
        with django_assert_num_queries(4):  # the token with its user, the listener with profile, the days, the ranking
            assert client.get("/api/v1/users/alice/stats/?range=7d").status_code == HTTPStatus.OK


class TestMyProfile:
    def test_me_tells_the_time_zone_and_sharing(self, alice):
        body = logged_in(alice, api=True).get("/api/v1/me/").json()
        assert (body["time_zone"], body["stats_public"]) == ("UTC", False)

    def test_a_new_time_zone_rebuilds_the_days(self, alice, song):
        play(alice, song, datetime.datetime(2026, 11, 30, 20, tzinfo=UTC))
        response = logged_in(alice, api=True).patch(
            "/api/v1/me/", {"time_zone": "Asia/Tokyo", "stats_public": True}, format="json"
        )
        assert response.status_code == HTTPStatus.OK
        assert (response.json()["time_zone"], response.json()["stats_public"]) == ("Asia/Tokyo", True)
        assert list(ListenDay.objects.filter(user=alice).values_list("day", flat=True)) == [datetime.date(2026, 12, 1)]
        assert Profile.objects.get(user=alice).stats_public

    def test_a_listener_without_a_profile_row_may_set_a_time_zone(self, alice):
        Profile.objects.filter(user=alice).delete()
        response = logged_in(alice, api=True).patch("/api/v1/me/", {"time_zone": "Europe/Paris"}, format="json")
        assert response.json()["time_zone"] == "Europe/Paris"
        assert Profile.objects.get(user=alice).time_zone == "Europe/Paris"

    def test_an_unknown_time_zone_is_400(self, alice):
        response = logged_in(alice, api=True).patch("/api/v1/me/", {"time_zone": "Mars/Olympus"}, format="json")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert list(response.json()["errors"]) == ["time_zone"]
        assert Profile.of(alice).time_zone == "UTC"
