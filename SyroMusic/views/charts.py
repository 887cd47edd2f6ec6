"""Bar charts drawn on the server: the geometry and the markup of each bar and of its table row here, the
rest in syromusic/_bar_chart.html (in the template language, the 43 bars and their rows took some 10 ms a page).

No script and no inline style (the CSP allows neither): positions are SVG attributes, colours come from
the site's CSS variables through classes, so the dark scheme follows. Each chart carries its figures as
text (a caption and a table) for those who cannot see it."""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe

from SyroMusic.listening.stats import WEEKDAYS

from .stats_text import LISTENS, MINUTES, with_unit

WIDTH = 640
HEIGHT = 220
LEFT = 8  # room on the sides, so the first and last tick labels are not cut
RIGHT = 8
TOP = 24  # the scale's label sits above the plot
BOTTOM = 26  # tick labels below the baseline
GAP = 0.25  # the share of each slot left empty between bars
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Bar:
    label: str  # in full, for the table and the bar's own title: "14:00", "Monday", "March 2026"
    value: int
    text: str  # the value with its unit: "3 listens"
    tick: str  # under the bar, short, or "" for none
    x: float
    y: float
    width: float
    height: float
    tick_x: float
    peak: bool


@dataclass(frozen=True)
class Chart:
    id: str  # prefix of the ids in the page (the title's, the caption's)
    title: str
    caption: str
    label_heading: str  # the table's first column: "Hour", "Day", "Month"
    value_heading: str  # its second: "Listens", "Minutes"
    bars: list
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    top: float = TOP
    left: float = LEFT
    right: float = WIDTH - RIGHT
    tick_y: float = HEIGHT - 8
    scale_y: float = TOP - 8
    max_value: int = 0
    scale_text: str = ""

    @property
    def bars_svg(self):
        """Each bar's <rect> and tick label, laid out as the template's loop laid them out."""
        return mark_safe("".join(self._bar_svg(bar) for bar in self.bars))

    def _bar_svg(self, bar):
        peak = " is-peak" if bar.peak else ""
        tick = (
            f'<text class="chart-tick" x="{bar.tick_x}" y="{self.tick_y}" text-anchor="middle">{escape(bar.tick)}</text>'
            if bar.tick else ""
        )
        # str() of the numbers gives the digits the template's localize() gave in English.
        return (
            f'\n    <rect class="chart-bar{peak}" x="{bar.x}" y="{bar.y}" width="{bar.width}" height="{bar.height}">'
            f"<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>\n    {tick}\n    "
        )

    @property
    def table_rows(self):
        """The table's rows, a bar each (values as the template writes integers: no grouping)."""
        return mark_safe("".join(
            f'<tr><th scope="row">{escape(bar.label)}</th><td class="num">{bar.value}</td></tr>' for bar in self.bars
        ))


def bar_chart(id, *, title, caption, label_heading, value_heading, unit, points):
    """A chart of `points`, (label, value, tick) triples, in order; `unit` is (singular, plural)."""
    slot = (WIDTH - LEFT - RIGHT) / max(len(points), 1)
    plot_height = HEIGHT - TOP - BOTTOM
    highest = max((value for _, value, _ in points), default=0)
    bars = []
    for index, (label, value, tick) in enumerate(points):
        height = plot_height * value / highest if highest else 0
        x = LEFT + index * slot + slot * GAP / 2
        bars.append(
            Bar(
                label=label, value=value, text=with_unit(value, unit), tick=tick,
                x=round(x, 2), y=round(HEIGHT - BOTTOM - height, 2), width=round(slot * (1 - GAP), 2),
                height=round(height, 2), tick_x=round(LEFT + (index + 0.5) * slot, 2), peak=bool(highest) and value == highest,
            )
        )
    return Chart(
        id=id, title=title, caption=caption, label_heading=label_heading, value_heading=value_heading, bars=bars,
        max_value=highest, scale_text=f"Most: {with_unit(highest, unit)}" if highest else "No listens",
    )


def hours_chart(stats):
    """Counted listens by the hour of the day they started, in the listener's time zone."""
    points = [(f"{hour:02d}:00", count, str(hour) if hour % 3 == 0 else "") for hour, count in enumerate(stats.hours)]
    return bar_chart(
        "chart-hours", title=f"Listens by hour of the day, {stats.range_label.lower()}",
        caption=f"Listens by the hour they started ({stats.time_zone} time).",
        label_heading="Hour", value_heading="Listens", unit=LISTENS, points=points,
    )


def weekdays_chart(stats):
    points = [(name, count, name[:3]) for name, count in zip(WEEKDAYS, stats.weekdays, strict=True)]
    return bar_chart(
        "chart-weekdays", title=f"Listens by day of the week, {stats.range_label.lower()}",
        caption=f"Listens by day of the week ({stats.time_zone} time).",
        label_heading="Day", value_heading="Listens", unit=LISTENS, points=points,
    )


def months_chart(stats):
    points = [
        (f"{month.first_day:%B %Y}", month.minutes, MONTH_ABBREVIATIONS[month.first_day.month - 1])
        for month in stats.months
    ]
    return bar_chart(
        "chart-months", title="Minutes listened each month, the last 12 months",
        caption="Minutes listened each month; the table below gives every month's figures.",
        label_heading="Month", value_heading="Minutes", unit=MINUTES, points=points,
    )
