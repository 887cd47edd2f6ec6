"""The admin as staff read it: durations shown and entered as m:ss (stored as milliseconds), and a long
playlist's page showing its first entries and a link to all of them, in the same queries at any length."""

import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from SyroMusic.admin import ENTRIES_SHOWN
from SyroMusic.models import PlaylistEntry, PlayQueue, Song

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return logged_in(django_user_model.objects.create_superuser("root", "root@example.com", "correct horse battery"))


def cells(html, name):
    return re.findall(rf'<td class="field-{name}">([^<]*)</td>', html)


def song_form(song, duration):
    """The song's change form as its page posts it, with `duration` typed in the duration box."""
    return {
        "title": song.title, "album": song.album_id, "artist": song.artist_id, "disc_number": song.disc_number,
        "track_number": song.track_number, "duration_ms": duration, "composer": "", "genre": "",
        "popularity": 0, "mbid": "", "lyrics": "", "lrc": "",
        "audio_files-TOTAL_FORMS": "0", "audio_files-INITIAL_FORMS": "0", "audio_files-MIN_NUM_FORMS": "0",
        "audio_files-MAX_NUM_FORMS": "0",
    }


def song_url(song):
    return reverse("admin:SyroMusic_song_change", args=[song.pk])


def test_the_song_changelist_shows_durations_as_m_ss_and_disc_and_track_in_one_column(staff):
    album = make_album("Blue")
    make_song("Short", album=album, track_number=1, duration_ms=233_192)
    make_song("Long", album=album, track_number=2, duration_ms=3_723_000)
    make_song("Unknown", album=album, track_number=3, duration_ms=None)
    make_song("Second disc", album=album, disc_number=2, track_number=4, duration_ms=59_600)
    html = text(staff.get(reverse("admin:SyroMusic_song_changelist") + "?o=1"))
    assert re.findall(r'<th class="field-title"><a href="[^"]*">([^<]*)</a>', html) == [
        "Long", "Second disc", "Short", "Unknown"
    ]
    assert cells(html, "duration") == ["1:02:03", "1:00", "3:53", "-"]
    assert cells(html, "track") == ["2", "2-4", "1", "3"]
    assert cells(html, "album_title") == ["Blue"] * 4
    assert "233192" not in html and "Disc number" not in html


def test_the_audio_file_list_and_the_play_queue_show_times_as_m_ss(staff):
    song = make_song(duration_ms=233_192)
    give_audio(song)
    assert cells(text(staff.get(reverse("admin:SyroMusic_audiofile_changelist"))), "duration") == ["3:25"]
    PlayQueue.objects.create(user=make_user("dana"), song_ids=[song.pk], current_index=0, position_ms=61_400)
    assert cells(text(staff.get(reverse("admin:SyroMusic_playqueue_changelist"))), "position") == ["1:01"]


def test_the_song_page_shows_the_exact_duration_in_m_ss_so_an_unchanged_save_keeps_it(staff):
    song = make_song(duration_ms=233_192)
    html = text(staff.get(song_url(song)))
    assert re.search(r'<input type="text" name="duration_ms" value="([^"]*)"', html)[1] == "3:53.192"
    assert staff.post(song_url(song), song_form(song, "3:53.192")).status_code == HTTPStatus.FOUND
    song.refresh_from_db()
    assert song.duration_ms == 233_192


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("3:53", 233_000),
        ("3:53.192", 233_192),
        ("3:53.5", 233_500),
        (" 3:53,2 ", 233_200),
        ("233", 233_000),
        ("0:05", 5_000),
        ("75:00", 4_500_000),
        ("1:02:03", 3_723_000),
        ("", None),
    ],
)
def test_a_duration_is_entered_as_m_ss_h_mm_ss_or_seconds(staff, typed, stored):
    song = make_song(duration_ms=1_000)
    response = staff.post(song_url(song), song_form(song, typed))
    assert response.status_code == HTTPStatus.FOUND, response.context["errors"] if response.context else response
    song.refresh_from_db()
    assert song.duration_ms == stored


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("3:75", "“3:75” is not a duration: the seconds after a colon are two digits, 00 to 59."),
        ("3:5", "“3:5” is not a duration: the seconds after a colon are two digits, 00 to 59."),
        ("1:60:00", "“1:60:00” is not a duration: the minutes after the hours are two digits, 00 to 59."),
        ("abc", "“abc” is not a duration: write m:ss (3:53), h:mm:ss (1:02:03) or seconds (233), "
                "with thousandths if wanted (3:53.192)."),
        ("-3:00", "“-3:00” is not a duration: write m:ss (3:53), h:mm:ss (1:02:03) or seconds (233), "
                  "with thousandths if wanted (3:53.192)."),
        ("3:53.1925", "“3:53.1925” is not a duration: write m:ss (3:53), h:mm:ss (1:02:03) or seconds (233), "
                      "with thousandths if wanted (3:53.192)."),
        ("233192", "“233192” would be 64:46:32: a number alone is seconds; write 3:53 for 3 minutes 53."),
        ("100:00:01", "A duration may be up to 100:00:00: “100:00:01” is longer."),
        ("9" * 40, f"“{'9' * 40}” is not a duration: write m:ss (3:53), h:mm:ss (1:02:03) or seconds (233), "
                   "with thousandths if wanted (3:53.192)."),
    ],
)
def test_a_duration_that_is_not_one_is_a_form_error_and_changes_nothing(staff, typed, error):
    song = make_song(duration_ms=1_000)
    response = staff.post(song_url(song), song_form(song, typed))
    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors == {"duration_ms": [error]}
    assert f'name="duration_ms" value="{typed}"' in text(response)  # what was typed, to correct
    song.refresh_from_db()
    assert song.duration_ms == 1_000


def test_songs_added_on_the_album_page_take_their_duration_as_m_ss(staff):
    album = make_album("Blue")
    form = {
        "title": "Blue", "artist": album.artist_id, "album_type": "album", "label": "", "cover_url": "",
        "release_date": "", "mbid": "",
        "songs-TOTAL_FORMS": "2", "songs-INITIAL_FORMS": "0", "songs-MIN_NUM_FORMS": "0", "songs-MAX_NUM_FORMS": "1000",
        "songs-0-disc_number": "1", "songs-0-track_number": "1", "songs-0-title": "River", "songs-0-duration_ms": "4:00",
        "songs-1-disc_number": "1", "songs-1-track_number": "2", "songs-1-title": "Lake", "songs-1-duration_ms": "4:60",
    }
    url = reverse("admin:SyroMusic_album_change", args=[album.pk])
    response = staff.post(url, form)
    assert response.status_code == HTTPStatus.OK
    assert response.context["inline_admin_formsets"][0].formset.errors == [
        {}, {"duration_ms": ["“4:60” is not a duration: the seconds after a colon are two digits, 00 to 59."]}
    ]
    assert staff.post(url, {**form, "songs-1-duration_ms": "4:59.5"}).status_code == HTTPStatus.FOUND
    assert list(album.songs.order_by("track_number").values_list("duration_ms", flat=True)) == [240_000, 299_500]
    html = text(staff.get(url))
    assert re.findall(r'name="songs-\d-duration_ms" value="([^"]*)"', html) == ["4:00", "4:59.500"]


def playlist_of(length):
    songs = [make_song(f"Song {n}") for n in range(1, 31)]
    return make_playlist(name=f"{length} entries", songs=[songs[n % 30] for n in range(length)])


def playlist_url(playlist):
    return reverse("admin:SyroMusic_playlist_change", args=[playlist.pk])


# The staff user, the playlist with its entry count, its first entries with their songs, artists and adders, the
# owner for its select.
PLAYLIST_PAGE_QUERIES = 4


def test_a_playlist_page_shows_its_first_entries_and_links_to_all_in_the_same_queries_at_3_or_3000(
    staff, django_assert_num_queries
):
    small, big = playlist_of(3), playlist_of(3000)
    staff.get(playlist_url(small))  # once, for what Django caches per process (the content types)
    with django_assert_num_queries(PLAYLIST_PAGE_QUERIES):
        small_html = text(staff.get(playlist_url(small)))
    with django_assert_num_queries(PLAYLIST_PAGE_QUERIES):
        big_html = text(staff.get(playlist_url(big)))
    positions = lambda html: re.findall(r'name="entries-\d+-position" value="(\d+)"', html)
    assert positions(small_html) == ["1", "2", "3"]
    assert positions(big_html) == [str(n) for n in range(1, ENTRIES_SHOWN + 1)]
    link = reverse("admin:SyroMusic_playlistentry_changelist") + f"?playlist__id__exact={big.pk}"
    assert f'<div class="readonly"><a href="{link}">3,000 entries</a></div>' in big_html
    # 17 more rows than the small one's, and none of the other 2,980.
    assert len(big_html) < len(small_html) + 17 * 3000


def test_the_entry_list_linked_from_a_playlist_holds_all_of_its_entries(staff):
    big = playlist_of(300)
    playlist_of(3)
    html = text(staff.get(reverse("admin:SyroMusic_playlistentry_changelist") + f"?playlist__id__exact={big.pk}"))
    assert '<span class="small quiet">300 results (<a href="?">303 total</a>)</span>' in html
    assert "300 playlist entries" in html
    assert len(re.findall(r'<td class="field-position">', html)) == 100  # a page of the list


def test_saving_a_long_playlist_keeps_its_entries_and_edits_the_ones_shown(staff):
    playlist = playlist_of(300)
    shown = list(playlist.entries.order_by("position")[:ENTRIES_SHOWN])
    form = {
        "owner": playlist.owner_id, "name": "Renamed", "description": "",
        "entries-TOTAL_FORMS": str(ENTRIES_SHOWN), "entries-INITIAL_FORMS": str(ENTRIES_SHOWN),
        "entries-MIN_NUM_FORMS": "0", "entries-MAX_NUM_FORMS": "1000",
        "entries-2-TOTAL_FORMS": "0", "entries-2-INITIAL_FORMS": "0", "entries-2-MIN_NUM_FORMS": "0",
        "entries-2-MAX_NUM_FORMS": "1000",
    }
    for n, entry in enumerate(shown):
        form |= {f"entries-{n}-id": entry.pk, f"entries-{n}-playlist": playlist.pk, f"entries-{n}-position": entry.position}
    form["entries-0-DELETE"] = "on"
    response = staff.post(playlist_url(playlist), form)
    assert response.status_code == HTTPStatus.FOUND, response.context["errors"] if response.context else response
    playlist.refresh_from_db()
    assert playlist.name == "Renamed"
    assert list(PlaylistEntry.objects.filter(playlist=playlist).values_list("position", flat=True)) == list(range(2, 301))


def test_a_new_playlist_page_says_it_has_no_entries_yet(staff):
    html = text(staff.get(reverse("admin:SyroMusic_playlist_add")))
    assert '<div class="readonly">None yet: add songs below.</div>' in html


def test_the_song_changelist_keeps_its_queries(staff, django_assert_num_queries):
    make_song()
    # User, count, full count, page of songs, genres for the filter: as test_admin's SONG_CHANGELIST_QUERIES.
    with django_assert_num_queries(5):
        staff.get(reverse("admin:SyroMusic_song_changelist"))
    assert Song.objects.count() == 1
