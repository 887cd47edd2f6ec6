"""The shortcuts that render the stats page and answer fast (issue 15) write what reverse() and the template
filters wrote: addresses made from one reverse(), numbers grouped in Python, the charts' bars as ready markup."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from SyroMusic.listening import record
from SyroMusic.models import url_maker
from SyroMusic.views import charts
from SyroMusic.views.stats_text import LISTENS, grouped, with_unit

from .factories import logged_in, make_album, make_artist, make_song, make_user

IDS = [1, 7, 10, 99, 4_321, 987_654_321, 12_345_678_901]


@pytest.mark.parametrize("name", ["music:song-detail", "music:album-detail", "music:artist-detail", "api:song-detail"])
def test_url_maker_gives_what_reverse_gives_for_any_id(name):
    page = url_maker(lambda id: reverse(name, args=[id]))
    assert [page(id) for id in IDS] == [reverse(name, args=[id]) for id in IDS]


def test_url_maker_keeps_what_comes_before_and_after_the_id():
    def address(id):
        return f"http://testserver{reverse('api:album-detail', args=[id])}?format=json"

    album = url_maker(address)
    assert [album(id) for id in IDS] == [address(id) for id in IDS]


def test_url_maker_reverses_every_id_when_the_stand_in_is_ambiguous():
    def address(id):
        return f"/music/songs/{id}/?from={id}"

    song = url_maker(address)
    assert [song(id) for id in IDS] == [address(id) for id in IDS]


@pytest.mark.parametrize("value", [0, 1, 2, 999, 1_000, 12_345, 1_234_567, 98_765_432_101])
def test_numbers_read_as_the_intcomma_and_pluralize_filters_write_them(value):
    filters = Template("{% load humanize %}{{ n|intcomma }}|{{ n|intcomma }} listen{{ n|pluralize }}")
    assert f"{grouped(value)}|{with_unit(value, LISTENS)}" == filters.render(Context({"n": value}))


def test_the_bars_numbers_read_as_the_template_writes_them():
    points = [(f"{hour:02d}:00", value, str(hour)) for hour, value in enumerate([0, 1, 3, 7, 1_234, 17, 5, 0, 999])]
    chart = charts.bar_chart(
        "chart-test", title="Test", caption="Test", label_heading="Hour", value_heading="Listens", unit=LISTENS,
        points=points,
    )
    template = Template('x="{{ bar.x }}" y="{{ bar.y }}" width="{{ bar.width }}" height="{{ bar.height }}"')
    for bar in chart.bars:
        assert template.render(Context({"bar": bar})) in chart.bars_svg
        assert f'<td class="num">{Template("{{ bar.value }}").render(Context({"bar": bar}))}</td>' in chart.table_rows


def test_the_bars_escape_their_labels_like_the_template():
    chart = charts.bar_chart(
        "chart-test", title="Test", caption="Test", label_heading="Day", value_heading="Listens", unit=LISTENS,
        points=[("<b>Tom & Jerry's \"day\"</b>", 3, "<i>")],
    )
    escaped = Template("{{ label }}").render(Context({"label": "<b>Tom & Jerry's \"day\"</b>"}))
    assert f"<title>{escaped}: 3 listens</title>" in chart.bars_svg
    assert '<text class="chart-tick" x="320.0" y="212" text-anchor="middle">&lt;i&gt;</text>' in chart.bars_svg
    assert f'<tr><th scope="row">{escaped}</th><td class="num">3</td></tr>' == chart.table_rows


@pytest.mark.django_db
def test_the_api_links_keep_the_format_parameter_as_rest_frameworks_reverse_does():
    alice = make_user("alice")
    song = make_song("Anthem", album=make_album("First", artist=make_artist("The Band")), duration_ms=180_000)
    started = timezone.now() - datetime.timedelta(hours=1)
    record.record(alice, [record.Event("a-1", song.pk, started, 180_000)])
    top = logged_in(alice, api=True).get("/api/v1/me/stats/?format=json").json()["top_songs"][0]
    assert (top["url"], top["web_url"], top["album"]["url"], top["artist"]["url"]) == (
        f"http://testserver/api/v1/songs/{song.pk}/?format=json",
        f"http://testserver/music/songs/{song.pk}/",
        f"http://testserver/api/v1/albums/{song.album_id}/?format=json",
        f"http://testserver/api/v1/artists/{song.artist_id}/?format=json",
    )
