"""Recently played: a listener's own history (private), its export and a ListenBrainz import.

History is nobody else's business: every page here needs a login, reads only the listener's own listens
(another's id is a 404), and says `Cache-Control: private, no-store` (never_cache), so neither the page
cache (it caches only anonymous visitors' pages, and these views are not wrapped in it), a shared cache
nor the browser's back/forward store keeps a copy."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from SyroMusic.listening import history as listening_history
from SyroMusic.listening import listenbrainz, record
from SyroMusic.models import Listen, Profile, may_listen

from .common import safe_next

PER_PAGE = 50
EXPORT_TYPES = {"json": "application/json; charset=utf-8", "csv": "text/csv; charset=utf-8"}
EXPORT_CHUNK = 2_000


@never_cache
@login_required
def history(request):
    """The listener's listens, newest first, 50 a page: `?before=` older than a row, `?after=` newer."""
    cursors = {}
    for parameter in ("before", "after"):
        if request.GET.get(parameter):
            try:
                cursors[parameter] = listening_history.decode(request.GET[parameter])[1]
            except listening_history.InvalidCursor:
                return redirect("music:history")  # a cursor we did not make: start from the newest
    page = listening_history.page(
        Listen.objects.for_user(request.user).for_history(), size=PER_PAGE,
        older_than=cursors.get("before"), newer_than=cursors.get("after"),
    )
    zone, now = Profile.of(request.user).zone, timezone.now()
    context = {
        "rows": [(listen, listening_history.heard_when(listen.started_at, zone, now)) for listen in page.rows],
        "older": page.older and listening_history.encode(page.older),
        "newer": page.newer and listening_history.encode(page.newer),
        "first_page": not cursors,
        "may_listen": may_listen(request.user),
    }
    return render(request, "syromusic/history.html", context)


@never_cache
@login_required
@require_POST
def history_remove(request, pk):
    """Remove one listen (the listener's own; another's is a 404), then back to the page it was on."""
    if not record.forget(request.user, [int(pk)]):
        raise Http404("You have no listen with this id.")
    messages.success(request, "Removed from your history.")
    return redirect(safe_next(request, reverse("music:history")))


@never_cache
@login_required
def history_clear(request):
    """GET asks (with what would go), POST forgets the whole history."""
    if request.method == "POST":
        forgotten = record.forget_all(request.user)
        messages.success(request, f"Your history is cleared: {forgotten:,} listen{'s' if forgotten != 1 else ''} forgotten.")
        return redirect("music:history")
    counts = Listen.objects.for_user(request.user).aggregate(
        listens=Count("id"), counted=Count("id", filter=Q(counted=True))
    )
    return render(request, "syromusic/history_confirm_clear.html", counts)


@never_cache
@login_required
def history_export(request, kind):
    """The whole history as a file, written while it is sent: JSON in ListenBrainz's format (counted
    listens), or CSV (every listen)."""
    listens = Listen.objects.for_user(request.user).for_history().newest_first().iterator(chunk_size=EXPORT_CHUNK)
    writer = listenbrainz.json_export if kind == "json" else listenbrainz.csv_export
    response = StreamingHttpResponse(writer(listens), content_type=EXPORT_TYPES[kind])
    filename = listenbrainz.export_filename(kind, timezone.localdate(timezone=Profile.of(request.user).zone))
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


class ListenBrainzImportForm(forms.Form):
    file = forms.FileField(
        help_text="ListenBrainz's export (the ZIP), or listens as a JSON array or JSON Lines; "
        f"up to {listenbrainz.MAX_UPLOAD_BYTES / 1_000_000:g} MB, and a ZIP up to "
        f"{listenbrainz.MAX_UNPACKED_BYTES / 1_000_000:g} MB unpacked."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > listenbrainz.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"{upload.name} is larger than {listenbrainz.MAX_UPLOAD_BYTES / 1_000_000:g} MB."
            )
        return upload


@never_cache
@login_required
def history_import(request):
    form = ListenBrainzImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = listenbrainz.import_listens(user=request.user, name=upload.name, data=upload.read())
        except listenbrainz.ImportRefused as refused:
            form.add_error("file", f"{refused} Nothing was imported.")
        else:
            context = {"report": report, "time_zone": Profile.of(request.user).time_zone}
            return render(request, "syromusic/history_import_report.html", context)
    return render(request, "syromusic/history_import.html", {"form": form})
