"""The first run: `make run` without the debug toolbar in the way, on the address and port asked for.

Settings are loaded in fresh interpreters with exactly the environment `make run` gives them; the
Makefile is read with `make -n` (nothing runs), and once for real on a free port.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings

PAGE_WITH_TOOLBAR = """
import django
django.setup()
from django.conf import settings
from django.test import Client
response = Client().get("/no-such-page/")
html = response.content.decode()
print(settings.DEBUG_TOOLBAR, "debug_toolbar" in settings.INSTALLED_APPS,
      any("DebugToolbarMiddleware" in name for name in settings.MIDDLEWARE),
      'id="djDebug"' in html, 'data-default-show="false"' in html)
"""


def run_python(code, **environment):
    """Python code in a fresh interpreter with exactly this environment (plus PATH), in the checkout."""
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "Syro.settings", **environment}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, timeout=120
    )


def toolbar_state(tmp_path, **environment):
    """(toolbar on, app installed, middleware installed, toolbar in a page, collapsed) for an environment."""
    # A database and versions of its own: the 404 page below never opens it, but nothing may touch the checkout's.
    environment = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}", "CACHE_VERSIONS_DIR": str(tmp_path / "versions"),
        **environment,
    }
    result = run_python(PAGE_WITH_TOOLBAR, **environment)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_make_run_has_no_debug_toolbar_by_default(tmp_path):
    assert toolbar_state(tmp_path, DEBUG="1") == ["False", "False", "False", "False", "False"]


def test_debug_toolbar_1_turns_it_on_collapsed(tmp_path):
    assert toolbar_state(tmp_path, DEBUG="1", DEBUG_TOOLBAR="1") == ["True", "True", "True", "True", "True"]


def test_production_never_has_the_toolbar_even_when_asked_for(tmp_path):
    assert toolbar_state(tmp_path, SECRET_KEY="x", DEBUG_TOOLBAR="1") == ["False", "False", "False", "False", "False"]


def test_a_bad_debug_toolbar_value_is_refused_with_the_variable_named(tmp_path):
    result = run_python("import Syro.settings", DEBUG="1", DEBUG_TOOLBAR="sometimes")
    assert result.returncode != 0
    assert "DEBUG_TOOLBAR='sometimes': expected one of 1/0, true/false, yes/no, on/off" in result.stderr


def runserver_line(*arguments, **environment):
    """The command `make run` would start the server with (make -n: shown, not run)."""
    env = {key: value for key, value in os.environ.items() if key not in {"PORT", "ADDRESS", "MAKEFLAGS", "MAKELEVEL"}}
    result = subprocess.run(
        ["make", "-n", "run", *arguments], env={**env, **environment}, capture_output=True, text=True,
        cwd=settings.BASE_DIR, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if "manage.py runserver" in line]
    return line


def test_make_run_listens_on_localhost_8000_by_default():
    assert runserver_line().endswith("DEBUG=1 STREAM_ANONYMOUS=1 .venv/bin/python manage.py runserver 127.0.0.1:8000")


@pytest.mark.parametrize(("arguments", "environment", "address"), [
    ((), {"PORT": "8001"}, "127.0.0.1:8001"),
    ((), {"ADDRESS": "0.0.0.0"}, "0.0.0.0:8000"),
    ((), {"ADDRESS": "[::1]", "PORT": "9000"}, "[::1]:9000"),
    (("PORT=8123", "ADDRESS=0.0.0.0"), {}, "0.0.0.0:8123"),
])
def test_make_run_takes_the_port_and_address_from_the_environment_or_the_command_line(arguments, environment, address):
    assert runserver_line(*arguments, **environment).endswith(f"manage.py runserver {address}")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_server_make_run_starts_answers_on_the_port_asked_for(tmp_path):
    port = free_port()
    command = runserver_line(f"PORT={port}")
    env = {
        **os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "CACHE_VERSIONS_DIR": str(tmp_path / "versions"), "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # Its own process group: runserver's autoreloader starts a child, and both stop together.
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            ["sh", "-c", command], cwd=settings.BASE_DIR, env=env, start_new_session=True, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 120
        body = None
        while body is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
                    body = response.read()
            except OSError:  # refused, reset, or a first answer slower than 10 s on a busy machine: ask again
                time.sleep(0.2)
        assert server.poll() is None, log.read_text()
        assert body == b"ok\n", log.read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=60)
