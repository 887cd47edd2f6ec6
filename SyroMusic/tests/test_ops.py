import json
import os
import subprocess
import sys
from http import HTTPStatus

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from scripts.servers import fetch, free_port, start_serve

from .factories import make_song

PRODUCTION = {
    "DEBUG": "0",
    "HTTPS": "1",
    "SECRET_KEY": "k7Qz-production-like-secret-9fXv2Lr8TnWc4PpYb6HsJd1MgEa3UoKi5Ry0",
    "ALLOWED_HOSTS": "music.example.net",
}


def manage(*args, **environment):
    env = {"PATH": os.environ["PATH"], **environment}
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True
    )


def test_check_deploy_reports_nothing_with_the_documented_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_does_complain_without_https():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, "HTTPS": "0"})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get("/")
    assert response["Content-Security-Policy"].startswith("default-src 'self'; img-src 'self' data: https:; script-src 'self'")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_healthz_is_cheap_never_cached_and_never_throttled(django_assert_num_queries, settings):
    settings.API_THROTTLE_RATES = {"anonymous": 1, "user": 1}
    client = Client()
    with django_assert_num_queries(0):
        responses = [client.get("/healthz") for _ in range(5)]
    assert {r.status_code for r in responses} == {200}
    assert responses[0].content == b"ok\n"
    assert "no-cache" in responses[0]["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_the_database_the_cache_and_migrations(client):
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"ready": True, "checks": {"database": "ok", "migrations": "ok", "cache": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_503_when_the_cache_is_unreachable(client, settings):
    dead = free_port()  # nothing listens there
    settings.CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{dead}/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }}
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["checks"]["cache"] == "unreachable"


@pytest.mark.django_db
@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_every_request_is_one_log_line_with_status_duration_and_queries(client, caplog, settings, log_format):
    settings.LOG_FORMAT = log_format
    make_song()
    with caplog.at_level("INFO", logger="syromusic.requests"):
        client.get("/music/songs/?sort=popular")
    lines = [record.getMessage() for record in caplog.records if record.name == "syromusic.requests"]
    assert len(lines) == 1
    if log_format == "json":
        record = json.loads(lines[0])
        assert (record["method"], record["path"], record["status"], record["queries"]) == ("GET", "/music/songs/?sort=popular", 200, 3)
        assert record["duration_ms"] > 0
    else:
        method, path, status, duration, queries = lines[0].split()
        assert (method, path, status, queries) == ("GET", "/music/songs/?sort=popular", "200", "3q")
        assert duration.endswith("ms")


@pytest.mark.django_db
def test_an_oversized_body_is_refused_with_413(client, settings):
    settings.MAX_REQUEST_BYTES = 1000
    body = "x" * 2000
    page = client.post("/accounts/login/", body, content_type="text/plain")
    assert page.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert page.content.decode() == "The request body is 2,000 bytes; the limit is 1,000."
    api = client.post("/api/v1/playlists/", body, content_type="application/json")
    assert api.status_code == 413 and api["Content-Type"] == "application/problem+json"


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_is_a_503_and_the_next_request_after_it_returns_works(client):
    if connection.vendor != "postgresql":
        pytest.skip("pointing SQLite's in-memory test database elsewhere would lose it")
    dead = free_port()  # nothing listens there
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(dead)
    try:
        client.raise_request_exception = False
        page = client.get("/music/songs/")
        api = client.get("/api/v1/songs/")
        ready = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    assert page.status_code == 503 and "briefly unavailable" in page.content.decode() and page["Retry-After"] == "30"
    assert api.status_code == 503 and api.json()["detail"].startswith("The catalogue database is unavailable")
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unreachable")
    assert client.get("/music/songs/").status_code == 200  # no restart needed


def test_make_serve_starts_gunicorn_with_static_files_and_stops_gracefully(tmp_path):
    # Only what `make serve` is given: no SECRET_KEY, no REDIS_URL.
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}
    server = start_serve(env, log_path=tmp_path / "serve.log")  # waits for /readyz to be 200
    try:
        status, _, body = fetch(f"{server.base}/readyz")
        assert status == 200 and json.loads(body)["ready"] is True
        status, _, body = fetch(f"{server.base}/music/songs/")
        assert status == 200
        css = next(line for line in body.decode().splitlines() if "site." in line and ".css" in line)
        href = css.split('href="')[1].split('"')[0]
        assert href.startswith("/static/syromusic/site.") and len(href.split(".")) == 3  # hashed name
        status, headers, _ = fetch(f"{server.base}{href}")
        assert status == 200 and headers["Cache-Control"] == "max-age=315360000, public, immutable"
    finally:
        returncode = server.stop()
    output = server.output()
    assert returncode == 0, output
    assert "serve: no SECRET_KEY: using a random one" in output
    assert "serve: no REDIS_URL: in-memory cache, so one worker process with 4 threads." in output
    assert "Shutting down: Master" in output
