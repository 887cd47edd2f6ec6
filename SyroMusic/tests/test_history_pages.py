"""Recently played (/music/history/): the listener's own plays, newest first, in cursor pages with constant
queries, in their time zone; remove one, clear all; export as ListenBrainz JSON and CSV. Private: a login
is needed, another listener's listen is a 404, and no cache keeps the page."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from SyroMusic.listening import history, record
from SyroMusic.models import Listen, ListenDay, Profile

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_artist, make_song, make_user, text

pytestmark = pytest.mark.django_db

URL = "/music/history/"
START = datetime(2025, 3, 14, 21, 4, 5, tzinfo=UTC)  # long before the tests run: not today nor yesterday


@pytest.fixture
def song():
    artist = make_artist("Boards of Canada")
    made = make_song("Roygbiv", album=make_album("Music Has the Right to Children", artist=artist), duration_ms=151_000)
    give_audio(made, duration_ms=151_000)
    made.refresh_from_db()
    return made


def listen(user, song, client_id, started_at=START, heard_ms=100_000, client="SyroMusic web"):
    return record.record(user, [record.Event(client_id, song.pk, started_at, heard_ms, client=client)]).listens[0]


def listen_many(user, song, count):
    """`count` listens a minute apart, the first at START (one batch: quicker than one by one)."""
    events = [record.Event(f"a{number}", song.pk, START - timedelta(minutes=number), 100_000) for number in range(count)]
    return record.record(user, events).listens


def rows(response):
    """Each row of the history table, as its cells' text."""
    body = re.search(r"<tbody>(.*?)</tbody>", text(response), re.S).group(1)
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def link(response, rel):
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', text(response))
    return found and found.group(1).replace("&amp;", "&")


class TestThePage:
    def test_a_row_is_a_song_row_with_when_heard_and_whether_it_counted(self, alice, song):
        made = listen(alice, song, "a1")
        response = logged_in(alice).get(URL)
        assert response.status_code == HTTPStatus.OK
        page = text(response)
        assert '<table class="songs history" data-play-list>' in page
        row = re.search(rf'<tr id="listen-{made.pk}" data-song-id="{song.pk}">(.*?)</tr>', page, re.S).group(1)
        assert row.strip().startswith(f'<td class="row-play"><button type="button" class="play-button needs-js" data-play-song="{song.pk}"')
        assert f'<a href="/music/songs/{song.pk}/">Roygbiv</a>' in row
        assert f'<a href="/music/artists/{song.artist.pk}/">Boards of Canada</a>' in row
        assert f'<a href="/music/albums/{song.album.pk}/">Music Has the Right to Children</a>' in row
        assert '<time datetime="2025-03-14T21:04:05+00:00">14 Mar 2025 21:04</time>' in row
        assert f'<form method="post" action="/music/history/{made.pk}/remove/">' in row
        assert '<input type="hidden" name="next" value="/music/history/">' in row
        assert f'data-queue-add="{song.pk}">Add to queue</button><div class="row-actions">' in row
        assert row.strip().endswith('aria-label="Add Roygbiv to a playlist">Add to playlist…</a></div></div></details></td>')
        assert rows(response) == [
            ["▶", "MC Roygbiv ♪ (playable)", "Boards of Canada", "Music Has the Right to Children", "14 Mar 2025 21:04",
             "1:40", "Counted", "Remove", "⋯ Play next Add to queue Like Add to playlist…"]
        ]

    def test_a_skip_says_skipped(self, alice, song):
        listen(alice, song, "a1", heard_ms=5_000)
        assert rows(logged_in(alice).get(URL))[0][5:7] == ["0:05", "Skipped"]

    def test_a_song_that_left_the_catalogue_reads_so_and_has_no_play_button(self, alice, song):
        made = listen(alice, song, "a1")
        song.delete()
        page = text(logged_in(alice).get(URL))
        assert f'<tr id="listen-{made.pk}" class="unplayable gone">' in page
        assert "data-play-song" not in page
        assert rows(logged_in(alice).get(URL)) == [
            ["", "A song no longer in the catalogue", "14 Mar 2025 21:04", "1:40", "Counted", "Remove", ""]
        ]

    def test_times_are_the_listeners_own(self, alice, song):
        record.change_time_zone(alice, "America/New_York")
        now = timezone.now()
        listen(alice, song, "now", started_at=now)
        listen(alice, song, "before", started_at=START)
        whens = [row[4] for row in rows(logged_in(alice).get(URL))]
        assert whens == [
            f"Today {now.astimezone(Profile.of(alice).zone):%H:%M}",
            "14 Mar 2025 17:04",  # 21:04 UTC is 17:04 in New York (daylight saving time began on 9 March)
        ]

    @pytest.mark.parametrize(
        ("started_at", "expected"),
        [
            (datetime(2026, 11, 25, 23, 30, tzinfo=UTC), "Today 00:30"),  # already the 26th in Paris
            (datetime(2026, 11, 25, 22, 59, tzinfo=UTC), "Yesterday 23:59"),
            (datetime(2026, 11, 24, 22, 59, tzinfo=UTC), "24 Nov 2026 23:59"),
        ],
    )
    def test_today_and_yesterday_are_days_of_the_listeners_zone(self, started_at, expected):
        from zoneinfo import ZoneInfo

        now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
        assert history.heard_when(started_at, ZoneInfo("Europe/Paris"), now) == expected

    def test_pages_of_50_walk_older_and_newer(self, alice, song):
        made = listen_many(alice, song, 52)
        client = logged_in(alice)
        first = client.get(URL)
        assert len(rows(first)) == 50
        assert link(first, "prev") is None
        older = client.get(URL + link(first, "next"))
        assert [row[4] for row in rows(older)] == ["14 Mar 2025 20:14", "14 Mar 2025 20:13"]
        assert re.search(r'id="listen-(\d+)"', text(older)).group(1) == str(made[50].pk)
        assert link(older, "next") is None
        assert link(older, "first") == URL
        newer = client.get(URL + link(older, "prev"))
        assert len(rows(newer)) == 50
        assert re.search(r'id="listen-(\d+)"', text(newer)).group(1) == str(made[0].pk)
        assert link(newer, "prev") is None
        assert link(newer, "next") == link(first, "next")

    def test_the_remove_form_goes_back_to_the_same_page(self, alice, song):
        listen_many(alice, song, 51)
        client = logged_in(alice)
        older_url = URL + link(client.get(URL), "next")
        assert f'<input type="hidden" name="next" value="{older_url}">' in text(client.get(older_url))

    @pytest.mark.parametrize("cursor", ["abc", "MTIzLjQ1Ng==x", "by4xMjMuNDU"])
    def test_a_cursor_it_did_not_make_starts_from_the_newest(self, alice, cursor):
        response = logged_in(alice).get(URL, {"before": cursor})
        assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, URL)

    @pytest.mark.parametrize("count", [1, 50])
    def test_a_page_takes_the_same_queries_at_any_size(self, alice, django_assert_num_queries, count):
        songs = [make_song(duration_ms=100_000) for _ in range(3)]
        give_audio(*songs[:2])
        record.record(
            alice,
            [record.Event(f"a{number}", songs[number % 3].pk, START - timedelta(minutes=number), 60_000) for number in range(count)],
        )
        client = logged_in(alice)
        with django_assert_num_queries(3):  # user, profile (the time zone), the page of listens with their songs
            response = client.get(URL)
        assert len(rows(response)) == count

    def test_an_empty_history_says_what_to_do(self, alice):
        page = text(logged_in(alice).get(URL))
        assert "Nothing played yet. Play a song (the ▶ button on any song row) and it shows up here once it has played" in page
        assert '<a href="/music/history/import/">import your listens from ListenBrainz</a>' in page
        assert "<table" not in page
        assert "Clear history" not in page

    def test_the_page_links_its_exports_and_the_import(self, alice, song):
        listen(alice, song, "a1")
        page = text(logged_in(alice).get(URL))
        assert '<a href="/music/history/export.json" download>JSON (ListenBrainz’s format, counted listens only)</a>' in page
        assert '<a href="/music/history/export.csv" download>CSV (every play)</a>' in page
        assert '<a href="/music/history/import/">Import from ListenBrainz…</a>' in page
        assert '<a href="/music/history/clear/">Clear history…</a>' in page

    def test_the_header_links_recently_played_for_a_listener_only(self, alice, song):
        assert '<a href="/music/history/">Recently played</a>' in text(logged_in(alice).get("/music/songs/"))
        assert "Recently played" not in text(logged_in(None).get("/music/songs/"))

    def test_nobody_sees_another_listeners_history(self, alice, bob, song):
        listen(alice, song, "a1")
        page = text(logged_in(bob).get(URL))
        assert "Roygbiv" not in page
        assert "Nothing played yet" in page

    def test_no_cache_keeps_the_page(self, alice, song):
        listen(alice, song, "a1")
        client = logged_in(alice)
        response = client.get(URL)
        assert set(response["Cache-Control"].split(", ")) == {"max-age=0", "no-cache", "no-store", "must-revalidate", "private"}
        assert "ETag" not in response
        # The page cache stores nothing for it: a second listener's request renders their own page.
        assert "Roygbiv" not in text(logged_in(make_user("dora")).get(URL))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", URL), ("get", "/music/history/clear/"), ("post", "/music/history/clear/"), ("post", "/music/history/1/remove/"),
        ("get", "/music/history/export.json"), ("get", "/music/history/export.csv"), ("get", "/music/history/import/"),
        ("post", "/music/history/import/"),
    ],
)
def test_anonymous_visitors_are_sent_to_log_in(method, path):
    response = getattr(logged_in(None), method)(path)
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, f"/accounts/login/?next={path}")


class TestRemoving:
    def test_remove_forgets_the_listen_and_goes_back(self, alice, song):
        kept, gone = listen(alice, song, "a1"), listen(alice, song, "a2")
        client = logged_in(alice)
        response = client.post(reverse("music:history-remove", args=[gone.pk]), {"next": "/music/history/?before=abc"})
        assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, "/music/history/?before=abc")
        assert list(Listen.objects.all()) == [kept]
        assert ListenDay.objects.get().listens == 1
        assert "Removed from your history." in text(client.get(URL))

    def test_another_listeners_listen_is_404(self, alice, bob, song):
        made = listen(alice, song, "a1")
        response = logged_in(bob).post(reverse("music:history-remove", args=[made.pk]))
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert Listen.objects.filter(pk=made.pk).exists()

    def test_remove_takes_a_post_only(self, alice, song):
        made = listen(alice, song, "a1")
        assert logged_in(alice).get(reverse("music:history-remove", args=[made.pk])).status_code == HTTPStatus.METHOD_NOT_ALLOWED


class TestClearing:
    def test_the_confirmation_says_what_would_go(self, alice, song):
        listen(alice, song, "a1")
        listen(alice, song, "a2", heard_ms=1_000)
        page = text(logged_in(alice).get("/music/history/clear/"))
        assert "This forgets all 2 plays you made (1 counted as listen) for good" in page
        assert '<button type="submit" class="danger">Clear history</button>' in page
        assert Listen.objects.count() == 2

    def test_post_clears_only_the_listeners_history(self, alice, bob, song):
        listen(alice, song, "a1")
        listen(alice, song, "a2")
        listen(bob, song, "b1")
        client = logged_in(alice)
        response = client.post("/music/history/clear/")
        assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, URL)
        assert list(Listen.objects.values_list("client_id", flat=True)) == ["b1"]
        assert "Your history is cleared: 2 listens forgotten." in text(client.get(URL))

    def test_an_empty_history_has_nothing_to_clear(self, alice):
        assert "Your history is empty: there is nothing to clear." in text(logged_in(alice).get("/music/history/clear/"))


def body(response):
    assert response.streaming
    return b"".join(response.streaming_content).decode()


class TestExports:
    def test_json_is_listenbrainz_listens_of_counted_listens_only(self, alice, bob, song):
        song.mbid = "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"
        song.save()
        listen(alice, song, "a1", client="SyroMusic web")
        listen(alice, song, "skip", started_at=START + timedelta(minutes=5), heard_ms=3_000)
        listen(bob, song, "b1")
        response = logged_in(alice).get("/music/history/export.json")
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="syromusic-listens-{timezone.now():%Y-%m-%d}.json"'
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
        assert json.loads(body(response)) == [
            {
                "listened_at": int(START.timestamp()),
                "track_metadata": {
                    "artist_name": "Boards of Canada",
                    "track_name": "Roygbiv",
                    "release_name": "Music Has the Right to Children",
                    "additional_info": {
                        "duration_ms": 151_000,
                        "recording_mbid": "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae",
                        "media_player": "SyroMusic",
                        "submission_client": "SyroMusic web",
                        "syromusic_heard_ms": 100_000,
                        "syromusic_counted": True,
                        "syromusic_client_id": "a1",
                    },
                },
            }
        ]

    def test_an_empty_history_is_an_empty_json_array(self, alice):
        assert json.loads(body(logged_in(alice).get("/music/history/export.json"))) == []

    def test_csv_has_every_play_with_formulas_neutralised(self, alice, song):
        listen(alice, song, "a1")
        evil = make_song("=HYPERLINK(\"http://x\")", album=make_album("+SUM(1)", artist=make_artist("@me")), duration_ms=None)
        listen(alice, evil, "a2", started_at=START + timedelta(minutes=5), heard_ms=3_000, client="-cmd")
        gone = make_song("Gone", duration_ms=100_000)
        listen(alice, gone, "a3", started_at=START - timedelta(minutes=5))
        gone.delete()
        response = logged_in(alice).get("/music/history/export.csv")
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="syromusic-listens-{timezone.now():%Y-%m-%d}.csv"'
        assert list(csv.reader(io.StringIO(body(response)))) == [
            ["started_at", "title", "artist", "album", "duration_ms", "heard_ms", "counted", "client", "source", "song_id"],
            ["2025-03-14T21:09:05.000Z", "'=HYPERLINK(\"http://x\")", "'@me", "'+SUM(1)", "", "3000", "false", "'-cmd", "player", str(evil.pk)],
            ["2025-03-14T21:04:05.000Z", "Roygbiv", "Boards of Canada", "Music Has the Right to Children", "151000", "100000", "true", "SyroMusic web", "player", str(song.pk)],
            ["2025-03-14T20:59:05.000Z", "", "", "", "", "100000", "true", "SyroMusic web", "player", ""],
        ]

    @pytest.mark.parametrize("count", [1, 30])
    def test_an_export_takes_the_same_queries_at_any_size(self, alice, django_assert_num_queries, count):
        songs = [make_song(duration_ms=100_000) for _ in range(3)]
        record.record(
            alice,
            [record.Event(f"a{number}", songs[number % 3].pk, START - timedelta(minutes=number), 60_000) for number in range(count)],
        )
        client = logged_in(alice)
        with django_assert_num_queries(3):  # user, profile (today's date in the file name), the listens
            body(client.get("/music/history/export.csv"))
