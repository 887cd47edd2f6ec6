"""The filter and sort forms of the list pages.

They read the query string and never refuse a page: a value they do not
know falls back to the default and is reported in `ignored`, which the page
shows, so `?sort=bogus` is a sensible page rather than an error.
"""

import datetime
import string

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm, UsernameField
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from SyroMusic import caching
from SyroMusic.listening import record
from SyroMusic.models import (
    Album,
    AppPassword,
    Collaborator,
    Playlist,
    Profile,
    Song,
    available_time_zones,
    refuse_control_characters,
)
from SyroMusic.playlist_files import read_import
from SyroMusic.services import find_listener

LETTERS = [(letter, letter) for letter in string.ascii_uppercase] + [("#", "#")]


def _attributes(attrs):
    """django/forms/widgets/attrs.html, in Python."""
    return format_html_join(
        "", "{}", ((format_html(' {}', name) if value is True else format_html(' {}="{}"', name, str(value)),)
                   for name, value in attrs.items() if value is not False)
    )


class QuickSelect(forms.Select):
    """Django's Select with the same markup, written in Python: its templates include one template per
    option, and a list page's filters (32 genres, 12 decades) cost more than its rows (issue 19)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], _attributes(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            parts.extend(
                format_html('\n  <option value="{}"{}>{}</option>\n', str(option["value"]), _attributes(option["attrs"]),
                            option["label"])
                for option in options
            )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))


class ListForm(forms.Form):
    """Rendered by syromusic/_filters.html: visible fields as selects, hidden ones kept as they are."""

    sort_orderings = {}

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, label_suffix="", **kwargs)
        for field in self.fields.values():
            if type(field.widget) is forms.Select:
                field.widget = QuickSelect(attrs=field.widget.attrs, choices=field.widget.choices)
        self.prepare()
        self.is_valid()
        self.ignored = [
            f"{name}={data.get(name)!r}" for name in self.errors if name in self.fields and data.get(name)
        ]
        for name in self.errors:
            self.cleaned_data[name] = self.fields[name].initial
        for name, field in self.fields.items():
            if self.cleaned_data.get(name) in (None, "") and field.initial is not None:
                self.cleaned_data[name] = field.initial

    def ordering(self):
        return self.sort_orderings[self.cleaned_data["sort"]]

    def count(self):
        """The size of the filtered list when the form knows a cheaper way to count it than COUNT(*) of
        apply()'s query, else None (the paginator counts that)."""
        return None

    def prepare(self):
        """Set choices that depend on the data (before validation)."""


class ArtistListForm(ListForm):
    sort_orderings = {"name": [Lower("sort_name"), "id"], "newest": ["-created_at", "-id"]}

    sort = forms.ChoiceField(
        label="Sort by", choices=[("name", "Name"), ("newest", "Newest")], required=False, initial="name"
    )
    # Chosen from the A-Z links, kept when the sort changes.
    letter = forms.ChoiceField(choices=[("", "All")] + LETTERS, required=False, initial="", widget=forms.HiddenInput)

    def apply(self, artists):
        letter = self.cleaned_data["letter"]
        if letter == "#":
            artists = artists.exclude(sort_name__regex=r"^[A-Za-z]")
        elif letter:
            artists = artists.filter(sort_name__istartswith=letter)
        return artists.order_by(*self.ordering())


def decade_choices():
    this_decade = datetime.date.today().year // 10 * 10
    return [("", "Any decade")] + [(str(year), f"{year}s") for year in range(this_decade, 1940, -10)]


class GenreListForm(ListForm):
    """A list with a genre filter: the genres are loaded once by the view, for the select and the check."""

    genre = forms.ChoiceField(required=False)

    def __init__(self, data, *args, genres, **kwargs):
        self.genres = genres
        super().__init__(data, *args, **kwargs)

    def prepare(self):
        self.fields["genre"].choices = [("", "Any genre")] + [(genre.slug, genre.name) for genre in self.genres]

    def genre_id(self):
        """The chosen genre's id (the view loaded the genres), or None."""
        slug = self.cleaned_data["genre"]
        return next(genre.id for genre in self.genres if genre.slug == slug) if slug else None


class AlbumListForm(GenreListForm):
    sort_orderings = {
        "title": [Lower("title"), "id"],
        "newest": ["-release_date", "-id"],
        "oldest": ["release_date", "id"],
        "artist": [Lower("artist__sort_name"), "artist_id", "release_date", "id"],
    }

    decade = forms.TypedChoiceField(choices=decade_choices, coerce=int, required=False, empty_value=None)
    type = forms.ChoiceField(choices=[("", "Any type")] + Album.Type.choices, required=False, initial="")
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[("title", "Title"), ("newest", "Newest"), ("oldest", "Oldest"), ("artist", "Artist")],
        required=False,
        initial="title",
    )

    def apply(self, albums):
        data = self.cleaned_data
        if data["genre"]:
            albums = albums.filter(genres=self.genre_id())
        if data["decade"]:
            albums = albums.filter(
                release_date__gte=datetime.date(data["decade"], 1, 1),
                release_date__lt=datetime.date(data["decade"] + 10, 1, 1),
            )
        if data["type"]:
            albums = albums.filter(album_type=data["type"])
        return albums.order_by(*self.ordering())

    def count(self):
        """A genre alone: its rows in the album-genre table, one per album (a unique pair), counted without
        joining each to its album. At 1,000,000 songs the jazz albums counted in 1.2 ms, not 4.5."""
        data = self.cleaned_data
        if not data["genre"] or data["decade"] or data["type"]:
            return None
        return caching.cached_count(Album.genres.through.objects.filter(genre_id=self.genre_id()), (caching.CATALOGUE,))


class SongListForm(GenreListForm):
    sort_orderings = {
        "title": [Lower("title"), "id"],
        "artist": [Lower("artist__sort_name"), "artist_id", Lower("title"), "id"],
        "duration": ["duration_ms", "id"],
        "popular": ["-popularity", "-id"],
    }

    sort = forms.ChoiceField(
        label="Sort by",
        choices=[("title", "Title"), ("artist", "Artist"), ("duration", "Duration"), ("popular", "Most popular")],
        required=False,
        initial="title",
    )

    def apply(self, songs):
        if self.cleaned_data["genre"]:
            songs = songs.filter(genre_id=self.genre_id())
        return songs.order_by(*self.ordering())


class SignUpForm(UserCreationForm):
    # New names are ASCII, so one cannot pose as another with letters from another script (a Cyrillic
    # "а" in "аlice"); full-width letters are read as ASCII (NFKC) and meet the existing name.
    username = UsernameField(
        max_length=150,
        validators=[ASCIIUsernameValidator()],
        help_text="150 characters or fewer: unaccented letters a-z and A-Z, digits and @ . + - _ only.",
    )
    email = forms.EmailField(required=False, help_text="Optional: for resetting a forgotten password.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ["username", "email"]


def time_zone_choices():
    return [(name, name.replace("_", " ")) for name in sorted(available_time_zones())]


class ProfileForm(forms.ModelForm):
    # Not required: a form sent without it (an older page) keeps the listener's zone.
    time_zone = forms.ChoiceField(
        label="Time zone", choices=time_zone_choices, required=False,
        help_text=Profile._meta.get_field("time_zone").help_text,
    )

    class Meta:
        model = Profile
        fields = ["bio", "is_public", "time_zone", "stats_public", "data_saver"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def clean_time_zone(self):
        return self.cleaned_data["time_zone"] or self.instance.time_zone

    @transaction.atomic
    def save(self):
        """A new time zone goes through record.change_time_zone: the listener's days and months move with it."""
        profile = super().save(commit=False)
        profile.save(update_fields=[name for name in self.Meta.fields if name != "time_zone"])
        if self.cleaned_data["time_zone"] != self.initial["time_zone"]:
            profile = record.change_time_zone(profile.user, self.cleaned_data["time_zone"])
        return profile


class PlaylistForm(forms.ModelForm):
    class Meta:
        model = Playlist
        fields = ["name", "description", "is_public"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, owner, **kwargs):
        self.owner = owner
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["maxlength"] = 200

    def clean_name(self):
        name = self.cleaned_data["name"]  # stripped; blank is already "required"
        if Playlist.objects.name_taken(self.owner, name, exclude=self.instance):
            raise forms.ValidationError(Playlist.NAME_TAKEN)
        return name


class AddSongForm(forms.Form):
    """One song, or every song of an album in tracklist order."""

    song = forms.IntegerField(min_value=1, required=False, error_messages={"min_value": "There is no such song."})
    album = forms.IntegerField(min_value=1, required=False, error_messages={"min_value": "There is no such album."})

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("album"):
            album = Album.objects.filter(pk=cleaned["album"]).first()
            if album is None:
                raise forms.ValidationError("There is no such album.")
            cleaned["songs"] = list(album.songs.in_tracklist_order())
            cleaned["label"] = f"{len(cleaned['songs'])} songs of “{album.title}”"
        elif cleaned.get("song"):
            song = Song.objects.filter(pk=cleaned["song"]).first()
            if song is None:
                raise forms.ValidationError("There is no such song.")
            cleaned["songs"], cleaned["label"] = [song], f"“{song.title}”"
        else:
            raise forms.ValidationError("Choose a song or an album to add.")
        return cleaned


class MoveEntryForm(forms.Form):
    position = forms.IntegerField(error_messages={"invalid": "Give the new position as a whole number."})


class ListenerField(forms.CharField):
    """A username typed in a form, cleaned to that user."""

    def clean(self, value):
        return find_listener(super().clean(value))


class PlaylistListenerForm(forms.Form):
    """A form naming another listener for a playlist (not its owner, who has every right)."""

    username = ListenerField(max_length=150)

    def __init__(self, *args, playlist, **kwargs):
        self.playlist = playlist
        super().__init__(*args, **kwargs)

    def clean_username(self):
        return self.playlist.check_not_owner(self.cleaned_data["username"])


class CollaboratorForm(PlaylistListenerForm):
    level = forms.ChoiceField(choices=Collaborator.Level.choices, initial=Collaborator.Level.EDIT)


class ShareForm(PlaylistListenerForm):
    username = ListenerField(max_length=150, label="Share with (username)")
    message = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PlaylistImportForm(forms.Form):
    file = forms.FileField(help_text="An .m3u, .m3u8 or .xspf file, up to 1 MB and 10,000 songs.")
    name = forms.CharField(
        max_length=200, required=False, validators=[refuse_control_characters],
        help_text="Default: the playlist's title in the file, else the file's name.",
    )

    def __init__(self, *args, owner, **kwargs):
        self.owner = owner
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("file") is not None:
            cleaned["name"], cleaned["items"] = read_import(upload=cleaned["file"], name=cleaned.get("name"), owner=self.owner)
        return cleaned


class AppPasswordForm(forms.ModelForm):
    """A new app password: its name. The password itself is made by the server (AppPassword.create)."""

    class Meta:
        model = AppPassword
        fields = ["name"]

    def __init__(self, *args, user, **kwargs):
        self.user = user
        kwargs.setdefault("auto_id", "id_app_%s")  # it shares the profile page with the ProfileForm
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        # Each token a Subsonic app sends is checked against every one of the listener's app passwords.
        if self.user.app_passwords.count() >= AppPassword.MAX_PER_USER:
            raise forms.ValidationError(
                f"You have {AppPassword.MAX_PER_USER} app passwords, the most there can be: revoke one you no longer use first."
            )
        return cleaned
