#!/usr/bin/env python3
"""Run a command against throwaway PostgreSQL and Redis servers.

Usage: python scripts/with_services.py [--durable] [--keep] [--datadir=DIR] -- COMMAND ARGS...

Starts PostgreSQL and Redis on 127.0.0.1 (free ports, temp data dirs), runs
COMMAND with DATABASE_URL, REDIS_URL, SYRO_PG_BINDIR and SYRO_PG_DATADIR set,
then stops both servers and deletes their data dirs. Exits with COMMAND's exit
code, 1 if the servers could not be started, or 0 if the binaries are missing
(1 instead when CI=true/1, so CI never silently skips).

  --durable  keep fsync/synchronous_commit/full_page_writes on (default: off); shared_buffers a quarter of memory (at most 4 GiB)
  --keep     leave the (stopped) data dirs in place and print their paths
  --datadir=DIR  keep the PostgreSQL cluster in DIR: created on first use, started
             as it is on later runs, never deleted (implies --durable)
Overrides: PG_BINDIR (PostgreSQL bin dir), REDIS_SERVER (redis-server path).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import servers  # noqa: E402


def log(msg):
    print(f"with_services: {msg}", file=sys.stderr, flush=True)


def report_missing(missing):
    log(f"missing {' and '.join(missing)}")
    if servers.in_ci():
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

    missing = servers.missing_binaries()
    if missing:
        return report_missing(missing)
    bindir, redis_bin = servers.find_pg_bindir(), servers.find_redis_server()

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
    redis = servers.RedisServer(redis_dir, redis_bin)
    try:
        servers.prepare_datadir(pg_dir)
        pg_port = servers.free_port()
        servers.start_postgres(bindir, pg_dir, pg_port, "--durable" in opts or datadir is not None)
        if not pending:
            redis.start()
        if pending:
            log(f"interrupted by signal {pending} during startup")
            return 128 + pending
        log(f"PostgreSQL {servers.version_of(os.path.join(bindir, 'postgres'))} on 127.0.0.1:{pg_port}, "
            f"Redis {servers.version_of(redis_bin)} on 127.0.0.1:{redis.port}")
        env = dict(os.environ, DATABASE_URL=servers.postgres_url(pg_port), REDIS_URL=redis.url,
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
    except servers.StartupError as e:
        log(f"startup failed: {e}")
        return 1
    finally:
        # A second Ctrl-C must not abort cleanup halfway and leak servers.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        redis.stop()
        servers.stop_postgres(bindir, pg_dir)
        if "--keep" in opts:
            log(f"kept (servers stopped): SYRO_PG_DATADIR={pg_dir} redis dir={redis_dir}")
        else:
            if datadir is None:
                shutil.rmtree(pg_dir, ignore_errors=True)
            shutil.rmtree(redis_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
