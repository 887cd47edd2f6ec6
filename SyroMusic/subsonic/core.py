"""The Subsonic face's registry and request parameters: what every method module builds on.

A method is a function f(request, params) registered under its Subsonic name with @method. The endpoint
(SyroMusic.subsonic.endpoint) authenticates the listener, looks the name up in METHODS, and wraps what f
returns (a payload dict, or an HttpResponse for raw methods) in the subsonic-response envelope. Errors are
SubsonicError with Subsonic's numeric codes: they become a "failed" envelope, always HTTP 200.
"""

from __future__ import annotations

from collections.abc import Callable

# Subsonic's error codes (subsonic.org/pages/api.jsp, plus OpenSubsonic's 41-44).
GENERIC = 0
MISSING_PARAMETER = 10
CLIENT_TOO_OLD = 20
SERVER_TOO_OLD = 30
WRONG_CREDENTIALS = 40
TOKEN_NOT_SUPPORTED = 41
MECHANISM_NOT_SUPPORTED = 42
CONFLICTING_MECHANISMS = 43
INVALID_API_KEY = 44
NOT_AUTHORIZED = 50
NOT_FOUND = 70


class SubsonicError(Exception):
    """A failure the client is told about in the envelope: <error code=".." message=".."/>."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


METHODS: dict[str, Callable] = {}
RAW: set[str] = set()
# Answered without credentials: OpenSubsonic asks that a client may learn the extensions before logging in.
PUBLIC: set[str] = set()


def method(name, *, raw=False, public=False):
    """Decorator: registers f(request, params). f returns a dict payload (the children of
    <subsonic-response>), or, when raw=True (stream, download, getCoverArt), an HttpResponse
    (errors still raise SubsonicError and get the envelope). request.user is the authenticated
    listener when f runs (public=True: whoever asked, maybe anonymous)."""

    def register(f):
        METHODS[name] = f
        for flag, names in ((raw, RAW), (public, PUBLIC)):
            if flag:
                names.add(name)
            else:
                names.discard(name)
        return f

    return register


_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class Params:
    """The request's query and form parameters; repeatable ones (id=1&id=2) keep every value."""

    def __init__(self, *sources):
        self._values: dict[str, list[str]] = {}
        for source in sources:
            for key in source:
                # PostgreSQL cannot compare text holding NUL: no parameter means anything with one.
                values = [value.replace("\x00", "") for value in source.getlist(key)]
                self._values.setdefault(key.replace("\x00", ""), []).extend(values)

    def __contains__(self, name):
        return bool(self._values.get(name))

    def get(self, name, default=None) -> str | None:
        values = self._values.get(name)
        return values[0] if values else default

    def require(self, name) -> str:
        value = self.get(name)
        if value is None or value == "":
            raise SubsonicError(MISSING_PARAMETER, f"Required parameter is missing: {name}")
        return value

    def int(self, name, default=None, *, minimum=None, maximum=None) -> int | None:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise SubsonicError(GENERIC, f"Parameter {name} must be a whole number, not {raw[:40]!r}") from None
        if minimum is not None and value < minimum:
            raise SubsonicError(GENERIC, f"Parameter {name} must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise SubsonicError(GENERIC, f"Parameter {name} must be at most {maximum}")
        return value

    def bool(self, name, default=False) -> bool:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SubsonicError(GENERIC, f"Parameter {name} must be true or false, not {raw[:40]!r}")

    def list(self, name) -> list[str]:
        return [value for value in self._values.get(name, []) if value != ""]
