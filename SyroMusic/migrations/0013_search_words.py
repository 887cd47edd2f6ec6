"""PostgreSQL: the catalogue's words for typo correction, and song prefixes answered from the index alone.

- syro_search_word (SearchWord) holds every word of the artists', albums' and songs' search vectors (their
  folded names and secondary fields: bio, label, composer, as the search matches them), with a trigram index:
  correcting a typo looks among the catalogue's distinct words instead of among a million names.
  Triggers keep it current on every write path, bulk loads included: one statement adds the new words
  of a whole INSERT (a transition table), and a changed row adds its own. Words are not removed when
  the last name holding them goes: a correction to such a word finds nothing, as a typo would.
  No unique constraint, on purpose: two loads adding the same new word at once would wait on each other
  (and could deadlock); a word added twice is corrected to just the same.
- The names' trigram indexes (migration 0004) go: typos were matched against a million names through them
  (the typo search's song query took 57 ms); nothing else reads them, and every write paid for them.
- The songs' prefix index also carries popularity and id: "names starting with what was typed, most
  popular first" reads the index alone (2.8 ms for 9,384 matches at a million songs, against 13 ms
  through the table).

SQLite gets the empty table only: its vocabulary is read from the names (SyroMusic.search).
"""

from django.db import migrations, models

TABLES = ("SyroMusic_artist", "SyroMusic_album", "SyroMusic_song")
NAMED = (*TABLES, "SyroMusic_playlist")
LEXEMES = "unnest(tsvector_to_array({column}))"
NEW_WORDS = (
    "INSERT INTO syro_search_word (word) SELECT DISTINCT found.word FROM ({source}) AS found "
    "WHERE NOT EXISTS (SELECT 1 FROM syro_search_word AS known WHERE known.word = found.word)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    # Byte order: a prefix is a range of the btree ("midn" <= word < "midn" || U+10FFFF) whatever the locale.
    run('ALTER TABLE syro_search_word ALTER COLUMN word TYPE text COLLATE "C"')
    run(
        "CREATE FUNCTION syro_learn_words() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + NEW_WORDS.format(source=f"SELECT {LEXEMES.format(column='added.search_vector')} AS word FROM added")
        + "; RETURN NULL; END $$"
    )
    run(
        "CREATE FUNCTION syro_learn_changed_words() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + NEW_WORDS.format(source=f"SELECT {LEXEMES.format(column='NEW.search_vector')} AS word")
        + "; RETURN NULL; END $$"
    )
    sources = " UNION ALL ".join(f'SELECT {LEXEMES.format(column="search_vector")} AS word FROM "{t}"' for t in TABLES)
    run(f"INSERT INTO syro_search_word (word) SELECT DISTINCT word FROM ({sources}) AS found")
    run("CREATE INDEX syro_search_word_idx ON syro_search_word (word)")
    run("CREATE INDEX syro_search_word_trgm_idx ON syro_search_word USING gin (word gin_trgm_ops)")
    for table in TABLES:
        short = table.removeprefix("SyroMusic_")
        run(
            f'CREATE TRIGGER {short}_learns_words AFTER INSERT ON "{table}" REFERENCING NEW TABLE AS added '
            "FOR EACH STATEMENT EXECUTE FUNCTION syro_learn_words()"
        )
        run(
            f'CREATE TRIGGER {short}_learns_changed_words AFTER UPDATE ON "{table}" FOR EACH ROW '
            "WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector) EXECUTE FUNCTION syro_learn_changed_words()"
        )
    for table in NAMED:
        run(f"DROP INDEX IF EXISTS {table.removeprefix('SyroMusic_')}_name_trgm_idx")
    run("DROP INDEX IF EXISTS song_name_fold_idx")
    run('CREATE INDEX song_name_fold_idx ON "SyroMusic_song" (search_name text_pattern_ops) INCLUDE (popularity, id)')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for table in TABLES:
        short = table.removeprefix("SyroMusic_")
        run(f'DROP TRIGGER IF EXISTS {short}_learns_words ON "{table}"')
        run(f'DROP TRIGGER IF EXISTS {short}_learns_changed_words ON "{table}"')
    run("DROP FUNCTION IF EXISTS syro_learn_words()")
    run("DROP FUNCTION IF EXISTS syro_learn_changed_words()")
    run("DROP INDEX IF EXISTS song_name_fold_idx")
    run('CREATE INDEX song_name_fold_idx ON "SyroMusic_song" (search_name text_pattern_ops)')
    for table in NAMED:
        short = table.removeprefix("SyroMusic_")
        run(f'CREATE INDEX IF NOT EXISTS {short}_name_trgm_idx ON "{table}" USING gin (search_name gin_trgm_ops)')


class Migration(migrations.Migration):

    dependencies = [
        ("SyroMusic", "0012_song_id_duration_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("word", models.TextField()),
            ],
            options={"db_table": "syro_search_word"},
        ),
        migrations.RunPython(create, drop),
    ]
