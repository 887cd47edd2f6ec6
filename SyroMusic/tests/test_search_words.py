"""The catalogue's words (PostgreSQL's typo correction, migration 0013) and names read prefix first.

Triggers keep syro_search_word current on every write path: a single save, a bulk load, a rename by save
or by a queryset update, and the secondary fields the search matches (composer, label, bio). The order
of results does not depend on whether the names starting with the text filled the page alone.
"""

import datetime

import pytest
from django.db import connection

from SyroMusic import search as searching
from SyroMusic.models import Album, SearchWord, Song

from .factories import make_album, make_artist, make_playlist, make_song, make_user

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the catalogue's words live in PostgreSQL")


def words():
    return set(SearchWord.objects.values_list("word", flat=True))


@postgresql_only
class TestTheCatalogueWords:
    def test_a_saved_name_adds_its_words_folded_and_its_secondary_fields_too(self):
        artist = make_artist("Sigur Rós", bio="Icelandic post-rock")
        make_song("Hoppípolla", make_album("Takk…", artist, label="EMI"), composer="Jónsi")
        assert {"sigur", "ros", "hoppipolla", "takk", "emi", "jonsi", "icelandic"} <= words()

    def test_a_bulk_load_adds_every_new_word_once(self):
        album = make_album("Bulk")
        Song.objects.bulk_create(
            Song(title=f"Zephyr Quartz {number}", album=album, artist=album.artist, track_number=number)
            for number in range(1, 201)
        )
        found = list(SearchWord.objects.filter(word__in=["zephyr", "quartz"]).values_list("word", flat=True))
        assert sorted(found) == ["quartz", "zephyr"]

    def test_a_rename_by_save_or_by_update_adds_the_new_words(self):
        artist = make_artist("Old Name")
        artist.name = "Xylophonic"
        artist.save()
        Album.objects.filter(pk=make_album("Plain", artist).pk).update(title="Quixotic")
        assert {"xylophonic", "quixotic"} <= words()
        assert searching.correction(searching.parse("xylophnic")).words == ("xylophonic",)
        assert searching.correction(searching.parse("quixotik")).words == ("quixotic",)

    def test_playlist_names_are_not_catalogue_words(self):
        make_playlist(make_user(), "Secretive Zanzibar Mix", is_public=False)
        assert "zanzibar" not in words()
        assert searching.correction(searching.parse("zanzibra")) is None

    def test_a_word_no_name_starts_skips_the_word_matches_but_punctuation_does_not(self):
        make_artist("AC/DC")
        make_artist("ʻOhana")
        query = searching.parse("zzyzx")
        assert searching.cannot_match(searching.KINDS["song"], query)
        assert not searching.cannot_match(searching.KINDS["playlist"], query)  # playlists are not in the words
        # "acdc" is corrected to the catalogue's word "ac/dc" (0.89 alike).
        for typed, name in (("ac/dc", "AC/DC"), ("ʻohana", "ʻOhana"), ("acdc", "AC/DC"), ("ohana", "ʻOhana")):
            rows = searching.best(searching.parse(typed), None, {"artist": 5})["artist"].rows
            assert [row.name for row in rows] == [name]


class TestPrefixFirst:
    @pytest.fixture
    def songs(self):
        album = make_album("Nights", make_artist("Nocturne"))
        for title, popularity in (("Into the Night", 100), ("Nightfall", 10), ("Night Drive", 90), ("Night", 5),
                                  ("Midnight Night", 95)):
            make_song(title, album, popularity=popularity)

    @pytest.mark.parametrize("limit", [1, 2, 3, 4, 10])
    def test_the_exact_name_then_names_starting_with_it_by_popularity_then_the_rest_whatever_the_page(
        self, songs, limit
    ):
        rows = searching.best(searching.parse("night"), None, {"song": limit})["song"].rows
        # Then the rest by full-text rank (equal here), then popularity; SQLite has no rank.
        expected = ["Night", "Night Drive", "Nightfall", "Into the Night", "Midnight Night"]
        assert [row.title for row in rows] == expected[:limit]

    def test_suggestions_list_the_most_popular_names_starting_with_it(self, songs, django_assert_num_queries):
        # PostgreSQL: the catalogue's words, the names starting with "nigh" of every type in one query, then (as
        # they are no more than shown) per type every match. SQLite: one query per type, and its vocabulary.
        with django_assert_num_queries(5 if connection.vendor == "postgresql" else 4):
            found = searching.suggestions(searching.parse("nigh"))
        assert [item["label"] for item in found] == ["Nights", "Night Drive", "Nightfall", "Night", "Into the Night"]
        album = Album.objects.get(title="Nights")
        for number in range(5):
            make_song(f"Nigh {number}", album, popularity=number)
        searching_again = searching.parse("nigh")
        # Songs: the names starting with it fill it (every match is ranked for artists and albums only).
        # SQLite: its vocabulary is already read.
        with django_assert_num_queries(4 if connection.vendor == "postgresql" else 3):
            found = searching.suggestions(searching_again)
        assert [item["label"] for item in found] == ["Nights", "Night Drive", "Nightfall", "Night", "Nigh 4"]


def lines_of_best(query):
    """The suggestions as best() ranks them, type by type (what suggestions() gave before it read the names
    starting with the text in one query)."""
    loaded = {
        "artist": searching.Artist.objects.all(),
        "album": Album.objects.select_related("artist"),
        "song": Song.objects.select_related("artist"),
    }
    return [
        {
            "type": name,
            "label": str(row),
            "detail": "Artist" if name == "artist" else f"{name.capitalize()} by {row.artist.name}",
            "url": row.get_absolute_url(),
        }
        for name, group in searching.best(query, None, searching.SUGGESTION_KINDS, loaded).items()
        for row in group.rows
    ]


class TestSuggestionsInOneQuery:
    """On PostgreSQL suggestions read every type's names starting with the text in one hand-written query: its
    lines are best()'s, ties, accents, case and LIKE's own characters included. (SQLite: best() itself.)"""

    @pytest.fixture
    def catalogue(self):
        artists = [
            make_artist(name)
            for name in ("Mid Air", "mid air", "Midas", "MIDI Kid", "Mídnight Man", "Mid_Way", "Mid%Point", "Mid\\Slash")
        ]
        for index, artist in enumerate(artists):
            for number, title in enumerate(("Mid Day", "Mid Night", "Midweek")):
                make_album(title, artist, release_date=None if number == 0 else datetime.date(2000 + index % 2, 1, 1))
        album = make_album("Songs", artists[0])
        for number in range(12):
            make_song(f"Mid{'night' if number % 2 else ' point'} {number % 3}", album, popularity=number % 4)
        make_song("Mid", album)
        make_song("Mid_Way", album, popularity=100)

    @pytest.mark.parametrize("text", [
        "mid", "MID", "midn", "mid a", "mid_", "mid%", "mid\\", "mid_way", "midnight man", "mid point 1", "mi", "midd",
        "zzzz", "m_d", "mi%",
    ])
    def test_its_lines_are_best_s(self, catalogue, text):
        assert searching.suggestions(searching.parse(text)) == lines_of_best(searching.parse(text))

    def test_names_filling_every_type_take_one_query_after_the_catalogue_s_words(
        self, catalogue, django_assert_num_queries
    ):
        # SQLite: one query per type (its vocabulary is not needed: every type has more than it shows).
        with django_assert_num_queries(2 if connection.vendor == "postgresql" else 3):
            found = searching.suggestions(searching.parse("mid"))
        # Artists by sort name, then id (the two "Mid Air"); albums newest first; songs: the exact name, then by
        # popularity, then id.
        assert [(item["type"], item["label"], item["detail"]) for item in found] == [
            ("artist", "Mid Air", "Artist"), ("artist", "mid air", "Artist"), ("artist", "Mid%Point", "Artist"),
            ("album", "Mid Night", "Album by mid air"), ("album", "Midweek", "Album by mid air"),
            ("album", "Mid Night", "Album by MIDI Kid"),
            ("song", "Mid", "Song by Mid Air"), ("song", "Mid_Way", "Song by Mid Air"),
            ("song", "Midnight 0", "Song by Mid Air"), ("song", "Midnight 1", "Song by Mid Air"),
        ]
        assert found == lines_of_best(searching.parse("mid"))
