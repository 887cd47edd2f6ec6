"""Streaming behind nginx, as `make serve` runs it: the app checks who may listen and which file a URL names,
then hands the file to nginx (X-Accel-Redirect), which sends it. The same range table as the app alone
(streaming_cases.py), asked of a real scripts/serve.

The server has a SQLite database of its own (rows written by a small script once it has started), and its files sit
in a folder nginx's workers may read (as root they run as `nobody`; pytest's own folders are root's alone).
"""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse
from http import HTTPStatus
from pathlib import Path

import pytest
from PIL import Image

from scripts.servers import ROOT, fetch, start_serve
from SyroMusic.models import cover_file_name

from .audio_files import make_audio
from .factories import logged_in, make_user
from .streaming_cases import ASKS, audio_row, check_answer, facts, request_headers
from .test_front import needs_nginx

A_YEAR = "max-age=31536000, immutable"
BIG_BYTES = 50 * 1024 * 1024
COVER_HASH = "cd" + "1" * 62
# The app's body limit and the admin's upload limits, small enough to send (nginx allows the sum on /admin/).
LIMITS = {"MAX_REQUEST_BYTES": "20000", "AUDIO_UPLOAD_MAX_BYTES": "50000", "COVER_UPLOAD_MAX_BYTES": "30000"}

# Run in the server's database once it has migrated it: a listener, and a row for each file.
SEED = """
import json, sys
import django
django.setup()
from SyroMusic.tests.factories import make_user
from SyroMusic.tests.streaming_cases import audio_row
make_user("dana")
make_user("sam", is_staff=True, is_superuser=True)
files = json.loads(sys.argv[1])
urls = {"wav": audio_row(files["wav"]).get_absolute_url()}
big = audio_row(files["big"], title="Big", format="mp3", codec="mp3", content_hash="b" * 64)
urls["big"] = big.get_absolute_url()
print(json.dumps(urls))
"""


@pytest.fixture(scope="module")
def library():
    """The music folder and MEDIA_ROOT, readable by nginx's workers: a WAV under a name that needs quoting,
    a 50 MB file (sparse: its bytes are not decoded, only sent) and a cover."""
    top = Path(tempfile.mkdtemp(prefix="syromusic-streaming-"))
    try:
        music = top / "Musique é %?#"
        wav = make_audio(music, "Première écoute %?#.wav", format="wav", sample_rate=8000)
        big = music / "big.mp3"
        with open(big, "wb") as file:
            file.truncate(BIG_BYTES)
        media = top / "media"
        cover = media / cover_file_name(COVER_HASH, 300)
        cover.parent.mkdir(parents=True)
        Image.new("RGB", (300, 300), (200, 60, 40)).save(cover, "WEBP")
        (media / cover_file_name(COVER_HASH)).write_bytes(b"the original, not served")
        for folder in (top, music, media, cover.parent.parent, cover.parent):
            folder.chmod(0o755)
        yield {"wav": wav, "big": big, "media": media, "cover": cover}
    finally:
        shutil.rmtree(top)


@pytest.fixture(scope="module")
def served(tmp_path_factory, library):
    """scripts/serve (nginx and gunicorn) on a database of its own, and the addresses of the files in it."""
    needs_nginx()
    database = f"sqlite:///{tmp_path_factory.mktemp('streaming-database') / 'serve.sqlite3'}"
    environment = {"PATH": os.environ["PATH"], "DATABASE_URL": database, "MEDIA_ROOT": str(library["media"]), **LIMITS}
    server = start_serve(environment, log_path=tmp_path_factory.mktemp("streaming") / "serve.log")
    try:
        seeded = subprocess.run(
            [sys.executable, "-c", SEED, json.dumps({"wav": str(library["wav"]), "big": str(library["big"])})],
            cwd=ROOT, capture_output=True, text=True, check=True,
            env={**environment, "DJANGO_SETTINGS_MODULE": "Syro.settings", "SECRET_KEY": "seeding-only", "DEBUG": "0"},
        )
        yield server, json.loads(seeded.stdout.splitlines()[-1])
    finally:
        server.stop()


@pytest.fixture(scope="module")
def session(served):
    """The session cookie of dana, logged in through the real login form."""
    return log_in(served[0], "dana")


@pytest.fixture(scope="module")
def staff_session(served):
    return log_in(served[0], "sam")


def log_in(server, username):
    _, headers, body = fetch(f"{server.base}/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    csrf = re.search(r"csrftoken=([^;]+)", " ".join(headers.get_all("Set-Cookie"))).group(1)
    form = urllib.parse.urlencode({"username": username, "password": "correct horse battery", "csrfmiddlewaretoken": token})
    status, headers, _ = fetch(
        f"{server.base}/accounts/login/", data=form.encode(),
        headers={"Cookie": f"csrftoken={csrf}", "Content-Type": "application/x-www-form-urlencoded",
                 "Referer": f"{server.base}/accounts/login/"},
    )
    assert status == HTTPStatus.FOUND
    return {"Cookie": "sessionid=" + re.search(r"sessionid=([^;]+)", " ".join(headers.get_all("Set-Cookie"))).group(1)}


def ask(server, path, *, method="GET", headers=None, body=None):
    """(status, headers, body) of one request; the headers ignore case and give None for one not sent."""
    connection = http.client.HTTPConnection("127.0.0.1", int(server.base.rsplit(":", 1)[1]), timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("rule", ASKS, ids=[rule.name for rule in ASKS])
def test_each_range_and_validator_rule_is_answered_by_nginx_as_the_table_says(served, session, library, rule):
    server, urls = served
    file_facts = facts(library["wav"].stat())
    status, headers, body = ask(server, urls["wav"], method=rule.method, headers={**session, **request_headers(rule, file_facts)})
    check_answer(
        rule, "nginx", library["wav"].read_bytes(), file_facts, status, headers, body,
        content_type="audio/wav", cache_control=f"private, {A_YEAR}",
    )
    if status in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT):
        assert headers["Server"] == "nginx" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Disposition"] == "inline; filename*=utf-8''Premi%C3%A8re%20%C3%A9coute.wav"


@pytest.mark.django_db
def test_the_app_alone_and_nginx_send_the_same_bytes_and_validators(served, session, library):
    server, urls = served
    from_nginx = ask(server, urls["wav"], headers={**session, "Range": "bytes=-100"})
    response = logged_in(make_user()).get(audio_row(library["wav"]).get_absolute_url(), headers={"Range": "bytes=-100"})
    from_app = (response.status_code, response.headers, b"".join(response.streaming_content))
    names = ("Content-Type", "Content-Length", "Content-Range", "ETag", "Last-Modified", "Cache-Control", "Content-Disposition")
    for status, headers, body in (from_nginx, from_app):
        assert status == HTTPStatus.PARTIAL_CONTENT
        assert {name: headers[name] for name in names} == {name: from_app[1][name] for name in names}
        assert body == library["wav"].read_bytes()[-100:]


def test_anonymous_visitors_are_refused_by_the_app_and_listeners_get_the_file(served, session, library):
    server, urls = served
    assert ask(server, urls["wav"])[::2] == (HTTPStatus.FORBIDDEN, b"Log in to listen.")
    assert ask(server, urls["wav"], headers=session)[::2] == (HTTPStatus.OK, library["wav"].read_bytes())


def test_the_internal_location_is_404_to_clients(served, library):
    server, _ = served
    for path in (str(library["wav"]), str(library["big"])):
        status, headers, body = ask(server, "/_syro_files" + urllib.parse.quote(path))
        assert (status, headers["Server"]) == (HTTPStatus.NOT_FOUND, "nginx")
        assert len(body) < 1000


@pytest.mark.parametrize("range_header", [None, "bytes=10-"], ids=["whole file", "range"])
def test_nginx_never_gzips_audio_even_when_the_client_asks(served, session, library, range_header):
    server, urls = served
    headers = {**session, "Accept-Encoding": "gzip"} | ({"Range": range_header} if range_header else {})
    _, answer, body = ask(server, urls["wav"], headers=headers)
    assert answer["Content-Encoding"] is None and answer["Vary"] is None
    assert body == library["wav"].read_bytes()[10 if range_header else 0:]


def test_a_big_file_streams_to_slow_listeners_while_no_app_worker_is_held(served, session):
    """gunicorn runs one worker with 4 threads here: 8 listeners that have stopped reading would hold them all
    if the app sent the bytes."""
    server, urls = served
    port = int(server.base.rsplit(":", 1)[1])
    request = (f"GET {urls['big']} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {session['Cookie'].split(': ')[-1]}\r\n"
               "Connection: close\r\n\r\n").encode()
    listeners = []
    try:
        for _ in range(8):
            sock = socket.create_connection(("127.0.0.1", port), timeout=60)
            sock.sendall(request)
            listeners.append((sock, sock.recv(65536)))  # the answer's start, and then it stops reading
        assert all(start.startswith(b"HTTP/1.1 200 OK\r\n") for _, start in listeners)
        assert fetch(f"{server.base}/healthz", timeout=30)[::2] == (HTTPStatus.OK, b"ok\n")
        assert fetch(f"{server.base}/music/songs/", timeout=30)[0] == HTTPStatus.OK
        sock, start = listeners[0]  # the first listener reads on, to the end
        head, _, body = start.partition(b"\r\n\r\n")
        received = len(body)
        while chunk := sock.recv(1 << 20):
            received += len(chunk)
        assert b"\r\nContent-Length: 52428800\r\n" in head and received == BIG_BYTES
    finally:
        for sock, _ in listeners:
            sock.close()


def test_nginx_serves_cover_sizes_cached_for_good_and_not_the_originals(served, library):
    server, _ = served
    status, headers, body = ask(server, f"/media/covers/cd/{COVER_HASH}-300.webp", headers={"Accept-Encoding": "gzip"})
    assert (status, body) == (HTTPStatus.OK, library["cover"].read_bytes())
    assert (headers["Content-Type"], headers["Cache-Control"]) == ("image/webp", f"public, {A_YEAR}")
    assert headers["ETag"] == facts(library["cover"].stat())["etag"] and headers["Content-Encoding"] is None
    assert ask(server, f"/media/covers/cd/{COVER_HASH}")[0] == HTTPStatus.NOT_FOUND


def test_as_root_nginx_reads_the_music_folder_and_media_as_nobody(served):
    server, _ = served
    if os.geteuid() != 0:
        pytest.skip("only root chooses the user nginx's workers run as")
    assert "nginx's workers run as root" not in server.output()


def test_the_general_limit_holds_on_admin_pages_that_take_no_upload(served):
    server, _ = served
    headers = {"Content-Type": "application/octet-stream"}
    status, _, body = ask(server, "/admin/login/", method="POST", headers=headers, body=b"x" * 20_001)
    assert (status, body) == (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"The request body is over the limit of 20,000 bytes.")


@pytest.mark.parametrize("who", ["anonymous", "listener"])
def test_nginx_refuses_an_upload_sized_body_unread_unless_the_app_says_staff_may_send_it(served, session, who):
    server, _ = served
    headers = {"Content-Type": "application/octet-stream", **(session if who == "listener" else {})}
    status, _, body = ask(server, "/admin/SyroMusic/song/1/change/", method="POST", headers=headers, body=b"x" * 40_000)
    assert (status, body) == (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"The request body is over the limit of 20,000 bytes.")


def test_staff_may_send_an_upload_up_to_its_limit_and_nginx_refuses_larger(served, staff_session):
    server, _ = served
    headers = {"Content-Type": "application/octet-stream", **staff_session}
    # Past nginx: the app answers (this body is no form, so Django's CSRF check refuses it: not a 413).
    status, _, _ = ask(server, "/admin/SyroMusic/song/1/change/", method="POST", headers=headers, body=b"x" * 40_000)
    assert status == HTTPStatus.FORBIDDEN
    status, _, body = ask(server, "/admin/SyroMusic/album/1/change/", method="POST", headers=headers, body=b"x" * 70_001)
    assert (status, body) == (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"The request body is over the limit of 70,000 bytes.")
    status, _, _ = ask(server, "/admin/SyroMusic/album/1/change/", headers=staff_session)
    assert status in (HTTPStatus.OK, HTTPStatus.FOUND)  # a page (or the admin's redirect for an unknown album)
