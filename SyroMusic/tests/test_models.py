import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from SyroMusic.models import Album, Artist, Playlist, PlaylistEntry, Song, make_sort_name

from .factories import make_album, make_artist, make_genre, make_playlist, make_song, make_user

pytestmark = pytest.mark.django_db


def violates(constraint_name, create):
    """Run `create` and check the database refuses it, naming the constraint where the backend says it."""
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        create()
    if connection.vendor == "postgresql":  # SQLite does not name unique constraints
        assert constraint_name in str(refused.value)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"track_number": 0}, "song_track_number_gte_1"),
        ({"track_number": -3}, "song_track_number_gte_1"),
        ({"disc_number": 0}, "song_disc_number_gte_1"),
        ({"duration_ms": -1}, "song_duration_ms_gte_0"),
        ({"popularity": 101}, "song_popularity_0_100"),
        ({"popularity": -1}, "song_popularity_0_100"),
        ({"title": ""}, "song_title_not_empty"),
    ],
)
def test_the_database_refuses_an_impossible_song(fields, constraint):
    album = make_album()
    values = {"title": "Song", "album": album, "artist": album.artist, "track_number": 1, **fields}
    violates(constraint, lambda: Song.objects.create(**values))
    assert Song.objects.count() == 0


def test_the_database_refuses_two_songs_on_the_same_disc_and_track():
    song = make_song(track_number=4)
    violates("song_unique_album_disc_track", lambda: make_song(album=song.album, track_number=4))
    assert make_song(album=song.album, disc_number=2, track_number=4).pk


def test_a_song_may_have_an_unknown_duration_but_not_a_negative_one():
    assert make_song(duration_ms=None).duration_ms is None
    assert make_song(duration_ms=0).duration_ms == 0


def test_the_database_refuses_two_entries_at_one_position_but_allows_a_song_twice():
    song = make_song()
    playlist = make_playlist(songs=[song, song])
    assert list(playlist.entries.values_list("position", "song")) == [(1, song.pk), (2, song.pk)]
    violates("playlistentry_unique_position", lambda: PlaylistEntry.objects.create(playlist=playlist, song=song, position=2))
    violates("playlistentry_position_gte_1", lambda: PlaylistEntry.objects.create(playlist=playlist, song=song, position=0))


def test_the_database_refuses_an_owner_two_playlists_of_one_name():
    alice = make_user("alice")
    make_playlist(owner=alice, name="Road trip")
    violates("playlist_unique_owner_name", lambda: Playlist.objects.create(owner=alice, name="Road trip"))
    assert make_playlist(owner=make_user("bob"), name="Road trip").pk


def test_the_database_refuses_an_unknown_album_type_and_empty_names():
    artist = make_artist()
    violates("album_type_valid", lambda: Album.objects.create(title="X", artist=artist, album_type="bootleg"))
    violates("album_title_not_empty", lambda: Album.objects.create(title="", artist=artist))
    violates("artist_name_not_empty", lambda: Artist.objects.create(name=""))
    violates("artist_year_formed_plausible", lambda: Artist.objects.create(name="Old", year_formed=99))


def test_an_artist_with_albums_cannot_be_deleted_but_an_album_takes_its_songs_along():
    song = make_song()
    with pytest.raises(ProtectedError):
        song.album.artist.delete()
    song.album.delete()
    assert not Song.objects.exists()


@pytest.mark.parametrize(
    ("name", "sort_name"),
    [("The Beatles", "Beatles, The"), ("A Tribe Called Quest", "Tribe Called Quest, A"), ("An Pierlé", "Pierlé, An"),
     ("Theatre of Hate", "Theatre of Hate"), ("Björk", "Björk"), ("The", "The")],
)
def test_sort_name_files_artists_without_their_leading_article(name, sort_name):
    assert make_sort_name(name) == sort_name
    assert make_artist(name).sort_name == sort_name


def test_a_new_artist_gets_a_unicode_slug_and_keeps_a_given_sort_name():
    assert make_artist("Sigur Rós").slug == "sigur-rós"
    assert make_artist("The The", sort_name="The").sort_name == "The"


def test_objects_print_as_their_names_and_link_to_their_pages():
    song = make_song("Hoppípolla", album=make_album("Takk...", artist=make_artist("Sigur Rós")))
    playlist = make_playlist(name="Calm", songs=[song])
    assert [str(song), str(song.album), str(song.album.artist), str(playlist), str(make_genre("Post-rock"))] == [
        "Hoppípolla", "Takk...", "Sigur Rós", "Calm", "Post-rock"
    ]
    assert str(playlist.entries.get()) == "1. Hoppípolla"
    assert song.get_absolute_url() == f"/music/songs/{song.pk}/"
    assert song.album.get_absolute_url() == f"/music/albums/{song.album.pk}/"
    assert song.artist.get_absolute_url() == f"/music/artists/{song.artist.pk}/"
    assert playlist.get_absolute_url() == f"/music/playlists/{playlist.pk}/"


def test_songs_for_listing_load_album_artist_and_genre_in_one_query(django_assert_num_queries):
    genre = make_genre("Jazz")
    compilation = make_album("Jazz Classics", artist=make_artist("Various Artists"), album_type=Album.Type.COMPILATION)
    for number in range(5):
        make_song(f"Take {number}", album=compilation, artist=make_artist(), genre=genre)
    with django_assert_num_queries(1):
        rows = [(s.title, s.artist.name, s.album.title, s.album.artist.name, s.genre.name) for s in Song.objects.for_listing()]
    assert len(rows) == 5
    assert {row[3] for row in rows} == {"Various Artists"}


def test_album_track_stats_count_songs_and_total_the_known_durations():
    album = make_album()
    make_song(album=album, duration_ms=1000)
    make_song(album=album, duration_ms=2500)
    make_song(album=album, duration_ms=None)
    album = Album.objects.with_track_stats().get(pk=album.pk)
    assert (album.song_count, album.total_duration_ms) == (3, 3500)


def test_tracklist_order_is_disc_then_track():
    album = make_album()
    for disc, track in [(2, 1), (1, 2), (1, 1), (2, 2)]:
        make_song(f"{disc}-{track}", album=album, disc_number=disc, track_number=track)
    assert [s.title for s in album.songs.in_tracklist_order()] == ["1-1", "1-2", "2-1", "2-2"]


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [("alice", {"alice public", "alice private", "bob public"}), ("bob", {"alice public", "bob public", "bob private"}),
     ("charlie", {"alice public", "bob public"}), (None, {"alice public", "bob public"})],
)
def test_playlists_visible_to_a_user_are_the_public_ones_and_their_own(viewer, visible):
    users = {name: make_user(name) for name in ("alice", "bob", "charlie")}
    for name in ("alice", "bob"):
        make_playlist(owner=users[name], name=f"{name} public", is_public=True)
        make_playlist(owner=users[name], name=f"{name} private", is_public=False)
    user = users[viewer] if viewer else AnonymousUser()
    assert set(Playlist.objects.visible_to(user).values_list("name", flat=True)) == visible


def test_playlist_listing_counts_entries_and_totals_duration():
    songs = [make_song(duration_ms=60_000), make_song(duration_ms=30_000)]
    playlist = make_playlist(songs=[*songs, songs[0]])
    listed = Playlist.objects.for_listing().get(pk=playlist.pk)
    assert (listed.entry_count, listed.total_duration_ms) == (3, 150_000)
