"""Payload -> wire: the subsonic-response envelope, in XML (Subsonic's default) or JSON (f=json).

A payload is nested dicts and lists. In XML a dict's scalar values are attributes, its dict values child
elements, its list values repeated child elements of that name, and the key "value" the element's text
(lyrics lines). JSON carries the same structure as is, the way OpenSubsonic documents it. None is left out.
"""

import json
import re
from xml.etree import ElementTree

from django.http import HttpResponse

from .core import SubsonicError

NAMESPACE = "http://subsonic.org/restapi"
API_VERSION = "1.16.1"
SERVER_TYPE = "syromusic"
SERVER_VERSION = "1.0.0"

# XML 1.0 cannot carry most control characters, even escaped: a tag read from a file may hold one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def wants_json(params):
    return (params.get("f") or "").strip().lower() == "json"


def _header(status):
    return {
        "status": status, "version": API_VERSION, "type": SERVER_TYPE,
        "serverVersion": SERVER_VERSION, "openSubsonic": True,
    }


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element, payload):
    for key, value in payload.items():
        if value is None:
            continue
        if key == "value" and not isinstance(value, dict | list):
            element.text = _text(value)
        elif isinstance(value, dict):
            _fill(ElementTree.SubElement(element, key), value)
        elif isinstance(value, list):
            for item in value:
                child = ElementTree.SubElement(element, key)
                if isinstance(item, dict):
                    _fill(child, item)
                elif item is not None:
                    child.text = _text(item)
        else:
            element.set(key, _text(value))


def _json_ready(value):
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_json_ready(item) for item in value if item is not None]
    return value


def render(payload, *, status="ok", as_json=False):
    """The envelope around `payload` (the children of <subsonic-response>), as an HttpResponse (always 200)."""
    body = {**_header(status), **payload}
    if as_json:
        content = json.dumps({"subsonic-response": _json_ready(body)}, ensure_ascii=False, default=str)
        response = HttpResponse(content, content_type="application/json; charset=utf-8")
    else:
        root = ElementTree.Element("subsonic-response", {"xmlns": NAMESPACE})
        _fill(root, body)
        content = ElementTree.tostring(root, encoding="unicode", xml_declaration=False)
        response = HttpResponse(
            '<?xml version="1.0" encoding="UTF-8"?>\n' + content, content_type="text/xml; charset=utf-8"
        )
    response["Cache-Control"] = "no-store"
    return response


def ok(payload, *, as_json=False):
    return render(payload, as_json=as_json)


def failure(error: SubsonicError, *, as_json=False):
    return render({"error": {"code": error.code, "message": error.message}}, status="failed", as_json=as_json)
