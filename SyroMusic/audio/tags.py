"""Tags: what a file says about its song (title, names, numbers, MusicBrainz ids, cover, lyrics), read with
mutagen from each tag family the formats use: ID3 (MP3, WAV), Vorbis comments (FLAC, Ogg Vorbis, Opus),
MP4 atoms (M4A).

Values are cleaned as the catalogue needs them: one-line names (no control characters, no surrounding
white space), numbers that are numbers (else None), MusicBrainz ids that are UUIDs (else None). A tag
with several values gives its first, except names of people, which are joined with ", " (an ID3v2.4 or
Vorbis file may list each artist or composer apart; the catalogue shows one credit line).
"""

import base64
import binascii
import re
import struct
import uuid
from dataclasses import dataclass

import mutagen
from mutagen import flac, id3, mp4, ogg

from SyroMusic.audio.lyrics import clean_lyrics, parse_lrc
from SyroMusic.audio.probe import BadAudio, regular_file_status
from SyroMusic.text import one_line

# Lyrics longer than this are not lyrics (a long song's are a few KB); they are left out.
LYRICS_MAX_CHARS = 200_000
PEOPLE_SEPARATOR = ", "
MUSICBRAINZ_UFID = "UFID:http://musicbrainz.org"  # Picard's frame for the recording id
# What an odd value (or a tag library's surprise at one) raises while it is read.
_ODD = (ValueError, TypeError, KeyError, IndexError, AttributeError, EOFError, struct.error, UnicodeError)
_FRONT_COVER = 3  # the picture type of a front cover, in ID3 and FLAC alike
_NUMBER = re.compile(r"^\s*0*(\d{1,9})\s*(?:/\s*\d*\s*)?$")  # "3", "03", "3/12", "3/"
_YEAR = re.compile(r"^\s*(\d{4})(?:\D|$)")  # "2019", "2019-05-01", "2019-05-01T12:00:00Z"


@dataclass
class Tags:
    title: str = ""
    artist: str = ""
    album_artist: str = ""
    album: str = ""
    disc_number: int | None = None
    track_number: int | None = None
    year: int | None = None
    genre: str = ""
    composer: str = ""
    mb_track_id: str | None = None  # the MusicBrainz recording id, as Picard writes it; canonical UUID text
    mb_album_id: str | None = None
    mb_artist_id: str | None = None
    mb_album_artist_id: str | None = None
    lyrics: str = ""  # plain text, lines kept
    synced_lyrics: list | None = None  # [(ms, line), ...] in time order
    picture: bytes | None = None  # the embedded front cover (or the first picture when none is marked front)


def read_tags(path):
    """The tags of the audio file at `path`. Values that cannot be read are left empty; raises BadAudio only
    when mutagen cannot open the file at all (or it is missing, unreadable, or no regular file)."""
    regular_file_status(path)
    try:
        audio = mutagen.File(path)
    except (*_ODD, mutagen.MutagenError, OSError) as error:
        # mutagen wraps the file's own errors (PermissionError...) in MutagenError.
        cause = error.__cause__ if isinstance(error.__cause__, OSError) else error
        if isinstance(cause, PermissionError):
            raise BadAudio("unreadable: permission denied") from None
        if isinstance(cause, OSError):
            raise BadAudio(f"unreadable: {cause.strerror or cause}") from None
        raise BadAudio(f"not audio: no tags can be read ({error})") from None
    if audio is None:
        raise BadAudio("not audio: no tag reader knows this file")
    found = audio.tags
    if isinstance(found, id3.ID3):
        readers = _id3_readers(found)
    elif isinstance(found, mp4.MP4Tags):
        readers = _mp4_readers(found)
    elif found is not None and isinstance(audio, (flac.FLAC, ogg.OggFileType)):
        readers = _vorbis_readers(found)
    else:
        readers = {}
    if isinstance(audio, flac.FLAC) and audio.pictures:
        readers["picture"] = lambda: _front(audio.pictures) or _front(_vorbis_pictures(found))
    tags = Tags()
    for name, read in readers.items():
        try:
            value = read()
        except _ODD:
            continue  # an odd value is left empty; the other tags still count
        if name == "lyrics":
            tags.lyrics, tags.synced_lyrics = value
        else:
            setattr(tags, name, value)
    return tags


def _id3_readers(frames):
    return {
        "title": lambda: _line(_texts(frames, "TIT2")),
        "artist": lambda: _people(_texts(frames, "TPE1")),
        "album_artist": lambda: _people(_texts(frames, "TPE2")),
        "album": lambda: _line(_texts(frames, "TALB")),
        "disc_number": lambda: _number(_texts(frames, "TPOS")),
        "track_number": lambda: _number(_texts(frames, "TRCK")),
        # mutagen turns ID3v2.3's TYER into TDRC; the others are older files' fallbacks.
        "year": lambda: next(filter(None, (_year(_texts(frames, name)) for name in ("TDRC", "TYER", "TORY", "TDOR"))), None),
        "genre": lambda: _line(frames["TCON"].genres if "TCON" in frames else []),  # "(17)" and "17" become "Rock"
        "composer": lambda: _people(_texts(frames, "TCOM")),
        "mb_track_id": lambda: _uuid(_first([frame.data.decode("ascii") for frame in frames.getall(MUSICBRAINZ_UFID)])),
        "mb_album_id": lambda: _uuid(_txxx(frames, "MusicBrainz Album Id")),
        "mb_artist_id": lambda: _uuid(_txxx(frames, "MusicBrainz Artist Id")),
        "mb_album_artist_id": lambda: _uuid(_txxx(frames, "MusicBrainz Album Artist Id")),
        "picture": lambda: _front(frames.getall("APIC")),
        "lyrics": lambda: _id3_lyrics(frames),
    }


def _id3_lyrics(frames):
    plain, synced = _lyrics(frame.text for frame in frames.getall("USLT"))
    for frame in frames.getall("SYLT"):
        # Type 1 is lyrics (not chords or a transcript); format 2 counts ms (format 1 counts MPEG frames).
        if frame.type == 1 and frame.format == 2 and frame.text:
            synced = sorted((max(0, int(ms)), one_line(line).strip()) for line, ms in frame.text)
            plain = plain or clean_lyrics("\n".join(line for _, line in synced))
            break
    return plain, synced


def _vorbis_readers(comments):
    def values(*names):
        return [value for name in names for value in comments.get(name, [])]

    return {
        "title": lambda: _line(values("TITLE")),
        "artist": lambda: _people(values("ARTIST")),
        "album_artist": lambda: _people(values("ALBUMARTIST", "ALBUM ARTIST", "ALBUM_ARTIST")),
        "album": lambda: _line(values("ALBUM")),
        "disc_number": lambda: _number(values("DISCNUMBER")),
        "track_number": lambda: _number(values("TRACKNUMBER")),
        "year": lambda: _year(values("DATE", "YEAR", "ORIGINALDATE", "ORIGINALYEAR")),
        "genre": lambda: _line(values("GENRE")),
        "composer": lambda: _people(values("COMPOSER")),
        "mb_track_id": lambda: _uuid(_first(values("MUSICBRAINZ_TRACKID"))),
        "mb_album_id": lambda: _uuid(_first(values("MUSICBRAINZ_ALBUMID"))),
        "mb_artist_id": lambda: _uuid(_first(values("MUSICBRAINZ_ARTISTID"))),
        "mb_album_artist_id": lambda: _uuid(_first(values("MUSICBRAINZ_ALBUMARTISTID"))),
        "lyrics": lambda: _lyrics(values("LYRICS", "UNSYNCEDLYRICS", "UNSYNCED LYRICS", "SYNCEDLYRICS")),
        "picture": lambda: _front(_vorbis_pictures(comments)) or _legacy_cover(values("COVERART")),
    }


def _vorbis_pictures(comments):
    pictures = []
    for encoded in comments.get("METADATA_BLOCK_PICTURE", []) if comments is not None else []:
        try:
            pictures.append(flac.Picture(base64.b64decode(encoded)))
        except (*_ODD, binascii.Error, mutagen.MutagenError):
            continue  # a damaged picture is no picture
    return pictures


def _legacy_cover(values):
    # Before METADATA_BLOCK_PICTURE, Ogg files held the image itself in base64 under COVERART.
    try:
        return base64.b64decode(_first(values)) or None
    except binascii.Error:
        return None


def _mp4_readers(atoms):
    def values(name):
        return atoms.get(name, [])

    def free_form(name):
        return _first([bytes(value).decode("utf-8") for value in values(f"----:com.apple.iTunes:{name}")])

    return {
        "title": lambda: _line(values("\xa9nam")),
        "artist": lambda: _people(values("\xa9ART")),
        "album_artist": lambda: _people(values("aART")),
        "album": lambda: _line(values("\xa9alb")),
        "disc_number": lambda: _number([number for number, _total in values("disk")]),
        "track_number": lambda: _number([number for number, _total in values("trkn")]),
        "year": lambda: _year(values("\xa9day")),
        "genre": lambda: _line(values("\xa9gen")),  # mutagen turns the numeric "gnre" atom into this one
        "composer": lambda: _people(values("\xa9wrt")),
        "mb_track_id": lambda: _uuid(free_form("MusicBrainz Track Id")),
        "mb_album_id": lambda: _uuid(free_form("MusicBrainz Album Id")),
        "mb_artist_id": lambda: _uuid(free_form("MusicBrainz Artist Id")),
        "mb_album_artist_id": lambda: _uuid(free_form("MusicBrainz Album Artist Id")),
        "lyrics": lambda: _lyrics(values("\xa9lyr")),
        "picture": lambda: next((bytes(cover) for cover in values("covr") if cover), None),
    }


def _texts(frames, frame_id):
    frame = frames.get(frame_id)
    return [str(text) for text in frame.text] if frame is not None and hasattr(frame, "text") else []


def _txxx(frames, description):
    # Picard writes each id once; ID3v2.3 files join several artists' ids with "/".
    return _first(_texts(frames, f"TXXX:{description}")).split("/")[0]


def _first(values):
    return values[0] if values else ""


def _line(values):
    """The first value that has any text, on one line."""
    for value in values:
        if text := one_line(str(value)).strip():
            return text
    return ""


def _people(values):
    names = []
    for value in values:
        if (name := one_line(str(value)).strip()) and name not in names:
            names.append(name)
    return PEOPLE_SEPARATOR.join(names)


def _number(values):
    """The number before any "/total", when it is a positive whole number; else None."""
    match = _NUMBER.match(str(_first(values)))
    number = int(match.group(1)) if match else 0
    return number if number >= 1 else None


def _year(values):
    match = _YEAR.match(str(_first(values)))
    year = int(match.group(1)) if match else 0
    return year if year >= 1 else None


def _uuid(text):
    try:
        return str(uuid.UUID(text.strip()))
    except (ValueError, AttributeError):
        return None


def _front(pictures):
    """The data of the front cover among pictures (ID3 APIC frames or FLAC pictures), else of the first one."""
    chosen = next((picture for picture in pictures if picture.type == _FRONT_COVER), pictures[0] if pictures else None)
    return bytes(chosen.data) if chosen is not None and chosen.data else None


def _lyrics(texts):
    """(plain, synced or None) from a tag's texts: the first plain text there is, and the first timed lines
    (many taggers store an LRC text in LYRICS or ©lyr)."""
    plain, synced = "", None
    for text in texts:
        if not text or len(text) > LYRICS_MAX_CHARS:
            continue
        text_plain, text_synced = parse_lrc(str(text))
        plain = plain or text_plain
        synced = synced or text_synced
    return plain, synced
