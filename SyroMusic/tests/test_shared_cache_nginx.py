"""The nginx front's page cache (deploy/nginx.conf): anonymous pages kept for as long as the app's
`s-maxage` says, never anything of a listener's, and nothing at all when PAGE_SHARED_SECONDS=0.

Real scripts/serve (nginx in front of gunicorn) on SQLite, as test_front.py runs it.
"""

import gzip

import pytest

from scripts.servers import fetch, start_serve

from .test_front import needs_nginx, serve_environment


def serve(tmp_path, shared_seconds):
    needs_nginx()
    environment = serve_environment(f"sqlite:///{tmp_path / 'serve.sqlite3'}", PAGE_SHARED_SECONDS=str(shared_seconds))
    return start_serve(environment, log_path=tmp_path / "serve.log")


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    server = serve(tmp_path_factory.mktemp("shared-cache"), 600)
    try:
        yield server
    finally:
        server.stop()


def get(server, path, **headers):
    status, answer, body = fetch(server.base + path, headers={"Accept-Encoding": "gzip", **headers})
    return status, answer, gzip.decompress(body) if answer.get("Content-Encoding") == "gzip" else body


def test_an_anonymous_page_is_answered_by_nginx_the_second_time(front):
    first = get(front, "/music/songs/?shared=1")
    second = get(front, "/music/songs/?shared=1")
    assert first[0] == second[0] == 200
    assert (first[1]["X-Cache-Status"], second[1]["X-Cache-Status"]) == ("MISS", "HIT")
    assert second[2] == first[2] and b"csrfmiddlewaretoken" not in second[2]
    assert "s-maxage=600" in second[1]["Cache-Control"] and "public" in second[1]["Cache-Control"]
    assert second[1]["ETag"] == first[1]["ETag"]


def test_a_request_with_a_session_cookie_or_credentials_never_reads_or_fills_it(front):
    get(front, "/music/albums/?shared=2")
    assert get(front, "/music/albums/?shared=2")[1]["X-Cache-Status"] == "HIT"
    for headers in ({"Cookie": "sessionid=someones-session"}, {"Cookie": "messages=pending"},
                    {"Authorization": "Token abc"}):
        for _ in range(2):
            assert get(front, "/music/albums/?shared=2", **headers)[1]["X-Cache-Status"] == "BYPASS"


def test_answers_the_app_does_not_mark_public_are_never_kept(front):
    for path in ("/accounts/login/", "/accounts/signup/", "/no-such-page/"):
        for _ in range(2):
            assert get(front, path)[1]["X-Cache-Status"] == "MISS", path
    # The API's own location has no shared cache at all: every request counts against its client's limit.
    assert get(front, "/api/v1/songs/")[1]["X-Cache-Status"] is None
    # Nor has audio's: ranges and HEAD reach the app as sent, and listeners starting one song are not queued.
    for path in ("/audio/1/0123abcd.mp3", "/audio/1/0123abcd/96.opus"):
        assert get(front, path, Range="bytes=0-1")[1]["X-Cache-Status"] is None, path


def test_with_no_shared_seconds_nginx_keeps_nothing(tmp_path):
    server = serve(tmp_path, 0)
    try:
        for _ in range(2):
            status, answer, _ = get(server, "/music/songs/")
            assert status == 200 and answer["X-Cache-Status"] == "MISS"
            assert "s-maxage=0" in answer["Cache-Control"]
    finally:
        server.stop()
