"""Responses that pages and the API send alike."""

from django.http import HttpResponse
from django.utils.http import content_disposition_header


def attachment(export):
    """A file to save (a playlist_files.Export), not to show: the browser offers its file name."""
    response = HttpResponse(export.body, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=export.filename)
    return response
