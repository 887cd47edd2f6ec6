"""Typos: each word the catalogue does not know is corrected to the most alike catalogue word, and the
search page offers the corrected search ("Did you mean …?"). SQLite reads its vocabulary from the names;
PostgreSQL looks among the catalogue's words by trigrams (syro_search_word, kept by triggers).
"""

import pytest
from django.db import connection

from SyroMusic import search as searching
from SyroMusic.models import Artist

from .factories import make_album, make_artist, make_song, text

pytestmark = pytest.mark.django_db


def postgresql():
    return connection.vendor == "postgresql"


def did_you_mean(response):
    """The "Did you mean" paragraph of a search page, or None."""
    html = text(response)
    start = html.find('<p class="did-you-mean">')
    return None if start < 0 else html[start: html.index("</p>", start) + len("</p>")]


@pytest.fixture
def catalogue():
    beatles = make_artist("The Beatles")
    make_artist("Heart")
    m83 = make_artist("M83")
    make_song("Midnight City", make_album("Hurry Up, We're Dreaming", m83), popularity=80)
    make_song("Yesterday", make_album("Help!", beatles), popularity=50)
    return beatles


@pytest.mark.parametrize(("query", "kind", "expected", "corrected"), [
    ("midnigth", "song", "Midnight City", "midnight"),
    ("hart", "artist", "Heart", "heart"),
    ("beatels", "artist", "The Beatles", "beatles"),
    ("Midnigth  CITY", "song", "Midnight City", "midnight city"),
])
def test_a_typo_finds_the_name_on_both_databases(client, catalogue, query, kind, expected, corrected):
    response = client.get("/music/search/", {"q": query})
    assert expected in text(response)
    assert did_you_mean(response) == (
        f'<p class="did-you-mean">Did you mean <a href="/music/search/?q={corrected.replace(" ", "%20")}">'
        f"{corrected}</a>?</p>"
    )


def test_the_suggestion_on_one_type_keeps_the_type(client, catalogue):
    response = client.get("/music/search/", {"q": "midnigth", "type": "song"})
    assert "Midnight City" in text(response)
    assert did_you_mean(response) == (
        '<p class="did-you-mean">Did you mean <a href="/music/search/?q=midnight&amp;type=song">midnight</a>?</p>'
    )


@pytest.mark.parametrize("query", ["beatles", "Beatles", "beat", "yesterday", "m83", "the", "zzzzqqq"])
def test_known_words_unfinished_words_short_words_and_hopeless_ones_get_no_suggestion(client, catalogue, query):
    assert did_you_mean(client.get("/music/search/", {"q": query})) is None


def test_the_suggestion_is_text_made_of_words_only(client, catalogue):
    response = client.get("/music/search/", {"q": 'midnigth "<script>alert(1)</script>"'})
    # Only the words of what was typed come back, corrected where the catalogue knows better.
    assert did_you_mean(response) == (
        '<p class="did-you-mean">Did you mean <a href="/music/search/?q=midnight%20script%20alert%201%20script">'
        "midnight script alert 1 script</a>?</p>"
    )
    assert "<script>alert" not in text(response)


def test_the_search_page_runs_a_fixed_number_of_queries_with_typos(client, catalogue, django_assert_num_queries):
    # Per type: word matches, then the corrected words' matches. SQLite reads its vocabulary once per catalogue
    # version. PostgreSQL reads the catalogue's words once per search: artists, albums and songs, which no
    # word typed can match, skip their word matches; the corrected words' names that start with them come first
    # (two queries while they are fewer than shown, one when they are more).
    with django_assert_num_queries(9):
        client.get("/music/search/", {"q": "midnigth"})
    with django_assert_num_queries(9 if postgresql() else 8):
        client.get("/music/search/", {"q": "hart"})
    album = make_album("More", catalogue)
    for number in range(100):
        make_song(f"Midnight Song {number}", album)
        make_artist(f"Midnight Band {number}")
    with django_assert_num_queries(7 if postgresql() else 8):
        response = client.get("/music/search/", {"q": "midnigth", "again": "1"})
    assert "Midnight Song" in text(response)


@pytest.mark.django_db(transaction=True)
def test_the_vocabulary_follows_the_catalogue(client, catalogue):
    assert "Radiohead" not in text(client.get("/music/search/", {"q": "radiohaed"}))
    make_artist("Radiohead")
    response = client.get("/music/search/", {"q": "radiohaed"})
    assert '<a href="/music/artists/' in text(response) and ">Radiohead</a>" in text(response)


@pytest.mark.skipif("connection.vendor == 'postgresql'")
def test_above_the_cap_words_first_seen_later_are_not_corrected(client, catalogue, monkeypatch):
    # Artists' words come first, then albums', then songs' (most popular first): "midnight" and "city" are
    # the last words read, so a vocabulary cut before them cannot correct "midnigth".
    words_before_songs = len(searching._read_vocabulary()) - len({"midnight", "city", "yesterday"})
    monkeypatch.setattr(searching, "VOCABULARY_WORDS", words_before_songs)
    vocabulary = searching._read_vocabulary()
    assert len(vocabulary) == words_before_songs
    assert "midnight" not in vocabulary and "heart" in vocabulary
    response = client.get("/music/search/", {"q": "midnigth"})
    assert did_you_mean(response) is None
    assert "Midnight City" not in text(response)


def test_the_most_common_of_equally_alike_words_wins():
    vocabulary = searching.Vocabulary({"part": 3, "heart": 1, "harm": 7})
    assert vocabulary.closest("hart") == "heart"  # 0.89 alike; "part" and "harm" only 0.75
    vocabulary = searching.Vocabulary({"lover": 1, "loved": 5})
    assert vocabulary.closest("lovex") == "loved"
    assert vocabulary.closest("zzzzz") is None


def test_a_large_vocabulary_corrects_a_word_by_comparing_only_words_of_about_its_length():
    counts = {f"{prefix}{suffix}": 1 for prefix in ("alpha", "bravo", "charlie", "delta")
              for suffix in map(str, range(12_500))}
    counts = {word.translate(str.maketrans("0123456789", "abcdefghij")): 1 for word in counts}
    counts["midnight"] = 1
    vocabulary = searching.Vocabulary(counts)
    assert len(vocabulary.counts) == 50_001
    assert vocabulary.closest("midnigth") == "midnight"


def test_both_databases_correct_from_the_catalogue_words(catalogue):
    query = searching.parse("beatels")
    assert searching.correction(query).words == ("beatles",)
    assert Artist.objects.filter(search_name="the beatles").exists()


def test_only_the_first_three_unknown_words_are_corrected(catalogue):
    # Each correction scans the words of about its length: a query of made-up words must not cost one per word.
    corrected = searching.correction(searching.parse("hart hart beatels midnigth"))
    assert corrected.words == ("heart", "heart", "beatles", "midnigth")
    assert searching.TYPO_MAX_WORDS == 3
