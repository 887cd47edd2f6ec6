"""Calling /rest/ the way Subsonic apps do, and reading the answer back, for the Subsonic face's tests."""

import hashlib
import json
from xml.etree import ElementTree

from django.test import Client

from SyroMusic.models import AppPassword

NS = "{http://subsonic.org/restapi}"


def app_password(user, name="Phone"):
    """A new app password of `user` (the row, already marked used, so that calls do not write last_used_at)."""
    from django.utils import timezone

    row, plain = AppPassword.create(user, name)
    AppPassword.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return plain


def token(user, plain, salt="c19b2d"):
    """Token credentials (t = md5(password + salt)), as py-sonic and most apps send them."""
    return {"u": user.get_username(), "t": hashlib.md5((plain + salt).encode()).hexdigest(), "s": salt}


_shared = []


def _client():
    # One client for every call without one of its own: a new Client loads every middleware (WhiteNoise
    # reads the static files), which costs more than most calls. Subsonic answers set no cookie to carry.
    if not _shared:
        _shared.append(Client())
    _shared[0].cookies.clear()
    return _shared[0]


def rest(method, credentials=None, *, client=None, post=False, **params):
    """The raw response of /rest/<method>.view with `params` (f=json for JSON)."""
    client = client or _client()
    data = {"v": "1.16.1", "c": "tests", **(credentials or {}), **params}
    url = f"/rest/{method}.view"
    return client.post(url, data) if post else client.get(url, data)


def xml(response):
    """The XML answer's root element, after checking the envelope and the namespace."""
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{NS}subsonic-response"
    assert {key: root.get(key) for key in ("version", "type", "openSubsonic")} == {
        "version": "1.16.1", "type": "syromusic", "openSubsonic": "true",
    }
    assert root.get("serverVersion")
    return root


def as_json(response):
    """The JSON answer's subsonic-response object, after checking the envelope."""
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.content)
    assert list(body) == ["subsonic-response"]
    answer = body["subsonic-response"]
    assert {key: answer[key] for key in ("version", "type", "openSubsonic")} == {
        "version": "1.16.1", "type": "syromusic", "openSubsonic": True,
    }
    return answer


def error_of(response):
    """(code, message) of a failed answer, XML or JSON."""
    assert response.status_code == 200
    if response["Content-Type"].startswith("application/json"):
        answer = as_json(response)
        assert answer["status"] == "failed"
        return answer["error"]["code"], answer["error"]["message"]
    root = xml(response)
    assert root.get("status") == "failed"
    error = root.find(f"{NS}error")
    return int(error.get("code")), error.get("message")


def ok_xml(response):
    root = xml(response)
    assert response.status_code == 200
    assert root.get("status") == "ok", response.content[:400]
    return root


def ok_json(response):
    answer = as_json(response)
    assert answer["status"] == "ok", answer
    return answer
