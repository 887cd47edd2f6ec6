"""Probing a long file: every packet demuxed, a sample of them decoded (probe._read_sampled), against a whole decode.

A ten-minute song is slow to encode, so these tests encode 12-second files and lower the thresholds so that
the probe samples them in 20 windows, as it samples a long song in 250 or more (a 12-second file is otherwise
decoded whole: that is how the probe's other tests, in test_audio_reading.py, see it).
"""

import fractions

import av
import numpy as np
import pytest

from SyroMusic.audio import probe
from SyroMusic.audio.encode import write_audio
from SyroMusic.audio.probe import BadAudio
from SyroMusic.audio.synth import tone

from .audio_files import FORMATS, make_audio

RATE = 22050
SECONDS = 12
# Every format, and the lossless codec an MP4 may hold.
CODECS = [(format, None) for format in FORMATS] + [("m4a", "alac")]


@pytest.fixture
def sampled(monkeypatch):
    """probe.probe as it reads a long file: sampled in 20 windows. A file decoded whole fails the test."""
    monkeypatch.setattr(probe, "SAMPLE_MIN_WINDOWS", 20)
    monkeypatch.setattr(probe, "SAMPLE_SECONDS", 1)

    def decoded_whole(*args, **kwargs):
        raise AssertionError("the file was decoded whole")

    monkeypatch.setattr(probe, "_read_whole", decoded_whole)
    return probe.probe


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("audio-sampling")


@pytest.fixture(scope="module")
def loud_then_silent(folder):
    """One file per format: 6 s of a loud sine, then 6 s of silence."""
    half = SECONDS // 2 * RATE
    samples = np.concatenate([tone(seconds=SECONDS // 2, sample_rate=RATE), np.zeros((1, half), dtype=np.float32)], axis=1)
    return {
        format: write_audio(folder / f"loud-then-silent.{format}", samples=samples, sample_rate=RATE, format=format)
        for format in FORMATS
    }


def _song(directory, format, codec=None, seed=4):
    return make_audio(directory, f"song-{format}-{codec}", format=format, codec=codec, seconds=SECONDS, seed=seed)


@pytest.mark.parametrize(("format", "codec"), CODECS)
def test_a_sampled_reading_gives_the_facts_of_a_whole_decode(folder, sampled, format, codec):
    path = _song(folder / "facts", format, codec)
    whole = probe.probe(path)  # 12 s: decoded whole (the fixture's thresholds apply to `sampled` only)

    facts = sampled(path)

    assert (facts.format, facts.codec, facts.sample_rate, facts.channels, facts.size, facts.content_hash) == (
        whole.format, whole.codec, whole.sample_rate, whole.channels, whole.size, whole.content_hash)
    # The exact length (from the packets' timestamps, less the padding decoding drops) and the same bit rate.
    assert (facts.duration_ms, facts.bitrate) == (whole.duration_ms, whole.bitrate)
    assert len(facts.peaks) == len(whole.peaks) == probe.PEAK_COUNT


@pytest.mark.parametrize("format", FORMATS)
def test_sampled_peaks_are_high_while_loud_and_near_zero_in_silence(loud_then_silent, sampled, format):
    peaks = sampled(loud_then_silent[format]).peaks

    # 1000 slices of 12 ms from 20 windows 0.6 s apart: a slice without a window takes the nearest one's
    # peak, so the change at 6 s (slice 500) shows within half a window of it.
    assert len(peaks) == 1000
    # A -6 dBFS sine is 128 of 255; MP3 rings a little lower, and Opus after its warm-up measures ~3% low.
    assert all(115 <= peak <= 150 for peak in peaks[:450])
    assert all(peak <= 3 for peak in peaks[550:])


@pytest.mark.parametrize(("format", "codec"), CODECS)
def test_a_cut_file_is_refused_when_sampled(folder, tmp_path, sampled, format, codec):
    data = _song(folder / "whole", format, codec, seed=5).read_bytes()
    path = tmp_path / f"cut.{format}"
    path.write_bytes(data[: len(data) * 3 // 4])

    with pytest.raises(BadAudio, match="^truncated or corrupt: "):
        sampled(path)


def _zeros_over_a_tenth(data):
    # A bad copy: a stretch of zeros where the file's bytes were (4/10 to 5/10 of the way in).
    data[len(data) * 4 // 10:len(data) // 2] = bytes(len(data) // 2 - len(data) * 4 // 10)


def _a_byte_flipped_every_4_kb(data):
    # Another: one byte in every 4 KB changed, from three quarters of the way in.
    for offset in range(len(data) * 3 // 4, len(data), 4096):
        data[offset] ^= 0x55


DAMAGE = {
    **{f"zeros over a tenth of {format}-{codec}": (format, codec, _zeros_over_a_tenth) for format, codec in CODECS
       if format != "wav"},  # zeros are silence in a WAV
    # (MP3 and ALAC frames have no checksum: a changed byte is mostly no error at all, or one in a few
    # packets, which a sample may miss. Ogg pages and FLAC frames have one, and AAC packets break on it.)
    **{f"a byte flipped every 4 KB of {format}-{codec}": (format, codec, _a_byte_flipped_every_4_kb)
       for format, codec in CODECS if format not in ("wav", "mp3") and codec != "alac"},
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_in_the_middle_is_refused_when_sampled(folder, tmp_path, sampled, kind):
    format, codec, damage = DAMAGE[kind]
    data = bytearray(_song(folder / "whole", format, codec, seed=5).read_bytes())
    damage(data)
    path = tmp_path / f"damaged.{format}"
    path.write_bytes(bytes(data))

    with pytest.raises(BadAudio, match="^truncated or corrupt: "):
        sampled(path)


def test_a_damaged_ogg_file_is_refused_not_read_as_a_shorter_one(folder, tmp_path):
    # FFmpeg drops the Ogg pages whose checksum fails and takes the length from the last page it could read:
    # both say 9 s. The file's own last page says 12 s.
    data = bytearray(_song(folder / "whole", "ogg", seed=5).read_bytes())
    _a_byte_flipped_every_4_kb(data)
    path = tmp_path / "damaged.ogg"
    path.write_bytes(bytes(data))

    with pytest.raises(BadAudio, match=r"^truncated or corrupt: \d+\.\d\d s of audio where the last Ogg page ends at 12\.\d\d s$"):
        probe.probe(path)


def _seven_one_opus(path, seconds):
    """An Opus file in 7.1 (write_audio writes mono and stereo only): the same sine in all 8 channels."""
    rate = 48_000
    sine = (0.5 * np.sin(2 * np.pi * 440 * np.arange(int(rate * seconds)) / rate)).astype(np.float32)
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=rate, layout="7.1")
        for start in range(0, len(sine), 960):
            chunk = sine[start:start + 960]
            frame = av.AudioFrame.from_ndarray(np.repeat(chunk, 8)[None, :], format="flt", layout="7.1")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, fractions.Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def test_a_file_of_eight_channels_is_read(tmp_path):
    # PyAV's frame.planes reads past the 8 channel pointers of such a frame (and crashed Python).
    facts = probe.probe(_seven_one_opus(tmp_path / "short.opus", seconds=1))

    assert (facts.format, facts.codec, facts.channels, facts.duration_ms) == ("opus", "opus", 8, 1000)
    assert all(115 <= peak <= 150 for peak in facts.peaks[10:-10])


def test_a_long_file_of_eight_channels_is_read_sampled(tmp_path, sampled):
    facts = sampled(_seven_one_opus(tmp_path / "long.opus", seconds=SECONDS))

    assert (facts.format, facts.codec, facts.channels, facts.duration_ms) == ("opus", "opus", 8, SECONDS * 1000)
    assert all(115 <= peak <= 150 for peak in facts.peaks[10:-10])
