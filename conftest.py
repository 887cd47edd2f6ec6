import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(settings, tmp_path_factory):
    """Every test starts with an empty cache (the in-memory one, or the throwaway Redis), and, without
    Redis, versions of its own (not those of a server or another test run on this machine)."""
    from django.core.cache import cache

    if settings.CACHE_VERSIONS_DIR:
        settings.CACHE_VERSIONS_DIR = str(tmp_path_factory.mktemp("cache-versions"))
    cache.clear()
    yield
    cache.clear()


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
