"""Charts as PNG images, drawn with matplotlib's Agg renderer (no display, no global state).

matplotlib is imported inside the functions: it takes longer to import than the
rest of the bot together, and only the closing summary and the coordinators' /stats
draw a chart.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from bot.domain.checkins import RATINGS
from bot.i18n import LANGUAGES, format_date, t

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bot.domain.health import ChartSeries as HealthSeries

Series = Mapping[str, Sequence[tuple[date, int]]]

# Pixels: wide enough for a year of monthly points, small enough for a chat preview.
DEFAULT_SIZE = (960, 540)
DPI = 100
# Ticks at every check-in date read well up to about a year; beyond, every few.
MAX_DATE_TICKS = 12
# The health chart has two panels, one above the other.
HEALTH_SIZE = (960, 720)
# A bar chart whose bars are all masked still shows a scale up to the masking limit.
MASKED_TOP = 5


def ratings_figure(
    series: Series, *, title: str, language: str, size: tuple[int, int] = DEFAULT_SIZE
) -> Figure:
    """The chart as a matplotlib Figure: one line per person, in the order given.

    A person with no ratings is left out of the plot and the legend.
    """
    from matplotlib.dates import date2num, num2date
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter

    lang = language if language in LANGUAGES else "en"
    width, height = size
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    every_date: set[date] = set()
    for name, points in series.items():
        ordered = sorted(points)
        if not ordered:
            continue
        days = [day for day, _ in ordered]
        every_date.update(days)
        axes.plot(
            [date2num(day) for day in days],
            [rating for _, rating in ordered],
            marker="o",
            linewidth=2,
            label=name,
        )
    axes.set_ylim(RATINGS[0] - 0.3, RATINGS[-1] + 0.3)
    axes.set_yticks(list(RATINGS))
    axes.set_ylabel(t(lang, "charts.ratings.axis"))
    axes.set_xlabel(t(lang, "charts.ratings.date"))
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    if every_date:
        ticks = sorted(every_date)
        step = -(-len(ticks) // MAX_DATE_TICKS)
        axes.xaxis.set_major_locator(FixedLocator([date2num(d) for d in ticks[::step]]))
        axes.xaxis.set_major_formatter(
            FuncFormatter(lambda x, _pos: format_date(num2date(x).date(), "d MMM", locale=lang))
        )
        axes.legend(loc="best")
    return figure


def ratings_chart(
    series: Series, *, title: str, language: str, size: tuple[int, int] = DEFAULT_SIZE
) -> bytes:
    """A PNG of `size` pixels: each person's check-in ratings (1-5) over time, a legend
    with their names, the labels in `language`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = ratings_figure(series, title=title, language=language, size=size)
    canvas = FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # A name with an emoji has no glyph in the bundled font; it is drawn without it.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        canvas.print_png(buffer)
    return buffer.getvalue()


# -- programme health (the coordinators' /stats) -----------------------------------------------


def health_figure(
    series: HealthSeries, *, title: str, language: str, size: tuple[int, int] = HEALTH_SIZE
) -> Figure:
    """Two charts: pairs by state at each month end (one line per state; a count under 5
    leaves a gap), and meetings held per month (a count under 5 is no bar, labelled "<5").

    Everything drawn comes from `series` (`bot.domain.health.chart_series`), which holds
    masked values only."""
    from matplotlib.figure import Figure

    from bot.domain.health import SMALL, STATE_NAMES

    lang = language if language in LANGUAGES else "en"
    width, height = size
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    figure.suptitle(title)
    pairs, meetings = figure.subplots(2, 1, sharex=True)
    positions = list(range(len(series.months)))
    labels = [format_date(month, "MMM yy", locale=lang) for month in series.months]
    for state, values in series.pairs:
        pairs.plot(
            positions,
            [float("nan") if v is None else v for v in values],
            marker="o",
            linewidth=2,
            label=t(lang, STATE_NAMES[state]),
        )
    pairs.set_title(t(lang, "health.chart.pairs"))
    pairs.set_ylabel(t(lang, "health.chart.pairs_axis"))
    pairs.set_ylim(bottom=0)
    pairs.grid(True, alpha=0.3)
    if series.pairs:
        pairs.legend(loc="upper left", fontsize="small")
    meetings.bar(positions, list(series.meetings), color="tab:blue")
    for position, small in zip(positions, series.meetings_small, strict=True):
        if small:
            meetings.annotate(
                SMALL, (position, 0), ha="center", va="bottom", fontsize="small", color="gray"
            )
    meetings.set_title(t(lang, "health.chart.meetings"))
    meetings.set_ylabel(t(lang, "health.chart.meetings_axis"))
    meetings.set_ylim(bottom=0, top=max([*series.meetings, MASKED_TOP]) * 1.15)
    meetings.set_xticks(positions, labels)
    meetings.grid(True, axis="y", alpha=0.3)
    meetings.set_xlabel(t(lang, "health.chart.small_note"), fontsize="small", color="gray")
    return figure


def health_chart(
    series: HealthSeries, *, title: str, language: str, size: tuple[int, int] = HEALTH_SIZE
) -> bytes:
    """The programme health chart as a PNG of `size` pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = health_figure(series, title=title, language=language, size=size)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # A programme name with an emoji has no glyph in the bundled font.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
