"""The stats pages (/music/stats/, /music/users/<name>/stats/): figures, charts and their text, ranges,
privacy, caching, query counts; the profile's settings and link; the header link."""

import datetime
import re
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from SyroMusic.listening import record
from SyroMusic.models import ListenDay, Profile

from .factories import logged_in, make_album, make_artist, make_song, text

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def play(user, song, *times, heard_ms=180_000):
    record.record(user, [record.Event(f"{user.pk}-{time.isoformat()}-{song.pk}", song.pk, time, heard_ms) for time in times])


def now_minus(**delta):
    return timezone.now() - datetime.timedelta(**delta)


def share_stats(user, *, is_public=True, stats_public=True):
    Profile.objects.update_or_create(user=user, defaults={"is_public": is_public, "stats_public": stats_public})


def between(html, start, end):
    """The part of `html` from the first `start` to the next `end` (inclusive)."""
    first = html.index(start)
    return html[first : html.index(end, first) + len(end)]


def squeeze(html):
    """`html` without the line breaks and indents between tags."""
    return re.sub(r">\s*\n\s*<", "><", html).strip()


@pytest.fixture
def song():
    return make_song("Anthem", album=make_album("First", artist=make_artist("The Band")), duration_ms=180_000)


class TestYourStats:
    def test_it_shows_the_figures_streaks_and_top_lists_of_the_chosen_range(self, alice, song):
        play(alice, song, now_minus(minutes=5), now_minus(days=1), now_minus(days=20))
        page = text(logged_in(alice).get("/music/stats/?range=7d"))
        assert "<h1>Your stats</h1>" in page
        figures = squeeze(between(page, '<dl class="stat-figures">', "</dl>"))
        assert "<dt>Listens</dt><dd>2</dd>" in figures
        assert "<dt>Minutes listened</dt><dd>6</dd>" in figures
        assert "<dt>Songs</dt><dd>1</dd>" in figures
        assert "<dt>Current streak</dt><dd>2 days</dd>" in figures
        assert "<dt>Longest streak</dt><dd>2 days</dd>" in figures
        songs = squeeze(between(page, '<h3 id="top-songs">', "</ol>"))
        assert (
            f'<li><a href="{song.get_absolute_url()}">Anthem</a> <span class="meta">by '
            f'<a href="{song.artist.get_absolute_url()}">The Band</a> · 2 listens · 6 min</span></li>'
        ) in songs
        assert f'<a href="{song.album.get_absolute_url()}">First</a>' in between(page, '<h3 id="top-albums">', "</ol>")
        assert f'<a href="{song.artist.get_absolute_url()}">The Band</a>' in between(page, '<h3 id="top-artists">', "</ol>")

    def test_the_range_tabs_are_links_and_mark_the_current_one(self, alice, song):
        play(alice, song, now_minus(minutes=5))
        page = squeeze(text(logged_in(alice).get("/music/stats/?range=12m")))
        assert squeeze(between(page, '<nav class="range-tabs"', "</nav>")) == (
            '<nav class="range-tabs" aria-label="Range"><ul>'
            '<li><a href="?range=7d">Last 7 days</a></li><li><a href="?range=30d">Last 30 days</a></li>'
            '<li><a href="?range=12m" aria-current="page">Last 12 months</a></li><li><a href="?range=all">All time</a></li>'
            "</ul></nav>"
        )
        assert '<h2 id="stats-figures">Last 12 months</h2>' in page

    def test_an_unknown_range_shows_the_last_30_days_and_says_so(self, alice, song):
        play(alice, song, now_minus(minutes=5))
        response = logged_in(alice).get("/music/stats/?range=<b>1y</b>")
        assert response.status_code == HTTPStatus.OK
        assert (
            '<p class="notice" role="status">Ignored range=&lt;b&gt;1y&lt;/b&gt;: not a range this page knows '
            "(7d, 30d, 12m, all), so the last 30 days are shown.</p>"
        ) in text(response)
        assert '<a href="?range=30d" aria-current="page">' in text(response)

    def test_a_listener_without_listens_sees_the_empty_state(self, alice):
        page = text(logged_in(alice).get("/music/stats/"))
        assert (
            '<p class="empty">No listens yet. Play a song to past half its length (or 4 minutes) and it counts here.</p>'
        ) in page
        assert "<svg" not in page[page.index('<main'):]  # no chart (the header's icons are SVG too)

    def test_a_range_without_listens_says_so_and_keeps_the_streaks(self, alice, song):
        play(alice, song, now_minus(days=40))
        page = text(logged_in(alice).get("/music/stats/?range=7d"))
        assert '<p class="empty">No listens in this range.</p>' in page
        assert "<dt>Most active hour</dt><dd>—</dd>" in squeeze(page)
        assert "<dt>Longest streak</dt><dd>1 day</dd>" in squeeze(page)

    def test_the_monthly_summary_is_a_chart_and_a_table(self, alice, song):
        play(alice, song, now_minus(minutes=5), now_minus(minutes=10))
        page = text(logged_in(alice).get("/music/stats/?range=7d"))
        table = squeeze(between(page, '<table class="month-summary">', "</table>"))
        this_month = timezone.now().date()
        assert table.count("<tr><th scope=\"row\">") == 12
        assert (
            f'<tr><th scope="row">{this_month:%B %Y}</th><td class="num">6</td><td class="num">2</td>'
            f'<td><a href="{song.artist.get_absolute_url()}">The Band</a></td>'
            f'<td><a href="{song.get_absolute_url()}">Anthem</a> <span class="meta">by The Band</span></td></tr>'
        ) in table
        chart = between(page, '<figure class="chart" id="chart-months">', "</figure>")
        assert '<svg class="chart-svg" role="img" aria-labelledby="chart-months-title"' in chart
        assert '<title id="chart-months-title">Minutes listened each month, the last 12 months</title>' in chart
        assert f"<title>{this_month:%B %Y}: 6 minutes</title>" in chart
        assert "visually-hidden" not in chart  # the visible table below gives the figures

    def test_the_charts_say_every_figure_in_text(self, alice, song):
        # 21:xx UTC yesterday and the day before: the listener's zone is UTC.
        yesterday = timezone.now().astimezone(UTC).replace(hour=21, minute=15) - datetime.timedelta(days=1)
        play(alice, song, yesterday, yesterday - datetime.timedelta(days=1), yesterday.replace(hour=7))
        page = text(logged_in(alice).get("/music/stats/?range=30d"))
        hours = between(page, '<figure class="chart" id="chart-hours">', "</figure>")
        assert '<title id="chart-hours-title">Listens by hour of the day, last 30 days</title>' in hours
        assert '<figcaption id="chart-hours-caption">Listens by the hour they started (UTC time).</figcaption>' in hours
        rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>', hours)
        assert rows == [(f"{hour:02d}:00", {7: "1", 21: "2"}.get(hour, "0")) for hour in range(24)]
        assert 'class="chart-bar is-peak"' in hours and hours.count("is-peak") == 1
        assert "<title>21:00: 2 listens</title>" in hours
        weekdays = between(page, '<figure class="chart" id="chart-weekdays">', "</figure>")
        rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>', weekdays))
        assert list(rows) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        assert sum(map(int, rows.values())) == 3
        assert 'style="' not in page.split("<main", 1)[1]  # the CSP allows no inline style

    def test_it_answers_in_four_queries_whatever_the_history(self, alice, django_assert_num_queries):
        client = logged_in(alice)
        for size in (1, 8):
            songs = [make_song(duration_ms=180_000) for _ in range(size)]
            for index, song in enumerate(songs):
                play(alice, song, *(now_minus(days=day, minutes=index) for day in range(0, 400, 37)))
            client.get("/music/stats/?range=12m")  # the month's first look at 12 months builds its window (once)
            for period in ("7d", "30d", "12m", "all"):
                # The user (the session is in the cache), the profile, the days, the ranking.
                with django_assert_num_queries(4):
                    response = client.get(f"/music/stats/?range={period}")
                assert response.status_code == HTTPStatus.OK

    def test_anonymous_visitors_are_sent_to_log_in(self, client):
        response = client.get("/music/stats/")
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == f"{reverse('login')}?next=/music/stats/"

    def test_the_page_is_private_and_never_kept_by_the_page_cache(self, alice, song):
        client = logged_in(alice)
        response = client.get("/music/stats/?range=7d")
        assert response["Cache-Control"] == "private, no-cache"
        play(alice, song, now_minus(minutes=1))
        assert "<dt>Listens</dt><dd>1</dd>" in squeeze(text(client.get("/music/stats/?range=7d")))


class TestAnotherListenersStats:
    # Who may see them, asked of the page and the API alike: test_stats_api.TestTheirStats.

    @pytest.mark.parametrize(("is_public", "stats_public"), [(False, False), (True, True)])
    def test_your_own_show_whatever_you_share(self, alice, is_public, stats_public):
        share_stats(alice, is_public=is_public, stats_public=stats_public)
        page = text(logged_in(alice).get("/music/users/alice/stats/"))
        assert "<h1>Your stats</h1>" in page

    def test_an_unknown_listener_is_404(self, bob):
        assert logged_in(bob).get("/music/users/nobody/stats/").status_code == HTTPStatus.NOT_FOUND

    def test_shared_stats_name_their_listener_and_follow_new_listens(self, alice, song, client):
        share_stats(alice)
        play(alice, song, now_minus(minutes=30))
        page = text(client.get("/music/users/alice/stats/?range=7d"))
        assert "<h1>alice’s stats</h1>" in page
        assert "Change your time zone" not in page
        assert "<dt>Listens</dt><dd>1</dd>" in squeeze(page)
        play(alice, song, now_minus(minutes=10))
        response = client.get("/music/users/alice/stats/?range=7d")
        assert "<dt>Listens</dt><dd>2</dd>" in squeeze(text(response))
        assert response["Cache-Control"] == "private, no-cache"

    def test_they_take_four_queries_for_a_logged_in_viewer(self, alice, bob, song, django_assert_num_queries):
        share_stats(alice)
        play(alice, song, now_minus(minutes=30), now_minus(days=3))
        client = logged_in(bob)
        with django_assert_num_queries(4):  # the viewer (the session is in the cache), the listener with profile, the days, the ranking
            client.get("/music/users/alice/stats/?range=all")


class TestProfile:
    @pytest.mark.parametrize(
        ("viewer", "is_public", "stats_public", "link"),
        [
            ("alice", False, False, "/music/stats/"),
            ("bob", True, True, "/music/users/alice/stats/"),
            ("anonymous", True, True, "/music/users/alice/stats/"),
            ("bob", True, False, None),
            ("bob", False, True, None),
        ],
    )
    def test_the_profile_links_to_the_stats_when_they_may_be_seen(self, alice, bob, viewer, is_public, stats_public, link):
        share_stats(alice, is_public=is_public, stats_public=stats_public)
        client = logged_in({"alice": alice, "bob": bob}.get(viewer))
        page = text(client.get("/music/users/alice/"))
        if link:
            assert f'<p class="listening-stats"><a href="{link}">Listening stats</a>' in page
        else:
            assert "Listening stats" not in page

    def test_the_form_offers_a_time_zone_and_sharing_the_stats(self, alice):
        page = text(logged_in(alice).get("/accounts/profile/"))
        assert '<label for="id_time_zone">Time zone:</label>' in page
        assert '<option value="UTC" selected>UTC</option>' in page
        assert '<option value="America/Los_Angeles">America/Los Angeles</option>' in page
        assert '<input type="checkbox" name="stats_public" aria-describedby="id_stats_public_helptext" id="id_stats_public">' in page

    def test_a_new_time_zone_moves_the_listeners_days(self, alice, song):
        play(alice, song, datetime.datetime(2026, 11, 30, 20, tzinfo=UTC))
        assert list(ListenDay.objects.filter(user=alice).values_list("day", flat=True)) == [datetime.date(2026, 11, 30)]
        response = logged_in(alice).post(
            "/accounts/profile/", {"bio": "Hi", "is_public": "on", "time_zone": "Asia/Tokyo", "stats_public": "on"}
        )
        assert response.status_code == HTTPStatus.FOUND
        profile = Profile.objects.get(user=alice)
        assert (profile.bio, profile.time_zone, profile.stats_public) == ("Hi", "Asia/Tokyo", True)
        assert list(ListenDay.objects.filter(user=alice).values_list("day", flat=True)) == [datetime.date(2026, 12, 1)]

    def test_an_unknown_time_zone_is_refused(self, alice):
        response = logged_in(alice).post("/accounts/profile/", {"bio": "", "time_zone": "Mars/Olympus"})
        assert response.status_code == HTTPStatus.OK
        assert "Select a valid choice. Mars/Olympus is not one of the available choices." in text(response)
        assert Profile.objects.get(user=alice).time_zone == "UTC"

    def test_the_header_links_to_your_stats(self, alice):
        assert '<a href="/music/stats/">Your stats</a>' in text(logged_in(alice).get("/"))
        assert "Your stats" not in text(logged_in(None).get("/"))
