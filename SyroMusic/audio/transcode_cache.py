"""Transcoded copies kept on disk (settings.TRANSCODE_DIR), under a size cap (TRANSCODE_CACHE_MAX_BYTES).

A copy is named by its source's content hash and what it is made as: <dir>/<hh>/<hash>-<kbps>.<mp3|opus>.
It is encoded once, whoever asks and however many at once, across threads and processes:

- The encoder holds an exclusive flock on "<copy>.lock" while it writes "<copy>.part", and renames the part
  into place (atomically) only once it is complete: a name without ".part" is always a whole copy.
- Whoever asks while it runs reads the growing part as it grows, and finishes when the lock is released
  and the part has become the copy. An encoder that dies (a crash, a killed worker) releases its lock
  and leaves a part that never looks finished: the next reader takes the lock over and encodes again.
  The same source and settings give the same bytes (transcode.py), so a reader part way through a dead
  encoder's part carries on in the new one from where it was.
- Encoding runs in a thread of its own, not in the answer being sent, so a listener who leaves does not
  leave the copy half made for the next one.

Least recently used copies go first when the cap is passed: the access time (set when a copy is
served, the modification time left alone, since it is the copy's ETag) says when a copy was last used.
"""

import errno
import fcntl
import logging
import os
import threading
import time
from pathlib import Path

from django.conf import settings

from .transcode import FORMATS, TranscodeError, transcode

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
POLL_SECONDS = 0.005  # how often a reader looks for more of a growing copy
STALL_SECONDS = 60  # a growing copy that gains nothing for this long is given up
TOUCH_SECONDS = 60  # a copy's use is recorded at most once a minute
EXTENSIONS = tuple(f".{extension}" for _, _, extension, _ in FORMATS.values())
# Encodes one process runs at once: each takes a core while it runs, and a client asking for hundreds of
# copies must not start hundreds of threads. Past it a new copy is refused (TranscodeError) until one ends.
ENCODERS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))


def directory():
    return Path(settings.TRANSCODE_DIR or Path(settings.MEDIA_ROOT) / "transcodes")


def copy_path(content_hash, target):
    """Where the finished copy of the file with this content hash, made as `target`, lives."""
    if target.offset:
        raise ValueError("copies from an offset are not kept: transcode() them as they are asked for")
    return directory() / content_hash[:2] / f"{content_hash}-{target.kbps}.{target.extension}"


def fetch(source, content_hash, target):
    """The copy of `source` made as `target`: (path, None) when it is finished on disk, or (None, chunks)
    while it is being made, `chunks` yielding its bytes from the first as they are written (starting
    the encode when nobody has). Reading `chunks` raises TranscodeError when the encode fails."""
    final = copy_path(content_hash, target)
    if _used(final):
        return final, None
    final.parent.mkdir(parents=True, exist_ok=True)
    lock = _claim(final)
    if lock is not None:
        if _used(final):  # finished between our look and the claim
            _release(lock)
            return final, None
        _start(source, target, final, lock)
    return None, _follow(source, target, final, encodes=0 if lock is None else 1)


def evict(limit=None, *, keep=None, root=None):
    """Delete least recently used copies under `root` (settings' directory()) until the finished ones take
    at most `limit` bytes (settings.TRANSCODE_CACHE_MAX_BYTES), never `keep` (the copy just made, its
    readers still on it), and the parts dead encoders left. Returns the copies deleted."""
    limit = settings.TRANSCODE_CACHE_MAX_BYTES if limit is None else limit
    copies = []
    for shard in _entries(directory() if root is None else root):
        for entry in _entries(shard.path):
            if entry.name.endswith(".part"):
                _forget_part(Path(entry.path))
            elif entry.name.endswith(EXTENSIONS):
                try:
                    found = entry.stat()
                except FileNotFoundError:
                    continue
                copies.append((found.st_atime_ns, found.st_size, Path(entry.path)))
    total = sum(size for _, size, _ in copies)
    deleted = []
    for _, size, path in sorted(copies):
        if total <= limit:
            break
        if path == keep:
            continue
        path.unlink(missing_ok=True)
        _forget_lock(path)
        total -= size
        deleted.append(path)
    return deleted


def _entries(path):
    try:
        with os.scandir(path) as entries:
            return [entry for entry in entries if entry.is_dir() or entry.is_file()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _used(final):
    """Whether the finished copy is there; if so its use is recorded (the access time) for evict."""
    try:
        found = os.stat(final)
    except FileNotFoundError:
        return False
    now = time.time()
    if now - found.st_atime > TOUCH_SECONDS:
        try:
            os.utime(final, ns=(int(now * 1e9), found.st_mtime_ns))
        except FileNotFoundError:  # evicted just now: still sent from the open file, or looked for again
            return False
    return True


def _lock_path(final):
    return final.with_name(final.name + ".lock")


def _part_path(final):
    return final.with_name(final.name + ".part")


def _claim(final):
    """The encoder's lock on the copy (an open file descriptor), or None when another holds it."""
    path = _lock_path(final)
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        # evict() may have deleted the lock file between our open and our lock: ours is then nobody's.
        try:
            same = os.stat(path).st_ino == os.fstat(descriptor).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return descriptor
        os.close(descriptor)


def _release(descriptor):
    os.close(descriptor)  # closing the last descriptor of the open file releases its flock


def _locked(final):
    """Whether an encoder holds the copy's lock now."""
    try:
        descriptor = os.open(_lock_path(final), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def _forget_lock(final):
    """Delete a copy's lock file, unless an encoder holds it (then it stays, and so does their copy)."""
    descriptor = _claim(final)
    if descriptor is not None:
        _lock_path(final).unlink(missing_ok=True)
        _release(descriptor)


def _forget_part(part):
    """Delete a part nobody is writing (a dead encoder's, never asked for again)."""
    final = part.with_name(part.name.removesuffix(".part"))
    lock = _claim(final)
    if lock is not None:
        part.unlink(missing_ok=True)
        _release(lock)


def _start(source, target, final, lock):
    """Start encoding into the part, holding `lock` (released when the encode ends, or here if it cannot
    start: then nothing is left behind, and the next reader may try again)."""
    if not ENCODERS.acquire(blocking=False):
        _release(lock)
        raise TranscodeError("the server is making too many copies at once: try again in a moment")
    part, output = _part_path(final), None
    # Where the copies are and their cap, as they are now: the encode may end after the settings changed.
    cache = (settings.TRANSCODE_CACHE_MAX_BYTES, final.parent.parent)
    try:
        part.unlink(missing_ok=True)  # a dead encoder's: its readers notice (no links left) and reopen ours
        output = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        threading.Thread(
            target=_encode, args=(source, target, final, lock, output, cache), name=f"transcode {final.name}",
            daemon=True,
        ).start()
    except BaseException:
        if output is not None:
            os.close(output)
            part.unlink(missing_ok=True)
        _release(lock)
        ENCODERS.release()
        raise


def _encode(source, target, final, lock, output, cache):
    try:
        _write(source, target, final, lock, output, cache)
    finally:
        ENCODERS.release()


def _write(source, target, final, lock, output, cache):
    part = _part_path(final)
    try:
        for chunk in transcode(source, target):
            view = memoryview(chunk)
            while view:
                view = view[os.write(output, view):]
        os.close(output)
        output = None
        os.replace(part, final)
    except Exception as error:
        part.unlink(missing_ok=True)
        if isinstance(error, TranscodeError | OSError):
            logger.warning("transcoding %s to %s failed: %s", source, final.name, error)
        else:
            logger.exception("transcoding %s to %s failed", source, final.name)
    finally:
        if output is not None:
            os.close(output)
        _release(lock)
    try:
        evict(cache[0], keep=final, root=cache[1])
    except OSError as error:
        if error.errno != errno.ENOENT:
            logger.warning("could not evict old transcoded copies: %s", error)


def _follow(source, target, final, *, encodes):
    """The bytes of a copy being made, from the first, as they are written (see the module's docstring)."""
    position, file = 0, None
    quiet_since = time.monotonic()
    try:
        while True:
            if file is None:
                file = _open_either(final)
                if file is None:
                    if not _locked(final):
                        encodes = _take_over(source, target, final, encodes)
                        continue
                    _wait(quiet_since)
                    continue
                file.seek(position)
            chunk = file.read(CHUNK_BYTES)
            if chunk:
                position += len(chunk)
                quiet_since = time.monotonic()
                yield chunk
                continue
            if os.fstat(file.fileno()).st_nlink == 0:  # a dead encoder's part, deleted: follow the new one
                file.close()
                file = None
                continue
            if _locked(final):
                _wait(quiet_since)
                continue
            # The encoder is done or gone, and all it wrote has been read (it wrote before it let go).
            chunk = file.read(CHUNK_BYTES)
            if chunk:
                position += len(chunk)
                yield chunk
                continue
            if _same_file(file, final):
                return
            file.close()
            file = None
            encodes = _take_over(source, target, final, encodes)
    finally:
        if file is not None:
            file.close()


def _open_either(final):
    for path in (_part_path(final), final):
        try:
            return open(path, "rb")  # noqa: SIM115 (_follow closes it)
        except FileNotFoundError:
            continue
    return None


def _same_file(file, final):
    try:
        return os.stat(final).st_ino == os.fstat(file.fileno()).st_ino
    except FileNotFoundError:
        return False


def _take_over(source, target, final, encodes):
    """No encoder, no finished copy: encode it (again) ourselves, unless someone else just started.
    Returns how many encodes this reader has started: one that failed under its eyes is the file's fault
    (its reason is logged), not a crash's, and is not tried again."""
    if final.exists():
        return encodes
    if encodes >= 1:
        raise TranscodeError(f"transcoding {source} to {final.name} failed")
    lock = _claim(final)
    if lock is None:  # another reader got there first, or was looking at the lock just then
        time.sleep(POLL_SECONDS)
        return encodes
    if final.exists():
        _release(lock)
        return encodes
    _start(source, target, final, lock)
    return encodes + 1


def _wait(quiet_since):
    if time.monotonic() - quiet_since > STALL_SECONDS:
        raise TranscodeError(f"a transcoded copy gained nothing for {STALL_SECONDS} s")
    time.sleep(POLL_SECONDS)
