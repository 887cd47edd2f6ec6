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
import secrets
import tempfile
import time

from django.conf import settings
from django.contrib.auth import get_user_model
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


# A logged-in request's user, kept in the cache instead of read from the database (a query: 0.6 ms of a
# listener's 3 ms list page), for settings.USER_CACHE_SECONDS (0 without Redis: a per-process cache could not
# be told of a change made in another process). Each user has a generation in the cache; any save or delete
# of the user gives it a new one once the change commits (forget_user), and a kept row is used only under
# the generation it was read at. The generation is read with the row, in one round trip, before a miss reads
# the database, so a request that read the old row just before a change commits keeps it under the old
# generation, where nobody uses it; an evicted generation is made afresh, which retires every kept row.


def user_key(pk):
    return f"auth-user:{pk}"


def user_generation_key(pk):
    return f"auth-user-generation:{pk}"


def kept_user(pk, load):
    """The user `pk` as load() reads it from the database (None if there is none), kept for
    settings.USER_CACHE_SECONDS while nothing changes it."""
    seconds = settings.USER_CACHE_SECONDS
    if not seconds:
        return load()
    model = get_user_model()
    fields = model._meta.concrete_fields
    # What the kept values are: another model (a migration deployed since) reads afresh.
    shape = tuple((field.attname, type(field).__name__) for field in fields)
    generation_key, key = user_generation_key(pk), user_key(pk)
    found = cache.get_many([generation_key, key])
    generation, kept = found.get(generation_key), found.get(key)
    if generation is not None and kept is not None and kept[0] == generation and kept[1] == shape:
        return model.from_db(kept[2], [name for name, _ in shape], kept[3])
    if generation is None:
        generation = _new_generation()
        if not cache.add(generation_key, generation, timeout=None):
            return load()  # made by another request just now, or the cache is unreachable: keep nothing
    user = load()
    if user is not None and user.pk == pk:
        cache.set(key, (generation, shape, user._state.db, tuple(getattr(user, name) for name, _ in shape)), seconds)
    return user


def _new_generation():
    return secrets.randbits(62)  # never one a kept row has, but once in 2**62


class _ForgetUsers(OnCommitOnce):
    def run(self, pks):
        cache.set_many({user_generation_key(pk): _new_generation() for pk in pks}, timeout=None)


def forget_user(pk):
    """The user `pk` changed (or is gone): no kept copy of them is used from now on (kept_user), nor one read
    before the change commits. With Redis whatever this process's USER_CACHE_SECONDS: others may keep users."""
    if pk is None or not (settings.USER_CACHE_SECONDS or not settings.CACHE_VERSIONS_DIR):
        return
    _ForgetUsers({pk}).run({pk})  # at once: the next request of this transaction (or test) sees the change
    if transaction.get_connection().in_atomic_block:
        _ForgetUsers.add(pk)  # and when it commits, over rows read from the database until then
