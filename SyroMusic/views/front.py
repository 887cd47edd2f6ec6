"""What the nginx front asks the app (deploy/nginx.conf)."""

from django.http import HttpResponse
from django.views.decorators.cache import never_cache

from SyroMusic.web.middleware import BodyLimitMiddleware


@never_cache
def upload_allowed(request):
    """nginx's auth_request for the admin's upload pages, asked before it reads a body: 204 when the
    client may send what it announces (X-Original-URI, -Method, -Length: nginx sets them), 403 otherwise,
    so a large body from anyone else is refused unread instead of buffered to disk first."""
    path = request.headers.get("X-Original-URI", "").split("?", 1)[0]
    method = request.headers.get("X-Original-Method", "")
    length = request.headers.get("X-Original-Length", "")
    length = int(length) if length.isdigit() else None
    if method not in ("POST", "PUT", "PATCH") and length is None:
        length = 0  # no body
    allowed = BodyLimitMiddleware.may_send(request, path=path, method=method, length=length)
    return HttpResponse(status=204 if allowed else 403)
