"""Playlists that are hard to break: one-line names, bounded texts and entries, cached and limited files, and
sharing that asks about the recipient (issue #12, items 9, 10 and 12)."""

import xml.etree.ElementTree as ElementTree
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from SyroMusic import playlist_files
from SyroMusic.models import Album, Artist, Collaborator, Genre, Playlist, PlaylistEntry, Profile, Share, Song

from .factories import logged_in, make_album, make_artist, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db

ONE_LINE = "Names and titles cannot contain control characters such as line breaks or tabs (found U+000A)."


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "correct horse battery")


class TestNamesAreOneLine:
    INJECTED = "Mix\n#EXTINF:1,Evil - Injected\nhttp://evil.example/"

    def test_the_playlist_page_refuses_a_name_with_a_line_break(self, alice):
        response = logged_in(alice).post("/music/playlists/new/", {"name": self.INJECTED, "description": ""})
        assert response.status_code == HTTPStatus.OK
        assert ONE_LINE in text(response)
        assert not Playlist.objects.exists()

    def test_the_api_refuses_a_playlist_name_with_a_line_break(self, alice):
        response = logged_in(alice, api=True).post("/api/v1/playlists/", {"name": self.INJECTED}, format="json")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"name": [ONE_LINE]}
        assert not Playlist.objects.exists()

    def test_the_api_refuses_a_song_title_with_a_line_break(self, root):
        album = make_album()
        data = {"title": "Title\nhttp://evil.example/", "album": album.pk, "artist": album.artist_id, "track_number": 1}
        response = logged_in(root, api=True).post("/api/v1/songs/", data, format="json")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"title": [ONE_LINE]}

    def test_the_admin_refuses_an_artist_name_with_a_line_break(self, root):
        response = logged_in(root).post("/admin/SyroMusic/artist/add/", {
            "name": "Evil\nArtist", "sort_name": "", "country": "", "bio": "", "image_url": "",
            "albums-TOTAL_FORMS": "0", "albums-INITIAL_FORMS": "0",
        })
        assert response.status_code == HTTPStatus.OK
        assert ONE_LINE in text(response)
        assert not Artist.objects.exists()

    @pytest.mark.parametrize("character", ["\t", "\r", "\x1f", "\x7f", "\x85", "\u2028", "\u2029", "\ufffe"])
    def test_every_control_character_is_refused_and_named(self, alice, character):
        response = logged_in(alice, api=True).post("/api/v1/playlists/", {"name": f"A{character}B"}, format="json")
        assert response.json()["errors"]["name"] == [
            f"Names and titles cannot contain control characters such as line breaks or tabs (found U+{ord(character):04X})."
        ]

    def test_a_typed_import_name_is_refused_on_the_page_and_in_the_api(self, alice):
        def upload():
            return SimpleUploadedFile("list.m3u8", b"#EXTINF:1,Nobody - Nothing\nx.mp3\n")

        page = logged_in(alice).post("/music/playlists/import/", {"file": upload(), "name": "Bad\nName"})
        assert ONE_LINE in text(page)
        api = logged_in(alice, api=True).post("/api/v1/playlists/import/", {"file": upload(), "name": "Bad\nName"}, format="multipart")
        assert api.status_code == HTTPStatus.BAD_REQUEST and api.json()["errors"] == {"name": [ONE_LINE]}
        assert not Playlist.objects.exists()

    @pytest.mark.parametrize(
        ("model", "field"),
        [(Playlist, "name"), (Song, "title"), (Song, "composer"), (Album, "title"), (Album, "label"), (Artist, "name"),
         (Artist, "sort_name")],
    )
    def test_the_database_refuses_a_control_character_too(self, alice, model, field):
        song = make_song("Song", album=make_album("Album", artist=make_artist("Artist")))
        make_playlist(owner=alice, name="Mine", songs=[song])
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.update(**{field: "one\ntwo"})

    def test_a_writer_blanks_out_control_characters_however_they_got_in(self):
        # Rows from before the rule are mended by migration 0005; a writer does not count on it.
        artist = Artist(pk=1, name="Evil\n#EXTINF:1,x")
        song = Song(pk=7, title="T\r\nhttp://evil.example/", album=Album(pk=1, title="A\x0bB", artist=artist), artist=artist, duration_ms=1000)
        playlist = Playlist(pk=1, name="P\nQ", owner=get_user_model()(username="alice"))
        entries = [PlaylistEntry(song=song, position=1)]
        absolute = lambda path: f"http://testserver{path}"
        assert playlist_files.to_m3u8(playlist, entries, absolute).splitlines() == [
            "#EXTM3U", "#PLAYLIST:P Q", "#EXTINF:1,Evil #EXTINF:1,x - T http://evil.example/", "#EXTALB:A B",
            "http://testserver/music/songs/7/",
        ]
        root = ElementTree.fromstring(playlist_files.to_xspf(playlist, entries, absolute))
        namespace = {"x": playlist_files.XSPF_NAMESPACE}
        assert root.findtext("x:title", namespaces=namespace) == "P Q"
        assert root.findtext(".//x:track/x:album", namespaces=namespace) == "A B"

    @pytest.mark.parametrize("kind", ["m3u8", "xspf"])
    def test_a_playlist_of_hostile_names_exported_and_imported_is_the_same_playlist(self, alice, kind):
        ac_dc = make_artist("AC - DC")
        songs = [
            make_song("#EXTINF:1,Evil - Injected", album=make_album("Back <in> Black & ]]>", artist=ac_dc)),
            make_song("One, Two - Three", album=make_album("#EXTALB:", artist=make_artist("Sigur Rós"))),
            make_song("<b>&amp;</b>", album=make_album("\"Quoted\" 'album'", artist=ac_dc)),
        ]
        name = "Mix #EXTM3U <x>&amp; ]]> - a, b"
        original = make_playlist(owner=alice, name=name, is_public=True, songs=[songs[2], songs[0], songs[1], songs[0]])
        file = logged_in(None).get(f"/music/playlists/{original.pk}/export.{kind}")
        bob = make_user("bob")
        response = logged_in(bob).post("/music/playlists/import/", {"file": SimpleUploadedFile(f"mix.{kind}", file.content)})
        assert "4 of 4 entries matched" in text(response)
        copy = Playlist.objects.get(owner=bob)
        assert copy.name == name
        assert list(copy.entries.order_by("position").values_list("song", flat=True)) == [
            songs[2].pk, songs[0].pk, songs[1].pk, songs[0].pk,
        ]


class TestLongTexts:
    def test_the_playlist_page_refuses_a_description_over_2000_characters(self, alice):
        client = logged_in(alice)
        response = client.post("/music/playlists/new/", {"name": "Long", "description": "x" * 2001})
        assert "Ensure this value has at most 2000 characters (it has 2001)." in text(response)
        assert not Playlist.objects.exists()
        assert client.post("/music/playlists/new/", {"name": "Long", "description": "x" * 2000}).status_code == HTTPStatus.FOUND

    def test_the_api_refuses_a_description_over_2000_characters(self, alice):
        client = logged_in(alice, api=True)
        response = client.post("/api/v1/playlists/", {"name": "Long", "description": "x" * 2001}, format="json")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"description": ["Ensure this field has no more than 2000 characters."]}
        playlist = make_playlist(owner=alice, name="Short")
        patched = client.patch(f"/api/v1/playlists/{playlist.pk}/", {"description": "x" * 4_900_000}, format="json")
        assert patched.status_code == HTTPStatus.BAD_REQUEST
        assert patched.json()["errors"] == {"description": ["Ensure this field has no more than 2000 characters."]}

    def test_the_api_refuses_an_artist_bio_over_10000_characters(self, root):
        response = logged_in(root, api=True).post("/api/v1/artists/", {"name": "Wordy", "bio": "x" * 10_001}, format="json")
        assert response.json()["errors"] == {"bio": ["Ensure this field has no more than 10000 characters."]}

    @pytest.mark.parametrize(("model", "field", "limit"), [(Playlist, "description", 2000), (Artist, "bio", 10_000), (Profile, "bio", 2000)])
    def test_the_database_holds_each_long_text_to_its_limit(self, alice, model, field, limit):
        make_artist("Artist")
        make_playlist(owner=alice, name="Mine")
        Profile.objects.create(user=alice)
        model.objects.update(**{field: "x" * limit})
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.update(**{field: "x" * (limit + 1)})


class TestEntriesAreBounded:
    def test_a_playlist_holds_10000_songs(self):
        assert Playlist.MAX_ENTRIES == 10_000

    def test_adding_past_the_limit_is_refused_on_the_page(self, alice, monkeypatch):
        monkeypatch.setattr(Playlist, "MAX_ENTRIES", 3)
        album = make_album("Double")
        songs = [make_song(album=album), make_song(album=album)]
        playlist = make_playlist(owner=alice, name="Nearly full", songs=songs)
        response = logged_in(alice).post(f"/music/playlists/{playlist.pk}/add/", {"album": album.pk}, follow=True)
        assert "A playlist holds at most 3 songs: this one has 2, so 2 more do not fit." in text(response)
        assert playlist.entries.count() == 2
        logged_in(alice).post(f"/music/playlists/{playlist.pk}/add/", {"song": songs[0].pk})
        assert playlist.entries.count() == 3

    def test_adding_past_the_limit_is_refused_by_the_api(self, alice, monkeypatch):
        monkeypatch.setattr(Playlist, "MAX_ENTRIES", 3)
        song = make_song()
        playlist = make_playlist(owner=alice, name="Full", songs=[song] * 3)
        response = logged_in(alice, api=True).post(f"/api/v1/playlists/{playlist.pk}/entries/", {"song": song.pk}, format="json")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"song": ["A playlist holds at most 3 songs: this one has 3, so 1 more does not fit."]}
        assert playlist.entries.count() == 3

    def test_the_admin_refuses_an_entry_past_the_limit(self, root, monkeypatch):
        monkeypatch.setattr(Playlist, "MAX_ENTRIES", 3)
        song = make_song()
        playlist = make_playlist(owner=root, name="Full", songs=[song] * 3)
        data = {"playlist": playlist.pk, "position": 4, "song": song.pk, "added_by": ""}
        response = logged_in(root).post("/admin/SyroMusic/playlistentry/add/", data)
        assert "A playlist holds at most 3 songs." in text(response)
        assert playlist.entries.count() == 3


class TestPlaylistFiles:
    @pytest.fixture
    def playlist(self, alice):
        self.song = make_song("Halo", album=make_album("Sasha", artist=make_artist("Beyoncé")))
        return make_playlist(owner=alice, name="Pop", is_public=True, songs=[self.song])

    # Versions are bumped when a write commits, so this test commits for real.
    @pytest.mark.django_db(transaction=True)
    def test_a_file_is_written_once_until_the_playlist_or_the_catalogue_changes(self, playlist, django_assert_num_queries):
        url = f"/music/playlists/{playlist.pk}/export.m3u8"
        first = logged_in(None).get(url)
        with django_assert_num_queries(1):  # the playlist: its entries are not read again
            again = logged_in(None).get(url)
        assert again.content == first.content
        self.song.title = "Halo (Live)"
        self.song.save()
        assert "Beyoncé - Halo (Live)" in text(logged_in(None).get(url))
        playlist.add_song(self.song, by=playlist.owner)
        assert text(logged_in(None).get(url)).count("#EXTINF") == 2

    def test_a_private_playlists_cached_file_stays_private(self, playlist, alice):
        url = f"/music/playlists/{playlist.pk}/export.xspf"
        assert logged_in(alice).get(url).status_code == HTTPStatus.OK
        Playlist.objects.filter(pk=playlist.pk).update(is_public=False)
        assert logged_in(None).get(url).status_code == HTTPStatus.NOT_FOUND
        assert logged_in(make_user("bob"), api=True).get(f"/api/v1/playlists/{playlist.pk}/export/xspf/").status_code == 404

    def test_an_anonymous_address_may_download_30_files_an_hour_from_pages_and_api_together(self, playlist, alice):
        page, api = f"/music/playlists/{playlist.pk}/export.m3u8", f"/api/v1/playlists/{playlist.pk}/export/jspf/"
        for _ in range(20):
            assert logged_in(None).get(page).status_code == HTTPStatus.OK
        for _ in range(10):
            assert logged_in(None, api=True).get(api).status_code == HTTPStatus.OK
        refused = logged_in(None).get(page)
        assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert text(refused) == (
            "Too many playlist files were downloaded from your address (logged-in listeners have no such limit). "
            "Please wait 60 minutes and try again."
        )
        assert 0 < int(refused["Retry-After"]) <= 3600
        problem = logged_in(None, api=True).get(api)
        assert problem.status_code == HTTPStatus.TOO_MANY_REQUESTS and "Retry-After" in problem
        assert problem.json()["detail"] == text(refused)
        assert logged_in(alice).get(page).status_code == HTTPStatus.OK
        assert logged_in(make_user("bob"), api=True).get(api).status_code == HTTPStatus.OK
        elsewhere = logged_in(None)
        elsewhere.defaults["REMOTE_ADDR"] = "192.0.2.7"
        assert elsewhere.get(page).status_code == HTTPStatus.OK

    def test_a_missing_playlist_costs_no_download(self, playlist):
        for _ in range(31):
            assert logged_in(None).get("/music/playlists/999999/export.m3u8").status_code == HTTPStatus.NOT_FOUND
        assert logged_in(None).get(f"/music/playlists/{playlist.pk}/export.m3u8").status_code == HTTPStatus.OK


@pytest.fixture
def shared():
    """Alice's private playlist; Bob collaborates as admin, Carol as editor; Dana is a stranger."""
    alice, bob, carol, dana = (make_user(name) for name in ("alice", "bob", "carol", "dana"))
    playlist = make_playlist(owner=alice, name="Secret", is_public=False, songs=[make_song("Tune")])
    Collaborator.objects.create(playlist=playlist, user=bob, level="admin")
    Collaborator.objects.create(playlist=playlist, user=carol, level="edit")
    return playlist, {"alice": alice, "bob": bob, "carol": carol, "dana": dana}


def share(sender, playlist, username, message, *, api):
    if api:
        response = logged_in(sender, api=True).post(
            f"/api/v1/playlists/{playlist.pk}/share/", {"username": username, "message": message}, format="json"
        )
        return response.status_code == HTTPStatus.CREATED
    response = logged_in(sender).post(f"/music/playlists/{playlist.pk}/share/", {"username": username, "message": message})
    return response.status_code == HTTPStatus.FOUND and response["Location"] == playlist.get_absolute_url()


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
class TestSharingAsksAboutTheRecipient:
    def test_sharing_with_a_collaborator_keeps_their_level(self, shared, api):
        playlist, users = shared
        assert share(users["alice"], playlist, "carol", "Listen", api=api)
        assert playlist.access_for(users["carol"]) == "edit"
        assert Share.objects.get(recipient=users["carol"]).message == "Listen"

    def test_sharing_twice_with_the_same_listener_replaces_the_message(self, shared, api):
        playlist, users = shared
        assert share(users["alice"], playlist, "dana", "First", api=api)
        assert share(users["bob"], playlist, "dana", "Second", api=api)
        assert list(Share.objects.values_list("sender__username", "recipient__username", "message")) == [("bob", "dana", "Second")]
        assert playlist.access_for(users["dana"]) == "view"

    def test_an_admin_collaborators_share_lets_the_recipient_in(self, shared, api):
        playlist, users = shared
        assert share(users["bob"], playlist, "dana", "From Bob", api=api)
        assert logged_in(users["dana"]).get(playlist.get_absolute_url()).status_code == HTTPStatus.OK
        assert logged_in(users["dana"], api=True).get(f"/api/v1/playlists/{playlist.pk}/").status_code == HTTPStatus.OK
        assert "Secret</a>" in text(logged_in(users["dana"]).get("/music/users/dana/"))


def test_a_former_recipient_sees_neither_the_playlist_nor_its_new_name(shared):
    playlist, users = shared
    assert share(users["alice"], playlist, "dana", "For you", api=False)
    dana = logged_in(users["dana"])
    assert "Secret</a>" in text(dana.get("/music/users/dana/"))
    logged_in(users["alice"]).post(f"/music/playlists/{playlist.pk}/collaborators/", {"remove": str(users["dana"].pk)})
    Playlist.objects.filter(pk=playlist.pk).update(name="Renamed in secret")
    page = text(dana.get("/music/users/dana/"))
    assert "Secret" not in page and "Renamed in secret" not in page and "For you" not in page
    assert '<h2 id="get-started">Get started</h2>' in page  # nothing left: the new listener's guidance
    Playlist.objects.filter(pk=playlist.pk).update(is_public=True)  # seen again: the share shows again
    assert "Renamed in secret</a>" in text(dana.get("/music/users/dana/"))


def test_a_playlist_read_for_one_listener_answers_for_another_by_their_own_rights(shared):
    playlist, users = shared
    as_bob = Playlist.objects.with_access_for(users["bob"]).get(pk=playlist.pk)
    assert as_bob.access_for(users["bob"]) == "admin"
    assert as_bob.access_for(users["carol"]) == "edit"
    assert as_bob.access_for(users["dana"]) is None


@pytest.mark.django_db(transaction=True)
def test_migration_0005_mends_the_rows_that_break_the_new_rules():
    executor = MigrationExecutor(connection)
    before, after = [("SyroMusic", "0004_search")], [("SyroMusic", "0005_one_line_names_and_limits")]
    try:
        executor.migrate(before)
        old = MigrationExecutor(connection).loader.project_state(before).apps
        user_model = old.get_model("auth", "User")
        alice, dana = user_model.objects.create(username="alice"), user_model.objects.create(username="dana")
        model = lambda name: old.get_model("SyroMusic", name)
        artist = model("Artist").objects.create(name="Evil\r\nArtist", sort_name="Evil\tArtist", bio="b" * 10_050)
        album = model("Album").objects.create(title="\n", artist=artist, label="La\x85bel")
        model("Song").objects.create(title="Line\u2028Two", album=album, artist=artist, track_number=1)
        model("Genre").objects.create(name="Rock\n", slug="rock-1")
        model("Genre").objects.create(name="Rock", slug="rock")
        playlist = model("Playlist").objects.create(owner=alice, name="Mix\nTape", description="d" * 4_900_000)
        model("Playlist").objects.create(owner=alice, name="Mix Tape")
        model("Profile").objects.create(user=dana, bio="p" * 2001)
        for message in ("first", "second"):
            model("Share").objects.create(playlist=playlist, sender=alice, recipient=dana, message=message)

        MigrationExecutor(connection).migrate(after)
        # The models below are today's: bring the later migrations' columns too.
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("SyroMusic"))
        assert Artist.objects.values_list("name", "sort_name").get() == ("Evil Artist", "Evil Artist")
        assert len(Artist.objects.get().bio) == 10_000
        assert Album.objects.values_list("title", "label").get() == ("Untitled", "La bel")
        assert Song.objects.get().title == "Line Two"
        assert sorted(Genre.objects.values_list("name", flat=True)) == ["Rock", "Rock (2)"]
        assert sorted(Playlist.objects.values_list("name", flat=True)) == ["Mix Tape", "Mix Tape (2)"]
        assert len(Playlist.objects.get(name="Mix Tape (2)").description) == 2000
        assert len(Profile.objects.get().bio) == 2000
        assert list(Share.objects.values_list("message", flat=True)) == ["second"]
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("SyroMusic"))
