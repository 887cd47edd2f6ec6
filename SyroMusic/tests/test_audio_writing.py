"""Writing audio (SyroMusic.audio.synth and encode) and the test fixtures built on it (tests/audio_files.py).

Every file is read back with the libraries listeners' files are read with: PyAV for the audio,
mutagen for the tags, each format in its own way.
"""

import base64
import hashlib
import os

import av
import numpy as np
import pytest
from mutagen import File as MutagenFile
from mutagen import flac, id3, mp4

from SyroMusic.audio.encode import lrc_text, write_audio
from SyroMusic.audio.synth import PEAK, piece, tone
from SyroMusic.tests import audio_files
from SyroMusic.tests.audio_files import FULL_TAGS, PLAIN_LYRICS, SYNCED_LYRICS

# format -> (codec as FFmpeg names it, sample rate the file decodes at, one codec frame in samples)
# for a mono 22,050 Hz piece: Opus always decodes at 48 kHz, Vorbis is written in stereo.
EXPECTED = {
    "mp3": ("mp3", 22050, 1, 1152),
    "flac": ("flac", 22050, 1, 4608),
    "ogg": ("vorbis", 22050, 2, 2048),
    "opus": ("opus", 48000, 1, 960),
    "m4a": ("aac", 22050, 1, 1024),
    "wav": ("pcm_s16le", 22050, 1, 0),
}
FORMATS = list(EXPECTED)


def decode(path):
    """(codec, sample rate, channels, samples as float32 (channels, n)) of the file's first audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = []
        for frame in container.decode(stream):
            data = frame.to_ndarray()
            if frame.format.is_packed:
                data = data.reshape(-1, frame.layout.nb_channels).T
            if data.dtype.kind == "i":
                data = data / float(np.iinfo(data.dtype).max + 1)
            chunks.append(data.astype(np.float32))
        return stream.codec.canonical_name, stream.sample_rate, stream.channels, np.concatenate(chunks, axis=1)


def read_tags(path, format):
    """Our tag names -> values as mutagen reads them in the format's own tags (not through tags.py)."""
    audio = MutagenFile(path)
    if format in ("mp3", "wav"):
        frames = audio.tags
        names = {"title": "TIT2", "artist": "TPE1", "album_artist": "TPE2", "album": "TALB", "disc_number": "TPOS",
                 "track_number": "TRCK", "year": "TDRC", "genre": "TCON", "composer": "TCOM"}
        values = {name: str(frames[frame].text[0]) for name, frame in names.items() if frame in frames}
        values["mb_track_id"] = frames["UFID:http://musicbrainz.org"].data.decode()
        for name, description in (("mb_album_id", "MusicBrainz Album Id"), ("mb_artist_id", "MusicBrainz Artist Id"),
                                  ("mb_album_artist_id", "MusicBrainz Album Artist Id")):
            values[name] = frames[f"TXXX:{description}"].text[0]
        return values
    if format == "m4a":
        tags = audio.tags
        names = {"title": "\xa9nam", "artist": "\xa9ART", "album_artist": "aART", "album": "\xa9alb",
                 "year": "\xa9day", "genre": "\xa9gen", "composer": "\xa9wrt"}
        values = {name: tags[atom][0] for name, atom in names.items()}
        values["disc_number"] = str(tags["disk"][0][0])
        values["track_number"] = str(tags["trkn"][0][0])
        for name, label in (("mb_track_id", "Track"), ("mb_album_id", "Album"), ("mb_artist_id", "Artist"),
                            ("mb_album_artist_id", "Album Artist")):
            values[name] = bytes(tags[f"----:com.apple.iTunes:MusicBrainz {label} Id"][0]).decode()
        return values
    names = {"title": "title", "artist": "artist", "album_artist": "albumartist", "album": "album",
             "disc_number": "discnumber", "track_number": "tracknumber", "year": "date", "genre": "genre",
             "composer": "composer", "mb_track_id": "musicbrainz_trackid", "mb_album_id": "musicbrainz_albumid",
             "mb_artist_id": "musicbrainz_artistid", "mb_album_artist_id": "musicbrainz_albumartistid"}
    return {name: audio.tags[key][0] for name, key in names.items()}


def embedded_cover(path, format):
    audio = MutagenFile(path)
    if format in ("mp3", "wav"):
        (picture,) = audio.tags.getall("APIC")
        assert picture.type == id3.PictureType.COVER_FRONT
        return picture.mime, picture.data
    if format == "m4a":
        (cover,) = audio.tags["covr"]
        return {mp4.MP4Cover.FORMAT_PNG: "image/png", mp4.MP4Cover.FORMAT_JPEG: "image/jpeg"}[cover.imageformat], bytes(cover)
    if format == "flac":
        (picture,) = audio.pictures
    else:
        (block,) = audio.tags["metadata_block_picture"]
        picture = flac.Picture(base64.b64decode(block))
    assert picture.type == id3.PictureType.COVER_FRONT
    return picture.mime, picture.data


def embedded_lyrics(path, format):
    """(plain lyrics, synced lines or None) as stored: LRC text in the lyrics tag outside ID3."""
    audio = MutagenFile(path)
    if format in ("mp3", "wav"):
        (plain,) = audio.tags.getall("USLT")
        (synced,) = audio.tags.getall("SYLT")
        assert synced.format == 2  # milliseconds
        return plain.text, [(ms, line) for line, ms in synced.text]
    if format == "m4a":
        return audio.tags["\xa9lyr"][0], None
    return audio.tags["lyrics"][0], None


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One fully tagged file per format, written once for the module's tests."""
    folder = tmp_path_factory.mktemp("written")
    samples = piece(11, seconds=1.5, sample_rate=22050, channels=1)
    cover = audio_files.make_cover((30, 120, 90))
    files = {
        format: write_audio(
            folder / f"song.{format}", samples=samples, sample_rate=22050, format=format, tags=FULL_TAGS, cover=cover,
            lyrics=PLAIN_LYRICS, synced_lyrics=SYNCED_LYRICS,
        )
        for format in FORMATS
    }
    return {"files": files, "samples": samples, "cover": cover}


@pytest.mark.parametrize("format", FORMATS)
def test_each_format_decodes_with_its_codec_sample_rate_channels_and_length(written, format):
    codec, sample_rate, channels, frame = EXPECTED[format]
    decoded_codec, decoded_rate, decoded_channels, decoded = decode(written["files"][format])
    assert (decoded_codec, decoded_rate, decoded_channels) == (codec, sample_rate, channels)
    expected_samples = round(1.5 * sample_rate)
    assert abs(decoded.shape[1] - expected_samples) <= frame


@pytest.mark.parametrize("format", FORMATS)
def test_every_tag_reads_back_with_its_non_ascii_text(written, format):
    expected = {name: str(value) for name, value in FULL_TAGS.items()}
    assert read_tags(written["files"][format], format) == expected


@pytest.mark.parametrize("format", FORMATS)
def test_the_cover_is_embedded_byte_for_byte_as_the_front_cover(written, format):
    assert embedded_cover(written["files"][format], format) == ("image/png", written["cover"])


@pytest.mark.parametrize("format", ["mp3", "wav"])
def test_id3_formats_keep_plain_lyrics_in_uslt_and_timed_lines_in_sylt(written, format):
    assert embedded_lyrics(written["files"][format], format) == (PLAIN_LYRICS, SYNCED_LYRICS)


@pytest.mark.parametrize("format", ["flac", "ogg", "opus", "m4a"])
def test_other_formats_keep_synced_lyrics_as_lrc_text_in_their_lyrics_tag(written, format):
    lrc = "[00:00.00]Первая строка\n[00:00.45]夜明けの二行目\n[00:00.90]Troisième ligne, déjà"
    assert embedded_lyrics(written["files"][format], format) == (lrc, None)


@pytest.mark.parametrize("format", ["flac", "ogg", "opus", "m4a"])
def test_plain_lyrics_alone_are_kept_as_they_are(tmp_path, format):
    path = write_audio(
        tmp_path / f"plain.{format}", samples=tone(seconds=0.3), sample_rate=22050, format=format, lyrics=PLAIN_LYRICS
    )
    assert embedded_lyrics(path, format) == (PLAIN_LYRICS, None)


def test_lrc_text_uses_milliseconds_when_a_time_is_not_whole_centiseconds():
    assert lrc_text([(61_230, "a"), (3_600_000, "b")]) == "[01:01.23]a\n[60:00.00]b"
    assert lrc_text([(1_005, "a")]) == "[00:01.005]a"


@pytest.mark.parametrize("format", FORMATS)
def test_a_file_without_tags_has_none_of_ours(tmp_path, format):
    path = write_audio(tmp_path / f"bare.{format}", samples=tone(seconds=0.3), sample_rate=22050, format=format)
    tags = MutagenFile(path).tags
    ours = {"TIT2", "TPE1", "APIC:Cover", "USLT::eng", "title", "artist", "lyrics", "\xa9nam", "covr"}
    assert not (set(tags.keys()) if tags else set()) & ours


@pytest.mark.parametrize("format", ["flac", "wav"])
def test_lossless_formats_give_back_the_samples_to_16_bits(written, format):
    _, _, _, decoded = decode(written["files"][format])
    assert np.abs(decoded - written["samples"]).max() <= 1.5 / 32768


def test_alac_makes_a_lossless_m4a(tmp_path):
    samples = piece(4, seconds=0.5, sample_rate=22050, channels=2)
    path = write_audio(tmp_path / "lossless.m4a", samples=samples, sample_rate=22050, format="m4a", codec="alac")
    codec, sample_rate, channels, decoded = decode(path)
    assert (codec, sample_rate, channels, decoded.shape) == ("alac", 22050, 2, samples.shape)
    assert np.abs(decoded - samples).max() <= 1.5 / 32768


def test_stereo_pieces_stay_stereo_at_44100(tmp_path):
    samples = piece(8, seconds=1.0)
    path = write_audio(tmp_path / "stereo.mp3", samples=samples, sample_rate=44100, format="mp3")
    codec, sample_rate, channels, decoded = decode(path)
    assert (codec, sample_rate, channels) == ("mp3", 44100, 2)
    assert abs(decoded.shape[1] - 44100) <= 1152


@pytest.mark.parametrize("format", FORMATS)
def test_no_format_clips_a_piece(written, format):
    _, _, _, decoded = decode(written["files"][format])
    assert 0.5 < np.abs(decoded).max() < 0.95


def test_a_bitrate_can_be_asked_for(tmp_path):
    samples = piece(9, seconds=2.0, sample_rate=44100)
    small = write_audio(tmp_path / "small.mp3", samples=samples, sample_rate=44100, format="mp3", bitrate=64_000)
    large = write_audio(tmp_path / "large.mp3", samples=samples, sample_rate=44100, format="mp3", bitrate=192_000)
    assert 2.5 < large.stat().st_size / small.stat().st_size < 3.5


def test_a_failed_write_leaves_no_file_and_no_temporary_file_behind(tmp_path):
    # The MP4 track number atom holds 16 bits: mutagen refuses 99999 after the audio is encoded.
    with pytest.raises(Exception):  # noqa: B017 (mutagen's own error type, whichever it is)
        write_audio(
            tmp_path / "song.m4a", samples=tone(seconds=0.3), sample_rate=22050, format="m4a",
            tags={"track_number": 99999},
        )
    assert os.listdir(tmp_path) == []


def test_a_successful_write_leaves_only_the_file_readable_by_others(tmp_path):
    path = write_audio(tmp_path / "song.flac", samples=tone(seconds=0.3), sample_rate=22050, format="flac")
    assert os.listdir(tmp_path) == ["song.flac"]
    assert path.stat().st_mode & 0o777 == 0o644


def test_unknown_formats_and_tags_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="unknown audio format 'aiff'"):
        write_audio(tmp_path / "a.aiff", samples=tone(seconds=0.1), sample_rate=22050, format="aiff")
    with pytest.raises(ValueError, match="unknown tags: lyricist"):
        write_audio(tmp_path / "a.mp3", samples=tone(seconds=0.1), sample_rate=22050, format="mp3", tags={"lyricist": "x"})
    with pytest.raises(ValueError, match="mp3 files are not written with 'alac'"):
        write_audio(tmp_path / "a.mp3", samples=tone(seconds=0.1), sample_rate=22050, format="mp3", codec="alac")
    assert os.listdir(tmp_path) == []


def test_a_piece_is_the_same_for_the_same_seed():
    assert np.array_equal(piece(21, seconds=2.0), piece(21, seconds=2.0))


def test_pieces_differ_from_seed_to_seed():
    pieces = [piece(seed, seconds=10.0, sample_rate=8000) for seed in range(8)]
    digests = {hashlib.sha256(samples.tobytes()).hexdigest() for samples in pieces}
    assert len(digests) == 8
    # Not merely different bytes: different music (little correlation between any two; the same
    # seed with its own samples correlates 1).
    for first in range(8):
        for second in range(first + 1, 8):
            a, b = pieces[first].ravel(), pieces[second].ravel()
            assert abs(np.corrcoef(a, b)[0, 1]) < 0.3


@pytest.mark.parametrize("seconds", [0.05, 1.0, 7.5, 31.0])
def test_a_piece_has_the_asked_length_shape_and_peak_of_minus_3_dbfs(seconds):
    samples = piece(5, seconds=seconds, sample_rate=22050, channels=2)
    assert samples.shape == (2, round(seconds * 22050))
    assert samples.dtype == np.float32
    assert np.abs(samples).max() == pytest.approx(PEAK, abs=1e-6)


def test_a_piece_fades_in_and_out():
    samples = piece(6, seconds=20.0, sample_rate=22050, channels=1)[0]
    assert np.abs(samples[:10]).max() < 0.01
    assert np.abs(samples[-10:]).max() < 0.01
    assert np.abs(samples[22050 * 5 : 22050 * 15]).max() > 0.3


def test_a_mono_piece_has_one_channel():
    assert piece(3, seconds=0.5, sample_rate=8000, channels=1).shape == (1, 4000)


def test_a_tone_is_a_sine_of_the_asked_frequency():
    samples = tone(seconds=1.0, frequency=1000.0, sample_rate=8000, channels=2)
    assert samples.shape == (2, 8000)
    spectrum = np.abs(np.fft.rfft(samples[0]))
    assert np.argmax(spectrum) == 1000


def test_make_audio_encodes_each_distinct_file_once_and_copies_it(tmp_path):
    first = audio_files.make_audio(tmp_path / "a", "song", format="flac", seed=77, tags={"title": "Één"})
    cached = sorted(audio_files._cache().iterdir())
    second = audio_files.make_audio(tmp_path / "b", "song", format="flac", seed=77, tags={"title": "Één"})
    assert sorted(audio_files._cache().iterdir()) == cached
    assert first.name == second.name == "song.flac"
    assert first.read_bytes() == second.read_bytes()
    assert first.stat().st_ino != second.stat().st_ino  # copies: a test may change its own
    other = audio_files.make_audio(tmp_path / "a", "other", format="flac", seed=78, tags={"title": "Één"})
    assert other.read_bytes() != first.read_bytes()


def test_the_bad_file_builders_make_what_they_say(tmp_path):
    assert audio_files.make_empty(tmp_path).stat().st_size == 0

    whole = audio_files.make_audio(tmp_path / "whole", "truncated", format="flac", seconds=2.0, seed=2)
    truncated = audio_files.make_truncated(tmp_path)
    assert truncated.read_bytes() == whole.read_bytes()[: whole.stat().st_size // 2]

    corrupt = audio_files.make_corrupt(tmp_path)
    with pytest.raises(av.error.FFmpegError):
        decode(corrupt)

    wrong = audio_files.make_wrong_extension(tmp_path)
    assert wrong.suffix == ".mp3"
    assert wrong.read_bytes()[:4] == b"fLaC"

    with pytest.raises(OSError):
        audio_files.make_unreadable(tmp_path).open("rb")
    with pytest.raises(FileNotFoundError):
        audio_files.make_dangling_symlink(tmp_path).open("rb")


def test_absurd_tags_are_written_as_they_are(tmp_path):
    path = audio_files.make_absurd_tags(tmp_path)
    tags = MutagenFile(path).tags
    assert (len(tags["TIT2"].text[0]), tags["TRCK"].text[0], tags["TPOS"].text[0]) == (5000, "99999", "-1")
    assert str(tags["TDRC"].text[0]) == "0000"


def test_sidecar_builders_write_an_lrc_and_a_folder_cover(tmp_path):
    song = audio_files.make_audio(tmp_path, "Song One", format="ogg")
    lrc = audio_files.write_lrc(song, [(1_500, "Ça commence"), (62_040, "Ende")], offset_ms=-250)
    assert lrc.name == "Song One.lrc"
    assert lrc.read_text(encoding="utf-8") == "[offset:-250]\n[00:01.50]Ça commence\n[01:02.04]Ende\n"
    cover = audio_files.make_folder_cover(tmp_path, "Folder.JPG")
    assert cover.read_bytes()[:2] == b"\xff\xd8"
