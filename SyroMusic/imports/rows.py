"""CSV files of the import formats: reading them line by line, and checking and parsing their rows.

Nothing here touches the database: a file is checked in full before an
import writes anything.
"""

import csv
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from SyroMusic.text import first_control_character

CATALOGUE_COLUMNS = [
    "artist", "album", "title", "disc_number", "track_number", "duration_ms", "genre", "composer",
    "release_year", "explicit",
]
# Not in the original format: the album's artist when it differs from the song's (compilations).
CATALOGUE_EXTRA_COLUMNS = ["album_artist"]
CATALOGUE_REQUIRED = {"artist", "album", "title"}

PLAYLIST_COLUMNS = ["playlist", "position", "artist", "album", "title", "disc_number", "track_number"]
PLAYLIST_REQUIRED = {"playlist", "position", "artist", "album", "title"}

CHUNK_ROWS = 2000
MAX_REPORTED_ERRORS = 1000
# Column names a header error lists at most: a header of 60,000 columns is summed up, not echoed.
MAX_NAMED_COLUMNS = 10
SMALLINT_MAX = 32767
INT_MAX = 2_147_483_647
TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}


class ImportFailed(Exception):
    """The file was not imported; `report.errors` says which lines were wrong and why."""

    def __init__(self, report):
        self.report = report
        super().__init__(f"{len(report.errors)} bad row(s)")


@dataclass
class ImportReport:
    rows: int = 0
    counts: dict = field(default_factory=lambda: defaultdict(int))
    errors: list = field(default_factory=list)
    error_count: int = 0
    dry_run: bool = False

    def error(self, line, message):
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line, message))


class RowError(ValueError):
    pass


class NotUtf8(ValueError):
    def __init__(self, line):
        self.line = line
        super().__init__(f"line {line} is not valid UTF-8")


def utf8_lines(binary_file):
    """Decode a file line by line, so a bad byte is reported on its own line (a byte order mark is allowed)."""
    for number, raw in enumerate(binary_file, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise NotUtf8(number) from None


@dataclass
class CatalogueRow:
    line: int
    artist: str
    album_artist: str
    album: str
    title: str
    disc_number: int
    track_number: int | None
    duration_ms: int | None
    genre: str
    composer: str
    release_year: int | None
    explicit: bool | None
    # MusicBrainz ids: the CSV format has none, a library scan reads them from tags. A row that
    # carries one is matched by it before the name rules, and gives it to what it matched or created.
    artist_mbid: uuid.UUID | None = None
    album_artist_mbid: uuid.UUID | None = None
    album_mbid: uuid.UUID | None = None
    mbid: uuid.UUID | None = None


@dataclass
class PlaylistRow:
    line: int
    playlist: str
    position: int
    artist: str
    album: str
    title: str
    disc_number: int | None
    track_number: int | None


def read_csv(lines, *, columns, required, extra=(), report):
    """Yield (line number, {column: stripped value}) for each record; header and shape problems go to `report`.

    Line numbers are the file's own, counting the header as line 1, so a
    quoted field spanning lines does not shift the ones after it.
    """
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        report.error(1, "the file is empty: expected a header row")
        return
    except NotUtf8:
        report.error(1, "not valid UTF-8 text (save the file as UTF-8)")
        return
    except csv.Error as error:
        report.error(1, f"cannot read the header: {error}")
        return
    header = [name.strip().lower() for name in header]
    known = {*columns, *extra}
    unknown = [name for name in header if name not in known]
    missing = sorted(required - set(header))
    # Counted once: asking each name how often it occurs would take time growing with the square of the width.
    duplicated = sorted(name for name, count in Counter(header).items() if count > 1)
    if unknown or missing or duplicated:
        problems = []
        if missing:
            problems.append("missing column(s) " + ", ".join(missing))
        if unknown:
            problems.append("unknown column(s) " + _some(unknown))
        if duplicated:
            problems.append("repeated column(s) " + _some(duplicated))
        report.error(1, "; ".join(problems) + f". Expected: {','.join(columns)}")
        return
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except NotUtf8 as error:
            report.error(error.line, "not valid UTF-8 text (save the file as UTF-8)")
            return
        except csv.Error as error:
            report.error(start, f"malformed CSV: {error}")
            return
        line = start
        if not any(value.strip() for value in values):
            continue  # blank line
        if len(values) != len(header):
            report.error(line, f"expected {len(header)} fields, found {len(values)}")
            continue
        yield line, {name: value.strip() for name, value in zip(header, values, strict=True)}


def _some(names):
    """Names for a message: the first few, and how many more."""
    listed = ", ".join(repr(name) if not name or first_control_character(name) else name for name in names[:MAX_NAMED_COLUMNS])
    return listed + (f" and {len(names) - MAX_NAMED_COLUMNS:,} more" if len(names) > MAX_NAMED_COLUMNS else "")


def _text(record, name, max_length, required=False):
    value = record.get(name, "")
    if required and not value:
        raise RowError(f"{name} is required")
    if len(value) > max_length:
        raise RowError(f"{name} is longer than {max_length} characters")
    character = first_control_character(value)
    if character is not None:
        raise RowError(f"{name} holds a control character (U+{ord(character):04X}): names and titles are one line of text")
    return value


def _whole_number(record, name, minimum, maximum):
    value = record.get(name, "")
    if value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise RowError(f"{name} {value!r} is not a whole number") from None
    if not minimum <= number <= maximum:
        raise RowError(f"{name} {number} is out of range ({minimum} to {maximum})")
    return number


def _flag(record, name):
    value = record.get(name, "").lower()
    if value == "":
        return None
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise RowError(f"{name} {record[name]!r} is not true/false, yes/no or 1/0")


def parse_catalogue_row(line, record):
    artist = _text(record, "artist", 200, required=True)
    return CatalogueRow(
        line=line,
        artist=artist,
        album_artist=_text(record, "album_artist", 200) or artist,
        album=_text(record, "album", 300, required=True),
        title=_text(record, "title", 300, required=True),
        disc_number=_whole_number(record, "disc_number", 1, SMALLINT_MAX) or 1,
        track_number=_whole_number(record, "track_number", 1, SMALLINT_MAX),
        duration_ms=_whole_number(record, "duration_ms", 0, INT_MAX),
        genre=_text(record, "genre", 100),
        composer=_text(record, "composer", 300),
        release_year=_whole_number(record, "release_year", 1000, 2999),
        explicit=_flag(record, "explicit"),
    )


def parse_playlist_row(line, record):
    position = _whole_number(record, "position", 1, INT_MAX)
    if position is None:
        raise RowError("position is required")
    return PlaylistRow(
        line=line,
        playlist=_text(record, "playlist", 200, required=True),
        position=position,
        artist=_text(record, "artist", 200, required=True),
        album=_text(record, "album", 300, required=True),
        title=_text(record, "title", 300, required=True),
        disc_number=_whole_number(record, "disc_number", 1, SMALLINT_MAX),
        track_number=_whole_number(record, "track_number", 1, SMALLINT_MAX),
    )


def check_rows(path, *, columns, required, extra=(), parse, report, progress=None):
    """First pass: parse every row, recording each bad one. Returns the number of good rows."""
    good = 0
    with open(path, "rb") as file:
        for line, record in read_csv(utf8_lines(file), columns=columns, required=required, extra=extra, report=report):
            report.rows += 1
            try:
                parse(line, record)
                good += 1
            except RowError as error:
                report.error(line, str(error))
            if progress:
                progress(1)
    return good


def parsed_rows(path, *, columns, required, extra=(), parse):
    """Second pass over a file that check_rows found clean."""
    report = ImportReport()
    with open(path, "rb") as file:
        for line, record in read_csv(utf8_lines(file), columns=columns, required=required, extra=extra, report=report):
            yield parse(line, record)
