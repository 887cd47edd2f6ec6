"""Secrets the server must read back (Subsonic app passwords: the token check is md5(password + salt), so
a hash will not do), kept sealed: encrypted and authenticated with Fernet (the `cryptography` library).

The key is settings.APP_PASSWORD_KEY, or one derived from SECRET_KEY; keys derived from
SECRET_KEY_FALLBACKS still open what older keys sealed, so a key rotation done the Django way keeps them.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class Unsealable(Exception):
    """Sealed with a key the server no longer has (or not sealed by us at all)."""


def _derived(secret):
    digest = hashlib.sha256(b"SyroMusic app passwords\0" + str(secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _box():
    if settings.APP_PASSWORD_KEY:
        return MultiFernet([Fernet(settings.APP_PASSWORD_KEY)])
    return MultiFernet([_derived(settings.SECRET_KEY), *(_derived(key) for key in settings.SECRET_KEY_FALLBACKS)])


def seal(plain):
    return _box().encrypt(plain.encode()).decode("ascii")


def unseal(sealed):
    try:
        return _box().decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError) as error:
        raise Unsealable("sealed with a key this server does not have") from error


def digest(plain):
    """The lookup key of a secret (its sha256): finds it without opening every sealed one."""
    return hashlib.sha256(plain.encode()).hexdigest()
