"""`make serve` (scripts/serve) tells nginx or gunicorn being stopped from one failing: stopped (it exits 0,
as for a signal that reached the script late), the other is stopped too and the script ends well; killed,
the script says so and fails."""

import os
import signal
import socket
from urllib.parse import urlsplit

import pytest

from .test_front import database, needs_nginx, serve_environment, start_serve  # noqa: F401 - database is a fixture


@pytest.mark.parametrize(
    ("signal_to_nginx", "returncode", "said"),
    [
        (signal.SIGQUIT, 0, "serve: nginx stopped: stopping the other"),  # graceful: nginx exits 0
        (signal.SIGKILL, 1, "serve: nginx exited unexpectedly: stopping the other"),
    ],
)
def test_nginx_ending_alone_stops_gunicorn_and_the_status_says_how_it_ended(
    tmp_path, database, signal_to_nginx, returncode, said  # noqa: F811
):
    needs_nginx()
    run_dirs = tmp_path / "tmp"
    run_dirs.mkdir()
    server = start_serve(serve_environment(database, TMPDIR=str(run_dirs)), log_path=tmp_path / "serve.log")
    try:
        (run_dir,) = run_dirs.iterdir()
        os.kill(int((run_dir / "nginx.pid").read_text()), signal_to_nginx)
        ended = server.process.wait(120)
        # Nothing of nginx is left holding its port (a killed master's workers were, before 2026-11-27).
        host, port = urlsplit(server.base).hostname, urlsplit(server.base).port
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past connections' TIME_WAIT, not a listener
            probe.bind((host, port))
    finally:
        # Its whole session, whether or not the script has ended: nginx's workers outlive a killed master
        # (they keep its listening socket), and would otherwise be left running after the test.
        server.kill()
    output = server.output()
    assert (ended != 0) == bool(returncode), output
    assert said in output
    assert "Shutting down: Master" in output
    assert list(run_dirs.iterdir()) == []
