"""The template tags' markup helper (_html) gives what Django's format_html gives, for every kind of value."""

import pytest
from django.utils.functional import lazystr
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from SyroMusic.templatetags.syromusic import _html

VALUES = [
    "plain", "<script>alert('x') & \"y\"</script>", mark_safe("<b>kept</b>"), 42, 3.5, None, True,
    lazystr("<lazy & text>"), gettext_lazy("Log in"), "", "ünï©ødé ♪",
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_html_is_format_html(value):
    template = '<a href="{}" title="{}">{}</a>'
    made = _html(template, value, value, value)
    assert made == format_html(template, value, value, value)
    assert isinstance(made, SafeString)


def test_html_of_html_fragments_nests_them_unescaped():
    inner = _html("<i>{}</i>", "a < b")
    assert _html("<p>{}{}</p>", inner, "&") == "<p><i>a &lt; b</i>&amp;</p>"
