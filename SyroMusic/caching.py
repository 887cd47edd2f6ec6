"""Versions of what the pages show, and values remembered until their version changes.

Every cached page, count or API answer is keyed by *versions*: one for the catalogue (genres,
artists, albums, songs) and one for playlists. Any write bumps the version it touches (after its
transaction commits), so the next request of every affected page misses the cache. Nothing stays
stale for 15 minutes. The page cache itself (what is stored, for whom) is SyroMusic.web.page_cache.

The versions live in Redis when it is configured: one shared place for every process of every
machine. The in-memory cache is per process, so then they live in small files instead
(settings.CACHE_VERSIONS_DIR): a server and `import_catalogue` run in another terminal, or several
server processes, agree on what is stale, and the next request shows every write.
"""

import hashlib
import os
import tempfile
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

CATALOGUE = "catalogue"
PLAYLISTS = "playlists"
AREAS = (CATALOGUE, PLAYLISTS)


def version_key(area):
    return f"version:{area}"


def versions(areas=AREAS):
    """The current version of each area, creating any that is missing (first use, or evicted)."""
    if settings.CACHE_VERSIONS_DIR:
        return tuple(_file_version(area) for area in areas)
    keys = [version_key(area) for area in areas]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            # A fresh value, never an old one, so pages cached before an eviction are not reused.
            cache.add(key, time.time_ns(), timeout=None)
            found[key] = cache.get(key)
    return tuple(found[key] for key in keys)


class OnCommitOnce:
    """An on-commit callback that gathers what one transaction's writes name, and runs once on all of it when
    the transaction commits (at once outside one): deleting a 3,000-entry playlist bumps once, not 3,000
    times. A subclass says what to do with the items (run)."""

    def __init__(self, items):
        self.items = set(items)

    def __call__(self):
        self.run(self.items)

    def run(self, items):
        raise NotImplementedError

    @classmethod
    def add(cls, *items):
        connection = transaction.get_connection()
        if connection.in_atomic_block:
            for _savepoints, callback, _robust in connection.run_on_commit:
                if type(callback) is cls:
                    callback.items.update(items)
                    return
        transaction.on_commit(cls(items))


class _Bump(OnCommitOnce):
    @property
    def areas(self):
        return self.items

    def run(self, areas):
        if settings.CACHE_VERSIONS_DIR:
            for area in areas:
                _write_file_version(area)
        else:
            cache.set_many({version_key(area): time.time_ns() for area in areas}, timeout=None)


def _file_version(area):
    try:
        with open(os.path.join(settings.CACHE_VERSIONS_DIR, area), encoding="ascii") as file:
            return int(file.read())
    except (FileNotFoundError, ValueError):
        return _write_file_version(area)


def _write_file_version(area):
    """A fresh version, written whole or not at all (a reader never sees half a number)."""
    version = time.time_ns()
    os.makedirs(settings.CACHE_VERSIONS_DIR, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=settings.CACHE_VERSIONS_DIR, prefix=f".{area}-")
    with os.fdopen(handle, "w", encoding="ascii") as file:
        file.write(str(version))
    os.replace(temporary, os.path.join(settings.CACHE_VERSIONS_DIR, area))
    return version


def bump(*areas):
    """Mark areas changed once the current transaction commits (immediately outside one)."""
    _Bump.add(*areas)


def remember(name, areas, compute):
    """compute(), kept in the cache until one of the areas changes. Not kept when a version could not be
    read (the cache unreachable): a value kept under no version would be read again after any change."""
    current = versions(areas)
    if None in current:
        return compute()
    key = f"{name}:{'-'.join(map(str, current))}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=settings.PAGE_CACHE_SECONDS)
    return value


def cached_count(queryset, areas=AREAS, counter=None):
    """The size of a queryset (`counter(queryset)`, by default its COUNT(*)), remembered until the areas change."""
    query = queryset.query
    if not query.where and not query.distinct and not query.combinator and query.low_mark == 0 and query.high_mark is None:
        # A whole table, however it is ordered or joined: no need to write its SQL out to name it.
        digest = f"all:{queryset.db}:{queryset.model._meta.label}"
    else:
        sql, params = query.sql_with_params()
        digest = hashlib.sha256(f"{queryset.model._meta.label}|{sql}|{params!r}".encode()).hexdigest()
    counter = counter or type(queryset).count
    return remember(f"count:{counter.__qualname__}:{digest}", areas, lambda: counter(queryset))
