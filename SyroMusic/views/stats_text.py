"""The stats page's top lists and month table as text, ready for the template.

The page links some 90 songs, albums and artists and writes some 400 numbers: with a reverse() per link and
the intcomma and pluralize filters per number, the template spent longer on them than the database on the
figures (issue 15). Here each kind's address is reversed once per page and the numbers are written the way
those filters write them in English."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils import dateformat

from SyroMusic.models import url_maker

LISTENS = ("listen", "listens")
MINUTES = ("minute", "minutes")


def grouped(value):
    """An integer as the intcomma filter writes it in English: 12,345."""
    return f"{value:,}"


def with_unit(value, unit):
    """An integer and its unit, (singular, plural), as `{{ value|intcomma }} unit{{ value|pluralize }}`: 1 listen,
    12,345 listens."""
    return f"{value:,} {unit[0] if value == 1 else unit[1]}"


@dataclass(frozen=True)
class Row:
    """A song, album or artist (SyroMusic.listening.stats.Ranked) in a list: its page, name and figures; a
    song's or an album's artist too."""

    url: str
    name: str
    listens: str  # with the unit: "3 listens"
    minutes: str
    artist_url: str | None
    artist_name: str | None


@dataclass(frozen=True)
class MonthRow:
    label: str  # "March 2026"
    minutes: str
    listens: str
    top_artist: Row | None
    top_song: Row | None


def stats_rows(stats):
    """The template's top_songs, top_albums, top_artists (Rows) and months (MonthRows) of `stats`."""
    urls = {
        kind: url_maker(lambda id, kind=kind: reverse(f"music:{kind}-detail", args=[id]))
        for kind in ("song", "album", "artist")
    }

    def row(ranked):
        if ranked is None:
            return None
        return Row(
            url=urls[ranked.kind](ranked.id), name=ranked.name,
            listens=with_unit(ranked.listens, LISTENS), minutes=grouped(ranked.minutes),
            artist_url=None if ranked.artist_id is None else urls["artist"](ranked.artist_id),
            artist_name=ranked.artist_name,
        )

    return {
        "top_songs": [row(song) for song in stats.top_songs],
        "top_albums": [row(album) for album in stats.top_albums],
        "top_artists": [row(artist) for artist in stats.top_artists],
        "months": [
            MonthRow(
                label=dateformat.format(month.first_day, "F Y"), minutes=grouped(month.minutes),
                listens=grouped(month.listens), top_artist=row(month.top_artist), top_song=row(month.top_song),
            )
            for month in stats.months
        ],
    }
