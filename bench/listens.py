"""The listening part of `make bench` (issue 15): ten million listens, and the rows that read or write them.

Seeds 10,000,000 listens over 5,000 listeners (one heavy listener with 500,000: ~10 years at ~140 a day;
the others share the rest, skewed, each over a few weeks to a few years) into the benchmark's PostgreSQL,
once: a marker (.bench/listens.json) says what the database holds, as the catalogue's does. Generated in
SQL (INSERT … SELECT FROM generate_series), not through the ORM; then the rollups (ListenDay, ListenTally)
are built with SQL GROUP BY in UTC (the seeded listeners keep the default time zone) and checked against
what SyroMusic.listening.record itself computes from the same listens.

The shape: each listener has a personal library of a few thousand songs (a stride through the catalogue
from a place of their own), drawn skewed (a few favourites often, the rest rarely), with one draw in five
from the catalogue's "hits" (its first 50,000 songs, skewed again); times of day lean to the evening;
about 70% of listens counted, each listen's time heard made to agree with the counting rule for the
song's length (counted: half to all of it; not counted: less than the rule asks).

Rows measured against the running gunicorn (the suite's method: the app's own request log):
POST /api/v1/me/listens/ with 50 new listens (token), the history page, the stats page and API cold, and
refresh_popularity over the listens.
"""

import datetime
import json
import math
import random
import statistics
import sys
import time
import uuid

SEED = 1
FULL = {"listeners": 5_000, "listens": 10_000_000, "heavy": 500_000, "heavy_days": 3_650, "library": (2_000, 5_000)}
SMALL = {"listeners": 50, "listens": 20_000, "heavy": 5_000, "heavy_days": 730, "library": (200, 1_000)}
HITS = 50_000  # the catalogue's first songs: where one draw in five comes from
BATCH = 50  # listens per POST
HEAVY_NAME = "listener-00001"
LIGHT_NAME = "listener-00042"


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def shape(small):
    return SMALL if small else FULL


def listener_plan(small, first_user_id, songs):
    """(user id, listens, days of history, library size, library start, library stride) per listener:
    the heavy one first, the others' listens skewed (a few listen a lot, most a little)."""
    plan = shape(small)
    rng = random.Random(SEED)
    others = plan["listeners"] - 1
    weights = [1 / (i + 20) ** 0.9 for i in range(others)]
    rest = plan["listens"] - plan["heavy"]
    counts = [math.floor(rest * w / sum(weights)) for w in weights]
    for i in range(rest - sum(counts)):
        counts[i % others] += 1
    rows = []
    for number, listens in enumerate([plan["heavy"], *counts]):
        days = plan["heavy_days"] if number == 0 else rng.randint(30, 1_500)
        library = min(songs, rng.randint(*plan["library"]))
        stride = rng.randrange(1, songs)
        while math.gcd(stride, songs) != 1:  # a stride coprime with the catalogue: library songs never repeat
            stride = rng.randrange(1, songs)
        rows.append((first_user_id + number, listens, days, library, rng.randrange(songs), stride))
    return rows


def prepare(servers, small, catalogue_reseeded, state_dir):
    """Seed the listens unless the marker says the database holds them; returns the seeding facts."""
    import psycopg

    plan = shape(small)
    marker = state_dir / "listens.json"
    catalogue_marker = state_dir / "catalogue.json"
    wanted = {**plan, "seed": SEED, "catalogue": None if small else _read(catalogue_marker)}
    wanted["library"] = list(plan["library"])
    found = _read(marker) or {}
    facts = found.pop("facts", None)
    with psycopg.connect(servers.env["DATABASE_URL"], autocommit=True) as conn:
        if not small and not catalogue_reseeded and found == wanted and facts and _present(conn, plan):
            log(f"reusing the {plan['listens']:,} listens ({marker} says so)")
            return {**facts, "reused": True}
        if not small:
            marker.unlink(missing_ok=True)
        facts = seed(conn, small)
    if not small:
        marker.write_text(json.dumps({**wanted, "facts": facts}) + "\n")
    return {**facts, "reused": False}


def _read(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _present(conn, plan):
    from SyroMusic.models import Listen

    found = conn.execute(f"SELECT reltuples FROM pg_class WHERE relname = '{Listen._meta.db_table}'").fetchone()
    return bool(found) and found[0] >= 0.9 * plan["listens"]


def seed(conn, small):
    """Listeners, listens and rollups, all in SQL in one transaction; indexes and constraints of the three
    tables are dropped for the load and made again after (a sorted build is much faster than 10 M inserts
    into seven indexes, and deferred foreign-key checks would queue ten million trigger events)."""
    from django.contrib.auth import get_user_model

    from SyroMusic.models import Listen, ListenAlbumTally, ListenArtistTally, ListenDay, ListenMonth, ListenTally, Song

    plan = shape(small)
    listen, day, tally = (model._meta.db_table for model in (Listen, ListenDay, ListenTally))
    month_table = ListenMonth._meta.db_table
    album_tally, artist_tally = ListenAlbumTally._meta.db_table, ListenArtistTally._meta.db_table
    song, user = Song._meta.db_table, get_user_model()._meta.db_table
    started = time.monotonic()
    log(f"seeding {plan['listens']:,} listens over {plan['listeners']:,} listeners (SQL)")
    timings = {}
    with conn.transaction():
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        conn.execute("SET LOCAL work_mem = '256MB'")
        conn.execute("SELECT setseed(0.42)")
        first, last, count = conn.execute(f'SELECT MIN(id), MAX(id), COUNT(*) FROM "{song}"').fetchone()
        if count != last - first + 1:
            raise RuntimeError(f"the catalogue's song ids are not contiguous ({count:,} songs, ids {first}..{last})")
        conn.execute(
            f'INSERT INTO "{user}" (password, is_superuser, username, first_name, last_name, email, is_staff, '
            "is_active, date_joined) "
            "SELECT '!bench', false, 'listener-' || lpad(i::text, 5, '0'), '', '', '', false, true, now() "
            f"FROM generate_series(1, {plan['listeners']}) AS i ON CONFLICT (username) DO NOTHING"
        )
        first_user = conn.execute(f"SELECT id FROM \"{user}\" WHERE username = '{HEAVY_NAME}'").fetchone()[0]
        ids = [row[0] for row in conn.execute(
            f"SELECT id FROM \"{user}\" WHERE username LIKE 'listener-%' ORDER BY username"
        )]
        if ids != list(range(first_user, first_user + plan["listeners"])):
            raise RuntimeError("the bench listeners' ids are not contiguous: start from a new database")
        saved = _drop_indexes_and_constraints(conn, [listen, day, month_table, tally, album_tally, artist_tally])
        conn.execute(f'TRUNCATE "{listen}", "{day}", "{month_table}", "{tally}", "{album_tally}", "{artist_tally}" '
                     "RESTART IDENTITY")
        conn.execute(
            "CREATE TEMP TABLE bench_plan (user_id int, n int, days int, library int, start int, stride int) "
            "ON COMMIT DROP"
        )
        with conn.cursor().copy("COPY bench_plan FROM STDIN") as copy:
            for row in listener_plan(small, first_user, count):
                copy.write_row(row)
        step = time.monotonic()
        # The draws are made in a subquery (volatile random() per row), then the song and its length joined.
        conn.execute(f"""
            INSERT INTO "{listen}" (user_id, song_id, album_id, artist_id, client_id, started_at, heard_ms, counted,
                                    client, source, recorded_at)
            SELECT d.user_id, s.id, s.album_id, s.artist_id, 'bench-' || d.i, d.started_at,
                   h.heard, h.counted, 'SyroMusic web', 'player', d.started_at + make_interval(secs => h.heard / 1000.0)
            FROM (
                SELECT p.user_id, g.i,
                       date_trunc('day', now()) - interval '1 day'
                         - make_interval(days => floor(random() * p.days)::int)
                         + make_interval(secs => floor(86400 * (0.3 + 0.7 * sqrt(random())))) AS started_at,
                       CASE WHEN random() < 0.2 THEN {first} + floor(least({HITS}, {count}) * power(random(), 3))::int
                            ELSE {first} + ((p.start::bigint
                                 + floor(p.library * power(random(), 2.5))::bigint * p.stride) % {count})::int
                       END AS song_id,
                       random() AS r_counted, random() AS r_heard
                FROM bench_plan p CROSS JOIN LATERAL generate_series(1, p.n) AS g(i)
            ) AS d
            JOIN "{song}" s ON s.id = d.song_id
            LEFT JOIN "{Song.audio.field.related_model._meta.db_table}" a ON a.id = s.audio_id
            CROSS JOIN LATERAL (
                SELECT length, counted,
                       CASE WHEN counted THEN ceil(length * (0.5 + 0.5 * d.r_heard))::int
                            ELSE floor(least(coalesce(length, 60000) / 2.0, 240000) * 0.9 * d.r_heard)::int
                       END AS heard
                FROM (SELECT coalesce(a.duration_ms, s.duration_ms) AS length) AS l,
                     LATERAL (SELECT d.r_counted < 0.7 AND coalesce(l.length, 0) > 30000 AS counted) AS c
            ) AS h
            ORDER BY d.started_at  -- as listens arrive: in time, all listeners mixed
        """)
        timings["listens"] = time.monotonic() - step
        step = time.monotonic()
        local = "(started_at AT TIME ZONE 'UTC')"
        hours = ", ".join(
            f"COUNT(*) FILTER (WHERE counted AND EXTRACT(HOUR FROM {local}) = {hour})" for hour in range(24)
        )
        conn.execute(f"""
            INSERT INTO "{day}" (user_id, day, listens, heard_ms, hours)
            SELECT user_id, {local}::date, COUNT(*) FILTER (WHERE counted), SUM(heard_ms), jsonb_build_array({hours})
            FROM "{listen}" GROUP BY user_id, {local}::date
            HAVING COUNT(*) FILTER (WHERE counted) > 0 OR SUM(heard_ms) > 0
        """)
        timings["days"] = time.monotonic() - step
        step = time.monotonic()
        _seed_months(conn, day, month_table)
        timings["months"] = time.monotonic() - step
        step = time.monotonic()
        month = f"(EXTRACT(YEAR FROM {local}) * 100 + EXTRACT(MONTH FROM {local}))::int"
        for table, column in ((tally, "song_id"), (album_tally, "album_id"), (artist_tally, "artist_id")):
            conn.execute(f"""
                INSERT INTO "{table}" (user_id, month, {column}, listens, heard_ms)
                SELECT user_id, CASE WHEN GROUPING(month) = 1 THEN {ListenTally.ALL_TIME} ELSE month END, {column},
                       COUNT(*) FILTER (WHERE counted), SUM(heard_ms)
                FROM (SELECT user_id, {column}, counted, heard_ms, {month} AS month FROM "{listen}"
                      WHERE {column} IS NOT NULL) AS l
                GROUP BY GROUPING SETS ((user_id, {column}, month), (user_id, {column}))
                HAVING COUNT(*) FILTER (WHERE counted) > 0 OR SUM(heard_ms) > 0
            """)
        timings["tallies"] = time.monotonic() - step
        _seed_profiles(conn, [tally, album_tally, artist_tally])
        step = time.monotonic()
        _restore(conn, saved)
        timings["indexes"] = time.monotonic() - step
    step = time.monotonic()
    for table in (listen, day, month_table, tally, album_tally, artist_tally):
        conn.execute(f'VACUUM ANALYZE "{table}"')
    timings["vacuum"] = time.monotonic() - step
    facts = {"seconds": time.monotonic() - started, "timings": timings}
    facts.update(_counts(conn, listen, day, tally, first_user))
    log(f"seeded {facts['listens']:,} listens, {facts['days']:,} days, {facts['tallies']:,} tallies in "
        f"{facts['seconds']:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})")
    return facts


def _seed_profiles(conn, tallies):
    """Each listener's profile with its unique counts over all time (what record keeps), nothing pending and
    no 12 months' window."""
    from SyroMusic.models import Profile

    profile = Profile._meta.db_table
    counts = [f'(SELECT user_id, COUNT(*) AS n FROM "{table}" WHERE month = 0 AND listens > 0 GROUP BY user_id) AS c{i}'
              for i, table in enumerate(tallies)]
    conn.execute(f"""
        INSERT INTO "{profile}" (user_id, bio, is_public, time_zone, stats_public, data_saver, listens_window,
                                 pending_listens, listen_uniques)
        SELECT c0.user_id, '', true, 'UTC', false, false, 0, '[]'::jsonb,
               jsonb_build_object('0', jsonb_build_array(c0.n, COALESCE(c1.n, 0), COALESCE(c2.n, 0)))
        FROM {counts[0]} LEFT JOIN {counts[1]} ON c1.user_id = c0.user_id LEFT JOIN {counts[2]} ON c2.user_id = c0.user_id
        ON CONFLICT (user_id) DO UPDATE SET listen_uniques = excluded.listen_uniques, listens_window = 0,
                                            pending_listens = '[]'::jsonb
    """)


def _seed_months(conn, day, month_table):
    """ListenMonth from the days, in SQL: sums, hours and weekdays, and the runs of days with a counted listen
    (islands: a day minus its rank among the month's active days is the same along a run)."""
    month = "(EXTRACT(YEAR FROM day) * 100 + EXTRACT(MONTH FROM day))::int"
    hours = ", ".join(f"SUM((hours->>{hour})::int)" for hour in range(24))
    weekdays = ", ".join(
        f"COALESCE(SUM(listens) FILTER (WHERE EXTRACT(ISODOW FROM day) = {weekday}), 0)" for weekday in range(1, 8)
    )
    conn.execute(f"""
        WITH active AS (
            SELECT user_id, {month} AS month, day,
                   day - (ROW_NUMBER() OVER (PARTITION BY user_id, {month} ORDER BY day))::int AS island
            FROM "{day}" WHERE listens > 0
        ), runs AS (
            SELECT user_id, month, MIN(day) AS first, MAX(day) AS last, COUNT(*)::int AS length
            FROM active GROUP BY user_id, month, island
        ), run_facts AS (
            SELECT user_id, month, SUM(length)::int AS active_days, MAX(length) AS longest_run,
                   COALESCE(MAX(length) FILTER (WHERE EXTRACT(DAY FROM first) = 1), 0) AS first_run,
                   COALESCE(MAX(length) FILTER (
                       WHERE last = (date_trunc('month', last) + interval '1 month - 1 day')::date), 0) AS last_run
            FROM runs GROUP BY user_id, month
        ), sums AS (
            SELECT user_id, {month} AS month, SUM(listens)::int AS listens, SUM(heard_ms) AS heard_ms,
                   jsonb_build_array({hours}) AS hours,
                   jsonb_build_array({weekdays}) AS weekdays
            FROM "{day}" GROUP BY user_id, {month}
        )
        INSERT INTO "{month_table}" (user_id, month, listens, heard_ms, hours, weekdays, active_days, first_run,
                                     last_run, longest_run)
        SELECT s.user_id, s.month, s.listens, s.heard_ms, s.hours, s.weekdays, COALESCE(r.active_days, 0),
               COALESCE(r.first_run, 0), COALESCE(r.last_run, 0), COALESCE(r.longest_run, 0)
        FROM sums s LEFT JOIN run_facts r ON r.user_id = s.user_id AND r.month = s.month
    """)


def _counts(conn, listen, day, tally, heavy_id):
    one = lambda sql: conn.execute(sql).fetchone()  # noqa: E731
    listens, counted = one(f'SELECT COUNT(*), COUNT(*) FILTER (WHERE counted) FROM "{listen}"')
    heavy, first, last = one(f'SELECT COUNT(*), MIN(started_at), MAX(started_at) FROM "{listen}" WHERE user_id = {heavy_id}')
    return {
        "listens": listens, "counted": counted, "heavy": heavy,
        "heavy_years": round((last - first).days / 365.25, 1) if heavy else 0,
        "listeners": one(f'SELECT COUNT(DISTINCT user_id) FROM "{day}"')[0],
        "days": one(f'SELECT COUNT(*) FROM "{day}"')[0], "tallies": one(f'SELECT COUNT(*) FROM "{tally}"')[0],
        "heavy_songs": one(f'SELECT COUNT(*) FROM "{tally}" WHERE user_id = {heavy_id} AND month = 0')[0],
    }


def _drop_indexes_and_constraints(conn, tables):
    """Drop every index and constraint of the tables but their primary keys; return what makes them again."""
    again = []
    for table in tables:
        for name, definition in conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype <> 'p'", [f'"{table}"']
        ).fetchall():
            conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            again.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for name, definition in conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", [table, f'"{table}"']
        ).fetchall():
            conn.execute(f'DROP INDEX "{name}"')
            again.append(definition)
    return again


def _restore(conn, statements):
    # Indexes first, then the constraints (a unique constraint builds its own index; a foreign key checks
    # every row at once, in one join, instead of row by row).
    for statement in sorted(statements, key=lambda s: s.startswith("ALTER")):
        conn.execute(statement)


def check(small):
    """The SQL-built rollups of the heavy listener and a light one against record's own arithmetic
    (record.Rollup over the same listens), and their listens against the counting rule. Exact or it raises."""
    from django.contrib.auth import get_user_model
    from django.db.models.functions import Coalesce

    from SyroMusic.listening import record
    from SyroMusic.listening.counts import counts
    from SyroMusic.models import Listen, ListenDay, ListenMonth, Profile, Song

    results = {}
    for label, name in (("heavy", HEAVY_NAME), ("light", LIGHT_NAME if not small else "listener-00007")):
        user = get_user_model().objects.get(username=name)
        rollup = record.Rollup(Profile.of(user).zone)
        rows = Listen.objects.filter(user=user).values_list("song_id", "started_at", "heard_ms", "counted")
        listens = 0
        for listen in Listen.objects.filter(user=user).only(*record.LISTEN_FACTS).iterator(chunk_size=20_000):
            rollup.add(listen)
            listens += 1
        days = {row.day: (row.listens, row.heard_ms, list(row.hours)) for row in ListenDay.objects.filter(user=user)}
        tallies = {
            (kind, row.month, getattr(row, f"{kind}_id")): (row.listens, row.heard_ms)
            for kind, model in record.TALLIES.items() for row in model.objects.filter(user=user, month__gte=0)
        }
        # The 12 months' window, where a stats page built it: its months' rows added up.
        window = Profile.of(user).listens_window
        stored_window = {
            (kind, getattr(row, f"{kind}_id")): (row.listens, row.heard_ms)
            for kind, model in record.TALLIES.items() for row in model.objects.filter(user=user, month__lt=0)
        }
        expected_window = {}
        for (kind, month, thing), (count, heard) in tallies.items():
            if window and record.months_before(window, record.WINDOW_MONTHS - 1) <= month <= window:
                before = expected_window.get((kind, thing), (0, 0))
                expected_window[(kind, thing)] = (before[0] + count, before[1] + heard)
        if stored_window != expected_window:
            raise RuntimeError(f"{name}: the 12 months' window ({window}) differs from its months' tallies")
        uniques = Profile.of(user).listen_uniques
        expected_uniques = {"0": [sum(1 for (k, month, _), (count, _) in tallies.items() if k == kind and month == 0
                                      and count > 0) for kind in record.TALLIES]}
        if window:
            expected_uniques[str(-window)] = [
                sum(1 for (k, _), (count, _) in stored_window.items() if k == kind and count > 0) for kind in record.TALLIES
            ]
        if uniques != expected_uniques:
            raise RuntimeError(f"{name}: the profile's unique counts {uniques} differ from the tallies' {expected_uniques}")
        expected_days = {d: (v[0], v[1], v[2]) for d, v in rollup.days.items() if v[0] or v[1]}
        expected_tallies = {
            (kind, *key): (v[0], v[1]) for kind, table in rollup.tallies.items() for key, v in table.items() if v[0] or v[1]
        }
        months = {
            row.month: tuple(getattr(row, field) for field in record.MONTH_FIELDS)
            for row in ListenMonth.objects.filter(user=user)
        }
        by_month = {}
        for d, v in expected_days.items():
            by_month.setdefault(record.month_key(d), []).append((d, *v))
        expected_months = {
            key: tuple(getattr(record.month_row(user.pk, key, rows), field) for field in record.MONTH_FIELDS)
            for key, rows in by_month.items()
        }
        if days != expected_days or tallies != expected_tallies or months != expected_months:
            wrong_days = sum(days.get(d) != v for d, v in expected_days.items()) + len(days.keys() - expected_days.keys())
            wrong = sum(tallies.get(k) != v for k, v in expected_tallies.items()) + len(tallies.keys() - expected_tallies.keys())
            wrong_months = sum(months.get(k) != v for k, v in expected_months.items()) + len(
                months.keys() - expected_months.keys())
            raise RuntimeError(f"{name}: the SQL rollups differ from record's ({wrong_days} days, {wrong} tallies, "
                               f"{wrong_months} months)")
        rule_broken = 0
        if label == "light":
            lengths = dict(Song.objects.filter(listens__user=user).annotate(
                length=Coalesce("audio__duration_ms", "duration_ms")).values_list("pk", "length"))
            for song_id, _, heard_ms, counted in rows:
                length = lengths.get(song_id)
                rule_broken += counts(length, heard_ms) != counted or heard_ms > (length or 0) + record.CAP_SLACK_MS
            if rule_broken:
                raise RuntimeError(f"{name}: {rule_broken} listens disagree with the counting rule")
        results[label] = {"user": name, "listens": listens, "days": len(days), "tallies": len(tallies),
                          "minutes": sum(v[1] for v in days.values()) // 60_000}
        log(f"  check {name}: {listens:,} listens; {len(days):,} days, {len(months):,} months and {len(tallies):,} tallies equal "
            "record's own rollup")
    return results


def rows(bench, small, runs, workers):
    """The listening rows, measured against the running server; each row says what it is and its figures."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from SyroMusic.listening import record
    from SyroMusic.models import ListenTally, Profile

    User = get_user_model()
    heavy = User.objects.get(username=HEAVY_NAME)
    light = User.objects.get(username=LIGHT_NAME if not small else "listener-00007")
    token = Token.objects.get_or_create(user=heavy)[0].key
    sessions = {}
    for user in (heavy, light):
        client = Client()
        client.force_login(user)
        sessions[user.pk] = client.cookies["sessionid"].value
    library = list(ListenTally.objects.filter(user=heavy, month=ListenTally.ALL_TIME)
                   .order_by("-listens", "song_id").values_list("song_id", flat=True)[:500])

    def keep_session(user):
        # Cold means the app's caches are gone, not the listener's login: the session is put back in the cache.
        SessionStore(session_key=sessions[user.pk]).load()

    out = []
    # (a) A batch of 50 new listens, as the player sends them; taken out again afterwards (record.forget),
    # so the seeded listens stay what the marker says.
    url = "/api/v1/me/listens/"
    log(f"measuring POST {url} ({BATCH} listens a request, the heavy listener's token)")
    durations, queries, errors, recorded = [], [], 0, []
    bench.log.skip_to_end()
    # Every worker records a batch first (3 per worker, as bench/suite.py's rows warm theirs): a worker's first
    # POST imports and builds what its later ones reuse, and with 5 workers 3 warm-ups left two of them cold.
    warm_ups = 3 * workers
    for run in range(runs + warm_ups):
        now = datetime.datetime.now(datetime.UTC)
        body = {"listens": [
            {"client_id": str(uuid.uuid4()), "song": library[(run * BATCH + i) % len(library)],
             "started_at": (now - datetime.timedelta(minutes=4 * (BATCH - i))).isoformat().replace("+00:00", "Z"),
             "heard_ms": 200_000 if i % 3 else 20_000, "client": "bench"}
            for i in range(BATCH)
        ]}
        # A player sends its next batch minutes later, by when the last one's rollups are long added (after
        # its answer, record.fold): wait for that, or this POST would measure the wait for the lock instead.
        deadline = time.monotonic() + 30
        while Profile.objects.filter(user=heavy).values_list("pending_listens", flat=True).first() and (
            time.monotonic() < deadline
        ):
            time.sleep(0.01)
        status, answer = _post(bench, url, body, token)
        record_ = bench.log.record_for(url)
        if status == 404:
            log(f"  {url}: 404, not built yet: left out")
            out.append({"row": "post", "url": url, "missing": True})
            break
        errors += status != 200
        if status == 200:
            recorded += [item["id"] for item in answer.get("recorded", [])]
        if run >= warm_ups:
            durations.append(record_["duration_ms"])
            queries.append(record_["queries"])
    else:
        out.append({"row": "post", "url": url, "label": f"POST {url} (50 listens, token)", "runs": runs,
                    "queries": max(queries), "ms": [median(durations), p95(durations)], "errors": errors,
                    "goal_ms": 10})
    if recorded:
        record.forget(heavy, recorded)
    _vacuum()

    # (b) The 12 months' window of the tallies, which the first look at 12 months in a month builds (then
    # record keeps it): built from scratch a few times, in process, and left built.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    log("measuring the 12 months' window built from scratch (the month's first look at 12 months)")
    this_month = record.month_key(timezone.now().astimezone(Profile.of(heavy).zone).date())
    builds, build_queries = [], 0
    for _ in range(5):
        Profile.objects.filter(user=heavy).update(listens_window=0)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            record.build_window(heavy, this_month)
        builds.append((time.perf_counter() - started) * 1000)
        build_queries = len(captured)
    out.append({"row": "window", "url": "–", "label": "12 months' window built, the heavy listener (once a month)",
                "runs": len(builds), "queries": build_queries, "ms": [median(builds), p95(builds)], "errors": 0})
    _vacuum()

    pages = [
        ("history", "/music/history/", heavy, "Recently played, the heavy listener", None),
        ("history", "/music/history/", light, "Recently played, a light listener", None),
        ("stats", "/music/stats/", heavy, "Your stats, the heavy listener", 50),
        ("stats", "/music/stats/?range=all", heavy, "Your stats, all time, the heavy listener", 50),
        ("stats", "/api/v1/me/stats/", heavy, "Stats API, the heavy listener", 50),
        ("stats", "/api/v1/me/stats/?range=all", heavy, "Stats API, all time, the heavy listener", 50),
        ("stats", "/music/stats/?range=12m", heavy, "Your stats, 12 months, the heavy listener", 50),
        ("stats", "/music/stats/?range=7d", heavy, "Your stats, 7 days, the heavy listener", 50),
        ("stats", "/api/v1/me/stats/?range=12m", heavy, "Stats API, 12 months, the heavy listener", 50),
    ]
    for kind, url, user, label, goal in pages:
        headers = {"Authorization": f"Token {token}"} if url.startswith("/api/") else {
            "Cookie": f"sessionid={sessions[user.pk]}"}
        log(f"measuring {url} ({label})")
        durations, queries, errors = [], [], 0
        status, _ = _get(bench, url, headers)
        if status == 404:
            log(f"  {url}: 404, not built yet: left out")
            out.append({"row": kind, "url": url, "label": label, "missing": True})
            continue
        for _ in range(3 * workers):
            _get(bench, url, headers)
        bench.log.skip_to_end()
        for _ in range(runs):
            bench.cache.clear()
            keep_session(user)
            status, _ = _get(bench, url, headers)
            errors += status != 200
            record_ = bench.log.record_for(url)
            durations.append(record_["duration_ms"])
            queries.append(record_["queries"])
        out.append({"row": kind, "url": url, "label": label, "user": user.username, "runs": runs,
                    "queries": max(queries), "queries_min": min(queries), "ms": [median(durations), p95(durations)],
                    "errors": errors, "goal_ms": goal, "goal_queries": 6 if kind == "stats" else None})
    return out


def _vacuum():
    """VACUUM the listening tables: the rows above wrote and deleted listens and window rows of the heavy
    listener (thousands, at the newest end), which autovacuum would not look at for millions more changes
    on tables this size; left, the stats below would read around them, measuring the bench's own churn."""
    from django.db import connection

    from SyroMusic.models import Listen, ListenAlbumTally, ListenArtistTally, ListenDay, ListenMonth, ListenTally

    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        for model in (Listen, ListenDay, ListenMonth, ListenTally, ListenAlbumTally, ListenArtistTally):
            cursor.execute(f"VACUUM {connection.ops.quote_name(model._meta.db_table)}")


def popularity(small):
    """refresh_popularity's work over the seeded listens, timed twice (the first run rewrites nearly every
    song's seeded popularity; the second, as a scheduled run finds it, changes little), then rolled back:
    the catalogue's popularity stays as seeded, so the catalogue rows of the next run measure the same data."""
    from django.db import connection, transaction

    from SyroMusic.listening.popularity import popularity_refresh

    results = []
    for days in (30, 3_660):
        with transaction.atomic():
            with connection.cursor() as cursor:  # as under manage.py: a command has no statement timeout
                cursor.execute("SET LOCAL statement_timeout = 0")
            report = popularity_refresh(days=days)
            again = popularity_refresh(days=days)
            transaction.set_rollback(True)
        log(f"  refresh_popularity --days {days}: {report.seconds:.1f} s, {report.heard:,} songs heard, "
            f"{report.changed:,} changed; again {again.seconds:.1f} s, {again.changed:,} changed")
        results.append({"days": days, "seconds": report.seconds, "heard": report.heard, "changed": report.changed,
                        "songs": report.songs, "most": report.most,
                        "again_seconds": again.seconds, "again_changed": again.changed})
    return results


def _post(bench, url, body, token):
    from scripts import servers as services

    status, _, answer = services.fetch(
        bench.servers.base + url, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"}, timeout=120,
    )
    try:
        return status, json.loads(answer)
    except ValueError:
        return status, {}


def _get(bench, url, headers):
    from scripts import servers as services

    status, _, body = services.fetch(bench.servers.base + url, headers={**headers, "Accept-Encoding": "gzip"},
                                     timeout=120)
    return status, body


def median(values):
    return statistics.median(values) if values else None


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else None


def render(section):
    """The markdown section: the seeding, its check, the rows, and the issue's goals."""
    if not section:
        return []
    seeded, check_, rows_, pop = section["seeded"], section["check"], section["rows"], section["popularity"]
    out = [
        "",
        "## Listening (issue 15)",
        "",
        f"Listens: {seeded['listens']:,} ({seeded['counted'] / max(1, seeded['listens']):.0%} counted) over "
        f"{seeded['listeners']:,} listeners; the heaviest has {seeded['heavy']:,} over {seeded['heavy_years']} years "
        f"({seeded['heavy_songs']:,} songs); rollups {seeded['days']:,} days and {seeded['tallies']:,} song tallies. "
        + (f"Seeded in SQL in {seeded['seconds']:.0f} s ("
           + ", ".join(f"{k} {v:.0f} s" for k, v in seeded["timings"].items()) + ")"
           + (", reused from an earlier run" if seeded.get("reused") else "") + ".")
        ,
        "",
        "Check: the SQL-built rollups equal what SyroMusic.listening.record computes from the same listens: "
        + "; ".join(f"{c['user']} ({c['listens']:,} listens: {c['days']:,} days, {c['tallies']:,} tallies)"
                    for c in check_.values())
        + "; the light listener's listens all follow the counting rule.",
        "",
        "Cold = Redis flushed before each request, the listener's session put back; p95 in brackets, ms.",
        "",
        "| Row | URL | Queries | ms | Goal | Errors |",
        "| --- | --- | ---: | ---: | --- | ---: |",
    ]
    for r in rows_:
        if r.get("missing"):
            continue
        goal = []
        if r.get("goal_ms"):
            goal.append(f"p95 < {r['goal_ms']} ms: {'met' if r['ms'][1] < r['goal_ms'] else 'missed'}")
        if r.get("goal_queries"):
            goal.append(f"≤ {r['goal_queries']} queries: {'met' if r['queries'] <= r['goal_queries'] else 'missed'}")
        out.append(f"| {r['label']} | `{r['url']}` | {r['queries']} | {r['ms'][0]:.1f} ({r['ms'][1]:.1f}) "
                   f"| {'; '.join(goal) or '–'} | {r['errors']} |")
    for p in pop:
        out.append(f"| refresh_popularity --days {p['days']} ({p['heard']:,} songs heard, {p['changed']:,} changed) "
                   f"| – | – | {p['seconds'] * 1000:,.0f} | – | 0 |")
        if "again_seconds" in p:
            out.append(f"| refresh_popularity --days {p['days']} again ({p['again_changed']:,} changed) "
                       f"| – | – | {p['again_seconds'] * 1000:,.0f} | – | 0 |")
    missing = [r["url"] for r in rows_ if r.get("missing")]
    if missing:
        out += ["", "Not measured, the address answered 404 (not built yet): "
                + ", ".join(f"`{u}`" for u in dict.fromkeys(missing)) + "."]
    return out


def goals(section):
    """Issue 15's goals, met or missed."""
    if not section:
        return []
    lines = []
    rows_ = [r for r in section["rows"] if not r.get("missing")]
    post = [r for r in rows_ if r["row"] == "post"]
    for r in post:
        lines.append(f"A batch of 50 listens recorded in p95 < 10 ms: **{'met' if r['ms'][1] < 10 else 'missed'}** "
                     f"({r['ms'][0]:.1f} ms median, {r['ms'][1]:.1f} ms p95, {r['queries']} queries).")
    history = [r for r in rows_ if r["row"] == "history"]
    if history:
        counts = {r["user"]: r["queries"] for r in history}
        constant = len(set(counts.values())) == 1 and all(r["queries"] == r["queries_min"] for r in history)
        lines.append(f"The history page in constant queries: **{'met' if constant else 'missed'}** ("
                     + ", ".join(f"{user}: {n}" for user, n in counts.items())
                     + f"; {max(r['ms'][1] for r in history):.1f} ms p95 at most).")
    stats = [r for r in rows_ if r["row"] == "stats"]
    if stats:
        met = all(r["ms"][1] < 50 and r["queries"] <= 6 for r in stats)
        worst = max(stats, key=lambda r: r["ms"][1])
        lines.append(f"Stats page and API for the heaviest listener, cold p95 < 50 ms with ≤ 6 queries: "
                     f"**{'met' if met else 'missed'}** (slowest `{worst['url']}` {worst['ms'][1]:.1f} ms p95; "
                     f"queries {', '.join(str(r['queries']) for r in stats)}).")
    missing = sorted({r["url"] for r in section["rows"] if r.get("missing")})
    if missing:
        lines.append("Not measured yet (404): " + ", ".join(f"`{u}`" for u in missing) + ".")
    return lines
