"""What listeners see of the audio on the pages: a control for a playable song, why one is not, lyrics,
covers in their sizes; the same number of queries as before at any catalogue size."""

import re
from http import HTTPStatus

import pytest
from django.core.cache import cache

from SyroMusic.models import Song

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_artist, make_playlist, make_song, make_user, seed_catalogue, text

pytestmark = pytest.mark.django_db

COVER = "c0" * 32


@pytest.fixture
def river():
    album = make_album("Blue", artist=make_artist("Joni Mitchell"), release_date="1971-06-22")
    return make_song("River", album=album, track_number=4, duration_ms=244_000)


@pytest.fixture
def alice():
    return logged_in(make_user("alice"))


def audio_url(audio_file):
    return f"/audio/{audio_file.pk}/{audio_file.content_hash[:16]}.{audio_file.format}"


class TestSongPage:
    def test_a_playable_song_has_an_audio_control_with_its_files_url_and_a_label(self, alice, river):
        (audio,) = give_audio(river)
        html = text(alice.get(river.get_absolute_url()))
        assert audio_url(audio) == f"/audio/{audio.pk}/{river.pk:04x}5e5e5e5e5e5e.flac"
        assert (
            f'<audio controls preload="none" src="{audio_url(audio)}" aria-label="Play River by Joni Mitchell">'
            f'<a href="{audio_url(audio)}">Download the audio file</a></audio>'
        ) in html
        assert "Not playable" not in html and "Log in to listen" not in html

    def test_it_states_the_files_format_bitrate_and_length(self, alice, river):
        give_audio(river)
        assert "<dt>Audio</dt><dd>FLAC (lossless), 1,411 kbps, 44.1 kHz, stereo, 3:25</dd>" in text(
            alice.get(river.get_absolute_url())
        )

    @pytest.mark.parametrize(
        ("format", "codec", "bitrate", "summary"),
        [
            ("mp3", "mp3", 192_000, "MP3, 192 kbps"),
            ("m4a", "aac", 256_000, "M4A (AAC), 256 kbps"),
            ("m4a", "alac", 900_000, "M4A (ALAC, lossless), 900 kbps"),
            ("wav", "pcm_s16le", 1_411_200, "WAV (lossless), 1,411 kbps"),
            ("opus", "opus", 96_000, "Opus, 96 kbps"),
        ],
    )
    def test_each_format_is_named_for_what_it_holds(self, alice, river, format, codec, bitrate, summary):
        give_audio(river, format=format, codec=codec, bitrate=bitrate)
        assert f"<dd>{summary}, 44.1 kHz, stereo, 3:25</dd>" in text(alice.get(river.get_absolute_url()))

    def test_a_song_without_audio_says_it_is_not_playable(self, alice, river):
        html = text(alice.get(river.get_absolute_url()))
        assert '<p class="not-playable">Not playable: no audio file</p>' in html
        assert "<audio" not in html and "<dt>Audio</dt>" not in html

    def test_anonymous_visitors_are_asked_to_log_in_to_listen(self, client, river, settings):
        settings.STREAM_ANONYMOUS = False
        give_audio(river)
        html = text(client.get(river.get_absolute_url()))
        assert f'<p><a href="/accounts/login/?next=/music/songs/{river.pk}/">Log in to listen</a></p>' in html
        assert "<audio" not in html
        assert "<dt>Audio</dt><dd>FLAC (lossless)" in html  # what there is to hear, once logged in

    def test_with_anonymous_streaming_on_anonymous_visitors_get_the_control(self, client, river, settings):
        settings.STREAM_ANONYMOUS = True
        (audio,) = give_audio(river)
        html = text(client.get(river.get_absolute_url()))
        assert f'<audio controls preload="none" src="{audio_url(audio)}"' in html
        assert "Log in to listen" not in html

    def test_a_cached_page_never_shows_visitors_what_the_other_setting_allows(
        self, client, river, settings, django_assert_num_queries
    ):
        give_audio(river)
        settings.STREAM_ANONYMOUS = False
        assert "Log in to listen" in text(client.get(river.get_absolute_url()))
        with django_assert_num_queries(0):  # cached
            assert "Log in to listen" in text(client.get(river.get_absolute_url()))
        settings.STREAM_ANONYMOUS = True  # as after a restart with it on: the cache outlives the process
        html = text(client.get(river.get_absolute_url()))
        assert "<audio controls" in html and "Log in to listen" not in html

    def test_a_song_shows_its_lyrics_as_paragraphs_and_its_synced_lines_with_their_times(self, client, river):
        river.lyrics = "It's coming on Christmas\nThey're cutting down trees\n\nOh, I wish I had a river"
        river.synced_lyrics = [[12_500, "It's coming on Christmas"], [75_250, "They're cutting down <trees>"]]
        river.save()
        html = text(client.get(river.get_absolute_url()))
        assert (
            '<h2 id="lyrics">Lyrics</h2>\n    <div class="lyrics"><p>It&#x27;s coming on Christmas<br>'
            "They&#x27;re cutting down trees</p>\n\n<p>Oh, I wish I had a river</p></div>"
        ) in html
        assert '<details class="synced-lyrics">' in html  # closed: the plain text is shown already
        items = re.findall(r"<li data-time-ms=\"(\d+)\"><span class=\"lyric-time\">([^<]*)</span> (.*?)</li>", html)
        assert items == [
            ("12500", "0:12.5", "It&#x27;s coming on Christmas"),
            ("75250", "1:15.2", "They&#x27;re cutting down &lt;trees&gt;"),
        ]

    def test_synced_lyrics_alone_are_shown_open(self, client, river):
        river.synced_lyrics = [[0, "Only timed"]]
        river.save()
        html = text(client.get(river.get_absolute_url()))
        assert '<details class="synced-lyrics" open>' in html and '<div class="lyrics">' not in html

    def test_a_song_without_lyrics_has_no_lyrics_section(self, client, river):
        assert 'id="lyrics"' not in text(client.get(river.get_absolute_url()))


class TestAlbumPage:
    @pytest.fixture
    def blue(self, river):
        album = river.album
        others = [make_song(title, album=album, track_number=n) for n, title in ((1, "All I Want"), (2, "My Old Man"))]
        return album, give_audio(river, others[0]), others[1]

    def test_every_playable_track_has_a_compact_control_without_javascript_and_the_others_say_no_audio(self, alice, blue):
        album, (river_audio, all_i_want_audio), unplayable = blue
        html = text(alice.get(album.get_absolute_url()))
        cells = re.findall(r'<td class="play listen-column">(.*?)</td>', html)
        # With JavaScript the player plays the rows (test_player_rows.py); without it, each row's own control.
        assert cells == [
            f'<noscript><audio controls preload="none" src="{audio_url(all_i_want_audio)}" '
            'aria-label="Play All I Want by Joni Mitchell"></audio></noscript>',
            '<span class="not-playable">No audio</span>',
            f'<noscript><audio controls preload="none" src="{audio_url(river_audio)}" '
            'aria-label="Play River by Joni Mitchell"></audio></noscript>',
        ]
        assert "Log in to listen" not in html

    def test_anonymous_visitors_see_which_tracks_play_and_how_to_hear_them(self, client, blue, settings):
        settings.STREAM_ANONYMOUS = False
        album, _, _ = blue
        html = text(client.get(album.get_absolute_url()))
        assert (
            f'<p class="listen"><a href="/accounts/login/?next=/music/albums/{album.pk}/">Log in to listen</a> '
            "to the 2 playable songs.</p>"
        ) in html
        cells = re.findall(r'<td class="play listen-column">(.*?)</td>', html)
        playable = (
            '<span class="playable" title="Playable"><span aria-hidden="true">♪</span>'
            '<span class="visually-hidden"> (playable)</span></span>'
        )
        assert cells == [playable, '<span class="not-playable">No audio</span>', playable]
        assert "<audio" not in html

    def test_an_album_without_audio_asks_nobody_to_log_in(self, client, river):
        assert "Log in to listen" not in text(client.get(river.album.get_absolute_url()))


PLAYABLE_MARK = '<span class="playable" title="Playable">'


class TestSongLists:
    @pytest.mark.parametrize("where", ["song list", "search", "artist page", "playlist"])
    def test_playable_songs_are_marked_in_every_song_list(self, client, river, where):
        silent = make_song("Rivers of Babylon", album=river.album)
        give_audio(river)
        url = {
            "song list": "/music/songs/",
            "search": "/music/search/?q=river&type=song",
            "artist page": river.artist.get_absolute_url(),
            "playlist": make_playlist(is_public=True, songs=[silent, river]).get_absolute_url(),
        }[where]
        rows = re.findall(r"<tr[ >](.*?)</tr>", text(client.get(url)), re.S)
        marked = {re.search(r'<a href="/music/songs/\d+/">([^<]*)</a>', row).group(1): PLAYABLE_MARK in row for row in rows[1:]}
        assert marked == {"River": True, "Rivers of Babylon": False}


class TestCovers:
    def test_an_album_with_its_own_cover_shows_it_in_the_sizes_each_place_needs(self, client, river):
        album = river.album
        album.cover_hash = COVER
        album.cover_url = "https://images.example/blue.jpg"  # its own cover comes first
        album.save()
        other = make_album("Court and Spark", artist=album.artist)
        base = f"/media/covers/c0/{COVER}"
        html = text(client.get(other.get_absolute_url()))  # Blue in "More by Joni Mitchell": a card
        assert (
            f'<img class="cover cover-medium" src="{base}-300.webp" srcset="{base}-300.webp 300w, {base}-600.webp 600w" '
            'sizes="(max-width: 40rem) 45vw, 12rem" width="300" height="300" alt="Cover of Blue" loading="lazy" '
            'decoding="async">'
        ) in html
        html = text(client.get(album.get_absolute_url()))
        assert (
            f'<img class="cover cover-large" src="{base}-600.webp" srcset="{base}-300.webp 300w, {base}-600.webp 600w" '
            'sizes="(max-width: 40rem) 30vw, 14rem" width="600" height="600" alt="Cover of Blue" loading="lazy" '
            'decoding="async">'
        ) in html
        assert f'<meta property="og:image" content="http://testserver{base}-600.webp">' in html
        song_page = text(client.get(river.get_absolute_url()))
        assert f'<meta property="og:image" content="http://testserver{base}-600.webp">' in song_page
        assert f'src="{base}-600.webp"' in song_page

    def test_the_small_size_is_for_rows(self):
        from SyroMusic.templatetags.syromusic import cover

        album = make_album("Blue", cover_hash=COVER)
        base = f"/media/covers/c0/{COVER}"
        assert cover(album, "small") == (
            f'<img class="cover cover-small" src="{base}-64.webp" srcset="{base}-64.webp 64w, {base}-300.webp 300w" '
            'sizes="3rem" width="64" height="64" alt="Cover of Blue" loading="lazy" decoding="async">'
        )

    def test_without_its_own_cover_an_album_shows_its_cover_url_then_a_placeholder(self, client):
        linked = make_album("Linked", cover_url="https://images.example/linked.jpg")
        html = text(client.get(linked.get_absolute_url()))
        assert (
            '<img class="cover cover-large" src="https://images.example/linked.jpg" alt="Cover of Linked" '
            'loading="lazy" decoding="async">'
        ) in html
        assert '<meta property="og:image" content="https://images.example/linked.jpg">' in html
        bare = make_album("Bare")
        html = text(client.get(bare.get_absolute_url()))
        assert '<svg class="cover cover-large ' in html and 'aria-label="Cover of Bare"' in html
        assert "og:image" not in html

    def test_the_json_ld_image_is_the_albums_own_cover(self, client):
        from .factories import json_ld

        album = make_album("Blue", cover_hash=COVER)
        assert json_ld(client.get(album.get_absolute_url()))["image"] == (
            f"http://testserver/media/covers/c0/{COVER}-600.webp"
        )


# The pages' budgets of test_pages.py, unchanged by audio: Song.objects.for_listing() joins each song's
# file, and the file's facts are all a page shows. A listener's pages cost their user, and the song and
# album pages their own playlists (for "Add to"); a list's count is remembered from the first visit, and a
# list page itself is kept for every listener after it (only their user is looked up).
BUDGETS = [
    ("/music/songs/", 3, 1),
    ("/music/songs/?sort=popular", 3, 1),
    ("/music/albums/1/", 4, 6),
    ("/music/songs/1/", 2, 4),
    ("/music/artists/2/", 5, 5),  # with the covers of an artist's collage (one query)
    ("/music/playlists/2/", 3, 4),
]


@pytest.mark.parametrize("songs", [300, 3000])
@pytest.mark.parametrize("listener", [False, True])
def test_pages_with_audio_run_a_fixed_number_of_queries_whatever_the_catalogue_size(
    django_assert_num_queries, settings, songs, listener
):
    settings.STREAM_ANONYMOUS = False
    seed_catalogue(songs)
    give_audio(*Song.objects.all())
    client = logged_in(make_user("alice") if listener else None)
    for url, anonymous_budget, listener_budget in BUDGETS:
        cache.clear()  # measure the cold cost of each page
        if listener:
            client.get(url)  # the session is now in the cache, and so is a list's count
        with django_assert_num_queries(listener_budget if listener else anonymous_budget):
            response = client.get(url)
        assert response.status_code == HTTPStatus.OK
        html = text(response)
        if url in ("/music/songs/1/", "/music/albums/1/"):
            assert ("<audio controls" in html) == listener, url
            assert ("Log in to listen" in html) == (not listener), url
        else:
            assert PLAYABLE_MARK in html, url
