"""The facts of an audio file, read from its bytes: format, codec, exact duration, waveform peaks.

`probe` demuxes every packet of the file (PyAV): the packets' timestamps give the exact length, and the
demuxer sees a cut file, lost frames and bytes that are not packets at all. It decodes a sample of the
packets, spread over the file, for the waveform peaks and to check that the audio decodes; a short file
(a minute or so) it decodes whole. See `_read_sampled` for what sampling can no longer see and why that is
the right trade. Memory stays flat for any file size. A file that is not whole, plausible audio in one of
the formats we serve is refused with `BadAudio`, whose message is the reason, ready for a report.
"""

import functools
import hashlib
import itertools
import math
import os
import stat
import struct
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.audio.plane import AudioPlane

FORMAT_BY_EXTENSION = {
    ".mp3": "mp3", ".flac": "flac", ".ogg": "ogg", ".oga": "ogg", ".opus": "opus",
    ".m4a": "m4a", ".mp4": "m4a", ".wav": "wav",
}
# At most this many peaks per file (one byte each: 1 KB), one per slice of at least PEAK_SLICE_MS.
PEAK_COUNT = 1000
PEAK_SLICE_MS = 10

# Absurd inputs: what no song is (and what would make a scan spend hours on one file).
MAX_DURATION_MS = 24 * 3600 * 1000
MAX_SAMPLE_RATE = 768_000
MAX_CHANNELS = 32
# A few damaged frames play as a click; more than 1 in 100 is a damaged file.
MAX_BAD_PACKET_RATIO = 0.01
# A lossy stream's header length may differ from the decoded one by a codec's padding (Opus pre-skip, a
# few ms) or a frame or two (FFmpeg's own Vorbis encoder); a truncated file is short by far more.
TRUNCATION_SLACK_MS = 100
TRUNCATION_SLACK_RATIO = 0.005

# A file is read sampled (see _read_sampled) in windows spread over it: as many as decode about SAMPLE_SECONDS
# of its audio (warm-up included; decoding costs about the same per second of audio in every codec but Opus,
# twice that), but at least SAMPLE_MIN_WINDOWS and at most one per peak slice. Demuxing every packet then
# costs more than decoding for a long file. A file where that would decode a third of the packets or more
# (about 75 seconds of audio or less) is decoded whole.
SAMPLE_SECONDS = 25
SAMPLE_MIN_WINDOWS = 250
# Packets decoded (and their output dropped) before each measured one, for the decoder to be back in step
# after a jump, as measured on music against a whole decode: an MP3 frame's data may start in the frames
# before it (the bit reservoir) and the synthesis filters need two more (with 2, 1 window in 20 is still off
# by a few %; with 3 none is); Vorbis and AAC blocks overlap the one before; Opus's energy prediction settles
# slowly (the measured peak is then ~3% low; 6% with 4, 0.4% with 8). FLAC, ALAC and PCM frames stand alone;
# any other codec gets 3.
_WARM_UP_PACKETS = {"mp3": 3, "vorbis": 1, "aac": 1, "opus": 5}
_PLAN_PACKETS = 16  # the first packets, whose length tells how many packets the file holds
# A packet the decoder refuses, whatever the code (some decoders return a bare -1, which PyAV raises as
# PermissionError): counted as a bad packet, not taken for the file's own errors.
_DECODE_ERRORS = (av.error.FFmpegError,)

HASH_CHUNK = 1 << 20
_TAIL_BYTES = 1 << 16
_NOT_AUDIO = "not audio: the bytes are not MP3, FLAC, Ogg, MP4 or WAV"

# The container as FFmpeg names its demuxer -> the family our extensions name.
_FAMILY_BY_DEMUXER = {"mp3": "mp3", "flac": "flac", "ogg": "ogg", "mov,mp4,m4a,3gp,3g2,mj2": "m4a", "wav": "wav"}
# .opus and .ogg are both Ogg: an Opus stream named .ogg (or Vorbis named .opus) is a common, playable file.
_FAMILY_BY_EXTENSION = {ext: "ogg" if fmt == "opus" else fmt for ext, fmt in FORMAT_BY_EXTENSION.items()}
_FORMAT_NAMES = {"mp3": "MP3", "flac": "FLAC", "ogg": "Ogg Vorbis", "opus": "Ogg Opus", "m4a": "MP4 audio", "wav": "WAV"}

# What reading a bad file can raise, from PyAV (its errors subclass these or FFmpegError), numpy and us.
_READ_ERRORS = (av.error.FFmpegError, OSError, ValueError, IndexError, KeyError, TypeError, EOFError, RuntimeError,
                OverflowError, ZeroDivisionError, struct.error, MemoryError)


class BadAudio(ValueError):
    """A file refused; str(error) is the reason ("empty file (0 bytes)", "not audio: ...",
    "truncated or corrupt: ...", "named .mp3 but the bytes are FLAC")."""


class _Damaged(Exception):
    """The bytes could not be read as the audio they seemed to be (the reason after "truncated or corrupt: ")."""


@dataclass(frozen=True)
class AudioFacts:
    format: str  # an AudioFormat value, from the bytes (not the name)
    codec: str  # as FFmpeg names it: "mp3", "flac", "vorbis", "opus", "aac", "alac", "pcm_s16le"...
    bitrate: int  # average bits per second of the audio stream (tags and cover excluded)
    sample_rate: int
    channels: int
    duration_ms: int
    size: int
    content_hash: str
    peaks: bytes  # one 0-255 value per slice: the loudest sample in it


def file_hash(path):
    """SHA-256 hex of the file's bytes, read in 1 MB chunks. Raises OSError when it cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def probe(path):
    """The facts of the audio file at `path`; raises BadAudio (and nothing else) when it is not one we serve."""
    path = Path(path)
    extension = path.suffix.lower()
    if extension not in FORMAT_BY_EXTENSION:
        raise BadAudio(f"unknown extension {extension or '(none)'!r}: expected one of {', '.join(FORMAT_BY_EXTENSION)}")
    status = regular_file_status(path)
    if status.st_size == 0:
        raise BadAudio("empty file (0 bytes)")
    try:
        with open(path, "rb") as file:
            sniffed, audio_start = _sniff(file)
    except PermissionError:
        raise BadAudio("unreadable: permission denied") from None
    except OSError as error:
        raise BadAudio(f"unreadable: {error.strerror or error}") from None
    try:
        facts = _decode(path, extension, status.st_size, sniffed, audio_start)
        return AudioFacts(**facts, size=status.st_size, content_hash=file_hash(path))
    except PermissionError:
        raise BadAudio("unreadable: permission denied") from None
    except BadAudio:
        raise
    except (_Damaged, *_READ_ERRORS) as error:
        if sniffed is None:
            # Not even the first bytes looked like audio: FFmpeg's guess (if it made one) was wrong.
            raise BadAudio(_NOT_AUDIO) from None
        raise BadAudio(f"truncated or corrupt: {_describe(error)}") from None


def regular_file_status(path):
    """os.stat of path, which must be a regular file (or a link to one); BadAudio when it is missing or not one.
    Check before opening: opening a FIFO waits for a writer, reading a device never ends."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise BadAudio("missing: no such file") from None
    except OSError as error:
        raise BadAudio(f"unreadable: {error.strerror or error}") from None
    if not stat.S_ISREG(status.st_mode):
        raise BadAudio(f"not a regular file ({_file_kind(status.st_mode)})")
    return status


def _file_kind(mode):
    kinds = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a FIFO", stat.S_ISCHR: "a character device",
             stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}
    return next((kind for test, kind in kinds.items() if test(mode)), "not a file")


def _describe(error):
    # FFmpeg's errors carry the file name at the end; the report already names the file.
    if isinstance(error, av.error.FFmpegError) and error.strerror:
        return error.strerror.rstrip(".")
    return str(error) or type(error).__name__


def _id3v2_end(file, offset):
    """Where the audio starts after any ID3v2 tags at `offset` (some taggers put one before FLAC too)."""
    for _ in range(8):
        file.seek(offset)
        header = file.read(10)
        if len(header) < 10 or header[:3] != b"ID3" or any(byte & 0x80 for byte in header[6:10]):
            return offset
        size = int.from_bytes(bytes(header[6:10]), "big")
        size = (size & 0x7F) | (size >> 8 & 0x7F) << 7 | (size >> 16 & 0x7F) << 14 | (size >> 24 & 0x7F) << 21
        offset += 10 + size + (10 if header[5] & 0x10 else 0)
    return offset


def _sniff(file):
    """The container family the first bytes announce (None when they announce none we know), and where the
    audio data starts (after ID3v2 tags)."""
    head = file.read(12)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "m4a", 0
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav", 0
    if head[:4] == b"OggS":
        return "ogg", 0
    start = _id3v2_end(file, 0)
    file.seek(start)
    first = file.read(4096)
    if first[:4] == b"fLaC":
        return "flac", start
    skipped = len(first) - len(first.lstrip(b"\0"))  # some encoders pad before the first frame
    frame = first[skipped:skipped + 2]
    # An MPEG audio frame: 11 sync bits, then a version that is not "reserved" and a layer that is not 00
    # (00 is ADTS AAC, which is not a format we serve).
    if len(frame) == 2 and frame[0] == 0xFF and frame[1] & 0xE0 == 0xE0 and frame[1] & 0x18 != 0x08 and frame[1] & 0x06:
        return "mp3", start + skipped
    return None, 0


@dataclass(frozen=True)
class _StreamFacts:
    """What is read of a PyAV audio stream, taken while its container is open: closing the container frees
    the FFmpeg stream, and PyAV then reads a closed stream's fields from freed memory (mostly the right
    values, now and then garbage: a healthy Ogg file refused as cut short, about one scan of 200 in ten)."""

    time_base: object
    start_time: int | None
    sample_rate: int
    channels: int

    @classmethod
    def of(cls, stream):
        context = stream.codec_context
        return cls(stream.time_base, stream.start_time, context.sample_rate, context.channels)


def _decode(path, extension, size, sniffed, audio_start):
    with av.open(str(path), metadata_errors="ignore") as container:
        stream, family, audio_format, codec, claimed_ms = _audio_stream(container, extension, sniffed)
        try:
            reading = _read(container, stream, codec, claimed_ms, size)
        except _DecodeWhole:
            reading = None
        facts = _StreamFacts.of(stream)
    if reading is None:
        # The sample plan did not fit the file (its header's length was far off): decode it all after all.
        with av.open(str(path), metadata_errors="ignore") as container:
            stream, family, audio_format, codec, claimed_ms = _audio_stream(container, extension, sniffed)
            reading = _read_whole(container, stream, claimed_ms)
            facts = _StreamFacts.of(stream)
    del stream  # its container is closed: only `facts` may be read from here on

    length_ms = reading.length_ms
    if not reading.measured or length_ms <= 0:
        raise _Damaged("no audio could be decoded")
    trusted_ms = claimed_ms if _header_length_is_exact(family, path, audio_start) else None
    frame_ms = reading.frame_ms
    if codec in ("flac", "alac") or codec.startswith("pcm_"):
        slack_ms = 1  # lossless decoding gives back every sample the header counts: one lost frame shows
    else:
        slack_ms = max(TRUNCATION_SLACK_MS, 2 * frame_ms, (trusted_ms or 0) * TRUNCATION_SLACK_RATIO)
    if trusted_ms is not None and reading.decodable_ms < trusted_ms - slack_ms:
        raise _Damaged(f"{reading.decodable_ms / 1000:.2f} s of audio where the header says {trusted_ms / 1000:.2f} s")
    if reading.bad > reading.decoded * MAX_BAD_PACKET_RATIO:
        raise _Damaged(f"{reading.bad} of {reading.decoded} packets could not be decoded")
    if family == "wav":
        _check_wav_length(path, size)
    if family == "ogg":
        end_ms = _check_ogg_end(path, size, facts)
        if end_ms is not None and end_ms > length_ms + slack_ms:
            # The demuxer gave up on damaged pages before the end (and FFmpeg's length, from the last page
            # it could read, agrees with it).
            raise _Damaged(f"{length_ms / 1000:.2f} s of audio where the last Ogg page ends at {end_ms / 1000:.2f} s")
    if trusted_ms is not None and 0 < length_ms - trusted_ms <= 2 * frame_ms:
        # The last frame came out whole (AAC in MP4 does), or the encoder's padding after the music is still
        # counted (MP3 with a LAME header): the container says where the music ends.
        length_ms = trusted_ms
    duration_ms = round(length_ms)
    slices = max(1, min(PEAK_COUNT, duration_ms // PEAK_SLICE_MS))
    return {
        "format": audio_format,
        "codec": codec,
        "bitrate": round(reading.payload * 8 * 1000 / length_ms),
        "sample_rate": facts.sample_rate,
        "channels": facts.channels,
        "duration_ms": duration_ms,
        "peaks": reading.peaks(slices),
    }


def _audio_stream(container, extension, sniffed):
    """The audio stream, its container family, format, codec and the length its header claims (ms or None);
    BadAudio when the bytes are not what the name says, or absurd."""
    family = _FAMILY_BY_DEMUXER.get(container.format.name)
    if not container.streams.audio:
        raise BadAudio(f"not audio: no audio stream ({container.format.long_name})")
    stream = container.streams.audio[0]
    context = stream.codec_context
    codec = context.codec.canonical_name
    if sniffed is None and family != "mp3":
        # FFmpeg falls back on the name for bytes it cannot place (text named .flac "is" FLAC). Only MP3
        # may start without its signature: some encoders put junk before the first frame.
        raise BadAudio(_NOT_AUDIO)
    if family is None:
        raise BadAudio(f"named {extension} but the bytes are {container.format.long_name} (not a format we serve)")
    audio_format = "opus" if family == "ogg" and codec == "opus" else "ogg" if family == "ogg" else family
    if family != _FAMILY_BY_EXTENSION[extension]:
        raise BadAudio(f"named {extension} but the bytes are {_FORMAT_NAMES[audio_format]}")
    if not 0 < (context.sample_rate or 0) <= MAX_SAMPLE_RATE:
        raise BadAudio(f"absurd: sample rate {context.sample_rate} Hz")
    if not 0 < context.channels <= MAX_CHANNELS:
        raise BadAudio(f"absurd: {context.channels} channels")
    claimed_ms = _claimed_ms(container, stream)
    if claimed_ms is not None and claimed_ms > MAX_DURATION_MS:
        raise BadAudio(f"absurd: the header claims a duration of {claimed_ms / 3_600_000:.1f} hours")
    return stream, family, audio_format, codec, claimed_ms


class _DecodeWhole(Exception):
    """The sampled reading gave up on a file far longer or shorter than planned: decode it whole."""


@dataclass
class _Reading:
    """What reading the packets found. length_ms: the audio's length, as decoded (whole) or from the packets'
    timestamps (sampled); decodable_ms: that less the packets that do not decode (sampled: an estimate);
    decoded, bad: packets handed to the decoder, and those it refused; measured: packets whose samples were
    measured for the peaks; frame_ms: the longest packet (or frame); peaks(slices) -> bytes."""

    length_ms: float
    decodable_ms: float
    payload: int
    decoded: int
    bad: int
    measured: int
    frame_ms: float
    peaks: object


def _read(container, stream, codec, claimed_ms, size):
    """Read the file whole or sampled, as its length (the header's, else the file's size at the first packets'
    bit rate: only to plan the windows) and its first packets' length decide."""
    packets = container.demux(stream)
    first = []
    for packet in packets:
        if packet.size:
            first.append(packet)
            if len(first) == _PLAN_PACKETS:
                break
    warm_up = _WARM_UP_PACKETS.get(codec, 0 if codec in ("flac", "alac") or codec.startswith("pcm_") else 3)
    durations = [packet.duration * packet.time_base for packet in first if packet.duration]
    windows = None
    if durations and len(durations) == len(first):
        packet_seconds = float(sum(durations) / len(durations))
        planned_ms = claimed_ms or size / sum(packet.size for packet in first) * len(first) * packet_seconds * 1000
        windows = _sample_windows(planned_ms, packet_seconds, warm_up)
    packets = itertools.chain(first, packets)
    if windows is None:
        return _read_whole(container, stream, claimed_ms, packets)
    return _read_sampled(stream, packets, planned_ms, windows, warm_up)


def _sample_windows(planned_ms, packet_seconds, warm_up):
    """How many windows to decode when sampling a file about `planned_ms` long in packets of `packet_seconds`;
    None when it is better decoded whole."""
    decoded_per_window = 1 + warm_up
    slices = max(1, min(PEAK_COUNT, int(planned_ms // PEAK_SLICE_MS)))
    windows = min(slices, max(SAMPLE_MIN_WINDOWS, int(SAMPLE_SECONDS / (decoded_per_window * packet_seconds))))
    if windows * decoded_per_window * 3 > planned_ms / 1000 / packet_seconds:
        return None
    return windows


def _read_whole(container, stream, claimed_ms, packets=None):
    """Decode every packet: the exact sample count, and peaks from every sample."""
    context = stream.codec_context
    meter = _PeakMeter(_block_for(claimed_ms, context.sample_rate))
    levels = _Levels(meter)
    samples_by_rate = Counter()
    seconds = 0.0
    decoded = bad = payload = 0
    largest_frame = 0
    for packet in itertools.chain(container.demux(stream) if packets is None else packets, [None]):
        if packet is not None:  # None drains the decoder
            if not packet.size:
                continue
            decoded += 1
            payload += packet.size
        try:
            frames = context.decode(packet)
        except _DECODE_ERRORS:
            bad += 1
            continue
        for frame in frames:
            samples_by_rate[frame.sample_rate] += frame.samples
            seconds += frame.samples / frame.sample_rate
            largest_frame = max(largest_frame, frame.samples)
            levels.add(frame)
        if seconds * 1000 > MAX_DURATION_MS:
            raise BadAudio("absurd: longer than 24 hours")
    levels.flush()
    length_ms = sum(samples * 1000 / rate for rate, samples in samples_by_rate.items())
    return _Reading(
        length_ms=length_ms, decodable_ms=length_ms, payload=payload, decoded=decoded, bad=bad, measured=decoded - bad,
        frame_ms=largest_frame * 1000 / context.sample_rate, peaks=meter.peaks,
    )


def _read_sampled(stream, packets, planned_ms, windows, warm_up):
    """Demux every packet, decode a window of packets every 1/windows of the planned length.

    The length is where the last packet ends (its timestamp plus its duration: exact in every container we
    serve), less the gaps between packets (audio the demuxer lost) and what decoding the last packet gives
    short of its duration (the encoder's padding the container marks for dropping, or a last frame that does
    not decode). Each window decodes `warm_up` packets whose output is dropped (what the decoder needs to be
    back in step after a jump), then measures the next packet's loudest sample; a slice of the peaks takes
    the loudest window in it, or the nearest one.

    What sampling cannot see: damage inside a packet it does not decode (bytes changed in the middle of
    a frame, which keeps its framing), and a decoder that would stumble somewhere it did not look. The
    demuxer still reads every packet, so a cut file, lost or garbled framing (MP3 and FLAC resync, a missing
    Ogg page), a bad length in the header and packets that are not there are all still seen, and the decoded
    sample (hundreds of windows, spread over the whole file) catches damage that is spread, like a bad copy.
    That is the right trade for a library scan: such a local fault plays as a click or a moment's dropout
    (decoders conceal it, and a whole decode accepted up to 1 in 100 bad packets anyway), while finding
    it costs decoding every sample, five to ten times the time for every healthy file.
    """
    window = _Window(stream.codec_context, warm_up)
    time_base = stream.time_base
    seconds_per_tick = float(time_base)  # for the windows' times (a Fraction costs microseconds a sum)
    origin = stream.start_time if stream.start_time and stream.start_time > 0 else 0
    step = planned_ms / 1000 / windows / time_base  # in the stream's time base
    longest = MAX_DURATION_MS / 1000 / time_base
    times, levels = [], []
    payload = count = gaps = 0
    position = end = target = origin  # target: the timestamp from which the next window starts
    largest_packet = 0
    keep = window.recent.append  # the loop runs once per packet (25,000 in ten minutes of AAC): kept lean
    for packet in packets:
        size = packet.size
        if not size:
            continue
        payload += size
        count += 1
        keep(packet)
        pts, duration = packet.pts, packet.duration or 0
        if pts is None:
            pts = position
        elif pts - position > duration // 2:
            # Audio lost between this packet and the one before: an Ogg page the demuxer dropped, or bytes
            # the FLAC parser could only make a packet of no duration of.
            gaps += pts - position
        position = pts + duration
        if position > end:
            end = position
        if duration > largest_packet:
            largest_packet = duration
        if pts < target:
            continue
        if end - origin > longest:
            raise BadAudio("absurd: longer than 24 hours")
        if len(times) > 4 * PEAK_COUNT:
            raise _DecodeWhole  # far longer than planned
        level = window.measure(count)
        if level is not None:
            times.append((pts + duration / 2 - origin) * seconds_per_tick)
            levels.append(level)
        elif not window.failed:
            continue  # the decoder is not in step yet (Vorbis after a jump): measure the next packet
        # A refused packet ends its window too: decoding on through a damaged stretch would count it many
        # times over in the sample.
        target = origin + ((pts - origin) // step + 1) * step
    if not count:
        raise _Damaged("no audio packets")
    last_samples = window.finish(count)  # a cut or damaged last frame is where a cut file shows
    last, last_seconds = window.recent[-1], last_samples / stream.codec_context.sample_rate
    # Less what the last packet decodes to short of its duration; a last packet of no duration adds what it decodes to.
    tail = min(0.0, last_seconds - float(last.duration * time_base)) if last.duration else last_seconds
    length_ms = (float((end - origin - gaps) * time_base) + tail) * 1000
    if len(times) < windows // 2 and length_ms < planned_ms / 2:
        raise _DecodeWhole  # far shorter than planned: too few windows for the peaks
    return _Reading(
        length_ms=length_ms, payload=payload, decoded=window.decoded, bad=window.bad, measured=len(times),
        frame_ms=float(largest_packet * time_base) * 1000,
        peaks=functools.partial(_sampled_peaks, times, levels, length_ms / 1000),
        # A whole decode leaves the packets it cannot decode out of the length: as many as the sample suggests.
        decodable_ms=length_ms * (1 - window.bad / max(1, window.decoded)),
    )


class _Window:
    """The decoder of a sampled reading. Every packet demuxed goes into `recent`; `measure(count)` decodes the
    latest one (the count-th), after the ones before it not decoded yet, or after a jump the last `warm_up`."""

    def __init__(self, context, warm_up):
        self.context = context
        self.recent = deque(maxlen=warm_up + 1)  # the latest packets: a warm-up and the one to measure
        self.decoded_through = 0  # the count of the last packet handed to the decoder
        self.decoded = self.bad = 0  # the sample of the file: packets decoded in windows, and those refused
        self.failed = False  # whether the decoder refused the latest packet
        self.last_samples = 0  # what the latest packet decoded to

    def measure(self, count):
        """The loudest sample (0..1) of the latest packet, or None when it gave nothing (or `failed`)."""
        frames = self._decode_latest(count)
        levels = [_frame_level(frame) for frame in frames if frame.samples]
        return max(levels) if levels else None

    def finish(self, count):
        """The samples the last packet decodes to (decoding it if no window did: not counted in the sample,
        as what it lacks is counted as the shortfall), with what the decoder still held."""
        if self.decoded_through < count:
            self._decode_latest(count, sample=False)
        try:
            self.last_samples += sum(frame.samples for frame in self.context.decode(None))
        except _DECODE_ERRORS:
            pass
        return self.last_samples

    def _decode_latest(self, count, sample=True):
        fresh = count - self.decoded_through  # packets not handed to the decoder yet
        if fresh > len(self.recent):
            self.context.flush_buffers()  # a jump: the decoder starts afresh with the warm-up
            fresh = len(self.recent)
        self.decoded_through = count
        frames = []
        for packet in itertools.islice(self.recent, len(self.recent) - fresh, None):
            try:
                frames, self.failed = self.context.decode(packet), False
            except _DECODE_ERRORS:
                frames, self.failed = [], True
            if sample:
                self.decoded += 1
                self.bad += self.failed
        self.last_samples = sum(frame.samples for frame in frames)
        return frames


def _frame_level(frame):
    """The loudest sample of a decoded frame (with samples), 0..1, over all its channels."""
    audio_format = frame.format
    name = audio_format.name.rstrip("p")
    count = frame.samples * (1 if audio_format.is_planar else frame.layout.nb_channels)
    # The largest and the smallest sample: two reductions, no conversion of the whole frame.
    top, bottom = -math.inf, math.inf
    for plane in _planes(frame):
        samples = np.frombuffer(plane, dtype=_SAMPLE_TYPES[name], count=count)
        top, bottom = max(top, samples.max().item()), min(bottom, samples.min().item())
    if name == "u8":
        return max(top - 128, 128 - bottom) / 128
    return max(top, -bottom) / _FULL_SCALE[name]


def _sampled_peaks(times, levels, length, slices):
    """`slices` bytes from levels measured at times (seconds into a file `length` seconds long): each slice's
    loudest measured level, or where no window fell in a slice, the level of the window nearest its middle."""
    if not times:
        return b""
    times = np.asarray(times)
    levels = np.asarray(levels, dtype=np.float32)
    peaks = np.full(slices, -1.0, dtype=np.float32)
    np.maximum.at(peaks, np.clip((times / length * slices).astype(np.int64), 0, slices - 1), levels)
    empty = np.flatnonzero(peaks < 0)
    if len(empty):
        middles = (empty + 0.5) * length / slices
        after = np.clip(np.searchsorted(times, middles), 0, len(times) - 1)
        before = np.maximum(after - 1, 0)
        nearest = np.where(np.abs(times[before] - middles) <= np.abs(times[after] - middles), before, after)
        peaks[empty] = levels[nearest]
    return np.clip(np.rint(peaks * 255), 0, 255).astype(np.uint8).tobytes()


def _claimed_ms(container, stream):
    """The length the headers state (or FFmpeg estimates), in ms, or None."""
    if stream.duration and stream.time_base:
        return round(stream.duration * stream.time_base * 1000)
    if container.duration:
        return round(container.duration / 1000)
    return None


def _header_length_is_exact(family, path, audio_start):
    """Whether the header's length is a count the encoder wrote (so a shorter decode means lost bytes),
    rather than an estimate from the file size (which shrinks with the file)."""
    if family == "flac":
        # STREAMINFO's 36-bit sample count; 0 means "unknown" (a streaming encoder), and FFmpeg then estimates.
        with open(path, "rb") as file:
            file.seek(audio_start)
            header = file.read(26)
        return header[:4] == b"fLaC" and header[4] & 0x7F == 0 and int.from_bytes(header[18:26], "big") & (2**36 - 1) > 0
    if family in ("m4a", "ogg"):
        return True  # the edit list or track duration; the last page's granule position
    if family == "mp3":
        # A Xing/Info or VBRI frame counts the frames; without one FFmpeg divides the size by the bitrate.
        with open(path, "rb") as file:
            file.seek(audio_start)
            first_frame = file.read(256)
        return any(tag in first_frame for tag in (b"Xing", b"Info", b"VBRI"))
    return False  # WAV: FFmpeg reads the length from the bytes that are there; checked on its own below


def _check_wav_length(path, size):
    """Refuse a WAV whose data chunk claims more bytes than the file holds (FFmpeg quietly plays what is left)."""
    with open(path, "rb") as file:
        header = file.read(12)
        if header[:4] != b"RIFF":
            return  # RF64/BW64 keep the real size elsewhere; FFmpeg checks those
        offset = 12
        for _ in range(1000):
            file.seek(offset)
            chunk = file.read(8)
            if len(chunk) < 8:
                return
            chunk_id, chunk_size = chunk[:4], int.from_bytes(chunk[4:], "little")
            if chunk_id == b"data":
                if chunk_size not in (0, 0xFFFFFFFF) and offset + 8 + chunk_size > size:
                    raise _Damaged(f"the WAV data chunk claims {chunk_size} bytes, "
                                   f"the file holds {size - offset - 8}")
                return
            offset += 8 + chunk_size + (chunk_size & 1)


def _check_ogg_end(path, size, facts):
    """Refuse an Ogg file that does not end with a whole end-of-stream page: its tail was cut off
    (FFmpeg reads the length from the last page it finds, so a cut at a page boundary keeps the length right).
    Returns where that page's granule position puts the end of the audio stream (ms), or None when the page
    belongs to another stream or tells no position."""
    with open(path, "rb") as file:
        first_page = file.read(27)
        tail_start = max(0, size - _TAIL_BYTES)
        file.seek(tail_start)
        tail = file.read()
    position = tail.rfind(b"OggS")
    while position >= 0 and (len(tail) - position < 27 or tail[position + 4] != 0):
        position = tail.rfind(b"OggS", 0, position)
    if position < 0:
        raise _Damaged("no Ogg page in the last 64 KB")
    segments = tail[position + 26]
    table = tail[position + 27:position + 27 + segments]
    page_end = position + 27 + segments + sum(table)
    if len(table) < segments or page_end > len(tail):
        raise _Damaged("the last Ogg page is cut off")
    if not tail[position + 5] & 0x04:
        raise _Damaged("the Ogg stream has no end-of-stream page")
    granule = int.from_bytes(tail[position + 6:position + 14], "little", signed=True)
    if tail[position + 14:position + 18] != first_page[14:18] or granule < 0 or not facts.time_base:
        return None
    # Granule positions count samples in the stream's time base (Opus's include its pre-skip, a few ms).
    return float((granule - max(0, facts.start_time or 0)) * facts.time_base * 1000)


def _planes(frame):
    """The planes of a decoded audio frame: one per channel (planar formats) or one for all.

    Not `frame.planes`: PyAV counts planes up to the first null pointer after them, which a frame of 8
    channels (whose pointers sit inside the frame, followed by other fields) or a damaged one (a decoder
    told "25 channels" by bad bytes) does not have; reading the "planes" past the channels crashes Python.
    """
    count = frame.layout.nb_channels if frame.format.is_planar else 1
    return [AudioPlane(frame, index) for index in range(count)]


_SAMPLE_TYPES = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "s64": np.int64, "flt": np.float32, "dbl": np.float64}
_FULL_SCALE = {"s16": 2**15, "s32": 2**31, "s64": 2**63, "flt": 1.0, "dbl": 1.0}


class _Levels:
    """The loudest channel's absolute level (0..1) of each decoded sample, handed to the peak meter in
    batches: numpy's cost is per call, and a frame holds only a few hundred samples."""

    _BATCH = 1 << 16  # samples

    def __init__(self, meter):
        self.meter = meter
        self.kind = self.sample_type = self.per_plane = None
        self.channels = []  # per plane: the frames' sample arrays waiting for the next batch
        self.samples = 0

    def add(self, frame):
        audio_format, samples = frame.format, frame.samples
        kind = audio_format.name, frame.layout.nb_channels
        if kind != self.kind:
            self.flush()
            self.kind = kind
            self.sample_type = _SAMPLE_TYPES[audio_format.name.rstrip("p")]
            self.per_plane = 1 if audio_format.is_planar else kind[1]
            self.channels = [[] for _ in range(kind[1] // self.per_plane)]
        for plane, arrays in zip(_planes(frame), self.channels, strict=True):
            # A plane's buffer may be longer than its samples (aligned). The array keeps the frame's buffer
            # alive until the batch is measured (each decoded frame has its own).
            arrays.append(np.frombuffer(plane, dtype=self.sample_type, count=samples * self.per_plane))
        self.samples += samples
        if self.samples >= self._BATCH:
            self.flush()

    def flush(self):
        if not self.samples:
            return
        channel_count = self.kind[1]
        channels = [np.concatenate(arrays) for arrays in self.channels]
        if len(channels) == 1 and channel_count > 1:
            # Interleaved: each channel is every n-th sample (an elementwise maximum of strided views is fast;
            # a reduction along a short axis is not).
            channels = [channels[0][channel::channel_count] for channel in range(channel_count)]
        level = _absolute(channels[0])
        for channel in channels[1:]:
            np.maximum(level, _absolute(channel), out=level)
        self.meter.add(level)
        self.channels = [[] for _ in self.channels]
        self.samples = 0


def _absolute(samples):
    """Absolute levels 0..1 (float32) of samples in FFmpeg's sample format."""
    if samples.dtype == np.uint8:
        return np.abs(samples.astype(np.float32) - 128) / 128
    if np.issubdtype(samples.dtype, np.integer):
        return np.abs(samples.astype(np.float32)) / float(2 ** (samples.dtype.itemsize * 8 - 1))
    return np.abs(samples.astype(np.float32, copy=False))


def _block_for(claimed_ms, sample_rate):
    """Samples per block so that a file of the claimed length fills about 8 blocks per peak."""
    if not claimed_ms:
        return 1
    return max(1, int(claimed_ms * sample_rate / 1000) // (PEAK_COUNT * 8))


class _PeakMeter:
    """The loudest level of each block of `block` samples, in a bounded list: when the list grows past
    _MAX_BLOCKS (the length was unknown or wrong), neighbouring blocks are merged and blocks get twice as long."""

    _MAX_BLOCKS = PEAK_COUNT * 32

    def __init__(self, block):
        self.block = block
        self.blocks = []
        self.count = 0
        self.pending = 0  # samples in the block being filled
        self.pending_peak = 0.0

    def add(self, levels):
        start = 0
        if self.pending:
            start = min(self.block - self.pending, len(levels))
            if start:
                self.pending_peak = max(self.pending_peak, float(levels[:start].max()))
            self.pending += start
            if self.pending == self.block:
                self._keep(np.array([self.pending_peak], dtype=np.float32))
                self.pending, self.pending_peak = 0, 0.0
        rest = levels[start:]
        whole = len(rest) // self.block * self.block
        if whole:
            self._keep(rest[:whole].reshape(-1, self.block).max(axis=1))
        if len(rest) > whole:
            self.pending = len(rest) - whole
            self.pending_peak = float(rest[whole:].max())

    def _keep(self, peaks):
        self.blocks.append(peaks)
        self.count += len(peaks)
        if self.count > self._MAX_BLOCKS:
            blocks = np.concatenate(self.blocks)
            if len(blocks) % 2:
                # The odd block joins the one being filled, which now fills up to the doubled length.
                self.pending += self.block
                self.pending_peak = max(self.pending_peak, float(blocks[-1]))
                blocks = blocks[:-1]
            self.blocks = [blocks.reshape(-1, 2).max(axis=1)]
            self.count = len(self.blocks[0])
            self.block *= 2

    def peaks(self, slices):
        """`slices` bytes (fewer when there are fewer blocks): each slice's loudest level scaled to 0-255."""
        blocks = self.blocks + ([np.array([self.pending_peak], dtype=np.float32)] if self.pending else [])
        if not blocks:
            return b""
        levels = np.concatenate(blocks)
        slices = min(slices, len(levels))
        starts = np.arange(slices) * len(levels) // slices
        loudest = np.maximum.reduceat(levels, starts)
        return np.clip(np.rint(loudest * 255), 0, 255).astype(np.uint8).tobytes()
