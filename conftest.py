import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(settings, tmp_path_factory):
    """Every test starts with empty caches (the in-memory ones, or the throwaway Redis): pages and the
    limits' counters; and, without Redis, versions of its own (not those of a server or another test
    run on this machine)."""
    from django.core.cache import caches

    if settings.CACHE_VERSIONS_DIR:
        settings.CACHE_VERSIONS_DIR = str(tmp_path_factory.mktemp("cache-versions"))
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _users_read_from_the_database(settings):
    """A logged-in request reads its user from the database, on both halves of the suite, so a page's query
    count is the same with Redis as without. test_kept_user.py turns the kept user on (it is on by default with
    Redis, SyroMusic.caching.kept_user); the gunicorn servers some tests start (test_front.py,
    test_deployment.py) run with the settings their environment gives, Redis's default included."""
    settings.USER_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs `collectstatic` first; pages under test only need the URLs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Tests create many users; a slow hash protects nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_of_its_own(settings, tmp_path_factory):
    # Covers and uploads a test writes land in a directory of its own, never in the checkout's media/.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _transcodes_ended():
    """A test's transcoding threads (SyroMusic.audio.transcode_cache) end with it: one still encoding would
    write into (and evict from) the next test's copies, or hold a database-less thread past the test."""
    import threading

    yield
    for thread in threading.enumerate():
        if thread.name.startswith("transcode ") and thread.is_alive():
            thread.join(timeout=300)
            assert not thread.is_alive(), f"{thread.name} still running 300 s after its test"
