"""Search: ranking, typos and accents, bad queries, history, suggestions, privacy and query counts.

The same tests run on SQLite and (make test-services) PostgreSQL; where the two
differ (typo tolerance, secondary fields) the expectation says which is which.
"""

import datetime
import json
import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from SyroMusic.models import Playlist, SearchHistory
from SyroMusic.search import MAX_LENGTH

from .factories import logged_in, make_album, make_artist, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db


def postgresql():
    return connection.vendor == "postgresql"


def names(response, kind):
    """The result names of one type, in page order, from the search page's HTML."""
    html = text(response)
    if kind == "song":
        section = html.split('<table class="songs" data-play-list>', 1)[1].split("</table>", 1)[0]
        return re.findall(r'<tr [^>]*>\s*<td class="row-play">.*?</td>\s*<td class="row-title">.*?<a href="/music/songs/\d+/">([^<]+)</a>', section)
    match = re.search(rf'<section class="search-results" aria-labelledby="results-{kind}">(.*?)</section>', html, re.S)
    if match is None and 'class="card-list results"' in html and f'"/music/{kind}s/' in html:
        match = re.search(r'<ul class="card-list results">(.*?)</ul>', html, re.S)
    if match is None:
        return []
    return re.findall(rf'<li><a href="/music/{kind}s/\d+/">([^<]+)</a>', match.group(1))


@pytest.fixture
def catalogue():
    beatles = make_artist("The Beatles", country="GB", year_formed=1960)
    for name in ["Beetles", "Beatles Tribute Band", "Beatles", "Metallica", "Beyoncé", "João Gilberto",
                 "Led Zeppelin", "Røyksopp", "Кино", "AC/DC"]:
        make_artist(name)
    abbey = make_album("Abbey Road", beatles)
    make_song("Lights of the Harbour", abbey, popularity=10)
    make_song("Night Drive", abbey, composer="Ann Harbour", popularity=90)
    make_song("Yesterday", abbey, composer="Lennon–McCartney", popularity=50)
    make_song("Ночь", abbey)
    make_song("夜明け", abbey)
    return beatles


class TestRanking:
    def test_exact_name_then_prefix_then_every_word_then_typos(self, client, catalogue):
        response = client.get("/music/search/", {"q": "beatles", "type": "artist"})
        assert response.status_code == HTTPStatus.OK
        # "Beetles" is not a typo of it: every word typed is a word of the catalogue, so nothing is corrected.
        assert names(response, "artist") == ["Beatles", "Beatles Tribute Band", "The Beatles"]

    def test_a_name_outranks_a_secondary_field(self, client, catalogue):
        response = client.get("/music/search/", {"q": "harbour", "type": "song"})
        # The song titled "... Harbour" comes before the more popular one whose composer is "Ann Harbour".
        # SQLite searches names only.
        assert names(response, "song") == (["Lights of the Harbour", "Night Drive"] if postgresql() else ["Lights of the Harbour"])

    def test_the_everything_page_groups_by_type_with_a_more_link(self, client, catalogue):
        album = make_album("Beatles for Sale", catalogue)
        for number in range(6):
            make_song(f"Beatles Medley {number}", album)
        response = client.get("/music/search/", {"q": "beatles"})
        html = text(response)
        assert names(response, "artist")[:3] == ["Beatles", "Beatles Tribute Band", "The Beatles"]
        assert names(response, "album") == ["Beatles for Sale"]
        assert len(names(response, "song")) == 5
        assert '<a href="/music/search/?q=beatles&amp;type=song">More songs matching “beatles” →</a>' in html
        assert "More albums" not in html and 'aria-labelledby="results-playlist"' not in html

    def test_one_type_is_paginated_with_counts(self, client, catalogue):
        album = make_album("Medleys", catalogue)
        for number in range(45):
            make_song(f"Medley {number:02}", album, popularity=number)
        response = client.get("/music/search/", {"q": "medley", "type": "song", "page": "3"})
        assert "45 songs" in text(response)
        assert "Page 3 of 3" in text(response)
        # Equally relevant songs come most popular first.
        assert names(response, "song") == [f"Medley {number:02}" for number in range(4, -1, -1)]
        assert client.get("/music/search/", {"q": "medley", "type": "song", "page": "x"}).context["page_obj"].number == 1
        assert client.get("/music/search/", {"q": "medley", "type": "song", "page": "99"}).context["page_obj"].number == 3

    def test_nothing_found_says_so(self, client, catalogue):
        response = client.get("/music/search/", {"q": "zzzzqqq"})
        assert "Nothing matches “zzzzqqq”. Check the spelling, or search for fewer words." in text(response)


class TestTyposAndAccents:
    @pytest.mark.parametrize("query, expected", [("beyonce", "Beyoncé"), ("BEYONCÉ", "Beyoncé"), ("joao", "João Gilberto"),
                                                 ("royksopp", "Røyksopp"), ("кино", "Кино"), ("ac/dc", "AC/DC")])
    def test_case_and_accents_are_ignored_on_both_databases(self, client, catalogue, query, expected):
        assert names(client.get("/music/search/", {"q": query, "type": "artist"}), "artist")[0] == expected

    @pytest.mark.parametrize("query, expected", [("beatels", "The Beatles"), ("metalica", "Metallica"),
                                                 ("led zepelin", "Led Zeppelin"), ("beyonse", "Beyoncé")])
    def test_typos_find_the_name_on_both_databases(self, client, catalogue, query, expected):
        # PostgreSQL by trigrams, SQLite by correcting the words from the catalogue's vocabulary.
        found = names(client.get("/music/search/", {"q": query, "type": "artist"}), "artist")
        # "beatels" is as near "Beatles" and "Beatles Tribute Band" (also in this catalogue) as "The Beatles".
        assert expected in found[:3], found
        assert all("eatles" in name for name in found[:3]) if query == "beatels" else found[0] == expected

    def test_suggestions_complete_an_unfinished_last_word(self, client, catalogue):
        response = client.get("/music/search/suggest/", {"q": "led z"})
        assert response.status_code == HTTPStatus.OK
        assert response["Content-Type"] == "application/json"
        assert json.loads(response.content) == {
            "query": "led z",
            "suggestions": [{"type": "artist", "label": "Led Zeppelin", "detail": "Artist",
                             "url": f"/music/artists/{catalogue.__class__.objects.get(name='Led Zeppelin').pk}/"}],
            "message": "",
        }

    def test_suggestions_cover_artists_albums_and_songs(self, client, catalogue):
        data = json.loads(client.get("/music/search/suggest/", {"q": "abbey"}).content)
        assert [(item["type"], item["label"], item["detail"]) for item in data["suggestions"]] == [
            ("album", "Abbey Road", "Album by The Beatles")
        ]

    @pytest.mark.django_db(transaction=True)
    def test_suggestions_are_remembered_until_the_catalogue_changes(self, client, catalogue, django_assert_num_queries):
        # SQLite: 3 types, and its vocabulary once. PostgreSQL: the catalogue's words, the names starting with
        # "yester" of every type in one query, then (as they are fewer than shown) per type every match.
        with django_assert_num_queries(5 if postgresql() else 4):
            client.get("/music/search/suggest/", {"q": "yester"})
        with django_assert_num_queries(0):
            data = json.loads(client.get("/music/search/suggest/", {"q": "Yester"}).content)
        assert [item["label"] for item in data["suggestions"]] == ["Yesterday"]
        make_song("Yesterday Once More", make_album("Now & Then", catalogue))
        data = json.loads(client.get("/music/search/suggest/", {"q": "yester"}).content)
        assert [item["label"] for item in data["suggestions"]] == ["Yesterday", "Yesterday Once More"]


BAD_QUERIES = [
    # (q, status, message): a clear message, never a 500.
    ("", 200, "Type a name to search for."),
    ("   ", 200, "Type a name to search for."),
    ("'", 400, "Search for letters or digits: this search has only punctuation or symbols."),
    ("(((", 400, "Search for letters or digits: this search has only punctuation or symbols."),
    ("a", 400, "Type at least 2 letters or digits."),
    ("x" * 500, 400, f"A search can be at most {MAX_LENGTH} characters long; this one has 500."),
    ("?!…", 400, "Search for letters or digits: this search has only punctuation or symbols."),
    ("'&|!:*\\", 400, "Search for letters or digits: this search has only punctuation or symbols."),
]
ODD_QUERIES = ["rock & roll", "a | b", "!beatles", "beat:*", "back\\slash", "' OR 1=1 --", "beat'les",
               "Ночь", "夜明け", "사랑", "🎸 guitar", "a" * MAX_LENGTH, "null\x00byte"]


class TestBadQueries:
    @pytest.mark.parametrize("query, status, message", BAD_QUERIES)
    def test_the_page_says_what_is_wrong(self, client, catalogue, query, status, message):
        response = client.get("/music/search/", {"q": query})
        assert response.status_code == status
        assert f'<p class="message error" role="alert">{message}</p>' in text(response)

    @pytest.mark.parametrize("query, status, message", BAD_QUERIES)
    def test_the_api_says_what_is_wrong(self, client, catalogue, query, status, message):
        response = client.get("/api/v1/search/", {"q": query})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"q": [message]} or response.json().get("q") == [message], response.json()

    @pytest.mark.parametrize("query", ODD_QUERIES)
    def test_syntax_characters_and_other_scripts_are_just_text(self, client, catalogue, query):
        for path in ("/music/search/", "/music/search/suggest/"):
            response = client.get(path, {"q": query})
            assert response.status_code == HTTPStatus.OK, (path, query)
        response = client.get("/api/v1/search/", {"q": query, "type": "song"})
        assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)

    def test_other_scripts_are_found(self, client, catalogue):
        assert names(client.get("/music/search/", {"q": "ночь", "type": "song"}), "song") == ["Ночь"]
        assert names(client.get("/music/search/", {"q": "夜明け", "type": "song"}), "song") == ["夜明け"]

    def test_an_unknown_type_is_refused_with_the_choices(self, client, catalogue):
        response = client.get("/music/search/", {"q": "beatles", "type": "podcast"})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "There is no type “podcast” to search. Choose artist, album, song or playlist." in text(response)
        response = client.get("/api/v1/search/", {"q": "beatles", "type": "podcast"})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Unknown type 'podcast': use one of artist, album, song, playlist." in text(response)

    def test_the_search_page_without_a_query_shows_the_box(self, client):
        response = client.get("/music/search/")
        assert response.status_code == HTTPStatus.OK
        assert '<input id="search-q" type="search" name="q" value="" maxlength="100" autocomplete="off">' in text(response)
        assert 'role="alert"' not in text(response)


class TestQueryCounts:
    def phase_count(self):
        # Per type: word matches, then (PostgreSQL) typo matches when there are few.
        return 2 if postgresql() else 1

    def vocabulary_read(self):
        # SQLite: the catalogue's words for its typo tolerance, read once per catalogue version.
        return 0 if postgresql() else 1

    def test_the_everything_page_runs_a_fixed_number_of_queries(self, client, catalogue, django_assert_num_queries):
        with django_assert_num_queries(4 * self.phase_count() + self.vocabulary_read()):
            client.get("/music/search/", {"q": "beatles"})
        album = make_album("Beatles Again", catalogue)
        for number in range(200):
            make_song(f"Beatles Song {number}", album)
        # Plenty of word matches for songs: no typo query for them.
        # (Writes inside the test's transaction leave the catalogue's version as it was: no second vocabulary read.)
        with django_assert_num_queries(4 * self.phase_count() - (1 if postgresql() else 0)):
            response = client.get("/music/search/", {"q": "beatles", "z": "1"})
        assert len(names(response, "song")) == 5

    def test_one_type_runs_at_most_four_queries_however_many_match(self, client, catalogue, django_assert_num_queries):
        album = make_album("Many", catalogue)
        for number in range(300):
            make_song(f"Beatles Song {number}", album)
        with django_assert_num_queries(2):  # capped count, page
            response = client.get("/music/search/", {"q": "beatles", "type": "song", "page": "7"})
        assert len(names(response, "song")) == 20
        # Few word matches: their count, nothing to correct (the catalogue's words read to know it), the page.
        with django_assert_num_queries(3):
            client.get("/music/search/", {"q": "beatles", "type": "artist"})

    @pytest.mark.django_db(transaction=True)
    def test_an_anonymous_search_page_comes_from_the_cache_until_the_catalogue_changes(self, client, catalogue, django_assert_num_queries):
        first = client.get("/music/search/", {"q": "beatles"})
        with django_assert_num_queries(0):
            again = client.get("/music/search/", {"q": "beatles"})
        token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
        assert token.sub("", text(again)) == token.sub("", text(first))
        make_artist("Beatles Forever")
        assert "Beatles Forever" in names(client.get("/music/search/", {"q": "beatles"}), "artist")


class TestPrivacy:
    def test_private_playlists_are_found_by_their_owner_only(self, client, catalogue):
        owner, stranger = make_user("owner"), make_user("stranger")
        make_playlist(owner, "Secret Beatles Mix", is_public=False)
        make_playlist(owner, "Public Beatles Mix", is_public=True)
        assert names(client.get("/music/search/", {"q": "beatles mix", "type": "playlist"}), "playlist") == ["Public Beatles Mix"]
        assert names(logged_in(stranger).get("/music/search/", {"q": "beatles mix", "type": "playlist"}), "playlist") == ["Public Beatles Mix"]
        assert sorted(names(logged_in(owner).get("/music/search/", {"q": "beatles mix", "type": "playlist"}), "playlist")) == [
            "Public Beatles Mix", "Secret Beatles Mix"]
        api = client.get("/api/v1/search/", {"q": "beatles mix", "type": "playlist"}).json()
        assert [row["name"] for row in api["results"]] == ["Public Beatles Mix"]
        grouped = client.get("/api/v1/search/", {"q": "secret"}).json()
        assert grouped["results"]["playlists"]["results"] == []

    def test_a_cached_anonymous_search_never_shows_a_listeners_history(self, client, catalogue):
        listener = make_user("hist")
        logged_in(listener).get("/music/search/", {"q": "beatles"})
        anonymous = client.get("/music/search/", {"q": "beatles"})
        assert "Your recent searches" not in text(anonymous)


class TestHistory:
    def test_a_listener_sees_their_last_twenty_distinct_searches_newest_first(self, catalogue):
        listener = make_user("searcher")
        browser = logged_in(listener)
        for number in range(25):
            browser.get("/music/search/", {"q": f"query {number}"})
        browser.get("/music/search/", {"q": "QUERY 10"})  # the same as "query 10": moves it to the top
        browser.get("/music/search/", {"q": "query 10", "type": "song"})  # another type: another entry
        history = list(SearchHistory.objects.filter(user=listener).values_list("query", "kind"))
        assert len(history) == 20
        assert history[:3] == [("query 10", "song"), ("QUERY 10", ""), ("query 24", "")]
        assert ("query 5", "") not in history and ("query 6", "") in history
        response = browser.get("/music/search/")
        assert "Your recent searches" in text(response)
        assert [entry.query for entry in response.context["history"]][:2] == ["query 10", "QUERY 10"]

    def test_a_search_repeated_at_once_writes_nothing_and_a_later_one_moves_up(self, catalogue):
        listener = make_user("repeater")
        api = logged_in(listener)
        for query in ("beatles", "midnight", "beatles"):
            assert api.get("/api/v1/search/", {"q": query}).status_code == HTTPStatus.OK
        first = SearchHistory.objects.get(user=listener, key="beatles")
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/search/", {"q": "beatles"}).status_code == HTTPStatus.OK  # the newest already
        writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
        assert writes == [] and SearchHistory.objects.get(pk=first.pk).searched_at == first.searched_at
        SearchHistory.objects.filter(pk=first.pk).update(searched_at=first.searched_at - datetime.timedelta(minutes=2))
        api.get("/api/v1/search/", {"q": "beatles"})  # a minute later: searched_at is brought up to date
        assert SearchHistory.objects.get(pk=first.pk).searched_at > first.searched_at
        assert list(SearchHistory.objects.filter(user=listener).values_list("query", flat=True)) == ["beatles", "midnight"]

    def test_bad_queries_and_suggestions_are_not_remembered(self, catalogue):
        listener = make_user("quiet")
        browser = logged_in(listener)
        browser.get("/music/search/", {"q": "a"})
        browser.get("/music/search/suggest/", {"q": "beatles"})
        assert not SearchHistory.objects.filter(user=listener).exists()

    def test_removing_one_and_clearing_all(self, catalogue):
        listener, other = make_user("remover"), make_user("other")
        browser = logged_in(listener)
        for query in ("beatles", "metallica", "joao"):
            browser.get("/music/search/", {"q": query})
        logged_in(other).get("/music/search/", {"q": "beatles"})
        mine = SearchHistory.objects.get(user=listener, query="metallica")
        theirs = SearchHistory.objects.get(user=other)
        response = browser.post(f"/music/search/history/{mine.pk}/remove/", {"next": "/music/search/"})
        assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/music/search/"
        assert list(SearchHistory.objects.filter(user=listener).values_list("query", flat=True)) == ["joao", "beatles"]
        assert browser.post(f"/music/search/history/{theirs.pk}/remove/").status_code == HTTPStatus.NOT_FOUND
        assert browser.get(f"/music/search/history/{mine.pk}/remove/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
        response = browser.post("/music/search/history/clear/", follow=True)
        assert "Cleared your search history (2 searches)." in text(response)
        assert not SearchHistory.objects.filter(user=listener).exists()
        assert SearchHistory.objects.filter(user=other).count() == 1

    def test_anonymous_visitors_have_no_history_to_change(self, client):
        response = client.post("/music/search/history/clear/")
        assert response.status_code == HTTPStatus.FOUND and response["Location"].startswith("/accounts/login/")

    def test_the_api_lists_removes_and_clears(self, catalogue):
        listener = make_user("apiuser")
        api = logged_in(listener)
        api.get("/api/v1/search/", {"q": "beatles"})
        api.get("/api/v1/search/", {"q": "metallica", "type": "artist"})
        listed = api.get("/api/v1/search/history/").json()
        assert [(row["query"], row["type"]) for row in listed] == [("metallica", "artist"), ("beatles", "")]
        assert api.delete(f"/api/v1/search/history/{listed[0]['id']}/").status_code == HTTPStatus.NO_CONTENT
        assert api.delete(f"/api/v1/search/history/{listed[0]['id']}/").status_code == HTTPStatus.NOT_FOUND
        assert [row["query"] for row in api.get("/api/v1/search/history/").json()] == ["beatles"]
        assert api.delete("/api/v1/search/history/").status_code == HTTPStatus.NO_CONTENT
        assert api.get("/api/v1/search/history/").json() == []
        assert Client().get("/api/v1/search/history/").status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)


class TestApi:
    def test_everything_groups_the_best_five_with_a_link_to_more(self, client, catalogue):
        album = make_album("Beatles for Sale", catalogue)
        for number in range(6):
            make_song(f"Beatles Medley {number}", album)
        data = client.get("/api/v1/search/", {"q": "beatles"}).json()
        assert data["query"] == "beatles"
        assert [row["name"] for row in data["results"]["artists"]["results"]][:3] == ["Beatles", "Beatles Tribute Band", "The Beatles"]
        assert data["results"]["artists"]["more"] is None
        assert len(data["results"]["songs"]["results"]) == 5
        assert data["results"]["songs"]["more"] == "http://testserver/api/v1/search/?q=beatles&type=song"

    def test_one_type_is_paginated(self, client, catalogue):
        album = make_album("Medleys", catalogue)
        for number in range(45):
            make_song(f"Medley {number:02}", album, popularity=number)
        data = client.get("/api/v1/search/", {"q": "medley", "type": "song", "page": "2"}).json()
        assert (data["count"], data["page"], data["pages"], data["more_than_count"]) == (45, 2, 3, False)
        assert [row["title"] for row in data["results"]][:2] == ["Medley 24", "Medley 23"]
        assert client.get("/api/v1/search/", {"q": "medley", "type": "song", "page": "9"}).status_code == HTTPStatus.NOT_FOUND
        assert client.get("/api/v1/search/", {"q": "medley", "type": "song", "page": "x"}).status_code == HTTPStatus.BAD_REQUEST

    def test_results_stop_at_a_thousand(self, client, catalogue, monkeypatch):
        monkeypatch.setattr("SyroMusic.search.MAX_RESULTS", 30)
        album = make_album("Medleys", catalogue)
        for number in range(45):
            make_song(f"Medley {number:02}", album)
        data = client.get("/api/v1/search/", {"q": "medley", "type": "song"}).json()
        assert (data["count"], data["pages"], data["more_than_count"]) == (30, 2, True)
        assert "The best 30 of more songs" in text(client.get("/music/search/", {"q": "medley", "type": "song"}))


class TestAddFromResults:
    def test_song_rows_offer_the_listeners_playlists(self, catalogue):
        listener = make_user("adder")
        playlist = make_playlist(listener, "Road Trip")
        browser = logged_in(listener)
        response = browser.get("/music/search/", {"q": "yesterday", "type": "song"})
        html = text(response)
        assert '<select name="playlist" aria-label="Playlist to add “Yesterday” to"><option value="%d">Road Trip</option></select>' % playlist.pk in html
        song_id = int(re.search(r'<input type="hidden" name="song" value="(\d+)">', html).group(1))
        response = browser.post("/music/playlists/add/", {"playlist": playlist.pk, "song": song_id,
                                                          "next": "/music/search/?q=yesterday&type=song"})
        assert response["Location"] == "/music/search/?q=yesterday&type=song"
        assert list(Playlist.objects.get(pk=playlist.pk).entries.values_list("song__title", flat=True)) == ["Yesterday"]

    def test_anonymous_visitors_get_no_add_forms(self, client, catalogue):
        assert 'name="playlist"' not in text(client.get("/music/search/", {"q": "yesterday", "type": "song"}))
