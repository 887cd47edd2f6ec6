"""The API's limits under a real deployment: gunicorn with 4 workers, PostgreSQL and Redis.

Runs in the PostgreSQL + Redis half of `make test`; the SQLite half skips it (a
second process cannot reach the in-memory test database or the in-memory cache).
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_of(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.fixture
def gunicorn():
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis shared with another process (make test-services)")
    db = connection.settings_dict
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DEBUG": "0",
        "SECRET_KEY": "gunicorn-test",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_ANON_PER_HOUR": "100",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "Syro.wsgi", "--workers", "4", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning"],
        cwd=settings.BASE_DIR, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status_of(f"{base}/accounts/login/")  # any answer means a worker is up; pages are not throttled
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("gunicorn did not start: " + server.stdout.read().decode())
    time.sleep(1)  # let all four workers finish booting
    yield base
    server.terminate()
    server.wait(timeout=30)


def test_four_workers_give_an_anonymous_client_exactly_its_100_requests(gunicorn):
    url = f"{gunicorn}/api/v1/genres/"
    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda _: status_of(url), range(160)))
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 100, statuses
    assert statuses.count(429) == 60
    remaining = sorted(int(headers["X-RateLimit-Remaining"]) for status, headers in results if status == 200)
    assert remaining == list(range(100))  # each allowed request saw its own count: no lost updates
    assert all("Retry-After" in headers for status, headers in results if status == 429)
