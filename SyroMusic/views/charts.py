"""Bar charts drawn on the server: the geometry here, the SVG markup in syromusic/_bar_chart.html.

No script and no inline style (the CSP allows neither): positions are SVG attributes, colours come from
the site's CSS variables through classes, so the dark scheme follows. Each chart carries its figures as
text (a caption and a table) for those who cannot see it."""

from dataclasses import dataclass

from SyroMusic.listening.stats import WEEKDAYS

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
                label=label, value=value, text=_with_unit(value, unit), tick=tick,
                x=round(x, 2), y=round(HEIGHT - BOTTOM - height, 2), width=round(slot * (1 - GAP), 2),
                height=round(height, 2), tick_x=round(LEFT + (index + 0.5) * slot, 2), peak=bool(highest) and value == highest,
            )
        )
    return Chart(
        id=id, title=title, caption=caption, label_heading=label_heading, value_heading=value_heading, bars=bars,
        max_value=highest, scale_text=f"Most: {_with_unit(highest, unit)}" if highest else "No listens",
    )


def _with_unit(value, unit):
    return f"{value:,} {unit[0] if value == 1 else unit[1]}"


LISTENS = ("listen", "listens")
MINUTES = ("minute", "minutes")


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
