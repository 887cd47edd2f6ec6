"""A listener's history read a page at a time: keyset pages over (started_at, id), newest first.

A page costs the same however deep it is (the index listen_user_recent_idx serves every page, no OFFSET),
and a listen recorded or removed meanwhile neither repeats nor skips a row. The page (`?before=`,
`?after=`) and the API (`?cursor=`) both page through here; their cursors are opaque tokens, and a token
this module did not make is InvalidCursor, never a server error.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q

OLDER = "o"
NEWER = "n"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# direction (API cursors only), microseconds since 1970, id
_TOKEN = re.compile(r"(?:([on])\.)?(-?[0-9]{1,17})\.([0-9]{1,18})")
_BASE64 = re.compile(r"[A-Za-z0-9_-]{1,80}")
# datetime's own bounds (years 1-9999), in microseconds since 1970
_MICROS = (-62_135_596_800_000_000, 253_402_300_799_999_999)


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Position:
    started_at: datetime
    id: int

    @classmethod
    def of(cls, listen):
        return cls(listen.started_at, listen.pk)


def encode(position, direction=None):
    """An opaque token for a position (and, for the API's single cursor, the direction to walk from it)."""
    micros = (position.started_at - _EPOCH) // timedelta(microseconds=1)
    raw = f"{direction}.{micros}.{position.id}" if direction else f"{micros}.{position.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token, *, with_direction=False):
    """(direction or None, Position) of a token made by encode(); InvalidCursor for anything else."""
    if not _BASE64.fullmatch(token):
        raise InvalidCursor(token)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor(token) from None
    match = _TOKEN.fullmatch(raw)
    if match is None or bool(match[1]) != with_direction:
        raise InvalidCursor(token)
    micros = int(match[2])
    if not _MICROS[0] <= micros <= _MICROS[1]:
        raise InvalidCursor(token)
    return match[1], Position(_EPOCH + timedelta(microseconds=micros), int(match[3]))


@dataclass
class Page:
    rows: list
    has_older: bool
    has_newer: bool

    @property
    def older(self):
        """The position to read older listens from (the last row), or None when there are none."""
        return Position.of(self.rows[-1]) if self.has_older and self.rows else None

    @property
    def newer(self):
        return Position.of(self.rows[0]) if self.has_newer and self.rows else None


def page(listens, *, size, older_than=None, newer_than=None):
    """One page of `listens` (a Listen queryset, already filtered to one listener), newest first: the
    newest `size`, or the `size` just older than `older_than`, or just newer than `newer_than`. One query."""
    if newer_than is not None:
        at, pk = newer_than.started_at, newer_than.id
        # The started_at bound alone lets the index start at the position; the OR settles ties by id.
        rows = list(
            listens.filter(started_at__gte=at)
            .filter(Q(started_at__gt=at) | Q(id__gt=pk))
            .order_by("started_at", "id")[: size + 1]
        )
        has_newer = len(rows) > size
        rows = rows[:size]
        rows.reverse()
        return Page(rows, has_older=True, has_newer=has_newer)
    if older_than is not None:
        at, pk = older_than.started_at, older_than.id
        listens = listens.filter(started_at__lte=at).filter(Q(started_at__lt=at) | Q(id__lt=pk))
    rows = list(listens.order_by("-started_at", "-id")[: size + 1])
    return Page(rows[:size], has_older=len(rows) > size, has_newer=older_than is not None)


def heard_when(started_at, zone, now):
    """When a listen started, as its listener reads it in their own time zone: "Today 21:04",
    "Yesterday 08:10", else "25 Nov 2026 21:04"."""
    local = started_at.astimezone(zone)
    today = now.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return f"Today {clock}"
    if local.date() == today - timedelta(days=1):
        return f"Yesterday {clock}"
    return f"{local.day} {local:%b %Y} {clock}"
