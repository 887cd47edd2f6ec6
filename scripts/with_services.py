#!/usr/bin/env python3
"""Run a command against throwaway PostgreSQL and Redis servers.

Usage: python scripts/with_services.py [--durable] [--keep] [--datadir=DIR] -- COMMAND ARGS...

Starts PostgreSQL and Redis on 127.0.0.1 (free ports, temp data dirs), runs
COMMAND with DATABASE_URL, REDIS_URL, SYRO_PG_BINDIR and SYRO_PG_DATADIR set,
then stops both servers and deletes their data dirs. Exits with COMMAND's exit
code, 1 if the servers could not be started, or 0 if the binaries are missing
(1 instead when CI=true/1, so CI never silently skips).

  --durable  keep fsync/synchronous_commit/full_page_writes on (default: off)
  --keep     leave the (stopped) data dirs in place and print their paths
  --datadir=DIR  keep the PostgreSQL cluster in DIR: created on first use, started
             as it is on later runs, never deleted (implies --durable)
Overrides: PG_BINDIR (PostgreSQL bin dir), REDIS_SERVER (redis-server path).
"""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PG_TOOLS = ("initdb", "pg_ctl", "postgres")
AS_ROOT = os.geteuid() == 0


class StartupError(Exception):
    """A server failed to start; the message includes its output/log tail."""


def log(msg):
    print(f"with_services: {msg}", file=sys.stderr, flush=True)


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


def free_port():
    # Small race (the port could be taken before the server binds it), acceptable for tests.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_pg_user(cmd):
    """PostgreSQL refuses to run as root, so run its tools as `postgres` when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if AS_ROOT else cmd


def run_quiet(cmd, what, cwd=None):
    """Run cmd capturing output; raise StartupError showing the output on failure.

    New session: a terminal Ctrl-C must not kill initdb/pg_ctl (or the server pg_ctl
    forks) halfway; main() defers signals until the step is done, then cleans up.
    """
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, stdin=subprocess.DEVNULL, start_new_session=True)
    if r.returncode != 0:
        raise StartupError(f"{what} failed (exit {r.returncode}):\n{r.stdout}")
    return r.stdout


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


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


def _pg_ctl_start(bindir, datadir, port, durable, create):
    pg = lambda tool: os.path.join(bindir, tool)
    opts = (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={datadir}"
            " -c max_connections=200")
    if not durable:  # Throwaway server: trade crash safety for speed.
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
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


def start_redis(redis_bin, workdir, port):
    logfile = os.path.join(workdir, "redis.log")
    with open(logfile, "w") as logf:
        proc = subprocess.Popen(
            [redis_bin, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir, "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            start_new_session=True)  # see run_quiet: we stop it ourselves
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return proc
        except OSError:
            pass
        time.sleep(0.05)
    why = (f"exited with code {proc.returncode}" if proc.poll() is not None
           else "did not answer PING within 10s")
    stop_redis(proc)
    raise StartupError(f"redis-server {why}\n"
                       f"--- {logfile} (tail) ---\n{tail(logfile)}")


def stop_redis(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def version_of(binary):
    """First dotted number in `binary --version` ('postgres (PostgreSQL) 15.8 (Debian ...)',
    'Redis server v=7.0.15 sha=...')."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"\d+(?:\.\d+)+", out)
    return m.group(0) if m else "?"


def report_missing(missing):
    log(f"missing {' and '.join(missing)}; install with: apt-get install postgresql redis-server "
        "(or set PG_BINDIR / REDIS_SERVER)")
    if os.environ.get("CI") in ("true", "1"):
        log("CI is set: failing instead of skipping the PostgreSQL+Redis run")
        return 1
    log("skipping the PostgreSQL+Redis run")
    return 0


def main(argv):
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print(__doc__, file=sys.stderr)
        return 2
    split = argv.index("--")
    opts, command = argv[:split], argv[split + 1:]
    datadir = None
    for opt in opts:
        if opt.startswith("--datadir="):
            datadir = os.path.abspath(opt.split("=", 1)[1])
    unknown = {opt for opt in opts if not opt.startswith("--datadir=")} - {"--durable", "--keep"}
    if unknown:
        log(f"unknown option(s): {' '.join(sorted(unknown))}")
        return 2

    bindir, redis_bin = find_pg_bindir(), find_redis_server()
    missing = []
    if not bindir:
        missing.append(f"PostgreSQL server binaries ({', '.join(PG_TOOLS)} in "
                       f"{os.environ.get('PG_BINDIR') or '/usr/lib/postgresql/<version>/bin'})")
    if not redis_bin:
        missing.append("redis-server")
    if missing:
        return report_missing(missing)

    child, pending = None, None

    def on_signal(signum, _frame):
        nonlocal pending
        # Let the child react (e.g. pytest's clean shutdown); cleanup runs once it exits.
        # Before the child exists, only remember the signal: raising here could abandon
        # a half-finished initdb/pg_ctl whose processes would outlive our cleanup.
        if child is not None and child.poll() is None:
            child.send_signal(signum)
        else:
            pending = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    pg_dir = datadir or tempfile.mkdtemp(prefix="syro-pg-")
    redis_dir = tempfile.mkdtemp(prefix="syro-redis-")
    redis_proc = None
    try:
        prepare_datadir(pg_dir)
        pg_port, redis_port = free_port(), free_port()
        start_postgres(bindir, pg_dir, pg_port, "--durable" in opts or datadir is not None)
        if not pending:
            redis_proc = start_redis(redis_bin, redis_dir, redis_port)
        if pending:
            log(f"interrupted by signal {pending} during startup")
            return 128 + pending
        log(f"PostgreSQL {version_of(os.path.join(bindir, 'postgres'))} on 127.0.0.1:{pg_port}, "
            f"Redis {version_of(redis_bin)} on 127.0.0.1:{redis_port}")
        env = dict(os.environ,
                   DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg_port}/syro",
                   REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                   SYRO_PG_BINDIR=bindir, SYRO_PG_DATADIR=pg_dir)
        try:
            child = subprocess.Popen(command, env=env)
        except OSError as e:
            log(f"cannot run {command[0]}: {e}")
            return 127
        if pending:  # arrived between the check above and Popen
            child.send_signal(pending)
        rc = child.wait()
        return 128 - rc if rc < 0 else rc  # killed by signal N -> 128+N, like a shell
    except StartupError as e:
        log(f"startup failed: {e}")
        return 1
    finally:
        # A second Ctrl-C must not abort cleanup halfway and leak servers.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_redis(redis_proc)
        stop_postgres(bindir, pg_dir)
        if "--keep" in opts:
            log(f"kept (servers stopped): SYRO_PG_DATADIR={pg_dir} redis dir={redis_dir}")
        else:
            if datadir is None:
                shutil.rmtree(pg_dir, ignore_errors=True)
            shutil.rmtree(redis_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
