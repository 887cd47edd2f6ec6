"""Lyrics: LRC text (timed lines) and the `.lrc` file beside a song's audio.

A song keeps its lyrics twice: as plain text, and, when they are timed, as lines with the time (ms) each
one is sung. `parse_lrc` turns either kind of text into both, `format_lrc` turns the lines back into LRC, and
`check_lrc` is the strict reading staff get in the admin (files found on disk are read as they are).
"""

import itertools
import re
import stat
from pathlib import Path

from SyroMusic.text import CONTROL_CHARACTERS

# A sidecar larger than this is not lyrics (an LRC of a long song is a few KB).
SIDECAR_MAX_BYTES = 1_000_000
# The longest LRC text check_lrc accepts: the plain lyrics a song keeps (models.LYRICS_MAX_CHARACTERS), so
# that lyrics filled from its lines fit there too.
LRC_MAX_CHARACTERS = 100_000

# One or more time tags at the start of a line: [mm:ss], [mm:ss.x], [mm:ss.xx], [mm:ss.xxx] (some
# writers put a colon before the fraction).
_TIMES = re.compile(r"^((?:\s*\[\d{1,4}:\d{1,2}(?:[.:]\d{1,3})?\])+)(.*)$")
_TIME = re.compile(r"\[(\d{1,4}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_METADATA = re.compile(r"^\s*\[(ar|ti|al|au|by|re|ve|length|offset|#|la|lang|tool):([^\]]*)\]\s*$", re.IGNORECASE)
# Enhanced LRC times each word (<mm:ss.xx>); the line's own time is enough here.
_WORD_TIME = re.compile(r"<\d{1,4}:\d{1,2}(?:[.:]\d{1,3})?>")
# Control characters except the line break (lyrics keep their lines) and the tab.
_CONTROL = re.compile(CONTROL_CHARACTERS.replace(r"\x00-\x1f", r"\x00-\x08\x0b-\x1f"))
# What check_lrc accepts as a time: [m:ss] with one to four digits of minutes, two of seconds, and an
# optional fraction after a dot. parse_lrc reads looser ones ([1:2], [01:02:50]) from files on disk.
_STRICT_TIME = re.compile(r"\[(\d{1,4}):(\d{2})(?:\.(\d{1,3}))?\]")
# A bracket holding digits and no letters, at the start of a line, is meant as a time.
_TIME_LIKE = re.compile(r"\[[^\[\]a-zA-Z]*\d[^\[\]a-zA-Z]*\]")
# [ar:Someone], [offset:+500], [id:abc]...: a header tag, not a line of the lyrics.
_TAG_LINE = re.compile(r"^\[([a-zA-Z#][\w #-]*):([^\]]*)\]$")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029]")


def clean_lyrics(text):
    """Lyrics with "\\n" line ends, no control characters, no trailing spaces, no blank lines at either end."""
    text = text.replace("\ufeff", "").replace("\r\n", "\n")
    for separator in ("\r", "\u2028", "\u2029"):
        text = text.replace(separator, "\n")
    lines = [_CONTROL.sub("", line).rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def parse_lrc(text):
    """(plain text, timed lines) from lyrics text. Timed lines are [(ms, line), ...] sorted by time, or None
    when the text has no time tags (then the plain text is the text itself, cleaned).

    A line may carry several times (a chorus sung twice); `[offset:+500]` means the lines are shown 500 ms
    earlier; `[ar:...]`-style tags and lines without a time are left out of an LRC's plain text.
    """
    text = clean_lyrics(text or "")
    offset = 0
    timed = []
    for line in text.split("\n"):
        if metadata := _METADATA.match(line):
            if metadata.group(1).lower() == "offset":
                offset = _integer(metadata.group(2), default=offset)
            continue
        if match := _TIMES.match(line):
            words = _WORD_TIME.sub("", match.group(2)).strip()
            timed.extend((_ms(*time), words) for time in _TIME.findall(match.group(1)))
    if not timed:
        return text, None
    synced = sorted(((max(0, ms - offset), words) for ms, words in timed), key=lambda entry: entry[0])
    return plain_lyrics(synced), synced


def plain_lyrics(synced):
    """The plain text of timed lines: their words in time order, at most one blank line in a row."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(words for _, words in synced)).strip("\n")


def format_lrc(synced):
    """LRC text of timed lines [(ms, line), ...]: a `[mm:ss.xx]line` per line, "" for none. Times that are
    not whole hundredths keep their milliseconds (`[mm:ss.xxx]`), so that parse_lrc gives the lines back."""
    return "\n".join(f"[{_lrc_time(ms)}]{line}" for ms, line in synced or ())


def _lrc_time(ms):
    minutes, ms = divmod(int(ms), 60_000)
    seconds, ms = divmod(ms, 1000)
    fraction = f"{ms // 10:02}" if ms % 10 == 0 else f"{ms:03}"
    return f"{minutes:02}:{seconds:02}.{fraction}"


def check_lrc(text, *, max_characters=LRC_MAX_CHARACTERS):
    """What is wrong with an LRC text staff give, as [(line number or None for the whole text, message), ...]
    in line order; [] when parse_lrc reads every line of it as meant.

    Strict where parse_lrc is lenient: a time that is not [mm:ss.xx] (or no fraction, or one to three
    digits of it) or has 60 seconds or more, an [offset:] that is not a number, and, when any line is
    timed, a line of words without a time (parse_lrc would leave it out) are each a problem. Blank lines,
    header tags ([ar:], [ti:], ...), several times on a line and times out of order are fine.
    """
    if len(text) > max_characters:
        return [(None, f"The LRC is {len(text):,} characters long; the limit is {max_characters:,}.")]
    problems, untimed = [], []
    meant_timed = written = 0
    for number, line in enumerate(_LINE_BREAK.split(text.replace("\ufeff", "")), start=1):
        line = _CONTROL.sub("", line).strip()
        if not line:
            continue
        written += 1
        if tag := _TAG_LINE.match(line):
            if tag.group(1).lower() == "offset" and not re.fullmatch(r"\s*[+-]?\d+\s*", tag.group(2)):
                problems.append((number, f"{line} is not an offset: write it in milliseconds, like [offset:+500]."))
            continue
        times = _leading_times(line)
        if not times:
            untimed.append((number, f"“{_shortened(line)}” has no time: start the line with one, like [01:02.30]."))
            continue
        meant_timed += 1
        for time in times:
            if not (match := _STRICT_TIME.fullmatch(time)):
                problems.append((number, f"{time} is not a time: write [mm:ss.xx], like [01:02.30]."))
            elif int(match.group(2)) >= 60:
                problems.append((number, f"{time} is not a time: seconds run from 00 to 59."))
    if not written:
        return [(None, "The LRC is empty.")]
    if not meant_timed:
        # Plain lyrics, most likely: one answer, not one per line.
        return [(None, "No line starts with a time, like [01:02.30]: lyrics without times go in the plain lyrics.")] + problems
    if problems or untimed:
        return sorted(problems + untimed, key=lambda problem: problem[0])
    # A line sung several times ([00:10.00][01:10.00]Chorus) is in the plain lyrics as often.
    if len(plain := parse_lrc(text)[0]) > max_characters:
        return [(None, f"Its lines come to {len(plain):,} characters; the limit is {max_characters:,}.")]
    return []


def _leading_times(line):
    """The time-like brackets a line starts with: ["[01:02.30]", "[1:2:3]"] for "[01:02.30] [1:2:3]Words"."""
    times = []
    position = 0
    while match := _TIME_LIKE.match(line, position):
        times.append(match.group())
        position = match.end()
        while position < len(line) and line[position] in " \t":
            position += 1
    return times


def _shortened(line, length=40):
    return line if len(line) <= length else line[: length - 1] + "…"


def sidecar_lyrics(audio_path):
    """(plain, synced or None) from the `.lrc` file with the same stem beside the audio file (the extension in
    any case), or None when there is none, it is too large, or it holds no lyrics."""
    audio_path = Path(audio_path)
    for letters in itertools.product("lL", "rR", "cC"):
        candidate = audio_path.with_name(f"{audio_path.stem}.{''.join(letters)}")
        try:
            status = candidate.stat()
            if not stat.S_ISREG(status.st_mode) or status.st_size > SIDECAR_MAX_BYTES:
                continue
            data = candidate.read_bytes()[:SIDECAR_MAX_BYTES]
        except OSError:
            continue
        plain, synced = parse_lrc(decode_lrc(data))
        if plain or synced:
            return plain, synced
    return None


def decode_lrc(data):
    """The text of an LRC file's bytes: UTF-16 with its byte order mark, UTF-8, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # older LRC editors wrote the system's 8-bit code page


def _ms(minutes, seconds, fraction):
    # ".5" is half a second, ".50" fifty hundredths, ".500" five hundred ms.
    return (int(minutes) * 60 + int(seconds)) * 1000 + int((fraction or "0").ljust(3, "0"))


def _integer(text, default):
    try:
        return int(text.strip())
    except ValueError:
        return default
