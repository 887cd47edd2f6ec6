"""Responses that pages and the API send alike."""

from django.http import HttpResponse
from django.utils.http import content_disposition_header


def attachment(export):
    """A file to save (a playlist_files.Export), not to show: the browser offers its file name."""
    response = HttpResponse(export.body, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=export.filename)
    return response


def too_many_requests(message, wait):
    """A limit's refusal for a person who followed a link (the API answers a problem instead): 429, Retry-After."""
    response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    return response
