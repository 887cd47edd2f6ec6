"""Covers everywhere (#18): a thumbnail in every song row, artist collages, placeholders that differ, demo covers."""

import io
import re
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from SyroMusic.audio.artwork import draw_album_cover
from SyroMusic.demo import demo_covers_add
from SyroMusic.models import Album, Like, cover_file_name
from SyroMusic.templatetags.syromusic import placeholder, row_cover

from .factories import make_album, make_artist, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db

HASH = "ab" + "0" * 62


def test_a_row_thumbnail_is_the_64_pixel_cover_decorative_and_lazy():
    album = Album(title="Blue Train", cover_hash=HASH)
    assert row_cover(album) == (
        f'<img class="cover cover-row" src="/media/covers/ab/{HASH}-64.webp" '
        f'srcset="/media/covers/ab/{HASH}-64.webp 64w, /media/covers/ab/{HASH}-300.webp 300w" sizes="3rem" '
        'width="64" height="64" alt="" loading="lazy" decoding="async">'
    )


def test_a_row_thumbnail_of_a_linked_cover_or_none_is_hidden_from_screen_readers():
    linked = Album(title="Blue Train", cover_url="https://img.example/b.jpg")
    assert row_cover(linked) == (
        '<img class="cover cover-row" src="https://img.example/b.jpg" width="64" height="64" alt="" loading="lazy" '
        'decoding="async">'
    )
    drawn = row_cover(Album(title="Kind of Blue"))
    assert drawn.startswith('<svg class="cover cover-row " viewBox="0 0 100 100" aria-hidden="true">')
    assert "role=" not in drawn and "aria-label" not in drawn and "style=" not in drawn


def test_placeholders_of_neighbours_differ_in_hues_and_pattern_not_only_initials():
    first, second = placeholder("Amber Crow", "Cover of Amber Crow", "medium"), placeholder("Amber Cloud", "x", "medium")
    assert '<svg class="cover cover-medium " viewBox="0 0 100 100" role="img" aria-label="Cover of Amber Crow">' in first
    assert ">AC</text>" in first and ">AC</text>" in second

    def look(svg):
        return re.sub(r">AC</text>", "", re.sub(r'aria-label="[^"]*"', "", svg))

    assert look(first) != look(second)
    assert len(set(re.findall(r"hsl\((\d+) ", first))) == 2  # a background hue and a pattern hue


@pytest.mark.parametrize(
    ("url", "queries", "shown"),
    [("/", 4, 6), ("/music/songs/", 3, 6), ("/music/search/?q=song", None, 5)],  # search: the top five songs
)
def test_song_lists_show_a_thumbnail_in_every_row_without_a_query_more(
    client, django_assert_num_queries, url, queries, shown
):
    covered = make_album("Blue Train", cover_hash=HASH, release_date="1957-09-15")
    plain = make_album("Kind of Blue", release_date="1959-08-17")
    for number in range(3):
        make_song(f"Song {number}", album=covered, popularity=90 - number)
        make_song(f"Song {number + 3}", album=plain, popularity=50 - number)
    if queries is None:
        html = text(client.get(url))
    else:
        with django_assert_num_queries(queries):
            html = text(client.get(url))
    rows = re.findall(r'<td class="row-title">(<img [^>]*>|<svg .*?</svg>)<a href="/music/songs/\d+/">', html)
    assert len(rows) == shown
    assert sum(f"{HASH}-64.webp" in row for row in rows) + sum('aria-hidden="true"' in row for row in rows) == shown
    assert any(f"{HASH}-64.webp" in row for row in rows) and any("<svg" in row for row in rows)


def test_liked_playlist_and_history_rows_have_thumbnails_at_a_constant_cost(client, django_assert_num_queries):
    alice = make_user("alice")
    album = make_album("Blue Train", cover_hash=HASH)
    songs = [make_song(f"Song {number}", album=album) for number in range(4)]
    playlist = make_playlist(alice, "Mix", songs=songs, is_public=True)
    client.force_login(alice)
    for song in songs:
        Like.objects.create(user=alice, song=song)
    for url in (playlist.get_absolute_url(), "/music/liked/"):
        client.get(url)
        first = text(client.get(url))
        assert first.count(f'<td class="row-title"><img class="cover cover-row" src="/media/covers/ab/{HASH}-64.webp"') == 4, url
    more = [make_song(f"More {number}", album=album) for number in range(6)]
    for song in more:
        Like.objects.create(user=alice, song=song)
    client.get("/music/liked/")
    with django_assert_num_queries(3):  # user, count, page: the covers come with each row's album
        assert text(client.get("/music/liked/")).count(f"{HASH}-64.webp\" srcset") == 10


def test_the_albums_own_tracklist_has_no_thumbnails(client):
    album = make_album("Blue Train", cover_hash=HASH)
    make_song("Moment's Notice", album=album)
    assert "cover-row" not in text(client.get(album.get_absolute_url()))


def cover_album(artist, title, hash_digit, year):
    return make_album(title, artist=artist, cover_hash=hash_digit * 64, release_date=f"{year}-01-01")


def test_an_artist_without_a_picture_shows_a_collage_of_their_four_newest_covers(client):
    coltrane = make_artist("John Coltrane")
    for number, digit in enumerate("abcde"):
        cover_album(coltrane, f"Album {number}", digit, 1960 + number)
    make_album("No cover", artist=coltrane, release_date="1999-01-01")
    html = text(client.get(coltrane.get_absolute_url()))
    tiles = "".join(
        f'<img src="/media/covers/{d * 2}/{d * 64}-300.webp" width="150" height="150" alt="" loading="lazy" decoding="async">'
        for d in "edcb"
    )
    assert (
        '<span class="cover round cover-large collage" role="img" aria-label="Picture of John Coltrane">'
        f"{tiles}</span>"
    ) in html or f'aria-label="Picture of John Coltrane">{tiles}</span>' in html


def test_an_artist_with_fewer_covers_shows_the_newest_and_one_without_any_a_placeholder(client):
    davis = make_artist("Miles Davis")
    cover_album(davis, "Old", "a", 1955)
    cover_album(davis, "New", "b", 1959)
    monk = make_artist("Thelonious Monk")
    make_album("Plain", artist=monk)
    html = text(client.get("/music/artists/"))
    assert (
        f'<img class="cover round cover-medium" src="/media/covers/bb/{"b" * 64}-300.webp" width="300" height="300" '
        'alt="Picture of Miles Davis" loading="lazy" decoding="async">'
    ) in html
    assert '<svg class="cover cover-medium round" viewBox="0 0 100 100" role="img" aria-label="Picture of Thelonious Monk">' in html


@pytest.mark.parametrize("artists", [3, 30])
def test_the_artist_list_loads_every_collage_in_one_query(client, django_assert_num_queries, artists):
    for number in range(artists):
        artist = make_artist(f"Artist {number:02}")
        for year in range(5):
            cover_album(artist, f"Album {year}", "abcdef"[year], 1990 + year)
    with django_assert_num_queries(3):  # count, page, the page's covers
        html = text(client.get("/music/artists/"))
    assert html.count('class="cover round cover-medium collage"') == min(artists, 25)


def average_colour(data):
    return tuple(ImageStat.Stat(Image.open(io.BytesIO(data)).convert("RGB")).mean)


def test_neighbour_demo_covers_differ_visibly():
    covers = [draw_album_cover(album_id, "Golden Harbour", "Søren", size=120) for album_id in range(1, 9)]
    assert len(set(covers)) == 8
    colours = [average_colour(cover) for cover in covers]
    for left, right in zip(colours, colours[1:], strict=False):
        assert sum(abs(a - b) for a, b in zip(left, right, strict=True)) > 30, (left, right)
    assert Image.open(io.BytesIO(covers[0])).size == (120, 120)


def test_the_seed_draws_a_cover_for_every_album_without_one_through_the_cover_store(settings):
    artist = make_artist("Søren")
    own = make_album("Own", artist=artist, cover_hash=HASH)
    linked = make_album("Linked", artist=artist, cover_url="https://img.example/l.jpg")
    bare = [make_album(f"Bare {number}", artist=artist) for number in range(3)]
    assert demo_covers_add(size=64, workers=2) == 3
    hashes = list(Album.objects.filter(pk__in=[a.pk for a in bare]).values_list("cover_hash", flat=True))
    assert len(set(hashes)) == 3 and all(len(h) == 64 for h in hashes)
    for content_hash in hashes:
        for size in (None, 64, 300, 600):
            assert (Path(settings.MEDIA_ROOT) / cover_file_name(content_hash, size)).is_file()
    own.refresh_from_db()
    linked.refresh_from_db()
    assert (own.cover_hash, linked.cover_hash) == (HASH, "")
    assert demo_covers_add(size=64) == 0  # nothing left to draw
