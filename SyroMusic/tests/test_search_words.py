"""The catalogue's words (PostgreSQL's typo correction, migration 0013) and names read prefix first.

Triggers keep syro_search_word current on every write path: a single save, a bulk load, a rename by save
or by a queryset update, and the secondary fields the search matches (composer, label, bio). The order
of results does not depend on whether the names starting with the text filled the page alone.
"""

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
        # PostgreSQL: the catalogue's words, then per type the names starting with "nigh", then (as they are no
        # more than shown) every match. SQLite: one query per type, and its vocabulary.
        with django_assert_num_queries(7 if connection.vendor == "postgresql" else 4):
            found = searching.suggestions(searching.parse("nigh"))
        assert [item["label"] for item in found] == ["Nights", "Night Drive", "Nightfall", "Night", "Into the Night"]
        album = Album.objects.get(title="Nights")
        for number in range(5):
            make_song(f"Nigh {number}", album, popularity=number)
        searching_again = searching.parse("nigh")
        # Songs: the names starting with it fill it. SQLite: its vocabulary is already read.
        with django_assert_num_queries(6 if connection.vendor == "postgresql" else 3):
            found = searching.suggestions(searching_again)
        assert [item["label"] for item in found] == ["Nights", "Night Drive", "Nightfall", "Night", "Nigh 4"]
