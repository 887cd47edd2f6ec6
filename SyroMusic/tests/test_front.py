"""The production front: `make serve` puts nginx (deploy/nginx.conf) in front of gunicorn.

The tests talk to a real scripts/serve on SQLite over 127.0.0.1 (and 127.0.0.2, a second loopback
client, where two clients must be told apart): one started for the module, and one of their own
for the tests that stop it or run it without nginx.
"""

import contextlib
import grp
import gzip
import json
import os
import pwd
import re
import shutil
import signal
import socket
import tempfile
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

import pytest

from scripts import servers
from scripts.nginx_conf import worker_user
from scripts.servers import fetch, start_serve

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROBE_TIMEOUT = 30  # seconds a /healthz probe may take on a busy machine; gunicorn alone never answers
MAX_REQUEST_BYTES = 20_000


def needs_nginx():
    if os.access(NGINX, os.X_OK):
        return
    message = "the front needs nginx (apt-get install nginx-light)"
    if servers.in_ci():
        pytest.fail(f"{message} (CI is set: failing instead of skipping)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """The servers' SQLite file, shared by this module's servers: migrated once, not once a server."""
    return f"sqlite:///{tmp_path_factory.mktemp('front-database') / 'serve.sqlite3'}"


def serve_environment(database, **environment):
    """Only what `make serve` is given: no SECRET_KEY, no REDIS_URL."""
    return {"PATH": os.environ["PATH"], "DATABASE_URL": database, **environment}


@pytest.fixture(scope="module")
def front(tmp_path_factory, database):
    needs_nginx()
    environment = serve_environment(database, MAX_REQUEST_BYTES=str(MAX_REQUEST_BYTES), API_ANON_PER_HOUR="1000")
    server = start_serve(environment, log_path=tmp_path_factory.mktemp("front") / "serve.log")
    try:
        yield server
    finally:
        server.stop()


def port_of(server):
    return int(server.base.rsplit(":", 1)[1])


def connect(server, source="127.0.0.1"):
    return socket.create_connection(("127.0.0.1", port_of(server)), timeout=PROBE_TIMEOUT, source_address=(source, 0))


def request(server, method, path, *, source="127.0.0.1", headers=None, body=b""):
    """(status, headers, body) of one HTTP/1.1 request from `source` (a loopback address)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port_of(server)}", "Connection: close",
             f"Content-Length: {len(body)}", *(f"{name}: {value}" for name, value in (headers or {}).items())]
    with connect(server, source) as sock:
        sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    answer_headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), answer_headers, content


def nudge(sock, data):
    """Send a slow client's next bit; nginx may have dropped it (client_header_timeout): it is only load."""
    with contextlib.suppress(OSError):
        sock.sendall(data)


def test_it_answers_every_health_probe_while_50_slow_clients_are_held(front):
    slow_headers, slow_bodies = [], []
    try:
        for _ in range(50):
            sock = connect(front)
            sock.sendall(b"GET /music/songs/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
            slow_headers.append(sock)
        for _ in range(8):
            sock = connect(front)
            sock.sendall(b"POST /api/v1/playlists/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
            slow_bodies.append(sock)
        for probe in range(20):
            # Each round, every slow client sends a little more, as slowloris does.
            for sock in slow_headers:
                nudge(sock, f"X-Slow-{probe}: still typing\r\n".encode())
            for sock in slow_bodies:
                nudge(sock, b" ")
            status, _, body = fetch(f"{front.base}/healthz", timeout=PROBE_TIMEOUT)
            assert (status, body) == (HTTPStatus.OK, b"ok\n"), f"probe {probe}"
    finally:
        for sock in slow_headers + slow_bodies:
            sock.close()


def test_it_serves_static_files_itself_precompressed_and_hashed_ones_cached_for_good(front):
    status, _, page = fetch(f"{front.base}/music/songs/")
    assert status == HTTPStatus.OK
    css = re.search(r'href="(/static/syromusic/site\.[0-9a-f]{12}\.css)"', page.decode()).group(1)
    status, headers, body = fetch(f"{front.base}{css}", headers={"Accept-Encoding": "gzip"})
    assert status == HTTPStatus.OK
    assert headers["Server"] == "nginx"  # never reached gunicorn
    assert headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
    assert headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert gzip.decompress(body).startswith(b"/* SyroMusic: hand-written styles.")
    status, headers, _ = fetch(f"{front.base}/static/syromusic/site.css")
    assert status == HTTPStatus.OK and headers["Cache-Control"] == "max-age=60, public"  # an unhashed name may change


def test_it_refuses_a_body_over_the_limit_before_gunicorn_in_the_apps_shapes(front):
    body = b"x" * (MAX_REQUEST_BYTES + 1)
    status, headers, content = request(front, "POST", "/api/v1/playlists/", headers={"Content-Type": "application/json"}, body=body)
    assert status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(content) == {
        "type": "about:blank", "title": "Request Entity Too Large", "status": 413,
        "detail": "The request body is over the limit of 20,000 bytes.",
    }
    status, headers, content = request(front, "POST", "/accounts/login/", headers={"Content-Type": "text/plain"}, body=body)
    assert status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert content == b"The request body is over the limit of 20,000 bytes."
    status, _, _ = request(front, "POST", "/api/v1/playlists/", headers={"Content-Type": "application/json"},
                           body=b" " * MAX_REQUEST_BYTES)
    assert status == HTTPStatus.UNAUTHORIZED  # the limit itself reaches the app, which asks who is asking


def test_it_gives_each_real_client_its_own_api_budget_whatever_x_forwarded_for_says(front):
    def remaining(source, forwarded_for=None):
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        status, answer, _ = request(front, "GET", "/api/v1/genres/", source=source, headers=headers)
        assert status == HTTPStatus.OK
        return int(answer["x-ratelimit-remaining"])

    first = remaining("127.0.0.1", forwarded_for="203.0.113.7")
    assert remaining("127.0.0.1", forwarded_for="198.51.100.9") == first - 1  # a header of its own is no new identity
    other = remaining("127.0.0.2")
    assert remaining("127.0.0.2") == other - 1
    assert remaining("127.0.0.1") == first - 2  # the other client's requests were not counted here


def test_it_counts_failed_logins_by_the_real_client_address(front):
    def log_in(number, source, forwarded_for):
        status, _, _ = request(
            front, "POST", "/api/v1/auth/token/", source=source,
            headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
            body=json.dumps({"username": f"nobody-{number}", "password": "wrong"}).encode(),
        )
        return status

    # 20 failures from one address (each a new name and a new made-up X-Forwarded-For) are its limit.
    with ThreadPoolExecutor(4) as pool:  # as many as gunicorn's threads: each failure hashes a password
        failures = list(pool.map(lambda number: log_in(number, "127.0.0.1", f"198.51.100.{number}"), range(20)))
    assert failures == [HTTPStatus.BAD_REQUEST] * 20
    assert log_in(20, "127.0.0.1", "203.0.113.1") == HTTPStatus.TOO_MANY_REQUESTS
    assert log_in(21, "127.0.0.2", "198.51.100.1") == HTTPStatus.BAD_REQUEST  # another client is not blocked


@pytest.mark.parametrize("stop", ["SIGTERM to the script", "Ctrl-C"])
def test_it_stops_nginx_with_gunicorn_and_leaves_no_run_directory(tmp_path, database, stop):
    needs_nginx()
    run_dirs = tmp_path / "tmp"
    run_dirs.mkdir()
    server = start_serve(serve_environment(database, TMPDIR=str(run_dirs)), log_path=tmp_path / "serve.log")
    try:
        (run_dir,) = run_dirs.iterdir()
        nginx_pid = int((run_dir / "nginx.pid").read_text())
        assert fetch(f"{server.base}/healthz")[0] == HTTPStatus.OK
        if stop == "Ctrl-C":
            os.killpg(server.process.pid, signal.SIGINT)  # a terminal signals the whole process group
        else:
            server.process.terminate()  # as a service manager does
        returncode = server.process.wait(60)
    finally:
        if server.process.poll() is None:
            server.kill()
    output = server.output()
    assert returncode == 0, output
    assert f"serve: http://127.0.0.1:{port_of(server)}/ through nginx" in output
    assert "Shutting down: Master" in output
    with pytest.raises(ProcessLookupError):
        os.kill(nginx_pid, 0)
    with pytest.raises(ConnectionRefusedError):
        connect(server)
    assert list(run_dirs.iterdir()) == []


def test_without_nginx_it_says_so_and_gunicorn_serves_alone(tmp_path, database):
    environment = serve_environment(database, NGINX=str(tmp_path / "no-nginx-here"))
    server = start_serve(environment, log_path=tmp_path / "serve.log")  # waits for /readyz to be 200
    try:
        status, headers, _ = fetch(f"{server.base}/healthz")
        assert status == HTTPStatus.OK and headers["Server"] == "gunicorn"
    finally:
        returncode = server.stop()
    output = server.output()
    assert returncode == 0, output
    assert (f"serve: no nginx at {tmp_path / 'no-nginx-here'} (apt-get install nginx-light, or set NGINX): "
            "gunicorn faces clients alone, and a few slow ones can hold all its workers.") in output


def test_as_root_it_runs_the_workers_as_nobody_unless_nobody_cannot_reach_the_files(tmp_path, capsys):
    if os.geteuid() != 0:
        pytest.skip("only root chooses the user nginx's workers run as")
    nobody = f"user nobody {grp.getgrgid(pwd.getpwnam('nobody').pw_gid).gr_name};"
    reachable = Path(tempfile.mkdtemp())  # in the temporary directory, where anyone may pass
    try:
        reachable.chmod(0o755)
        (reachable / "static").mkdir()
        (reachable / "static" / "staticfiles.json").write_text("{}")
        (reachable / "run").mkdir(mode=0o700)
        assert worker_user(str(reachable / "run"), reachable / "static") == nobody
        hidden = tmp_path / "run"  # pytest's directories are root's alone
        hidden.mkdir()
        assert worker_user(str(hidden), reachable / "static") == "user root;"
    finally:
        shutil.rmtree(reachable)
    assert f"serve: nobody cannot reach {hidden}: nginx's workers run as root" in capsys.readouterr().err
