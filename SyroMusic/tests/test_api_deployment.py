"""The API's limits under a real deployment: gunicorn with 4 workers, PostgreSQL and Redis.

Runs in the PostgreSQL + Redis half of `make test`; the SQLite half skips it (a
second process cannot reach the in-memory test database or the in-memory cache).
"""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from scripts.servers import fetch, start_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gunicorn():
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis shared with another process (make test-services)")
    server = start_gunicorn(redis_url=os.environ["REDIS_URL"], workers=4, API_ANON_PER_HOUR="100")
    yield server.base
    server.stop()


def test_four_workers_give_an_anonymous_client_exactly_its_100_requests(gunicorn):
    url = f"{gunicorn}/api/v1/genres/"
    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda _: fetch(url), range(160)))
    statuses = [status for status, _, _ in results]
    assert statuses.count(200) == 100, statuses
    assert statuses.count(429) == 60
    remaining = sorted(int(headers["X-RateLimit-Remaining"]) for status, headers, _ in results if status == 200)
    assert remaining == list(range(100))  # each allowed request saw its own count: no lost updates
    assert all("Retry-After" in headers for status, headers, _ in results if status == 429)
