#!/usr/bin/env python3
"""Render deploy/nginx.conf into nginx's run directory, for scripts/serve.

Usage: python scripts/nginx_conf.py --nginx BINARY --listen ADDRESS --upstream ADDRESS RUN_DIR

Writes RUN_DIR/nginx.conf: nginx listening at ADDRESS (gunicorn's BIND syntax: HOST:PORT or
unix:PATH), passing requests to gunicorn at --upstream, serving STATIC_URL from STATIC_ROOT, with
the settings' body limit, and its pid, temporary files and gunicorn's socket in RUN_DIR.

Also: the internal location that sends audio the app names (AUDIO_ACCEL_REDIRECT, which
scripts/serve sets), covers from MEDIA_ROOT/covers/, and the admin's upload limit.

Run as root, nginx's master stays root and its workers run as NGINX_USER (default `nobody`),
given RUN_DIR's group so they can reach it; if that user cannot read the static files or reach
MEDIA_ROOT, they run as root and a warning says so. Music folders are not known here: they must
be readable by that user (README "Streaming").
"""

import argparse
import grp
import json
import os
import pwd
import re
import runpy
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf"
# Bodies up to this size are buffered in memory; larger ones (up to MAX_REQUEST_BYTES) on disk.
BODY_BUFFER_BYTES = 1024 * 1024
# Modules with a temporary directory of their own: compiled in unless nginx -V says --without.
MODULE_TEMP_PATHS = {"fastcgi": "fastcgi_temp_path", "uwsgi": "uwsgi_temp_path", "scgi": "scgi_temp_path"}


def log(message):
    print(f"serve: {message}", file=sys.stderr, flush=True)


def render(template, values):
    """template with every @NAME@ replaced by values[NAME]; a placeholder left unfilled is an error."""
    return re.sub(r"@([A-Z][A-Z_]*)@", lambda match: str(values[match.group(1)]), template)


def nginx_string(text):
    """text as a single-quoted nginx string (no $ in it: nginx would read a variable)."""
    if "$" in text:
        raise ValueError(f"a $ in {text!r} would be read as an nginx variable")
    return text.replace("\\", "\\\\").replace("'", "\\'")


def listen_address(bind):
    """gunicorn's BIND (HOST:PORT, [::1]:PORT, :PORT, unix:PATH) as nginx's listen parameter."""
    if bind.startswith("fd://"):
        raise ValueError(f"BIND={bind}: nginx cannot listen on an inherited file descriptor")
    return f"*{bind}" if bind.startswith(":") else bind


def accel_prefix(prefix):
    """AUDIO_ACCEL_REDIRECT as the internal location's path: the app puts a file's path after it."""
    if not re.fullmatch(r"/[A-Za-z0-9_.~-]+/", prefix or ""):
        raise ValueError(f"AUDIO_ACCEL_REDIRECT={prefix!r}: expected a path like /_syro_files/ (scripts/serve sets it)")
    return prefix


def module_temp_paths(nginx, run_dir):
    configure = subprocess.run([nginx, "-V"], capture_output=True, text=True).stderr
    return "\n".join(
        f"    {directive} {run_dir}/{module};"
        for module, directive in MODULE_TEMP_PATHS.items()
        if f"--without-http_{module}_module" not in configure
    )


def worker_user(run_dir, static_root, media_root=None):
    """The `user` directive: as root, workers run as NGINX_USER when it can read the static files,
    reach the run directory (not, say, under a home directory only root may enter) and MEDIA_ROOT
    (covers, uploaded audio) when it exists."""
    if os.geteuid() != 0:
        return ""  # nginx runs as whoever started it; `user` would only draw a warning
    user = os.environ.get("NGINX_USER", "nobody")
    group = grp.getgrgid(pwd.getpwnam(user).pw_gid)
    # The workers reach their temporary directories and gunicorn's socket; other users cannot.
    os.chown(run_dir, 0, group.gr_gid)
    os.chmod(run_dir, 0o710)
    checks = [("-r", Path(static_root) / "staticfiles.json"), ("-x", run_dir)]
    if media_root is not None and Path(media_root).is_dir():
        checks.append(("-x", media_root))
    for test, path in checks:
        if subprocess.run(["test", test, str(path)], user=user, group=group.gr_gid, extra_groups=[]).returncode != 0:
            log(f"{user} cannot reach {path}: nginx's workers run as root (set NGINX_USER to a user who can)")
            return "user root;"
    return f"user {user} {group.gr_name};"


def values(*, nginx, listen, upstream, run_dir):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "Syro.settings")
    sys.path.insert(0, str(ROOT))
    from django.conf import settings

    from SyroMusic.web.problems import problem

    static_path = urlsplit(settings.STATIC_URL).path or "/static/"
    media_path = urlsplit(settings.MEDIA_URL).path or "/media/"
    limit = settings.MAX_REQUEST_BYTES
    detail = f"The request body is over the limit of {limit:,} bytes."
    # The app's own limit for the admin's upload pages (SyroMusic.web.middleware.BodyLimitMiddleware).
    upload_limit = limit + max(settings.AUDIO_UPLOAD_MAX_BYTES, settings.COVER_UPLOAD_MAX_BYTES)
    gunicorn_timeout = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["timeout"]
    return {
        "RUN_DIR": run_dir,
        "USER": worker_user(run_dir, settings.STATIC_ROOT, settings.MEDIA_ROOT),
        "MODULE_TEMP_PATHS": module_temp_paths(nginx, run_dir),
        "LISTEN": listen_address(listen),
        "UPSTREAM": upstream,
        "MAX_REQUEST_BYTES": limit,
        "BODY_BUFFER_BYTES": min(limit, BODY_BUFFER_BYTES),
        "PROXY_READ_TIMEOUT": gunicorn_timeout + 10,
        # One proxy (nginx): the scheme the client used. More: the outer one's word for it.
        "FORWARDED_PROTO": "$scheme" if settings.TRUSTED_PROXIES <= 1 else "$http_x_forwarded_proto",
        "STATIC_URL_PATH": static_path if static_path.endswith("/") else f"{static_path}/",
        "STATIC_ROOT": str(settings.STATIC_ROOT).rstrip("/"),
        "PAGE_TOO_LARGE": nginx_string(detail),
        "API_TOO_LARGE": nginx_string(json.dumps(problem(413, detail))),
        "UPLOAD_MAX_BYTES": upload_limit,
        "UPLOAD_TOO_LARGE": nginx_string(f"The request body is over the limit of {upload_limit:,} bytes."),
        "AUDIO_ACCEL_PREFIX": accel_prefix(settings.AUDIO_ACCEL_REDIRECT),
        "MEDIA_URL_PATH": media_path if media_path.endswith("/") else f"{media_path}/",
        "MEDIA_ROOT": nginx_string(str(settings.MEDIA_ROOT).rstrip("/")),
        "SESSION_COOKIE": cookie_variable(settings.SESSION_COOKIE_NAME),
    }


def cookie_variable(name):
    """nginx's variable for a cookie's value ($cookie_sessionid): only letters, digits and _ can be one."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ValueError(f"SESSION_COOKIE_NAME={name!r}: nginx can only read a cookie named with letters, digits and _")
    return f"$cookie_{name}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nginx", required=True, help="the nginx binary (its -V says which modules it has)")
    parser.add_argument("--listen", required=True, help="where clients connect (gunicorn's BIND syntax)")
    parser.add_argument("--upstream", required=True, help="gunicorn's address, as nginx's upstream `server`")
    parser.add_argument("run_dir")
    args = parser.parse_args()
    run_dir = str(Path(args.run_dir).resolve())
    filled = values(nginx=args.nginx, listen=args.listen, upstream=args.upstream, run_dir=run_dir)
    config = Path(run_dir) / "nginx.conf"
    config.write_text(render(TEMPLATE.read_text(), filled))
    config.chmod(0o600)


if __name__ == "__main__":
    main()
