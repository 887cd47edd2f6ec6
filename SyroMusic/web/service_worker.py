"""What the service worker (/sw.js) is told when it is served: its version, the offline page, and the static
files every page needs, by the names the static storage gives them (hashed in production).

The version names the worker's caches. It changes with the worker's source and with any static file (the
manifest of hashed names in production; the files' sizes and times without one), so a deploy that changes
what a page loads installs a new worker, whose activation deletes the old version's caches.
"""

import hashlib
import json
import os
import re

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.templatetags.static import static
from django.urls import reverse

SOURCE = "syromusic/sw.js"
# Save for offline (loaded by the worker with importScripts, when it exists).
SAVED_SOURCE = "syromusic/sw-saved.js"
# The look, the scripts and the icons of every page: kept at install, so a page opens offline as it does online.
PRECACHE = re.compile(r"^syromusic/(?:js/|vendor/|icons/)?[a-z0-9.-]+\.(?:css|js|svg)$")
WORKER_FILES = {SOURCE, SAVED_SOURCE}


def _own_files():
    """(name, storage) of the project's own static files (static/), in a stable order."""
    finder = finders.get_finder("django.contrib.staticfiles.finders.FileSystemFinder")
    return sorted(finder.list(ignore_patterns=[]), key=lambda item: item[0])


def _read(name):
    path = finders.find(name)
    if path is None:
        return None
    with open(path, "rb") as file:
        return file.read()


def _fingerprint(files):
    """What changes when a deploy changes any static file."""
    read_manifest = getattr(staticfiles_storage, "read_manifest", None)
    if read_manifest is not None:
        # ManifestStaticFilesStorage: the manifest maps every file to its content hash.
        return (read_manifest() or "").encode()
    # Unhashed names (development, tests): a file's size and time stand for its content, read without opening it.
    rows = []
    for name, storage in files:
        stat = os.stat(storage.path(name))
        rows.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(rows).encode()


def _url(name):
    try:
        return static(name)
    except ValueError:
        # Not in the manifest (collectstatic ran before the file existed): the worker does without it.
        return None


def worker_script():
    """The script served at /sw.js: `self.syroConfig` (read by static/syromusic/sw.js), then the worker's source."""
    files = _own_files()
    source = _read(SOURCE)
    saved = _read(SAVED_SOURCE)
    names = [name for name, _ in files if PRECACHE.match(name) and name not in WORKER_FILES]
    precache = [url for url in map(_url, names) if url]
    digest = hashlib.sha256()
    for part in (source, saved or b"", _fingerprint(files), "\n".join(precache).encode()):
        digest.update(hashlib.sha256(part).digest())
    config = {
        "version": digest.hexdigest()[:16],
        "offline": reverse("music:offline"),
        "static": settings.STATIC_URL,
        # Audio and covers: the saved copy when there is one (sw-saved.js), else the network.
        "media": ["/audio/", f"{settings.MEDIA_URL}covers/"],
        "precache": precache,
        "saved": _url(SAVED_SOURCE) if saved is not None else None,
    }
    return f"self.syroConfig = {json.dumps(config, indent=2)};\n\n{source.decode()}"
