"""gunicorn settings for `make serve` (scripts/serve); each can be overridden by its environment variable."""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Two per core plus one, as gunicorn advises for mostly-waiting (database) work.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("THREADS", 1))
if not os.environ.get("REDIS_URL"):
    # The in-memory cache is per process: cache invalidation and rate limits only hold within one.
    workers, threads = 1, max(threads, 4)
timeout = int(os.environ.get("TIMEOUT", 30))
graceful_timeout = 30  # on SIGTERM or SIGHUP, requests in flight get this long to finish
keepalive = 5
max_requests = 2000  # recycle workers now and then, so no leak grows forever
max_requests_jitter = 200
accesslog = os.environ.get("ACCESS_LOG", "-")
# gunicorn's default line, with the path but never the query string: a Subsonic app signs every request in
# it (p=, t= with s=, apiKey=), and a logged token and salt sign in again as well as the password.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'
errorlog = "-"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "syromusic"
