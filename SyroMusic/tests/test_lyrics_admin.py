"""Staff edit a song's lyrics in the admin: plain text, and synced lyrics as LRC pasted in a textarea or
uploaded as a .lrc file. The LRC is checked strictly (each problem a form error with its line number, nothing
stored); what is saved shows on the song's page and in the API at once."""

import html
import re
from http import HTTPStatus

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from SyroMusic.admin import LRC_PROBLEMS_SHOWN
from SyroMusic.audio import lyrics
from SyroMusic.audio.lyrics import check_lrc, format_lrc, parse_lrc
from SyroMusic.models import LYRICS_MAX_CHARACTERS, Song
from SyroMusic.text import duration

from .factories import logged_in, make_album, make_artist, make_song, make_user, text

# Out of order, a line sung twice, header tags, a blank timed line, an offset, milliseconds, CRLF.
LRC = (
    "[ar:Joni Mitchell]\r\n[ti:River]\r\n[offset:+100]\r\n\r\n"
    "[00:12.40]It's coming on Christmas\r\n"
    "[00:05.00][01:05.00]They're cutting down trees\r\n"
    "[00:20.505]\r\n"
    "[00:31.00]Oh, I wish I had a river"
)
SYNCED = [
    [4900, "They're cutting down trees"],
    [12300, "It's coming on Christmas"],
    [20405, ""],
    [30900, "Oh, I wish I had a river"],
    [64900, "They're cutting down trees"],
]
PLAIN_FROM_LRC = "They're cutting down trees\nIt's coming on Christmas\n\nOh, I wish I had a river\nThey're cutting down trees"

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return logged_in(django_user_model.objects.create_superuser("alice", "alice@example.com", "correct horse battery"))


@pytest.fixture
def river():
    album = make_album("Blue", artist=make_artist("Joni Mitchell"))
    return make_song("River", album=album, track_number=4, duration_ms=244_000)


def m_ss(milliseconds):
    """A duration as the song's form shows it."""
    return "" if milliseconds is None else duration(milliseconds, exact=True)


def song_form(song, **extra):
    """The song's change form as the admin page posts it, unchanged, plus `extra`."""
    return {
        "title": song.title, "album": song.album_id, "artist": song.artist_id, "disc_number": song.disc_number,
        "track_number": song.track_number, "duration_ms": m_ss(song.duration_ms), "composer": song.composer,
        "genre": song.genre_id or "", "popularity": song.popularity, "mbid": "", "lyrics": song.lyrics,
        "lrc": format_lrc(song.synced_lyrics).replace("\n", "\r\n"),
        "audio_files-TOTAL_FORMS": "0", "audio_files-INITIAL_FORMS": "0", "audio_files-MIN_NUM_FORMS": "0",
        "audio_files-MAX_NUM_FORMS": "0",
        **extra,
    }


def song_url(song):
    return reverse("admin:SyroMusic_song_change", args=[song.pk])


def lrc_file(data, name="river.lrc"):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def saved(response):
    assert response.status_code == HTTPStatus.FOUND, response.context["adminform"].form.errors
    return True


def stored(song):
    song = Song.objects.get(pk=song.pk)
    return song.lyrics, song.synced_lyrics


def field_errors(response, field):
    return list(response.context["adminform"].form.errors.get(field, []))


def textarea(page, name):
    """The text a textarea of the page holds, as a browser shows it."""
    content = re.search(rf'<textarea name="{name}"[^>]*>\n(.*?)</textarea>', page, re.S).group(1)
    return html.unescape(content)


class TestPastedLrc:
    def test_pasted_lrc_is_stored_as_timed_lines_in_time_order_and_fills_empty_plain_lyrics(self, staff, river):
        assert saved(staff.post(song_url(river), song_form(river, lrc=LRC)))

        assert stored(river) == (PLAIN_FROM_LRC, SYNCED)

    def test_plain_lyrics_staff_give_are_kept_beside_the_lrc(self, staff, river):
        assert saved(staff.post(song_url(river), song_form(river, lyrics="Our own words", lrc=LRC)))

        assert stored(river) == ("Our own words", SYNCED)

    def test_clearing_the_lrc_clears_the_synced_lyrics_and_keeps_the_plain_ones(self, staff, river):
        river.lyrics, river.synced_lyrics = "Words", [[1000, "Words"]]
        river.save()

        assert saved(staff.post(song_url(river), song_form(river, lrc="  \r\n")))

        assert stored(river) == ("Words", None)

    def test_the_current_synced_lyrics_round_trip_through_the_textarea_unchanged(self, staff, river):
        river.lyrics = "Plain"
        river.synced_lyrics = [[0, "<Intro> & more"], [1505, "One"], [1505, "Same time"], [62000, ""], [3_600_000, "An hour"]]
        river.save()
        page = text(staff.get(song_url(river)))
        shown = textarea(page, "lrc")
        assert shown == "[00:00.00]<Intro> & more\n[00:01.505]One\n[00:01.505]Same time\n[01:02.00]\n[60:00.00]An hour"

        assert saved(staff.post(song_url(river), song_form(river, lrc=shown.replace("\n", "\r\n"))))

        assert stored(river) == ("Plain", river.synced_lyrics)
        assert LogEntry.objects.get().get_change_message() == "No fields changed."

    def test_lines_the_admin_could_not_write_stay_as_they_are_while_staff_edit_something_else(self, staff, river):
        # A scan stores what a file says; a line break inside a line is no LRC, but it is not staff's to fix here.
        river.lyrics, river.synced_lyrics = "Two\nlines", [[1000, "Two\nlines"]]
        river.save()

        assert saved(staff.post(song_url(river), song_form(river, title="River (live)")))

        assert (Song.objects.get(pk=river.pk).title, stored(river)) == ("River (live)", ("Two\nlines", [[1000, "Two\nlines"]]))

    def test_a_song_added_with_lrc_has_it(self, staff, river):
        form = song_form(river, track_number=5, title="Blue", lrc="[00:01.00]Blue\n[00:02.00]Songs are like tattoos")

        assert saved(staff.post(reverse("admin:SyroMusic_song_add"), form))

        assert stored(Song.objects.get(title="Blue")) == ("Blue\nSongs are like tattoos", [[1000, "Blue"], [2000, "Songs are like tattoos"]])


class TestUploadedLrc:
    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "utf-16"])
    def test_an_uploaded_lrc_file_is_stored_like_pasted_text(self, staff, river, encoding):
        data = (LRC + "\r\n[00:40.00]Café à côté").encode(encoding)

        assert saved(staff.post(song_url(river), song_form(river, lrc_upload=lrc_file(data))))

        assert stored(river) == (
            "They're cutting down trees\nIt's coming on Christmas\n\nOh, I wish I had a river\nCafé à côté\nThey're cutting down trees",
            [*SYNCED[:4], [39900, "Café à côté"], SYNCED[4]],
        )

    def test_an_upload_replaces_the_lrc_in_the_textarea(self, staff, river):
        river.synced_lyrics = [[1000, "Old"]]
        river.save()

        assert saved(staff.post(song_url(river), song_form(river, lrc_upload=lrc_file(b"[00:02.00]New"))))

        assert stored(river) == ("New", [[2000, "New"]])

    def test_an_upload_larger_than_1_mb_is_refused(self, staff, river):
        data = b"[00:01.00]x\n" * (lyrics.SIDECAR_MAX_BYTES // 12 + 1)

        response = staff.post(song_url(river), song_form(river, lrc_upload=lrc_file(data, "huge.lrc")))

        assert field_errors(response, "lrc_upload") == ["“huge.lrc” is 1 MB (1,000,008 bytes); an LRC file may be up to 1 MB."]
        assert stored(river) == ("", None)

    def test_a_file_that_is_not_text_is_refused(self, staff, river):
        response = staff.post(song_url(river), song_form(river, lrc_upload=lrc_file(b"ID3\x04\x00\x00\x00", "river.mp3")))

        assert field_errors(response, "lrc_upload") == ["“river.mp3” is not a text file."]
        assert stored(river) == ("", None)

    def test_an_empty_upload_is_refused(self, staff, river):
        response = staff.post(song_url(river), song_form(river, lrc_upload=lrc_file(b"")))

        assert field_errors(response, "lrc_upload") == ["The submitted file is empty."]

    def test_the_problems_of_an_uploaded_file_name_its_lines(self, staff, river):
        data = "[ti:Café]\n[00:01.00]Un\n[00:75.00]Deux\nTrois\n".encode("latin-1")

        response = staff.post(song_url(river), song_form(river, lrc_upload=lrc_file(data)))

        assert field_errors(response, "lrc_upload") == [
            "line 3: [00:75.00] is not a time: seconds run from 00 to 59.",
            "line 4: “Trois” has no time: start the line with one, like [01:02.30].",
        ]
        assert stored(river) == ("", None)


BAD_LRC = {
    "seconds out of range": (
        "[00:01.00]One\n[00:60.00]Two", ["line 2: [00:60.00] is not a time: seconds run from 00 to 59."]
    ),
    "hours, minutes and seconds": (
        "[00:01.00]One\n\n[1:2:3]Two", ["line 3: [1:2:3] is not a time: write [mm:ss.xx], like [01:02.30]."]
    ),
    "one digit of seconds": ("[0:1]One", ["line 1: [0:1] is not a time: write [mm:ss.xx], like [01:02.30]."]),
    "a comma before the fraction": (
        "[00:01,50]One", ["line 1: [00:01,50] is not a time: write [mm:ss.xx], like [01:02.30]."]
    ),
    "a bad second time on a line": (
        "[00:01.00][00:99.00]One", ["line 1: [00:99.00] is not a time: seconds run from 00 to 59."]
    ),
    "a line without a time among timed ones": (
        "[00:01.00]One\n[Chorus]\n[00:03.00]Three",
        ["line 2: “[Chorus]” has no time: start the line with one, like [01:02.30]."],
    ),
    "a bad offset": (
        "[offset:soon]\n[00:01.00]One", ["line 1: [offset:soon] is not an offset: write it in milliseconds, like [offset:+500]."]
    ),
    "no time at all": (
        "Just words\nand more", ["No line starts with a time, like [01:02.30]: lyrics without times go in the plain lyrics."]
    ),
    "only header tags": (
        "[ar:Joni Mitchell]", ["No line starts with a time, like [01:02.30]: lyrics without times go in the plain lyrics."]
    ),
    "too long": ("[00:01.00]" + "la" * 50_000, ["The LRC is 100,010 characters long; the limit is 100,000."]),
}


@pytest.mark.parametrize("case", list(BAD_LRC))
def test_invalid_lrc_is_refused_with_its_line_numbers_and_nothing_stored(staff, river, case):
    lrc, errors = BAD_LRC[case]
    river.lyrics, river.synced_lyrics = "Old", [[500, "Old"]]
    river.save()

    response = staff.post(song_url(river), song_form(river, lyrics="", lrc=lrc.replace("\n", "\r\n")))

    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, "lrc") == errors
    page = text(response)
    assert f"<li>{html.escape(errors[0])}</li>" in page
    assert textarea(page, "lrc") == lrc.replace("\n", "\r\n")  # what staff typed, to fix
    assert stored(river) == ("Old", [[500, "Old"]])


def test_a_long_list_of_problems_shows_the_first_ones_and_counts_the_rest(staff, river):
    lrc = "[00:01.00]One\n" + "\n".join(f"Line {n}" for n in range(2, 40))

    response = staff.post(song_url(river), song_form(river, lrc=lrc))

    errors = field_errors(response, "lrc")
    assert len(errors) == LRC_PROBLEMS_SHOWN + 1
    assert errors[0] == "line 2: “Line 2” has no time: start the line with one, like [01:02.30]."
    assert errors[-2:] == [
        f"line {LRC_PROBLEMS_SHOWN + 1}: “Line {LRC_PROBLEMS_SHOWN + 1}” has no time: start the line with one, like [01:02.30].",
        f"… and {38 - LRC_PROBLEMS_SHOWN:,} more.",
    ]


def test_the_song_page_has_a_lyrics_fieldset_and_takes_files(staff, river):
    page = text(staff.get(song_url(river)))

    fieldsets = re.findall(r"<fieldset.*?</fieldset>", page, re.S)
    lyrics_fieldset = next(fieldset for fieldset in fieldsets if '"fieldset-heading">Lyrics</h2>' in fieldset)
    assert re.findall(r'<div class="form-row[^"]* field-(\w+)"', lyrics_fieldset) == ["lyrics", "lrc", "lrc_upload"]
    assert '<label for="id_lrc">Synced lyrics (LRC):</label>' in lyrics_fieldset
    assert '<input type="file" name="lrc_upload" accept=".lrc,text/plain"' in lyrics_fieldset
    assert 'enctype="multipart/form-data"' in page
    assert "synced_lyrics" not in page


@pytest.mark.django_db(transaction=True)  # the cached answers are marked stale when the save commits
def test_saved_lyrics_show_on_the_song_page_and_in_the_api_at_once(staff, river):
    api_url = reverse("api:song-lyrics", args=[river.pk])
    anonymous = logged_in(None)
    assert "Oh, I wish" not in text(anonymous.get(river.get_absolute_url()))
    assert anonymous.get(api_url).json() == {"lyrics": "", "synced": None}

    assert saved(staff.post(song_url(river), song_form(river, lrc=LRC)))

    page = text(anonymous.get(river.get_absolute_url()))
    assert '<li data-time-ms="30900"><span class="lyric-time">0:30.9</span> Oh, I wish I had a river</li>' in page
    assert anonymous.get(api_url).json() == {
        "lyrics": PLAIN_FROM_LRC, "synced": [{"time_ms": time_ms, "text": line} for time_ms, line in SYNCED],
    }


def view_only_staff():
    user = make_user("bob", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_song"))
    return user


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", HTTPStatus.FOUND),  # to the login page
        ("charlie, not staff", HTTPStatus.FOUND),
        ("bob, staff who may only view songs", HTTPStatus.FORBIDDEN),
    ],
)
def test_only_staff_who_may_change_songs_can_set_lyrics(river, who, expected):
    user = {"anonymous": lambda: None, "charlie, not staff": lambda: make_user("charlie"),
            "bob, staff who may only view songs": view_only_staff}[who]()
    client = logged_in(user)

    response = client.post(song_url(river), song_form(river, lrc=LRC, lrc_upload=lrc_file(LRC.encode())))

    assert response.status_code == expected
    if expected == HTTPStatus.FOUND:
        assert response["Location"].startswith("/admin/login/")
    assert stored(river) == ("", None)


# Unit tests of the LRC helpers.

FORMAT_TABLE = {
    "none": (None, ""),
    "hundredths": ([(0, "One"), (1500, "Two"), (62_250, "Three")], "[00:00.00]One\n[00:01.50]Two\n[01:02.25]Three"),
    "milliseconds kept": ([(1505, "One")], "[00:01.505]One"),
    "a blank line": ([(1000, ""), (2000, "Two")], "[00:01.00]\n[00:02.00]Two"),
    "past an hour": ([(3_723_000, "Late")], "[62:03.00]Late"),
    "brackets in the words": ([(1000, "[Chorus] & <more>")], "[00:01.00][Chorus] & <more>"),
}


@pytest.mark.parametrize("case", list(FORMAT_TABLE))
def test_format_lrc(case):
    lines, expected = FORMAT_TABLE[case]

    assert format_lrc(lines) == expected
    if lines:
        assert parse_lrc(expected)[1] == lines
        assert check_lrc(expected) == []


CHECK_TABLE = {
    "timed lines": ("[00:01.00]One\n[00:02.5]Two\n[01:03.123]Three\n[1:04]Four", []),
    "header tags, blank lines, a BOM and CRLF": ("\ufeff[ar:Ana]\r\n[ti:Song]\r\n\r\n[offset:-250]\r\n[00:01.00]One\r\n", []),
    "unknown header tags": ("[id:abc123]\n[encoding:utf-8]\n[00:01.00]One", []),
    "times out of order and on one line": ("[00:09.00]Late\n[00:01.00][00:05.00]Twice", []),
    "word times": ("[00:01.00]<00:01.00>Hel<00:01.20>lo", []),
    "a blank timed line": ("[00:01.00]One\n[00:02.00]\n[00:03.00]Three", []),
    "spaces between times": ("[00:01.00] [00:02.00] Twice", []),
    "empty": ("", [(None, "The LRC is empty.")]),
    "blank": (" \n\t\r\n", [(None, "The LRC is empty.")]),
    "no times": ("Words\n[Chorus]", [(None, "No line starts with a time, like [01:02.30]: lyrics without times go in the plain lyrics.")]),
    "sixty seconds": ("[00:60.00]One", [(1, "[00:60.00] is not a time: seconds run from 00 to 59.")]),
    "a colon before the fraction": ("[01:02:03]One", [(1, "[01:02:03] is not a time: write [mm:ss.xx], like [01:02.30].")]),
    "four digits of fraction": ("[01:02.1234]One", [(1, "[01:02.1234] is not a time: write [mm:ss.xx], like [01:02.30].")]),
    "a negative time": ("[-1:00.00]One", [(1, "[-1:00.00] is not a time: write [mm:ss.xx], like [01:02.30].")]),
    "five digits of minutes": ("[12345:00.00]One", [(1, "[12345:00.00] is not a time: write [mm:ss.xx], like [01:02.30].")]),
    "a line without a time counted from the first line, blank ones too": (
        "\n[00:01.00]One\n\nTwo\n[00:03.00]Three\n" + "x" * 60,
        [(4, "“Two” has no time: start the line with one, like [01:02.30]."),
         (6, f"“{'x' * 39}…” has no time: start the line with one, like [01:02.30].")],
    ),
    "lines numbered across CR, CRLF and LF": (
        "[00:01.00]One\r[00:02.00]Two\r\n[00:3.00]Three\n[00:04.00]Four",
        [(3, "[00:3.00] is not a time: write [mm:ss.xx], like [01:02.30].")],
    ),
    "a bad offset": ("[offset:1s]\n[00:01.00]One", [(1, "[offset:1s] is not an offset: write it in milliseconds, like [offset:+500].")]),
    "too long": ("[00:01.00]" + "a" * 99_991, [(None, "The LRC is 100,001 characters long; the limit is 100,000.")]),
    "a line sung too often": (
        "[00:01.00]" * 30 + "la" * 2000, [(None, "Its lines come to 120,029 characters; the limit is 100,000.")]
    ),
}


@pytest.mark.parametrize("case", list(CHECK_TABLE))
def test_check_lrc(case):
    lrc, problems = CHECK_TABLE[case]

    assert check_lrc(lrc) == problems


def test_lrc_the_admin_accepts_always_fits_the_plain_lyrics_of_a_song():
    assert lyrics.LRC_MAX_CHARACTERS <= LYRICS_MAX_CHARACTERS
