"""Throwaway servers on 127.0.0.1, at free ports: PostgreSQL, Redis and gunicorn, and `fetch` to ask them.

The one place that starts them, for scripts/with_services.py (`make test-services`), the
deployment tests and the benchmark (bench/suite.py). Import it as `scripts.servers`, with the
repository root on sys.path. Nothing here imports Django at import time: with_services.py runs
before there is a Django to set up.
"""

import contextlib
import glob
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_TOOLS = ("initdb", "pg_ctl", "postgres")
AS_ROOT = os.geteuid() == 0


class StartupError(RuntimeError):
    """A server failed to start; the message includes its output/log tail."""


def log(msg):
    print(f"servers: {msg}", file=sys.stderr, flush=True)


def in_ci():
    """CI=true (or 1): a missing binary is a failure there, never a silent skip."""
    return os.environ.get("CI") in ("true", "1")


def find_pg_bindir():
    """PG_BINDIR if set, else the highest /usr/lib/postgresql/<ver>/bin with all PG_TOOLS."""
    def complete(d):
        return all(os.access(os.path.join(d, t), os.X_OK) for t in PG_TOOLS)

    if os.environ.get("PG_BINDIR"):
        d = os.environ["PG_BINDIR"]
        return d if complete(d) else None
    candidates = [d for d in glob.glob("/usr/lib/postgresql/*/bin") if complete(d)]
    # Sort numerically on the version component so 16 beats 9.6.
    def version_key(d):
        ver = os.path.basename(os.path.dirname(d))
        return [int(p) if p.isdigit() else 0 for p in ver.split(".")]
    return max(candidates, key=version_key, default=None)


def find_redis_server():
    path = (os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
            or "/usr/bin/redis-server")
    return path if os.access(path, os.X_OK) else None


def missing_binaries(*programs):
    """What is missing to start PostgreSQL and Redis (and `programs` on PATH), each with how to get it."""
    missing = []
    if not find_pg_bindir():
        missing.append(f"PostgreSQL server binaries ({', '.join(PG_TOOLS)} in "
                       f"{os.environ.get('PG_BINDIR') or '/usr/lib/postgresql/<version>/bin'}; "
                       "apt-get install postgresql, or set PG_BINDIR)")
    if not find_redis_server():
        missing.append("redis-server (apt-get install redis-server, or set REDIS_SERVER)")
    missing += [f"{name} (apt-get install {name})" for name in programs if not shutil.which(name)]
    return missing


def free_port():
    # Small race (the port could be taken before the server binds it), acceptable for tests.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def version_of(binary):
    """First dotted number in `binary --version` ('postgres (PostgreSQL) 15.8 (Debian ...)',
    'Redis server v=7.0.15 sha=...')."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"\d+(?:\.\d+)+", out)
    return m.group(0) if m else "?"


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def run_quiet(cmd, what, cwd=None):
    """Run cmd capturing output; raise StartupError showing the output on failure.

    New session: a terminal Ctrl-C must not kill initdb/pg_ctl (or the server pg_ctl
    forks) halfway; the caller defers signals until the step is done, then cleans up.
    """
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, stdin=subprocess.DEVNULL, start_new_session=True)
    if r.returncode != 0:
        raise StartupError(f"{what} failed (exit {r.returncode}):\n{r.stdout}")
    return r.stdout


def postgres_url(port, database="syro"):
    return f"postgres://postgres@127.0.0.1:{port}/{database}"


def as_pg_user(cmd):
    """PostgreSQL refuses to run as root, so run its tools as `postgres` when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if AS_ROOT else cmd


def has_cluster(datadir):
    return os.path.exists(os.path.join(datadir, "PG_VERSION"))


def prepare_datadir(datadir):
    """Create datadir if needed, owned by the user PostgreSQL runs as."""
    os.makedirs(datadir, mode=0o700, exist_ok=True)
    if AS_ROOT:
        shutil.chown(datadir, "postgres", "postgres")


def start_postgres(bindir, datadir, port, durable):
    """initdb + pg_ctl start + createdb syro. datadir must exist (and be owned by the PG user).

    A datadir that already holds a cluster (a durable one from an earlier run) is only started.
    """
    pg = lambda tool: os.path.join(bindir, tool)
    if has_cluster(datadir):
        _pg_ctl_start(bindir, datadir, port, durable, create=False)
        return
    # cwd=datadir: the postgres user may not be able to read our working directory.
    base = [pg("initdb"), "-D", datadir, "-U", "postgres", "--auth=trust", "--encoding=UTF8"]
    try:
        run_quiet(as_pg_user(base + ["--locale=C.UTF-8"]), "initdb", cwd=datadir)
    except StartupError as first:
        # Minimal systems may lack the C.UTF-8 locale; initdb leaves nothing behind on failure.
        try:
            run_quiet(as_pg_user(base + ["--no-locale"]), "initdb --no-locale", cwd=datadir)
        except StartupError as second:
            raise StartupError(f"{first}\n{second}") from None
    _pg_ctl_start(bindir, datadir, port, durable, create=True)


def shared_buffers_mb():
    """A quarter of the machine's memory, at most 4 GiB: PostgreSQL's own advice for a dedicated server
    ("a reasonable starting value for shared_buffers is 25% of the memory"). Its default, 128 MB, is a
    tenth of the million-song catalogue's songs and indexes, and every heap page beyond it is a copy
    from the kernel's cache."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with contextlib.suppress(OSError, ValueError):  # a container's limit, when it has one ("max": none)
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as limit:
            memory = min(memory, int(limit.read()))
    return max(128, min(memory // 4, 4 << 30) >> 20)


def _pg_ctl_start(bindir, datadir, port, durable, create):
    pg = lambda tool: os.path.join(bindir, tool)
    opts = (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={datadir}"
            " -c max_connections=200")
    if not durable:  # Throwaway server: trade crash safety for speed.
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    else:  # The benchmark's catalogue: memory as a server of its own would be given (below).
        opts += f" -c shared_buffers={shared_buffers_mb()}MB"
    logfile = os.path.join(datadir, "postgres.log")
    try:
        run_quiet(as_pg_user([pg("pg_ctl"), "start", "-w", "-t", "30", "-D", datadir,
                              "-l", logfile, "-o", opts]), "pg_ctl start", cwd=datadir)
        if create:
            run_quiet(as_pg_user([pg("createdb"), "-h", datadir, "-p", str(port), "-U", "postgres",
                                  "-O", "postgres", "syro"]), "createdb", cwd=datadir)
    except StartupError as e:
        raise StartupError(f"{e}\n--- {logfile} (tail) ---\n{tail(logfile)}") from None


def stop_postgres(bindir, datadir):
    pg_ctl = os.path.join(bindir, "pg_ctl")
    if not os.path.exists(os.path.join(datadir, "postmaster.pid")):
        return  # never started, or already stopped
    for mode in ("fast", "immediate"):
        cmd = [pg_ctl, "stop", "-D", datadir, "-m", mode, "-w", "-t", "10"]
        r = subprocess.run(as_pg_user(cmd), cwd=datadir, capture_output=True, text=True)
        if r.returncode == 0:
            return
        log(f"pg_ctl stop -m {mode} failed: {r.stdout}{r.stderr}".strip())


class RedisServer:
    """A redis-server logging to workdir/redis.log; it may be stopped and started again on the same port."""

    def __init__(self, workdir, binary=None):
        self.workdir = str(workdir)
        self.binary = binary or find_redis_server()
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self):
        return os.path.join(self.workdir, "redis.log")

    def start(self):
        if not self.binary:
            raise StartupError("redis-server not found (apt-get install redis-server, or set REDIS_SERVER)")
        with open(self.log_path, "a") as logf:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self.workdir, "--daemonize", "no"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                start_new_session=True)  # see run_quiet: we stop it ourselves
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        why = (f"exited with code {self.process.returncode}" if self.process.poll() is not None
               else "did not answer PING within 10s")
        self.stop()
        raise StartupError(f"redis-server {why}\n"
                           f"--- {self.log_path} (tail) ---\n{tail(self.log_path)}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to look at (and its cookies to keep), not to follow


# No proxy either: these servers are on loopback, whatever http_proxy says.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def fetch(url, headers=None, data=None, timeout=30):
    """(status, headers, body) of a request; HTTP errors and redirects are answers too.

    The headers keep repeated fields: `headers.get_all("Set-Cookie")`. A body is never
    decompressed: send `Accept-Encoding: gzip` to get gzip.
    """
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


class Gunicorn:
    """A started gunicorn (its master process), at `base`, logging to `log_path`."""

    def __init__(self, process, base, log_path, own_log):
        self.process = process
        self.base = base
        self.log_path = str(log_path)
        self._own_log = own_log

    def output(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as log_file:
            return log_file.read()

    def stop(self, before_kill=None):
        """Stop it gracefully (SIGTERM to the master) and return its exit code.

        Still running after 75 s (nginx's 20 s for slow clients, then gunicorn's 30 s graceful timeout, on a
        busy machine): its whole session is killed and TimeoutExpired raised.
        A log file of its own (no log_path given) is deleted.
        """
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(75)
                except subprocess.TimeoutExpired:
                    if before_kill:
                        before_kill()
                    self.kill()
                    raise
            return self.process.returncode
        finally:
            self._forget_log()

    def kill(self):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # workers too: they share the session
        self.process.wait()

    def _forget_log(self):
        if self._own_log:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.log_path)


def start_gunicorn(*, redis_url, workers=2, database_url=None, log_path=None, timeout=30, **environment):
    """`gunicorn Syro.wsgi` with `workers` workers and DEBUG off, once /healthz answers.

    database_url defaults to the database this Django process uses (in tests: the test database,
    which the server then shares); `environment` adds settings (API_ANON_PER_HOUR="10").
    """
    if database_url is None:
        from django.db import connection

        db = connection.settings_dict
        database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "SECRET_KEY": "throwaway-server-secret-not-for-production",
        "ALLOWED_HOSTS": "127.0.0.1",
        **environment,
    }
    command = [sys.executable, "-m", "gunicorn", "Syro.wsgi", "--workers", str(workers),
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    return _start("gunicorn", command, env, port, log_path, ready="/healthz", timeout=timeout)


def start_serve(env, *, log_path=None, timeout=120):
    """scripts/serve as `make serve` runs it (migrate, collectstatic, gunicorn.conf.py), once /readyz is 200.

    env is its whole environment: BIND (a free port) and PY (this Python) are added.
    """
    port = free_port()
    env = {**env, "BIND": f"127.0.0.1:{port}", "PY": sys.executable}
    command = [str(ROOT / "scripts" / "serve")]
    return _start("scripts/serve", command, env, port, log_path, ready="/readyz", timeout=timeout)


def _start(what, command, env, port, log_path, *, ready, timeout):
    own_log = log_path is None
    if own_log:
        handle, log_path = tempfile.mkstemp(prefix="gunicorn-", suffix=".log")
        os.close(handle)
    # Its output goes to a file: an unread pipe fills up after some 64 KB and then blocks every worker.
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Gunicorn(process, f"http://127.0.0.1:{port}", log_path, own_log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            why = f"exited with code {process.returncode}"
            break
        try:
            if fetch(server.base + ready)[0] == 200:
                return server
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    else:
        why = f"did not answer {ready} with 200 within {timeout} s"
    server.kill()
    output = tail(log_path, lines=40)
    server._forget_log()
    raise StartupError(f"{what} {why}\n--- its log (tail) ---\n{output}")
