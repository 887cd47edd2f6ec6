"""A deterministic demo catalogue of any size, written in bounded memory.

Rows are generated on the fly, album by album, from a random generator seeded
with the album's number, and written in batches: COPY on PostgreSQL,
executemany elsewhere. Nothing proportional to the number of songs is held
in memory, so a million songs need no more memory than a thousand.
"""

import datetime
import os
import random
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import caching
from .audio.artwork import draw_album_cover
from .audio.covers import store_cover
from .listening import record
from .models import (
    Album,
    Artist,
    AudioFile,
    Collaborator,
    Genre,
    Like,
    Listen,
    ListenAlbumTally,
    ListenArtistTally,
    ListenDay,
    ListenMonth,
    ListenTally,
    Playlist,
    PlaylistEntry,
    PlayQueue,
    Profile,
    Share,
    Song,
    make_slug,
    make_sort_name,
    no_listen_uniques,
)
from .search import search_indexes_set_aside

GENRES = [
    "Afrobeat", "Ambient", "Blues", "Bossa Nova", "Chanson", "Classical", "Country", "Disco", "Drum & Bass",
    "Electronic", "Fado", "Flamenco", "Folk", "Funk", "Gospel", "Hip-Hop", "House", "Indie", "J-Pop", "Jazz",
    "K-Pop", "Latin", "Metal", "Pop", "Punk", "R&B", "Reggae", "Rock", "Samba", "Soul", "Soundtrack", "Techno",
]
FIRST_NAMES = [
    "Ada", "Amara", "Ana", "Anders", "Aoife", "Arjun", "Astrid", "Beatriz", "Björn", "Camille", "Chloé", "Dmitri",
    "Elena", "Emeka", "Erik", "Fatima", "François", "Giulia", "Hana", "Hugo", "Ingrid", "Isabel", "Jamal", "Jana",
    "João", "José", "Kai", "Kenji", "Lars", "Lea", "Leila", "Lucía", "Malik", "Marta", "Mateo", "Mei", "Mika",
    "Nadia", "Niamh", "Noah", "Olga", "Omar", "Óscar", "Paulo", "Priya", "Rafael", "Rosa", "Ruth", "Sade", "Saoirse",
    "Sofia", "Søren", "Tariq", "Thandiwe", "Tomás", "Ulla", "Valentina", "Wen", "Yara", "Yusuf", "Zoë", "Zoltán",
]
LAST_NAMES = [
    "Abara", "Almeida", "Andersson", "Bakker", "Banerjee", "Bianchi", "Brennan", "Castillo", "Chen", "Dubois",
    "Dvořák", "Eriksen", "Fernández", "Fischer", "García", "Gilberto", "Haddad", "Hansen", "Ivanova", "Jansen",
    "Kowalski", "Kuznetsov", "Larsen", "Lindqvist", "López", "Martins", "Moreau", "Müller", "Nakamura", "Nowak",
    "Nyström", "Okafor", "Olsen", "Park", "Pereira", "Petrov", "Quinn", "Rahman", "Rossi", "Sato", "Schmidt",
    "Silva", "Søndergaard", "Tanaka", "Traoré", "Van Dijk", "Virtanen", "Wójcik", "Yilmaz", "Zhang",
]
ADJECTIVES = [
    "Amber", "Ancient", "Bitter", "Black", "Blue", "Broken", "Burning", "Crimson", "Crystal", "Dark", "Distant",
    "Electric", "Empty", "Endless", "Fading", "Falling", "Frozen", "Golden", "Hidden", "Hollow", "Iron", "Last",
    "Lonely", "Lost", "Lunar", "Midnight", "Neon", "Northern", "Pale", "Quiet", "Restless", "Rusty", "Sacred",
    "Scarlet", "Secret", "Silent", "Silver", "Slow", "Solar", "Static", "Sweet", "Velvet", "Violet", "Wild",
    "Wooden", "Young",
]
NOUNS = [
    "Anchor", "Arrow", "Bird", "Bridge", "Canyon", "Cathedral", "City", "Cloud", "Comet", "Crow", "Dancer",
    "Desert", "Dream", "Echo", "Engine", "Feather", "Fire", "Garden", "Ghost", "Harbour", "Heart", "Highway",
    "Horizon", "Island", "Lantern", "Lion", "Machine", "Mirror", "Moon", "Mountain", "Ocean", "Orchid", "Owl",
    "Parade", "Pilot", "Prophet", "Radio", "River", "Rose", "Sailor", "Shadow", "Signal", "Sparrow", "Star",
    "Storm", "Stranger", "Summer", "Tide", "Tiger", "Train", "Valley", "Wave", "Whale", "Window", "Wolf",
]
# Real-world flavour for the non-ASCII cases search and sorting must handle.
FOREIGN_TITLES = [
    "Canção do Mar", "Saudade", "Für immer", "Sommarnatt", "Café Noir", "Ночь", "Кукушка", "夜明け", "東京の雨",
    "Corazón", "Mañana", "Élégie", "Čas", "Ölüdeniz", "Ἀνάμνηση", "Żegnaj", "Smörgåsbord", "Ça plane",
    "Niño del Sol", "Água de Beber", "Øresund", "Þögn", "Lágrimas", "Über den Wolken", "사랑", "Dès l'aube",
]
BAND_SUFFIXES = ["Collective", "Trio", "Quartet", "Orchestra", "Ensemble", "Project", "Society", "Band"]
COUNTRIES = ["GB", "US", "SE", "NO", "FR", "DE", "BR", "PT", "ES", "JP", "KR", "NG", "IE", "IS", "PL", "RU", "IT"]
LABELS = ["Northern Lights Records", "Harbour Sound", "Blue Ember", "Kōfuku Music", "Selo Atlântico", "Mørk Plader"]
PLAYLIST_DESCRIPTIONS = [
    "For long drives.", "Late-night listening.", "Sunday morning coffee.", "Running, fast.", "Rainy days.",
    "Dinner with friends.", "Deep focus.", "Summer 2024.", "",
]
TITLE_WORDS = ["Away", "Home", "Tonight", "Forever", "Again", "Alone", "Together", "Tomorrow", "Yesterday"]

EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


# Everything a seed writes, and so what --flush empties and what "the catalogue has data" means; with the
# songs' audio files (rows only: the files stay where they are), which reference the songs; and listeners'
# likes, play queues and listens (with their rollups), which name songs too (a flush starts ids again, so a
# queue or a history kept would name new songs).
CATALOGUE_MODELS = [
    Share, Collaborator, PlaylistEntry, Playlist, Like, PlayQueue, ListenTally, ListenAlbumTally, ListenArtistTally,
    ListenDay, ListenMonth, Listen, AudioFile, Song,
    Album.genres.through, Album, Artist, Genre,
]


def catalogue_has_data():
    return any(model.objects.exists() for model in CATALOGUE_MODELS)


def plan_sizes(*, songs, artists=None, albums=None, playlists=None, users=None):
    """The other counts follow from the number of songs (a million songs: 20,000 artists, 100,000 albums)."""
    albums = min(albums or max(1, songs // 10), songs)
    artists = artists or max(2, songs // 50)
    playlists = playlists if playlists is not None else max(1, songs // 100)
    users = users or max(3, playlists // 20)
    return {"songs": songs, "artists": artists, "albums": albums, "playlists": playlists, "users": users}


def progress_total(sizes):
    """The rows a seed counts on its progress: artists, albums, songs and playlists (not genres, users or entries)."""
    return sizes["artists"] + sizes["albums"] + sizes["songs"] + sizes["playlists"]


def demo_catalogue_seed(*, sizes, seed=1, batch_size=5000, flush=False, progress=None):
    """Write a demo catalogue of `sizes` (see plan_sizes) into empty catalogue tables; `flush` empties them first.

    The same sizes and seed give the same catalogue. `progress` is a tqdm-like
    bar (update, set_description). Returns the number of playlist entries written.
    """
    if progress is None:
        progress = _NoProgress()
    writer = DemoCatalogueWriter(seed=seed, batch_size=batch_size, progress=progress)
    with transaction.atomic():
        if flush:
            writer.flush(CATALOGUE_MODELS)
            # The listens are gone and their ids start again: no listener waits for any to be added to
            # rollups, and no 12 months' window is built any more.
            Profile.objects.update(pending_listens=[], listens_window=0, listen_uniques=no_listen_uniques())
        with search_indexes_set_aside([Artist, Album, Song, Playlist]):
            writer.write_genres()
            writer.write_artists(sizes)
            writer.write_albums_and_songs(sizes)
            user_ids = writer.ensure_users(sizes["users"])
            entry_count = writer.write_playlists(sizes, user_ids)
            progress.set_description("search indexes")
        writer.reset_sequences(CATALOGUE_MODELS)
        caching.bump(*caching.AREAS)  # raw writes send no model signals
    if connection.vendor == "postgresql":
        # Fresh statistics for the planner, and a visibility map so index-only scans work at
        # once (VACUUM cannot run inside a caller's transaction: then statistics only).
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            for model in CATALOGUE_MODELS:
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
    return entry_count


# Demo covers are drawn at the middle size pages show (cards); the album page scales it up. At 600 pixels
# a cover costs about four times as much to draw and store, and `make run` waits for every album's.
DEMO_COVER_SIZE = 300
COVER_BATCH = 200


def demo_covers_add(*, size=DEMO_COVER_SIZE, workers=None, progress=None):
    """Give every album without a cover (own or linked) a drawn one (audio.artwork: a design from its id, its
    title and artist on it), stored as any cover is (audio.covers). Draws in `workers` threads (default: one
    per CPU; Pillow releases the GIL while it encodes). Returns the number of albums given a cover."""
    if progress is None:
        progress = _NoProgress()
    albums = Album.objects.filter(cover_hash="", cover_url="").order_by("id").values_list("id", "title", "artist__name")
    given = 0

    def draw(row):
        album_id, album_title, artist = row
        return Album(id=album_id, cover_hash=store_cover(draw_album_cover(album_id, album_title, artist, size=size)))

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        rows = iter(list(albums))  # read first: the batches write to the table being read
        while batch := list(islice(rows, COVER_BATCH)):
            covered = list(pool.map(draw, batch))
            Album.objects.bulk_update(covered, ["cover_hash"])
            given += len(covered)
            progress.update(len(covered))
    if given:
        caching.bump(caching.CATALOGUE)  # bulk_update sends no model signals
    return given


class _NoProgress:
    def update(self, count):
        pass

    def set_description(self, description):
        pass


class NameMaker:
    """Unique, realistic names: artists, users and (per owner) playlists never repeat.

    A name already taken first gets a band-style suffix (when `suffixes` are given),
    then a number, as record shops file two different bands called "Nova".
    """

    def __init__(self, suffixes=(), number_format=" ({})"):
        self.used = set()
        self.suffixes = suffixes
        self.number_format = number_format

    def unique(self, candidate, rng, scope=None):
        name = candidate
        if (scope, name) in self.used and self.suffixes:
            name = f"{candidate} {rng.choice(self.suffixes)}"
        base, number = name, 2
        while (scope, name) in self.used:
            name = base + self.number_format.format(number)
            number += 1
        self.used.add((scope, name))
        return name


def artist_name(rng):
    pattern = rng.random()
    if pattern < 0.35:
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    if pattern < 0.6:
        return f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}s"
    if pattern < 0.75:
        return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    if pattern < 0.85:
        return f"{rng.choice(FIRST_NAMES)} & the {rng.choice(NOUNS)}s"
    if pattern < 0.93:
        return f"{rng.choice(NOUNS)} {rng.choice(NOUNS)}"
    return rng.choice(FOREIGN_TITLES)


def title(rng):
    pattern = rng.random()
    if pattern < 0.3:
        return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    if pattern < 0.45:
        return f"{rng.choice(NOUNS)} of the {rng.choice(NOUNS)}"
    if pattern < 0.6:
        return f"{rng.choice(NOUNS)} {rng.choice(TITLE_WORDS)}"
    if pattern < 0.72:
        return f"The {rng.choice(NOUNS)}"
    if pattern < 0.85:
        return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}s"
    return rng.choice(FOREIGN_TITLES)


class DemoCatalogueWriter:
    """Generates the demo rows and writes them, batch by batch, with explicit ids (the tables start empty)."""

    def __init__(self, *, seed, batch_size, progress):
        self.seed = seed
        self.batch_size = batch_size
        self.progress = progress

    def flush(self, models):
        tables = [model._meta.db_table for model in models]
        statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=True)
        if connection.vendor == "postgresql":
            # TRUNCATE refuses tables with deferred foreign-key checks still pending in the
            # transaction (rows written earlier in it): run those checks now.
            statements = ["SET CONSTRAINTS ALL IMMEDIATE", *statements, "SET CONSTRAINTS ALL DEFERRED"]
        connection.ops.execute_sql_flush(statements)

    def reset_sequences(self, models):
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)

    def write_rows(self, model, columns, rows, count_progress=True):
        """Write an iterable of row tuples in batches; ids are given explicitly (the tables start empty)."""
        table = connection.ops.quote_name(model._meta.db_table)
        column_list = ", ".join(connection.ops.quote_name(column) for column in columns)
        rows = iter(rows)
        written = 0
        with connection.cursor() as cursor:
            while batch := list(islice(rows, self.batch_size)):
                if connection.vendor == "postgresql":
                    with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
                else:
                    placeholders = ", ".join(["%s"] * len(columns))
                    cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", batch)
                written += len(batch)
                if count_progress:
                    self.progress.update(len(batch))
        return written

    def when(self, minutes):
        return connection.ops.adapt_datetimefield_value(EPOCH + datetime.timedelta(minutes=minutes))

    def write_genres(self):
        rows = [(number, name, make_slug(name, 100)) for number, name in enumerate(GENRES, start=1)]
        self.write_rows(Genre, ["id", "name", "slug"], rows, count_progress=False)

    def write_artists(self, sizes):
        names = NameMaker(suffixes=BAND_SUFFIXES)

        def rows():
            for artist_id in range(1, sizes["artists"] + 1):
                rng = random.Random(self.seed * 7_919 + artist_id)
                # Artist 1 is the album artist of compilations, as in real catalogues.
                name = "Various Artists" if artist_id == 1 else names.unique(artist_name(rng), rng)
                country = "" if artist_id == 1 else rng.choice(COUNTRIES)
                year = None if artist_id == 1 else rng.randint(1955, 2022)
                bio = "" if artist_id == 1 else f"{name} formed in {year}."
                yield (
                    artist_id, name, make_sort_name(name), make_slug(name), country, year, bio, "",
                    self.when(artist_id),
                )

        self.progress.set_description("artists")
        self.write_rows(
            Artist,
            ["id", "name", "sort_name", "slug", "country", "year_formed", "bio", "image_url", "created_at"],
            rows(),
        )

    def album_plan(self, album_id, sizes):
        """Everything about one album and its songs, regenerated identically whenever asked."""
        rng = random.Random(self.seed * 1_000_003 + album_id)
        artists = sizes["artists"]
        kind = rng.random()
        if kind < 0.05 and artists > 1:
            album_type = Album.Type.COMPILATION
        elif kind < 0.2:
            album_type = Album.Type.SINGLE
        elif kind < 0.3:
            album_type = Album.Type.EP
        else:
            album_type = Album.Type.ALBUM
        if album_type == Album.Type.COMPILATION:
            artist_id = 1
        elif album_id <= artists - 1:
            artist_id = album_id + 1  # every artist gets at least one album
        elif rng.random() < 0.02:
            artist_id = rng.randint(2, min(6, artists))  # a few artists with huge discographies
        else:
            artist_id = rng.randint(min(2, artists), artists)
        genres = rng.sample(range(1, len(GENRES) + 1), rng.choice((1, 1, 2)))
        release = datetime.date(rng.randint(1955, 2025), rng.randint(1, 12), rng.randint(1, 28))
        return {
            "rng": rng,
            "album_type": album_type,
            "artist_id": artist_id,
            "genres": genres,
            "release_date": release,
            "title": title(rng),
        }

    def track_counts(self, sizes):
        """How many songs each album gets: varied, at least one each, summing exactly to --songs."""
        albums, songs = sizes["albums"], sizes["songs"]
        rng = random.Random(self.seed)
        weights = [rng.choice((1, 2, 4, 8, 10, 12, 12, 14, 16, 20)) for _ in range(albums)]
        spare = songs - albums
        scale = spare / sum(weights)
        counts = [1 + int(weight * scale) for weight in weights]
        for index in range(songs - sum(counts)):
            counts[index % albums] += 1
        return counts

    def write_albums_and_songs(self, sizes):
        counts = self.track_counts(sizes)
        artists = sizes["artists"]

        # Imports match albums by (artist, title): an artist never gets two albums of one title.
        titles = NameMaker(number_format=" Vol. {}")

        def album_rows():
            for album_id in range(1, sizes["albums"] + 1):
                plan = self.album_plan(album_id, sizes)
                album_title = titles.unique(plan["title"], plan["rng"], scope=plan["artist_id"])
                yield (
                    album_id, album_title, make_slug(album_title, 300), plan["artist_id"],
                    connection.ops.adapt_datefield_value(plan["release_date"]), plan["album_type"], "",
                    LABELS[album_id % len(LABELS)], self.when(album_id),
                )

        album_genre_rows = []

        def song_rows():
            song_id = 0
            link_id = 0
            for album_id in range(1, sizes["albums"] + 1):
                plan = self.album_plan(album_id, sizes)
                rng = plan["rng"]
                tracks = counts[album_id - 1]
                per_disc = (tracks + 1) // 2 if tracks >= 16 else tracks
                used_genres = set()
                for index in range(tracks):
                    song_id += 1
                    if plan["album_type"] == Album.Type.COMPILATION:
                        artist_id = rng.randint(2, artists)
                    else:
                        artist_id = plan["artist_id"]
                    genre_id = rng.choice(plan["genres"])
                    used_genres.add(genre_id)
                    song_title = title(rng)
                    yield (
                        song_id, song_title, album_id, artist_id, 1 + index // per_disc, 1 + index % per_disc,
                        rng.randint(95_000, 420_000), rng.random() < 0.08,
                        f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", genre_id,
                        int(100 * rng.random() ** 2), self.when(song_id),
                    )
                # The album's genres are exactly its songs' genres, so an export and re-import keeps them.
                for genre_id in sorted(used_genres):
                    link_id += 1
                    album_genre_rows.append((link_id, album_id, genre_id))
                if len(album_genre_rows) >= self.batch_size:
                    self.write_rows(Album.genres.through, ["id", "album_id", "genre_id"], album_genre_rows, False)
                    album_genre_rows.clear()

        self.progress.set_description("albums")
        self.write_rows(
            Album,
            ["id", "title", "slug", "artist_id", "release_date", "album_type", "cover_url", "label", "created_at"],
            album_rows(),
        )
        self.progress.set_description("songs")
        self.write_rows(
            Song,
            [
                "id", "title", "album_id", "artist_id", "disc_number", "track_number", "duration_ms", "explicit",
                "composer", "genre_id", "popularity", "created_at",
            ],
            song_rows(),
        )
        self.write_rows(Album.genres.through, ["id", "album_id", "genre_id"], album_genre_rows, False)

    def ensure_users(self, count):
        """Demo listeners, reused when they already exist (after --flush); they cannot log in."""
        User = get_user_model()
        names = NameMaker(number_format="{}")
        usernames = []
        for number in range(1, count + 1):
            rng = random.Random(self.seed * 104_729 + number)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            usernames.append(names.unique(f"{ascii_lower(first)}.{ascii_lower(last)}", rng))
        existing = dict(User.objects.filter(username__in=usernames).values_list("username", "id"))
        User.objects.bulk_create(
            [
                User(username=username, email=f"{username}@example.com", password=f"{UNUSABLE_PASSWORD_PREFIX}seed")
                for username in usernames
                if username not in existing
            ],
            batch_size=self.batch_size,
        )
        ids = dict(User.objects.filter(username__in=usernames).values_list("username", "id"))
        return [ids[username] for username in usernames]

    def write_playlists(self, sizes, user_ids):
        names = NameMaker()
        songs = sizes["songs"]
        entry_count = 0

        def playlist_rows():
            for playlist_id in range(1, sizes["playlists"] + 1):
                rng = random.Random(self.seed * 15_485_863 + playlist_id)
                owner_id = user_ids[(playlist_id - 1) % len(user_ids)]
                name = names.unique(f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} mix", rng, scope=owner_id)
                created = self.when(playlist_id)
                yield (
                    playlist_id, owner_id, name, rng.choice(PLAYLIST_DESCRIPTIONS), rng.random() < 0.8, created, created,
                )

        def entry_rows():
            nonlocal entry_count
            for playlist_id in range(1, sizes["playlists"] + 1):
                rng = random.Random(self.seed * 32_452_843 + playlist_id)
                owner_id = user_ids[(playlist_id - 1) % len(user_ids)]
                # Every thousandth playlist is a long one: pages must paginate it.
                length = min(3000, songs) if playlist_id % 1000 == 1 else rng.randint(5, 60)
                added = self.when(playlist_id)
                for position in range(1, length + 1):
                    entry_count += 1
                    yield (entry_count, playlist_id, rng.randint(1, songs), position, owner_id, added)

        self.progress.set_description("playlists")
        self.write_rows(
            Playlist, ["id", "owner_id", "name", "description", "is_public", "created_at", "updated_at"],
            playlist_rows(),
        )
        self.write_rows(
            PlaylistEntry, ["id", "playlist_id", "song_id", "position", "added_by_id", "added_at"], entry_rows(), False
        )
        return entry_count


DEMO_LISTENS = 300
DEMO_LISTEN_DAYS = 120


def demo_listens_seed(*, user, seed=1, count=DEMO_LISTENS, days=DEMO_LISTEN_DAYS, now=None):
    """Give `user` (the demo's listener) `count` listens over the last `days` days, so that Recently played
    and the stats have something to show; nothing if they already have listens. Recorded through
    SyroMusic.listening.record, as the player's would be (the rollups stay exact).

    The same seed gives the same songs, times (counted back from `now`'s hour) and time heard. The songs:
    the newest dozen, and one in ten after, are songs that play (the demo's audio: 20-26 s, too short to
    ever count), the rest a personal library of the catalogue's 80 most popular songs without a file,
    drawn skewed (favourites often), about seven in ten heard long enough to count. Returns the number
    recorded."""
    if Listen.objects.filter(user=user).exists():
        return 0
    rng = random.Random(seed * 7_919 + 15)
    playable = list(Song.objects.playable().order_by("id").values_list("id", flat=True)[:24])
    library = list(Song.objects.most_popular().filter(audio=None).values_list("id", flat=True)[:80])
    if not library:
        return 0
    lengths = dict(
        Song.objects.filter(id__in=library + playable).annotate(length=Coalesce("audio__duration_ms", "duration_ms"))
        .values_list("id", "length")
    )
    hour = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    events = []
    for number in range(count):
        # The newest listens (the first page of Recently played) are of songs that play, and one in ten after.
        if playable and (number < 12 or rng.random() < 0.1):
            song_id = rng.choice(playable)
        else:
            song_id = library[int(len(library) * rng.random() ** 2.5)]
        back = datetime.timedelta(days=number * days / count, hours=rng.choice((0, 1, 2, 3, 5, 8, 10, 12)),
                                  minutes=rng.randrange(60))
        length = lengths.get(song_id) or 180_000
        heard = length if rng.random() < 0.7 else int(length * rng.uniform(0.02, 0.3))
        events.append(record.Event(client_id=f"demo-{seed}-{number}", song_id=song_id, started_at=hour - back,
                                   heard_ms=heard, client="SyroMusic demo"))
    return len(record.record(user, events).listens)


def ascii_lower(name):
    """ "Søren Dvořák" -> "sorendvorak": usernames stay plain ASCII."""
    folded = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("Ø", "O"))
    return "".join(char for char in folded if char.isascii() and char.isalnum()).lower()
