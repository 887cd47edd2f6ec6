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
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction

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


# A logged-in request's user, kept in the cache (one round trip) instead of read from the database (a query:
# 0.6 ms of a listener's 3 ms list page). Any save or delete of the user marks it unkept (forget_user) for
# FORGOTTEN_SECONDS, once at once and again on commit, and a kept row is only ever added where none is: a
# request that read the row just before a change commits cannot put the old one back. Only where the cache
# is shared by every process (settings.USER_CACHE_SECONDS is 0 without Redis): a per-process cache cannot
# forget another process's copy.
FORGOTTEN_SECONDS = 10
_FORGOTTEN = "forgotten"


def user_key(pk):
    return f"auth-user:{pk}"


def kept_user(pk, load):
    """The user `pk` as load() reads it from the database (None if there is none), kept for
    settings.USER_CACHE_SECONDS."""
    seconds = settings.USER_CACHE_SECONDS
    if not seconds:
        return load()
    model = get_user_model()
    names = tuple(field.attname for field in model._meta.concrete_fields)  # a changed model reads afresh
    key = user_key(pk)
    kept = cache.get(key)
    if kept is not None and kept != _FORGOTTEN and kept[0] == names:
        user = model.from_db(DEFAULT_DB_ALIAS, names, kept[1])
        return user
    user = load()
    if user is not None and user.pk == pk:
        cache.add(key, (names, tuple(getattr(user, name) for name in names)), timeout=seconds)
    return user


class _ForgetUsers(OnCommitOnce):
    def run(self, pks):
        if pks:
            cache.set_many({user_key(pk): _FORGOTTEN for pk in pks}, timeout=FORGOTTEN_SECONDS)


def forget_user(pk):
    """The user `pk` changed (or is gone): read from the database from now on (kept_user)."""
    if settings.USER_CACHE_SECONDS and pk is not None:
        _ForgetUsers({pk}).run({pk})  # at once: no request of another process reads the old one from here on
        _ForgetUsers.add(pk)  # and once the change commits, over a copy added in between
