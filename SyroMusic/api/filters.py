"""Query-string filters and ordering for the API's lists."""

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.forms.utils import ErrorDict, ErrorList
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters
from rest_framework.exceptions import ValidationError

from SyroMusic import search as searching
from SyroMusic.models import Album, Artist, Genre, Song


class BoundedSearchFilter(filters.SearchFilter):
    """`?search=` within the bounds of every search (SyroMusic.search.check_size): a longer one, or one
    with more terms, is a 400 that names the parameter and the limit, before any query runs."""

    search_description = (
        f"Terms to look for, case-insensitively: at most {searching.MAX_LENGTH} characters "
        f"and {searching.MAX_WORDS} terms (words, or quoted phrases)."
    )

    def get_search_terms(self, request):
        terms = super().get_search_terms(request)
        text = " ".join(request.query_params.get(self.search_param, "").split())
        try:
            searching.check_size(text, len(terms))
        except searching.SearchError as error:
            raise ValidationError({self.search_param: [str(error)]}) from None
        return terms


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` as the pages sort: an unknown field is a 400 that names it, names and titles
    sort case-insensitively (the indexed way), and the id breaks ties in the same direction.

    A view's `ordering_fields` maps each public name to what it sorts by: a field path or an
    expression (`"artist": Lower("artist__sort_name")`), so no lookup path leaks into the API."""

    usage = "- before a name for descending; several, comma-separated"

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:
            valid = sorted(view.ordering_fields)
            unknown = [term for term in raw.split(",") if term.strip().lstrip("-") not in valid]
            if unknown:
                raise ValidationError(
                    {self.ordering_param: [f"Unknown field(s) {', '.join(unknown)}. Use: {', '.join(valid)} ({self.usage})."]}
                )
        ordering = super().get_ordering(request, queryset, view)
        # A unique last key, so pages neither repeat nor skip rows that tie.
        if ordering and not any(term.lstrip("-") in ("id", "pk") for term in ordering):
            ordering = [*ordering, "-id" if ordering[-1].startswith("-") else "id"]
        return ordering

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        terms = []
        for term in ordering:
            descending, source = term.startswith("-"), view.ordering_fields[term.lstrip("-")]
            if isinstance(source, str):
                terms.append(f"-{source}" if descending else source)
            else:
                terms.append(source.desc() if descending else source.asc())
        return queryset.order_by(*terms)

    def get_schema_operation_parameters(self, view):
        names = sorted(view.ordering_fields)
        term = f"-?({'|'.join(names)})"
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": f"Sort by {', '.join(names)} ({self.usage}: `-{names[0]},id`).",
                "schema": {"type": "string", "pattern": f"^{term}(,{term})*$"},
            }
        ]


class StrictFilterSet(django_filters.FilterSet):
    """Every bad filter value is a 400 naming the parameter and what it accepts, in `accepts`' words
    ("'abc' is not the id of an artist."): not a form's wording, not an ignored value, not an empty page."""

    accepts = {}

    @property
    def errors(self):
        errors = ErrorDict()
        for name, messages in self.form.errors.items():
            if name in self.accepts:
                # As params, so that a % in the value is no format for DjangoFilterBackend's translation.
                params = {"value": repr(self.data.get(name)), "accepts": self.accepts[name]}
                messages = ErrorList([forms.ValidationError("%(value)s is not %(accepts)s.", params=params)])
            errors[name] = messages
        return errors


class TrueOrFalseField(forms.Field):
    """true or false (or 1 or 0); anything else is invalid, where a NullBooleanField reads it as "any"."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        choice = {"true": True, "1": True, "false": False, "0": False}.get(str(value).lower())
        if choice is None:
            raise forms.ValidationError("Enter true or false.", code="invalid")
        return choice


class TrueOrFalseFilter(django_filters.BooleanFilter):
    field_class = TrueOrFalseField


ALBUM_TYPES = f"one of: {', '.join(Album.Type.values)}"
GENRE_SLUG = "the slug of a genre (see /api/v1/genres/)"


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 9999})
class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z]{2}$"})
class CountryFilter(django_filters.CharFilter):
    """A two-letter country code, in any case."""

    def __init__(self, **kwargs):
        super().__init__(validators=[RegexValidator(r"^[A-Za-z]{2}$")], **kwargs)

    def filter(self, queryset, value):
        return super().filter(queryset, value.upper() if value else value)


class YearRangeFilter(StrictFilterSet):
    year_min = YearFilter(
        method="filter_year_min", min_value=1, max_value=9999, help_text="Released in this year or later."
    )
    year_max = YearFilter(
        method="filter_year_max", min_value=1, max_value=9999, help_text="Released in this year or earlier."
    )
    release_date_field = "release_date"
    accepts = {"year_min": "a year from 1 to 9999", "year_max": "a year from 1 to 9999"}

    def filter_year_min(self, queryset, name, value):
        return queryset.filter(**{f"{self.release_date_field}__year__gte": value})

    def filter_year_max(self, queryset, name, value):
        return queryset.filter(**{f"{self.release_date_field}__year__lte": value})


class AlbumFilter(YearRangeFilter):
    artist = django_filters.ModelChoiceFilter(queryset=Artist.objects.all(), help_text="Artist id.")
    genre = django_filters.ModelChoiceFilter(
        field_name="genres", to_field_name="slug", queryset=Genre.objects.all(), help_text="Genre slug."
    )
    type = django_filters.ChoiceFilter(field_name="album_type", choices=Album.Type.choices)
    accepts = {
        **YearRangeFilter.accepts, "artist": "the id of an artist", "genre": GENRE_SLUG, "type": ALBUM_TYPES,
    }

    class Meta:
        model = Album
        fields = ["artist", "genre", "type", "year_min", "year_max"]


class SongFilter(YearRangeFilter):
    artist = django_filters.ModelChoiceFilter(queryset=Artist.objects.all(), help_text="Artist id.")
    album = django_filters.ModelChoiceFilter(queryset=Album.objects.all(), help_text="Album id.")
    genre = django_filters.ModelChoiceFilter(
        field_name="genre", to_field_name="slug", queryset=Genre.objects.all(), help_text="Genre slug."
    )
    type = django_filters.ChoiceFilter(field_name="album__album_type", choices=Album.Type.choices)
    explicit = TrueOrFalseFilter(help_text="true: explicit songs only; false: the others.")
    release_date_field = "album__release_date"
    accepts = {
        **YearRangeFilter.accepts, "artist": "the id of an artist", "album": "the id of an album",
        "genre": GENRE_SLUG, "type": ALBUM_TYPES, "explicit": "one of: true, false",
    }

    class Meta:
        model = Song
        fields = ["artist", "album", "genre", "type", "explicit", "year_min", "year_max"]


class ArtistFilter(StrictFilterSet):
    country = CountryFilter(help_text="Two-letter country code (ISO 3166-1), such as GB.")
    accepts = {"country": "a two-letter country code (ISO 3166-1), such as GB"}

    class Meta:
        model = Artist
        fields = ["country"]
