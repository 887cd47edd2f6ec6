"""Who is calling: Subsonic's credentials, checked against the listener's app passwords only.

Three ways (subsonic.org/pages/api.jsp and OpenSubsonic's apiKeyAuthentication):
- u + t + s: t = md5(app password + s). Needs every app password of the listener in plain text, which is why
  they are kept sealed (SyroMusic.sealing), and why a listener has at most AppPassword.MAX_PER_USER.
- u + p: the app password itself, plain or "enc:" + hex.
- apiKey: an app password alone (it names its listener); with u as well it is error 43.
The account's login password is never accepted. Every failure is counted by the login limiter
(SyroMusic.web.limits), per username and per address as on the login page; past the limit the answer is
error 40 with the wait, before any password is looked at.
"""

import binascii
import hashlib
import hmac
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from SyroMusic.models import AppPassword
from SyroMusic.sealing import Unsealable, digest
from SyroMusic.web import limits

from .core import (
    CLIENT_TOO_OLD,
    CONFLICTING_MECHANISMS,
    INVALID_API_KEY,
    MISSING_PARAMETER,
    SERVER_TOO_OLD,
    WRONG_CREDENTIALS,
    SubsonicError,
)

# last_used_at is for the listener's eyes ("used 3 minutes ago"): one write a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)
WRONG = "Wrong username or password."


def check_version(params):
    """A client speaking a major version other than 1 cannot understand us (codes 20 and 30)."""
    version = params.get("v")
    if not version:
        return
    major = version.strip().split(".")[0]
    if not major.isdigit():
        return
    if int(major) < 1:
        raise SubsonicError(CLIENT_TOO_OLD, "Incompatible Subsonic REST protocol version. Client must upgrade.")
    if int(major) > 1:
        raise SubsonicError(SERVER_TOO_OLD, "Incompatible Subsonic REST protocol version. Server must upgrade.")


def _plain_password(raw):
    if not raw.startswith("enc:"):
        return raw
    try:
        return binascii.unhexlify(raw[4:]).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _token_matches(row, token, salt):
    try:
        plain = row.password()
    except Unsealable:
        return False
    expected = hashlib.md5((plain + salt).encode()).hexdigest()
    # As bytes: compare_digest refuses str holding anything but ASCII, which a client may well send.
    return hmac.compare_digest(expected.encode(), token.strip().lower().encode())


def _blocked(keys):
    wait = max((limits.LOGIN_FAILURES[kind].wait(key) for kind, key in keys.items()), default=0)
    if wait:
        raise SubsonicError(WRONG_CREDENTIALS, limits.LoginBlocked(wait).args[0])


def _failed(keys, code=WRONG_CREDENTIALS, message=WRONG):
    for kind, key in keys.items():
        limits.LOGIN_FAILURES[kind].record(key)
    raise SubsonicError(code, message)


def _keys(request, username=None):
    keys = {}
    if username is not None:
        keys["username"] = limits.username_key(username)
    address = limits.client_address(request)
    if address:
        keys["address"] = address
    return keys


def _used(row):
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        AppPassword.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now


def authenticate(request, params):
    """The active listener the credentials in `params` belong to, or SubsonicError (10, 40, 43, 44)."""
    check_version(params)
    api_key = params.get("apiKey")
    username = params.get("u")
    token, salt, password = params.get("t"), params.get("s"), params.get("p")
    if api_key is not None:
        if username is not None or token is not None or password is not None:
            raise SubsonicError(CONFLICTING_MECHANISMS, "Send either apiKey or u with p or t and s, not both.")
        keys = _keys(request)
        _blocked(keys)
        row = AppPassword.objects.filter(digest=digest(api_key), user__is_active=True).select_related("user").first()
        if row is None or not hmac.compare_digest(row.digest, digest(api_key)):
            _failed(keys, INVALID_API_KEY, "Invalid API key.")
        _used(row)
        return row.user
    if not username:
        raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: u")
    if token is not None and password is not None:
        raise SubsonicError(CONFLICTING_MECHANISMS, "Send either p or t and s, not both.")
    if token is None and password is None:
        raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: p (or t and s)")
    if token is not None and not salt:
        raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: s")
    username = get_user_model().normalize_username(username)
    keys = _keys(request, username)
    _blocked(keys)
    rows = AppPassword.objects.filter(user__username=username, user__is_active=True).select_related("user")
    if token is not None:
        row = next((row for row in rows if _token_matches(row, token, salt)), None)
    else:
        plain = _plain_password(password)
        row = None
        if plain is not None:
            wanted = digest(plain)
            row = rows.filter(digest=wanted).first()
            if row is not None and not hmac.compare_digest(row.digest, wanted):
                row = None
    if row is None:
        _failed(keys)
    _used(row)
    return row.user
