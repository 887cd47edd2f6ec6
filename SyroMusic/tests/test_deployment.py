"""Deployment behaviour with real gunicorn, PostgreSQL and Redis processes (the PostgreSQL + Redis run)."""

import os
import re
import threading
import time
import urllib.parse

import pytest
from django.core.management import call_command
from django.db import connection

from SyroMusic.models import Song

from .factories import make_user
from .servers import RedisServer, fetch, start_gunicorn, stop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def services():
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis shared with other processes (make test-services)")
    call_command("seed_catalogue", songs=300, no_progress=True, stdout=None)


def test_redis_stopping_under_load_costs_no_request_and_caching_comes_back():
    redis = RedisServer()
    redis.start()
    server, base = start_gunicorn(redis_url=redis.url, workers=2)
    urls = ["/", "/music/songs/", "/music/albums/1/", "/api/v1/songs/", "/music/playlists/2/", "/readyz"]
    results, stop_at = [], time.monotonic() + 8

    def stream():
        number = 0
        while time.monotonic() < stop_at and number < 2000:  # bounded in time and count
            path = urls[number % len(urls)]
            try:
                status = fetch(base + path)[0]
            except OSError as error:  # a refused or broken connection is a failure too
                status = f"error: {error}"
            results.append((time.monotonic(), path, status))
            number += 1

    try:
        workers = [threading.Thread(target=stream) for _ in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(2)
        redis.stop()
        outage_start = time.monotonic()
        time.sleep(3)
        redis.start()
        outage_end = time.monotonic()
        for worker in workers:
            worker.join(timeout=60)
        during = [(path, status) for at, path, status in results if outage_start <= at <= outage_end]
        failures = [
            (path, status) for _, path, status in results
            if isinstance(status, str) or (status >= 500 and path != "/readyz")
        ]
        print(f"\nredis outage: {len(results)} requests in all, {len(during)} during the outage, {len(failures)} failed")
        assert failures == [], failures[:5]
        assert len(during) > 20
        assert 503 in {status for path, status in during if path == "/readyz"}  # the outage is reported
        # Recovered by itself: readiness and caching are back.
        assert fetch(base + "/readyz")[0] == 200
        fetch(base + "/music/songs/?sort=duration")
        assert fetch(base + "/music/songs/?sort=duration")[1].get("ETag")
    finally:
        stop(server)
        redis.stop()


def test_two_instances_share_the_throttle_the_cache_and_sessions(settings):
    # The servers use the real password hasher: give the account a hash they can check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    redis_url = os.environ["REDIS_URL"]
    first, first_url = start_gunicorn(redis_url=redis_url, workers=1, API_ANON_PER_HOUR="10")
    second, second_url = start_gunicorn(redis_url=redis_url, workers=1, API_ANON_PER_HOUR="10")
    try:
        statuses = [fetch(f"{url}/api/v1/genres/")[0] for url in (first_url, second_url) * 6]
        assert statuses.count(200) == 10 and statuses.count(429) == 2

        song = Song.objects.order_by("id").first()
        for url in (first_url, second_url):
            assert song.title in fetch(f"{url}/music/songs/{song.pk}/")[2].decode()  # now cached on both
        song.title = "Renamed on one side"
        song.save()  # this process shares the Redis: the version bump reaches both instances
        for url in (first_url, second_url):
            assert "Renamed on one side" in fetch(f"{url}/music/songs/{song.pk}/")[2].decode()

        make_user("dana")
        status, headers, body = fetch(f"{first_url}/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        cookies = " ".join(headers.get_all("Set-Cookie"))
        csrf_cookie = re.search(r"csrftoken=([^;]+)", cookies).group(1)
        form = urllib.parse.urlencode({"username": "dana", "password": "correct horse battery", "csrfmiddlewaretoken": token})
        status, headers, _ = fetch(
            f"{first_url}/accounts/login/", data=form.encode(),
            headers={"Cookie": f"csrftoken={csrf_cookie}", "Content-Type": "application/x-www-form-urlencoded",
                     "Referer": f"{first_url}/accounts/login/"},
        )
        assert status == 302
        session = re.search(r"sessionid=([^;]+)", " ".join(headers.get_all("Set-Cookie"))).group(1)
        page = fetch(f"{second_url}/music/songs/", headers={"Cookie": f"sessionid={session}"})[2].decode()
        assert "Signed in as" in page and "dana" in page
    finally:
        stop(first)
        stop(second)
