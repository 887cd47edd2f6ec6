"""Query-string filters and ordering for the API's lists."""

import django_filters
from django import forms
from django.db.models.functions import Lower
from rest_framework import filters
from rest_framework.exceptions import ValidationError

from SyroMusic.models import Album, Song


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` as the pages sort: an unknown field is a 400 that names it, names and titles
    sort case-insensitively (the indexed way), and the id breaks ties in the same direction."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:
            valid = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [term for term in raw.split(",") if term.strip().lstrip("-") not in valid]
            if unknown:
                raise ValidationError(
                    {self.ordering_param: [f"Unknown field(s) {', '.join(unknown)}. Use: {', '.join(sorted(valid))}."]}
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
        folded = getattr(view, "case_insensitive_ordering", ())
        terms = []
        for term in ordering:
            name = term.lstrip("-")
            if name in folded:
                term = Lower(name).desc() if term.startswith("-") else Lower(name).asc()
            terms.append(term)
        return queryset.order_by(*terms)


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class YearRangeFilter(django_filters.FilterSet):
    year_min = YearFilter(
        method="filter_year_min", min_value=1, max_value=9999, help_text="Released in this year or later."
    )
    year_max = YearFilter(
        method="filter_year_max", min_value=1, max_value=9999, help_text="Released in this year or earlier."
    )
    release_date_field = "release_date"

    def filter_year_min(self, queryset, name, value):
        return queryset.filter(**{f"{self.release_date_field}__year__gte": value})

    def filter_year_max(self, queryset, name, value):
        return queryset.filter(**{f"{self.release_date_field}__year__lte": value})


class AlbumFilter(YearRangeFilter):
    genre = django_filters.CharFilter(field_name="genres__slug", help_text="Genre slug.")
    type = django_filters.ChoiceFilter(field_name="album_type", choices=Album.Type.choices)

    class Meta:
        model = Album
        fields = ["artist", "genre", "type", "year_min", "year_max"]


class SongFilter(YearRangeFilter):
    genre = django_filters.CharFilter(field_name="genre__slug", help_text="Genre slug.")
    type = django_filters.ChoiceFilter(field_name="album__album_type", choices=Album.Type.choices)
    release_date_field = "album__release_date"

    class Meta:
        model = Song
        fields = ["artist", "album", "genre", "type", "explicit", "year_min", "year_max"]
