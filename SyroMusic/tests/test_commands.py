import csv
import io
import os
import stat

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from SyroMusic.models import Album, Artist, Genre, Playlist, PlaylistEntry, Song

from .factories import make_album, make_artist, make_song, make_user

pytestmark = pytest.mark.django_db

HEADER = "artist,album,title,disc_number,track_number,duration_ms,genre,composer,release_year,explicit\n"


def run(*args, **options):
    """Call a command, returning (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, no_progress=True, **options)
    return out.getvalue(), err.getvalue()


def write(tmp_path, text, name="catalogue.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def catalogue_facts():
    """What the CSV format carries about every song, for comparing catalogues."""
    return sorted(
        (s.artist.name, s.album.artist.name, s.album.title, s.album.release_year, s.title, s.disc_number,
         s.track_number, s.duration_ms, s.genre.name if s.genre else None, s.composer, s.explicit)
        for s in Song.objects.for_listing()
    )


def snapshot():
    return {model.__name__: model.objects.count() for model in (Artist, Album, Song, Genre, Playlist, PlaylistEntry)}


class TestSeedCatalogue:
    def test_it_derives_the_other_counts_from_the_number_of_songs(self):
        out, _ = run("seed_catalogue", songs=2000)
        assert snapshot() == {
            "Artist": 40, "Album": 200, "Song": 2000, "Genre": 32, "Playlist": 20,
            "PlaylistEntry": PlaylistEntry.objects.count(),
        }
        assert "Seeded 32 genres, 40 artists, 200 albums, 2,000 songs, 3 users, 20 playlists" in out
        assert "peak RSS" in out
        assert get_user_model().objects.count() == 3

    def test_seeded_names_are_searchable_and_the_search_indexes_are_back(self, client):
        from django.db import connection

        run("seed_catalogue", songs=300)
        artist = Artist.objects.order_by("id")[5]
        response = client.get("/music/search/", {"q": artist.name.upper(), "type": "artist"})
        assert response.context["page_obj"].object_list[0] == artist
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname ~ '_(search|name_trgm|name_fold)_idx$'")
                indexes = dict(cursor.fetchall())
                assert sorted(indexes) == sorted(
                    f"{table}_{suffix}" for table in ("album", "artist", "playlist", "song")
                    for suffix in ("name_fold_idx", "search_idx")
                )
                # Built again as migration 0013 left it: the songs' prefix index carries what their order needs.
                assert indexes["song_name_fold_idx"].endswith("(search_name text_pattern_ops) INCLUDE (popularity, id)")
                # The bulk load's words were learned, every one of them.
                cursor.execute(
                    "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT FROM syro_search_word AS w WHERE w.word = lexeme)) "
                    'FROM "SyroMusic_song", unnest(tsvector_to_array(search_vector)) AS lexeme'
                )
                lexemes, learned = cursor.fetchone()
                assert lexemes > 300 and learned == lexemes

    def test_it_is_deterministic_for_a_seed_and_different_for_another(self):
        run("seed_catalogue", songs=500)
        first = catalogue_facts()
        run("seed_catalogue", songs=500, flush=True)
        assert catalogue_facts() == first
        run("seed_catalogue", songs=500, flush=True, seed=2)
        assert catalogue_facts() != first

    def test_it_makes_realistic_data_that_keeps_every_rule(self):
        run("seed_catalogue", songs=5000, playlists=60)
        assert Artist.objects.get(pk=1).name == "Various Artists"
        assert Album.objects.filter(album_type=Album.Type.COMPILATION).exists()
        assert Song.objects.exclude(artist_id=1).filter(album__artist_id=1).exists()
        assert Artist.objects.exclude(name__regex=r"^[ -~]*$").exists(), "some names are not ASCII"
        assert Artist.objects.filter(name__startswith="The ", sort_name__endswith=", The").exists()
        # Every album's genres are exactly its songs' genres.
        for album in Album.objects.prefetch_related("genres", "songs")[:50]:
            assert {g.pk for g in album.genres.all()} == {s.genre_id for s in album.songs.all()}
        # Positions run 1..N in every playlist; a long one exists for pagination.
        for playlist in Playlist.objects.all():
            positions = list(playlist.entries.order_by("position").values_list("position", flat=True))
            assert positions == list(range(1, len(positions) + 1))
        assert Playlist.objects.get(pk=1).entries.count() == 3000
        assert Playlist.objects.filter(is_public=False).exists()

    def test_new_rows_after_a_seed_get_fresh_ids(self):
        run("seed_catalogue", songs=100)
        song = make_song()
        assert song.pk == 101

    def test_it_refuses_a_catalogue_that_has_data_unless_told_what_to_do(self):
        make_song("Keep me")
        with pytest.raises(CommandError, match="not empty. Use --flush"):
            run("seed_catalogue", songs=100)
        out, _ = run("seed_catalogue", songs=100, if_empty=True)
        assert out == "The catalogue already has data: nothing seeded.\n"
        assert Song.objects.get().title == "Keep me"
        run("seed_catalogue", songs=100, flush=True)
        assert Song.objects.count() == 100
        assert not Song.objects.filter(title="Keep me").exists()

    def test_flush_keeps_user_accounts_and_reuses_the_demo_listeners(self):
        run("seed_catalogue", songs=300)
        users = list(get_user_model().objects.order_by("pk").values_list("pk", "username"))
        run("seed_catalogue", songs=300, flush=True)
        assert list(get_user_model().objects.order_by("pk").values_list("pk", "username")) == users

    def test_demo_listeners_cannot_log_in(self, client):
        run("seed_catalogue", songs=100)
        user = get_user_model().objects.first()
        assert not user.has_usable_password()

    def test_the_demo_admin_needs_debug(self, settings):
        with pytest.raises(CommandError, match="only with DEBUG on"):
            run("seed_catalogue", songs=100, demo_admin=True)
        settings.DEBUG = True
        out, _ = run("seed_catalogue", songs=100, demo_admin=True)
        assert "Created the demo superuser admin (password: admin)." in out
        admin = get_user_model().objects.get(username="admin")
        assert admin.is_superuser and admin.check_password("admin")

    @pytest.mark.parametrize("option", ["songs", "artists", "batch_size"])
    def test_it_refuses_sizes_below_one(self, option):
        with pytest.raises(CommandError, match="must be at least 1"):
            run("seed_catalogue", **{option: 0})


class TestImportCatalogue:
    def test_it_creates_artists_albums_genres_and_songs(self, tmp_path):
        path = write(
            tmp_path,
            HEADER
            + "Sigur Rós,Takk...,Hoppípolla,1,3,268000,Post-rock,Jón Þór Birgisson,2005,false\n"
            + "Sigur Rós,Takk...,Glósóli,1,2,376000,Post-rock,,2005,no\n"
            + 'Nina Simone,"Little Girl Blue",My Baby Just Cares for Me,,,,Jazz,,1959,\n',
        )
        out, err = run("import_catalogue", path)
        assert err == ""
        assert f"Import of {path}: 3 rows read." in out
        assert "  songs created: 3" in out and "  artists created: 2" in out and "  albums created: 2" in out
        takk = Album.objects.get(title="Takk...")
        assert takk.release_date.isoformat() == "2005-01-01"
        assert [s.title for s in takk.songs.in_tracklist_order()] == ["Glósóli", "Hoppípolla"]
        assert set(takk.genres.values_list("name", flat=True)) == {"Post-rock"}
        song = Song.objects.get(title="My Baby Just Cares for Me")
        # No track number: the next free one; no duration: unknown; no explicit flag: not explicit.
        assert (song.disc_number, song.track_number, song.duration_ms, song.explicit) == (1, 1, None, False)
        assert Artist.objects.get(name="Sigur Rós").sort_name == "Sigur Rós"

    def test_importing_the_same_file_again_creates_nothing(self, tmp_path):
        path = write(tmp_path, HEADER + "A,B,One,1,1,1000,Rock,,2000,true\nA,B,Two,,,,,,,\n")
        run("import_catalogue", path)
        before = snapshot()
        out, _ = run("import_catalogue", path)
        assert snapshot() == before
        assert "  songs unchanged: 2" in out and "  songs created: 0" in out and "  artists matched: 1" in out

    def test_it_matches_existing_rows_and_updates_only_given_values(self, tmp_path):
        album = make_album("Blue", artist=make_artist("Joni Mitchell"))
        song = make_song("River", album=album, track_number=7, duration_ms=240_000, composer="Joni Mitchell")
        path = write(tmp_path, HEADER + "Joni Mitchell,Blue,River (remaster),1,7,241000,,,,\n")
        out, _ = run("import_catalogue", path)
        song.refresh_from_db()
        assert (song.title, song.duration_ms, song.composer) == ("River (remaster)", 241_000, "Joni Mitchell")
        assert "  songs updated: 1" in out
        assert Song.objects.count() == 1

    def test_without_a_track_number_a_song_is_matched_by_title(self, tmp_path):
        song = make_song("Case of You", album=make_album("Blue", artist=make_artist("Joni Mitchell")), track_number=9)
        run("import_catalogue", write(tmp_path, HEADER + "Joni Mitchell,Blue,Case of You,,,260000,,,,\n"))
        song.refresh_from_db()
        assert (Song.objects.count(), song.track_number, song.duration_ms) == (1, 9, 260_000)

    def test_compilation_tracks_name_their_album_artist(self, tmp_path):
        path = write(
            tmp_path,
            HEADER.strip() + ",album_artist\n"
            + "Nina Simone,Jazz Hits,Feeling Good,1,1,,,,1999,,Various Artists\n"
            + "Chet Baker,Jazz Hits,Almost Blue,1,2,,,,1999,,Various Artists\n",
        )
        run("import_catalogue", path)
        album = Album.objects.get()
        assert (album.artist.name, album.album_type) == ("Various Artists", "compilation")
        assert list(album.songs.in_tracklist_order().values_list("artist__name", flat=True)) == ["Nina Simone", "Chet Baker"]

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            ("Björk,Post,,1,1,,,,,", "line 3: title is required"),
            ("Björk,Post,Army of Me,1,1,abc,,,,", "line 3: duration_ms 'abc' is not a whole number"),
            ("Björk,Post,Army of Me,1,0,,,,,", "line 3: track_number 0 is out of range (1 to 32767)"),
            ("Björk,Post,Army of Me,0,1,,,,,", "line 3: disc_number 0 is out of range (1 to 32767)"),
            ("Björk,Post,Army of Me,1,1,-5,,,,", "line 3: duration_ms -5 is out of range"),
            ("Björk,Post,Army of Me,1,1,,,,95,", "line 3: release_year 95 is out of range (1000 to 2999)"),
            ("Björk,Post,Army of Me,1,1,,,,,maybe", "line 3: explicit 'maybe' is not true/false"),
            ("Björk,Post,Army of Me", "line 3: expected 10 fields, found 3"),
            (",Post,Army of Me,1,1,,,,,", "line 3: artist is required"),
            ("Björk,Post," + "x" * 301 + ",1,1,,,,,", "line 3: title is longer than 300 characters"),
            ("Björk,Post,Isobel,1,1,,,,,", "line 3: same song as line 2 (album 'Post', disc 1, track 1)"),
        ],
    )
    def test_a_bad_row_stops_the_import_with_its_line_and_stores_nothing(self, tmp_path, row, message):
        make_song("Already here")
        before = snapshot()
        path = write(tmp_path, HEADER + "Björk,Post,Hyperballad,1,1,321000,Electronic,,1995,false\n" + row + "\n")
        err = io.StringIO()
        with pytest.raises(CommandError, match="nothing imported, 1 bad row"):
            call_command("import_catalogue", path, stdout=io.StringIO(), stderr=err, no_progress=True)
        assert err.getvalue().startswith(f"{path}:{message.removeprefix('line ')}")
        assert err.getvalue().count("\n") == 1
        assert snapshot() == before

    def test_every_bad_row_is_reported_with_its_own_line(self, tmp_path):
        path = write(
            tmp_path,
            HEADER + "A,B,ok,1,1,,,,,\n" + 'A,B,"multi\nline title",1,2,,,,,\n' + "A,B,,1,3,,,,,\nA,B,x,1,4,1.5,,,,\n",
        )
        err = io.StringIO()
        with pytest.raises(CommandError, match="3 bad row"):
            call_command("import_catalogue", path, stdout=io.StringIO(), stderr=err, no_progress=True)
        # The quoted title spans lines 3 and 4 (a title is one line: that is its error), so the next record starts on line 5.
        assert err.getvalue().splitlines() == [
            f"{path}:3: title holds a control character (U+000A): names and titles are one line of text",
            f"{path}:5: title is required",
            f"{path}:6: duration_ms '1.5' is not a whole number",
        ]
        assert not Song.objects.exists()

    def test_a_bad_row_late_in_a_large_file_stores_nothing(self, tmp_path):
        rows = "".join(f"Artist {n % 50},Album {n % 300},Song {n},1,{n // 300 + 1},1000,,,,\n" for n in range(5000))
        path = write(tmp_path, HEADER + rows + "Artist 1,Album 1,Song 1,1,1,abc,,,,\n")
        with pytest.raises(CommandError, match="1 bad row"):
            run("import_catalogue", path)
        assert not Artist.objects.exists()

    def test_a_row_that_collides_during_writing_rolls_back_the_whole_file(self, tmp_path):
        # Each row is fine alone; the second takes the slot the first was given automatically.
        path = write(tmp_path, HEADER + "A,B,Auto,1,,,,,,\n" + "A,B,Explicit,1,1,,,,,\n")
        err = io.StringIO()
        with pytest.raises(CommandError, match="1 bad row"):
            call_command("import_catalogue", path, stdout=io.StringIO(), stderr=err, no_progress=True)
        assert err.getvalue() == f"{path}:3: same song as line 2 (album 'B', disc 1, track 1)\n"
        assert snapshot()["Artist"] == 0

    def test_an_ambiguous_title_without_track_number_is_refused(self, tmp_path):
        album = make_album("Live", artist=make_artist("Band"))
        make_song("Intro", album=album, track_number=1)
        make_song("Intro", album=album, track_number=12)
        err = io.StringIO()
        with pytest.raises(CommandError):
            call_command(
                "import_catalogue", write(tmp_path, HEADER + "Band,Live,Intro,,,,,,,\n"),
                stdout=io.StringIO(), stderr=err, no_progress=True,
            )
        assert "2 songs called 'Intro' on album 'Live': give track_number" in err.getvalue()

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", ":1: the file is empty: expected a header row"),
            ("artist,album\n", ":1: missing column(s) title. Expected: artist,album,title,"),
            ("artist,album,title,tittle\n", ":1: unknown column(s) tittle."),
            ("artist,album,title,title\n", ":1: repeated column(s) title."),
        ],
    )
    def test_a_wrong_header_is_reported_on_line_one(self, tmp_path, text, message):
        path = write(tmp_path, text)
        err = io.StringIO()
        with pytest.raises(CommandError):
            call_command("import_catalogue", path, stdout=io.StringIO(), stderr=err, no_progress=True)
        assert err.getvalue().startswith(path + message)

    def test_a_file_that_is_not_utf8_is_refused_with_its_line(self, tmp_path):
        path = write(tmp_path, HEADER + "A,B,ok,,,,,,,\nBjörk,Post,Possibly Maybe,,,,,,,\n", encoding="latin-1")
        err = io.StringIO()
        with pytest.raises(CommandError):
            call_command("import_catalogue", path, stdout=io.StringIO(), stderr=err, no_progress=True)
        assert err.getvalue() == f"{path}:3: not valid UTF-8 text (save the file as UTF-8)\n"
        assert not Song.objects.exists()

    def test_a_byte_order_mark_and_column_order_do_not_matter(self, tmp_path):
        path = write(tmp_path, "\ufefftitle,album,artist\nJolene,Jolene,Dolly Parton\n")
        run("import_catalogue", path)
        assert Song.objects.get().artist.name == "Dolly Parton"

    def test_a_missing_file_is_a_clear_error(self):
        with pytest.raises(CommandError, match="nope.csv: no such file"):
            run("import_catalogue", "nope.csv")

    def test_a_dry_run_reports_what_would_happen_and_writes_nothing(self, tmp_path):
        make_song("Existing", album=make_album("B", artist=make_artist("A")), track_number=1)
        before = snapshot()
        path = write(tmp_path, HEADER + "A,B,Existing,1,1,,,,,\nA,B,New,1,2,,,,,\nC,D,Other,,,,,,,\n")
        out, _ = run("import_catalogue", path, dry_run=True)
        assert out.splitlines() == [
            f"Dry run (nothing written) of {path}: 3 rows read.",
            "  albums created: 1", "  albums matched: 1", "  albums updated: 0", "  artists created: 1",
            "  artists matched: 1", "  songs created: 2", "  songs unchanged: 1", "  songs updated: 0",
        ]
        assert snapshot() == before

    def test_a_dry_run_lists_every_bad_row(self, tmp_path):
        path = write(tmp_path, HEADER + "A,B,,,,,,,,\nA,B,ok,,,,,,,\nA,B,x,1,1,zz,,,,\n")
        err = io.StringIO()
        with pytest.raises(CommandError, match="2 bad row"):
            call_command("import_catalogue", path, dry_run=True, stdout=io.StringIO(), stderr=err, no_progress=True)
        assert err.getvalue().splitlines() == [f"{path}:2: title is required", f"{path}:4: duration_ms 'zz' is not a whole number"]


class TestExportCatalogue:
    def test_export_then_import_into_an_empty_catalogue_gives_the_same_catalogue(self, tmp_path):
        run("seed_catalogue", songs=3000)
        original = catalogue_facts()
        path = str(tmp_path / "export.csv")
        out, _ = run("export_catalogue", path)
        assert out == f"Exported 3,000 songs to {path}.\n"

        PlaylistEntry.objects.all().delete()
        Song.objects.all().delete()
        Album.objects.all().delete()
        Artist.objects.all().delete()
        Genre.objects.all().delete()
        out, _ = run("import_catalogue", path)
        assert "  songs created: 3,000" in out
        assert catalogue_facts() == original
        second = str(tmp_path / "again.csv")
        run("export_catalogue", second)
        assert open(path, encoding="utf-8").read() == open(second, encoding="utf-8").read()

    def test_it_writes_the_import_format_in_tracklist_order(self, tmp_path):
        album = make_album("Blue", artist=make_artist("Joni Mitchell"), release_date="1971-06-22")
        make_song("River", album=album, track_number=2, duration_ms=240_000, explicit=False)
        make_song("All I Want", album=album, track_number=1, composer="Joni Mitchell", explicit=True)
        out, _ = run("export_catalogue", "-")
        assert list(csv.reader(io.StringIO(out))) == [
            ["artist", "album", "title", "disc_number", "track_number", "duration_ms", "genre", "composer",
             "release_year", "explicit", "album_artist"],
            ["Joni Mitchell", "Blue", "All I Want", "1", "1", "", "", "Joni Mitchell", "1971", "true", ""],
            ["Joni Mitchell", "Blue", "River", "1", "2", "240000", "", "", "1971", "false", ""],
        ]

    def test_the_file_gets_ordinary_permissions_and_replaces_an_old_export(self, tmp_path):
        make_song()
        path = tmp_path / "export.csv"
        path.write_text("old")
        previous = os.umask(0o022)
        try:
            run("export_catalogue", str(path))
        finally:
            os.umask(previous)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert path.read_text(encoding="utf-8").startswith("artist,album,title,")
        assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]

    def test_it_refuses_a_directory_that_does_not_exist(self, tmp_path):
        with pytest.raises(CommandError, match="does not exist"):
            run("export_catalogue", str(tmp_path / "missing" / "x.csv"))


PLAYLIST_HEADER = "playlist,position,artist,album,title,disc_number,track_number\n"


@pytest.fixture
def catalogue():
    blue = make_album("Blue", artist=make_artist("Joni Mitchell"))
    songs = {
        "river": make_song("River", album=blue, track_number=1),
        "case": make_song("A Case of You", album=blue, track_number=2),
    }
    live = make_album("Live", artist=make_artist("Band"))
    songs["intro1"] = make_song("Intro", album=live, track_number=1)
    songs["intro2"] = make_song("Intro", album=live, disc_number=2, track_number=1)
    hits = make_album("Hits", artist=make_artist("Various Artists"), album_type="compilation")
    songs["feeling"] = make_song("Feeling Good", album=hits, artist=make_artist("Nina Simone"), track_number=1)
    return songs


class TestImportPlaylists:
    def test_it_creates_the_owners_playlists_in_position_order(self, tmp_path, catalogue):
        alice = make_user("alice")
        path = write(
            tmp_path,
            PLAYLIST_HEADER
            + "Winter,2,Joni Mitchell,Blue,A Case of You,,\n"
            + "Winter,1,Joni Mitchell,Blue,River,,\n"
            + "Winter,7,Joni Mitchell,Blue,River,,\n"
            + "Gig,1,Band,Live,Intro,2,1\n"
            + "Gig,2,Nina Simone,Hits,Feeling Good,,\n"
            + "Gig,3,Various Artists,Hits,Feeling Good,,\n",
        )
        out, err = run("import_playlists", path, owner="alice")
        assert err == ""
        assert "  playlists created: 2" in out and "  entries added: 6" in out
        winter = Playlist.objects.get(owner=alice, name="Winter")
        assert not winter.is_public
        assert list(winter.entries.order_by("position").values_list("position", "song", "added_by")) == [
            (1, catalogue["river"].pk, alice.pk), (2, catalogue["case"].pk, alice.pk), (3, catalogue["river"].pk, alice.pk),
        ]
        gig = Playlist.objects.get(owner=alice, name="Gig")
        assert list(gig.entries.order_by("position").values_list("song", flat=True)) == [
            catalogue["intro2"].pk, catalogue["feeling"].pk, catalogue["feeling"].pk,
        ]

    def test_importing_again_replaces_the_entries_and_duplicates_nothing(self, tmp_path, catalogue):
        alice = make_user("alice")
        run("import_playlists", write(tmp_path, PLAYLIST_HEADER + "Winter,1,Joni Mitchell,Blue,River,,\n"), owner="alice")
        playlist = Playlist.objects.get()
        path = write(tmp_path, PLAYLIST_HEADER + "Winter,1,Joni Mitchell,Blue,A Case of You,,\nWinter,2,Joni Mitchell,Blue,River,,\n", "2.csv")
        out, _ = run("import_playlists", path, owner="alice")
        run("import_playlists", path, owner="alice")
        assert "  playlists replaced: 1" in out and "  entries removed: 1" in out
        assert list(Playlist.objects.filter(owner=alice).values_list("pk", flat=True)) == [playlist.pk]
        assert list(playlist.entries.order_by("position").values_list("song", flat=True)) == [
            catalogue["case"].pk, catalogue["river"].pk,
        ]

    def test_another_owners_playlist_of_the_same_name_is_left_alone(self, tmp_path, catalogue):
        make_user("alice")
        bob = make_user("bob")
        path = write(tmp_path, PLAYLIST_HEADER + "Winter,1,Joni Mitchell,Blue,River,,\n")
        run("import_playlists", path, owner="bob")
        run("import_playlists", path, owner="alice")
        assert Playlist.objects.filter(name="Winter").count() == 2
        assert Playlist.objects.get(owner=bob).entries.count() == 1

    @pytest.mark.parametrize(
        ("rows", "message"),
        [
            ("Winter,1,Joni Mitchell,Blue,Big Yellow Taxi,,\n",
             ":3: no song 'Big Yellow Taxi' by 'Joni Mitchell' on album 'Blue' in the catalogue"),
            ("Winter,2,Joni Mitchell,Blue,A Case of You,,\n", ":3: position 2 of playlist 'Winter' is already used on line 2"),
            ("Winter,1,Band,Live,Intro,,\n", ":3: 2 songs match 'Intro' by 'Band' on 'Live': give disc_number and track_number"),
            ("Winter,0,Band,Live,Intro,,\n", ":3: position 0 is out of range"),
            ("Winter,,Band,Live,Intro,,\n", ":3: position is required"),
            ("Winter,3,Band,Live,Intro,x,\n", ":3: disc_number 'x' is not a whole number"),
        ],
    )
    def test_a_bad_row_stops_the_import_with_its_line(self, tmp_path, catalogue, rows, message):
        alice = make_user("alice")
        run("import_playlists", write(tmp_path, PLAYLIST_HEADER + "Winter,1,Joni Mitchell,Blue,River,,\n", "old.csv"), owner="alice")
        path = write(tmp_path, PLAYLIST_HEADER + "Winter,2,Joni Mitchell,Blue,A Case of You,,\n" + rows)
        err = io.StringIO()
        with pytest.raises(CommandError, match="nothing imported"):
            call_command("import_playlists", path, owner="alice", stdout=io.StringIO(), stderr=err, no_progress=True)
        assert err.getvalue().startswith(path + message)
        # The earlier import is untouched.
        assert list(Playlist.objects.get(owner=alice).entries.values_list("song", flat=True)) == [catalogue["river"].pk]

    def test_a_bad_playlist_rolls_back_the_good_ones_of_the_same_file(self, tmp_path, catalogue):
        make_user("alice")
        path = write(tmp_path, PLAYLIST_HEADER + "Good,1,Joni Mitchell,Blue,River,,\nBad,1,Nobody,Nothing,Nowhere,,\n")
        with pytest.raises(CommandError):
            run("import_playlists", path, owner="alice")
        assert not Playlist.objects.exists()

    def test_an_unknown_owner_is_a_clear_error(self, tmp_path):
        with pytest.raises(CommandError, match="--owner ghost: no such user"):
            run("import_playlists", write(tmp_path, PLAYLIST_HEADER), owner="ghost")

    def test_public_and_dry_run(self, tmp_path, catalogue):
        make_user("alice")
        path = write(tmp_path, PLAYLIST_HEADER + "Winter,1,Joni Mitchell,Blue,River,,\n")
        out, _ = run("import_playlists", path, owner="alice", public=True, dry_run=True)
        assert out.startswith(f"Dry run (nothing written) of {path}: 1 rows read.")
        assert not Playlist.objects.exists()
        run("import_playlists", path, owner="alice", public=True)
        assert Playlist.objects.get().is_public
