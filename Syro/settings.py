"""SyroMusic settings: one module, driven by environment variables.

With no environment set the app runs on SQLite and the in-memory cache.
`DATABASE_URL` switches to PostgreSQL, `REDIS_URL` to Redis. Every variable
read here is listed in the README.
"""

import importlib.util
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: expected one of 1/0, true/false, yes/no, on/off")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a whole number") from None


def env_float(name, default, low=0.0, high=1.0):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a number from {low:g} to {high:g}")
    return number


def env_list(name, default=()):
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url):
    """Turn `postgres://user:pass@host:port/name?opt=val` or `sqlite:///path` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as dj-database-url reads them.
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path or BASE_DIR / "db.sqlite3"}
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        options = dict(parse_qsl(parts.query))
        statement_timeout = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 5_000)
        if statement_timeout < 0:
            raise ImproperlyConfigured(
                f"DATABASE_STATEMENT_TIMEOUT_MS={statement_timeout}: expected milliseconds, or 0 for no limit"
            )
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(parts.port or ""),
            "OPTIONS": {
                **options,
                # Search's typo tolerance ("beatels" finds "The Beatles"): how alike by trigrams a catalogue word
                # must be to be a candidate for a typed word's correction (pg_trgm's similarity, 0 to 1).
                "options": f"-c pg_trgm.similarity_threshold={env_float('SEARCH_FUZZINESS', 0.3)} "
                # A statement running longer is stopped (the request answers 503), long before gunicorn's TIMEOUT
                # would kill the worker. Commands run through manage.py have no limit (see manage.py).
                f"-c statement_timeout={statement_timeout} "
                # No JIT: the planner's row estimates for one listener's rollups run high, which pushes a 20 ms
                # query past jit_above_cost and spends 3 s compiling it (measured on the stats' ranking). A web
                # request's short queries never win that time back.
                "-c jit=off "
                + options.get("options", ""),
            },
            # Reuse connections between requests; health checks drop dead ones after a restart.
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(f"DATABASE_URL: unsupported scheme {parts.scheme!r} (use postgres:// or sqlite://)")


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (make run sets DEBUG=1 for development)")
    SECRET_KEY = "django-insecure-development-only-key"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "SyroMusic",
]

MIDDLEWARE = [
    "SyroMusic.web.middleware.RequestLogMiddleware",
    # Anonymous visitors' kept pages, answered before any other middleware works (one cache round trip).
    "SyroMusic.web.page_cache.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "SyroMusic.web.middleware.ContentSecurityPolicyMiddleware",
    "SyroMusic.web.middleware.BodyLimitMiddleware",
    # Static files first: served (precompressed) before any other middleware does work.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses pages and API responses (Django's, but never audio, images or byte ranges); adds
    # random bytes per response against BREACH.
    "SyroMusic.web.middleware.GZipMiddleware",
    # After GZip, so ETags describe the uncompressed content; answers 304 to revalidations.
    "django.middleware.http.ConditionalGetMiddleware",
    # Anonymous clients' kept API answers, before sessions, authentication and DRF (SyroMusic.api.kept).
    "SyroMusic.api.kept.KeptAnswerMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "SyroMusic.web.middleware.CommonMiddleware",  # Django's, minding the API's trailing slashes
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "SyroMusic.web.middleware.PrivateWhenLoggedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "SyroMusic.web.middleware.RateLimitHeadersMiddleware",
    "SyroMusic.web.middleware.RefuseNulCharactersMiddleware",
    "SyroMusic.web.middleware.ConflictMiddleware",
    "SyroMusic.web.middleware.DatabaseUnavailableMiddleware",
    "SyroMusic.web.middleware.LoginBlockedMiddleware",
]

# Production behind HTTPS (HTTPS=1): redirect to https, HSTS, cookies only over https.
# `DEBUG=0 python manage.py check --deploy` then reports nothing.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", HTTPS)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # forms carry the token; no script reads the cookie
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Everything the pages load comes from this site; album covers may be any https image.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: https:; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
# Refuse request bodies larger than this with 413 (uploads included).
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 5_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES

# The toolbar is a development aid, asked for with DEBUG_TOOLBAR=1 (off by default: open on every page it
# covers the log-in links and the table's last column). Only with DEBUG on, so never in production.
DEBUG_TOOLBAR = DEBUG and env_bool("DEBUG_TOOLBAR", False)
if DEBUG_TOOLBAR and importlib.util.find_spec("debug_toolbar") is None:
    raise ImproperlyConfigured("DEBUG_TOOLBAR=1 needs django-debug-toolbar: pip install -r requirements-dev.txt")
# Collapsed to its handle until clicked; the toolbar remembers a listener's choice in a cookie.
DEBUG_TOOLBAR_CONFIG = {"SHOW_COLLAPSED": True}
if DEBUG_TOOLBAR:
    INSTALLED_APPS.append("debug_toolbar")
    MIDDLEWARE.insert(MIDDLEWARE.index("SyroMusic.web.middleware.GZipMiddleware") + 1, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1", "::1"]

ROOT_URLCONF = "Syro.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "Syro.wsgi.application"

# Covering indexes (INCLUDE) are a PostgreSQL speed-up; SQLite builds the same index without them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

DATABASES = {
    "default": database_from_url(os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "syro",
            "TIMEOUT": 300,
            # Redis down means a slower site, not a broken one: cache reads miss, writes are dropped.
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "syromusic",
            "TIMEOUT": 300,
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# Login failures and rate limits count in a cache of their own, so a flood of cached pages never
# evicts a lockout (SyroMusic/web/limits.py). With Redis: LIMITS_REDIS_URL, by default the page
# cache's server under another prefix; the README says which Redis settings keep the counters.
LIMITS_REDIS_URL = os.environ.get("LIMITS_REDIS_URL", REDIS_URL)
if LIMITS_REDIS_URL:
    CACHES["limits"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": LIMITS_REDIS_URL,
        "KEY_PREFIX": "syro-limits",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # Counters are small and expire; the bound only keeps a distributed flood from growing memory forever.
    CACHES["limits"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "syromusic-limits",
        "OPTIONS": {"MAX_ENTRIES": 200_000},
    }

# Where the cache versions live when the cache is per process (no REDIS_URL): files in this folder,
# so a server and a command on one machine (or several server processes) agree on what is stale.
# With Redis they live in Redis, shared by every machine. See SyroMusic/caching.py.
CACHE_VERSIONS_DIR = "" if REDIS_URL else os.environ.get("CACHE_VERSIONS_DIR", str(BASE_DIR / ".cache-versions"))

# How long a logged-in request's user may come from the cache instead of the database (seconds; 0: never).
# Any change to the user is seen at once (SyroMusic.caching.kept_user). Only with Redis: a per-process cache
# could not forget another process's copy.
USER_CACHE_SECONDS = env_int("USER_CACHE_SECONDS", 60) if REDIS_URL else 0

# How long an anonymous visitor's page may be served from the cache (seconds).
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 900)
# How long a shared cache (the nginx front, a CDN) may answer anonymous visitors with a page without
# asking Django (s-maxage): a write shows to them within this many seconds. 0: shared caches always ask.
PAGE_SHARED_SECONDS = env_int("PAGE_SHARED_SECONDS", 5)

# Sessions read from the cache, written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
LOGIN_REDIRECT_URL = "music:home"
LOGIN_URL = "login"

# Password reset mail: printed to the console unless an SMTP server is configured.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "SyroMusic <noreply@localhost>")
LOGOUT_REDIRECT_URL = "music:home"

# Every password login (login page, admin, API token) passes the login limiter.
AUTHENTICATION_BACKENDS = ["SyroMusic.web.limits.LimitedModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = os.environ.get("STATIC_URL", "/static/")
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files the app writes: album covers (covers/) and audio uploaded in the admin (audio/). Served by
# nginx under `make serve`, by the app otherwise (SyroMusic.views.media).
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))

# Who may listen: logged-in listeners, and anonymous visitors too when STREAM_ANONYMOUS is on
# (`make run` turns it on for the demo). Nothing to do with DEBUG.
STREAM_ANONYMOUS = env_bool("STREAM_ANONYMOUS", False)
# With nginx in front (scripts/serve sets it), the app answers a stream with X-Accel-Redirect to this
# internal location and nginx sends the bytes; empty: the app streams them itself.
AUDIO_ACCEL_REDIRECT = os.environ.get("AUDIO_ACCEL_REDIRECT", "")
# Transcoded copies (Subsonic's maxBitRate, the player's data saver) are kept here, the least recently used
# deleted past the cap. Empty: MEDIA_ROOT/transcodes.
TRANSCODE_DIR = os.environ.get("TRANSCODE_DIR", "")
TRANSCODE_CACHE_MAX_BYTES = env_int("TRANSCODE_CACHE_MAX_BYTES", 2_000_000_000)
# Subsonic app passwords are kept sealed with this key (Fernet: 32 url-safe base64 bytes). Unset, it is
# derived from SECRET_KEY (and SECRET_KEY_FALLBACKS can still open older ones): changing SECRET_KEY with no
# fallback makes every app password stop working, so set APP_PASSWORD_KEY to keep them apart.
APP_PASSWORD_KEY = os.environ.get("APP_PASSWORD_KEY", "")
# Admin uploads: their own limits, above the general request limit.
AUDIO_UPLOAD_MAX_BYTES = env_int("AUDIO_UPLOAD_MAX_BYTES", 500_000_000)
COVER_UPLOAD_MAX_BYTES = env_int("COVER_UPLOAD_MAX_BYTES", 20_000_000)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Behind reverse proxies (TRUSTED_PROXIES > 0) the proxy says whether the client used https, and
# the client's address is read from X-Forwarded-For (SyroMusic.web.limits.client_address).
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The REST API under /api/v1/.
API_THROTTLE_RATES = {
    "anonymous": env_int("API_ANON_PER_HOUR", 100),
    "user": env_int("API_USER_PER_HOUR", 1000),
}
REST_FRAMEWORK = {
    # Token first: an unauthenticated request then gets 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_THROTTLE_CLASSES": [
        "SyroMusic.api.throttling.AnonymousRateThrottle",
        "SyroMusic.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "SyroMusic.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "SyroMusic.api.errors.exception_handler",
    # JSON bodies only (the playlist import takes a multipart file): one body type per operation, which
    # generated clients can express. The browsable API then offers its raw JSON form, not HTML forms.
    "DEFAULT_PARSER_CLASSES": ["SyroMusic.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SyroMusic API",
    "DESCRIPTION": "The music catalogue: artists, albums, songs, genres and listeners' playlists.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"AudioFormatEnum": "SyroMusic.models.AudioFormat"},  # not a bare "FormatEnum"
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "SyroMusic.api.schema.name_union_members",
        "SyroMusic.api.schema.add_problem_responses",
    ],
}

# LOG_FORMAT=json: every log line (including one per request) is a JSON object.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: expected plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "format": '{"time": "%(asctime)s", "level": "%(levelname)s", "logger": "%(name)s", "message": %(message)s}'
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "requests": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "plain"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "syromusic.requests": {"handlers": ["requests"], "level": "INFO", "propagate": False},
    },
}
