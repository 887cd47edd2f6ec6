import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from Syro.settings import database_from_url, env_bool, env_int, env_list


def settings_in_subprocess(**environment):
    """Load the settings module in a fresh interpreter with exactly this environment."""
    env = {"PATH": os.environ["PATH"], **environment}
    return subprocess.run(
        [sys.executable, "-c", "import Syro.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.PAGE_CACHE_SECONDS)"],
        env=env, capture_output=True, text=True, cwd=settings.BASE_DIR,
    )


def test_with_no_environment_debug_is_off_and_a_secret_key_is_required():
    result = settings_in_subprocess()
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_the_embedded_defaults_are_sqlite_and_the_in_memory_cache():
    result = settings_in_subprocess(SECRET_KEY="x")
    assert result.stdout.split() == [
        "False", "django.db.backends.sqlite3", "django.core.cache.backends.locmem.LocMemCache", "900",
    ]


def test_debug_needs_no_secret_key_and_services_come_from_urls():
    result = settings_in_subprocess(
        DEBUG="1", DATABASE_URL="postgres://u:p@db:5432/syro", REDIS_URL="redis://cache:6379/0", PAGE_CACHE_SECONDS="60"
    )
    assert result.stdout.split() == [
        "True", "django.db.backends.postgresql", "django_redis.cache.RedisCache", "60",
    ]


def test_a_bad_value_is_refused_with_the_variable_named():
    result = settings_in_subprocess(SECRET_KEY="x", PAGE_CACHE_SECONDS="soon")
    assert "PAGE_CACHE_SECONDS='soon': expected a whole number" in result.stderr


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("", False), ("off", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("FLAG", value)
    assert env_bool("FLAG") is expected


def test_env_helpers_refuse_nonsense_and_fall_back_to_defaults(monkeypatch):
    monkeypatch.setenv("FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="FLAG='perhaps'"):
        env_bool("FLAG")
    monkeypatch.delenv("FLAG")
    assert env_bool("FLAG", True) is True
    assert env_int("NUMBER", 7) == 7
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env_list("HOSTS") == ["a.example", "b.example"]


def test_database_urls_are_parsed_with_escapes_and_options(monkeypatch):
    monkeypatch.delenv("DATABASE_STATEMENT_TIMEOUT_MS", raising=False)  # the default, not the test run's own
    db = database_from_url("postgres://syro:p%40ss@db.internal:6432/catalogue?sslmode=require")
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["OPTIONS"]) == (
        "django.db.backends.postgresql", "catalogue", "syro", "p@ss", "db.internal", "6432",
        {"sslmode": "require", "options": "-c pg_trgm.similarity_threshold=0.3 -c statement_timeout=5000 -c jit=off "},
    )
    # Options in the URL are kept after the settings' own, so they win.
    db = database_from_url("postgres://db/catalogue?options=-c%20statement_timeout%3D60000")
    assert db["OPTIONS"]["options"] == (
        "-c pg_trgm.similarity_threshold=0.3 -c statement_timeout=5000 -c jit=off -c statement_timeout=60000"
    )
    assert database_from_url("sqlite:////var/lib/syro.db")["NAME"] == "/var/lib/syro.db"
    with pytest.raises(ImproperlyConfigured, match="unsupported scheme 'mysql'"):
        database_from_url("mysql://x/y")


@pytest.mark.django_db
def test_the_suite_runs_on_the_services_it_was_given():
    """The PostgreSQL+Redis run must really use them: no silent fallback to the embedded defaults."""
    expected_vendor = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected_vendor
    if os.environ.get("REDIS_URL"):
        from django_redis import get_redis_connection

        cache.set("probe", "through django-redis")
        raw = get_redis_connection("default")
        assert raw.ping()
        assert any(key.endswith(b":probe") for key in raw.keys("*"))
        assert cache.get("probe") == "through django-redis"
    else:
        assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
        assert settings.CACHES["default"]["OPTIONS"]["MAX_ENTRIES"] == 10_000
    assert settings.CACHES["default"]["TIMEOUT"] == 300


@pytest.mark.parametrize("value, message", [("abc", "expected a number from 0 to 1"), ("1.5", "expected a number from 0 to 1")])
def test_a_bad_search_fuzziness_is_refused_by_name(monkeypatch, value, message):
    monkeypatch.setenv("SEARCH_FUZZINESS", value)
    with pytest.raises(ImproperlyConfigured, match=f"SEARCH_FUZZINESS={value!r}: {message}"):
        database_from_url("postgres://db/catalogue")
