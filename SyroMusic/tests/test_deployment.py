"""Deployment behaviour with real gunicorn, PostgreSQL and Redis processes (the PostgreSQL + Redis run)."""

import http.client
import os
import re
import threading
import time
import urllib.parse

import pytest
from django.core.management import call_command
from django.db import connection

from scripts.servers import RedisServer, fetch, start_gunicorn
from SyroMusic.models import Song

from .factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def services():
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis shared with other processes (make test-services)")
    call_command("seed_catalogue", songs=300, no_progress=True, stdout=None)


def test_redis_stopping_under_load_costs_no_request_and_caching_comes_back(tmp_path):
    redis = RedisServer(tmp_path)
    redis.start()
    server = start_gunicorn(redis_url=redis.url, workers=2)
    base = server.base
    urls = ["/", "/music/songs/", "/music/albums/1/", "/api/v1/songs/", "/music/playlists/2/", "/readyz"]
    # (phase, path, status): a request counts as "during the outage" when Redis was down from its start to its answer.
    results, phase, done = [], ["before"], threading.Event()

    def stream():
        number = 0
        while not done.is_set() and number < 5000:  # bounded in count; the test ends it when it has seen enough
            path, started_in = urls[number % len(urls)], phase[0]
            try:
                status = fetch(base + path)[0]
            except OSError as error:  # a refused or broken connection is a failure too
                status = f"error: {error}"
            results.append((started_in if phase[0] == started_in else "across", path, status))
            number += 1

    def wait_until(condition, what, timeout=120):
        # Conditions, not sleeps: a busy machine only makes this slower, never wrong.
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
            time.sleep(0.05)

    def seen(name):
        return [(path, status) for at, path, status in results if at == name]

    try:
        workers = [threading.Thread(target=stream) for _ in range(4)]
        for worker in workers:
            worker.start()
        wait_until(lambda: len(seen("before")) >= 12, "12 answers before the outage")
        redis.stop()
        phase[0] = "outage"
        wait_until(
            lambda: len(seen("outage")) > 20 and 503 in {status for path, status in seen("outage") if path == "/readyz"},
            "20 answers and a /readyz 503 during the outage",
        )
        redis.start()
        phase[0] = "after"
        wait_until(lambda: len(seen("after")) >= 12, "12 answers after the outage")
        done.set()
        for worker in workers:
            worker.join(timeout=120)
        during = seen("outage")
        failures = [
            (path, status) for _, path, status in results
            if isinstance(status, str) or (status >= 500 and path != "/readyz")
        ]
        print(f"\nredis outage: {len(results)} requests in all, {len(during)} during the outage, {len(failures)} failed")
        assert failures == [], failures[:5]
        assert len(during) > 20
        assert 503 in {status for path, status in during if path == "/readyz"}  # the outage is reported
        # Recovered by itself: readiness and caching are back.
        wait_until(lambda: fetch(base + "/readyz")[0] == 200, "/readyz to answer 200 again", timeout=60)
        fetch(base + "/music/songs/?sort=duration")
        assert fetch(base + "/music/songs/?sort=duration")[1].get("ETag")
    finally:
        server.stop()
        redis.stop()


def test_two_instances_share_the_throttle_the_cache_and_sessions(settings):
    # The servers use the real password hasher: give the account a hash they can check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    redis_url = os.environ["REDIS_URL"]
    first = start_gunicorn(redis_url=redis_url, workers=1, API_ANON_PER_HOUR="10")
    second = start_gunicorn(redis_url=redis_url, workers=1, API_ANON_PER_HOUR="10")
    first_url, second_url = first.base, second.base
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
        first.stop()
        second.stop()


def worker_pids(master):
    import subprocess

    output = subprocess.run(["ps", "-o", "pid=,stat=", "--ppid", str(master.pid)], capture_output=True, text=True).stdout
    return {int(pid) for pid, state in (line.split() for line in output.splitlines()) if not state.startswith("Z")}


def test_a_worker_killed_mid_write_is_replaced_and_leaves_no_partial_playlist(settings):
    import signal
    import uuid

    from rest_framework.authtoken.models import Token

    from SyroMusic.models import Playlist

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    dana = make_user("dana")
    token = Token.objects.create(user=dana).key
    server = start_gunicorn(redis_url=os.environ["REDIS_URL"], workers=2, API_USER_PER_HOUR="100000")
    base = server.base
    try:
        before = worker_pids(server.process)
        assert len(before) == 2
        songs = list(Song.objects.select_related("artist")[:50])
        lines = "".join(f"#EXTINF:1,{song.artist.name} - {song.title}\nx.mp3\n" for song in songs * 200)  # 10,000 entries: Playlist.MAX_ENTRIES
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.m3u8\"\r\n"
            f"Content-Type: audio/x-mpegurl\r\n\r\n{lines}\r\n--{boundary}--\r\n"
        ).encode()
        outcome = []

        def upload():
            try:
                outcome.append(fetch(
                    f"{base}/api/v1/playlists/import/", data=body,
                    headers={"Authorization": f"Token {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
                )[0])
            except (OSError, http.client.HTTPException):  # reset, or cut in the middle of the answer
                outcome.append("interrupted")

        request = threading.Thread(target=upload)
        request.start()
        time.sleep(0.4)  # the import is under way: matching 10,000 entries, then one transaction
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        request.join(timeout=60)
        assert outcome in (["interrupted"], [201]), outcome  # (201 only if the import beat the kill)
        # Killed in the middle: nothing, or everything, of the playlist was written.
        for playlist in Playlist.objects.filter(owner=dana):
            assert playlist.entries.count() == 10_000
        deadline = time.monotonic() + 120
        while len(worker_pids(server.process)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        after = worker_pids(server.process)
        assert len(after) == 2 and not (after & before), (before, after)  # replaced by new workers
        assert fetch(f"{base}/healthz")[0] == 200
    finally:
        server.stop()
