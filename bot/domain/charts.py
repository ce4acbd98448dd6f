"""Charts as PNG images, drawn with matplotlib's Agg renderer (no display, no global state).

matplotlib is imported inside the functions: it takes longer to import than the
rest of the bot together, and only the closing summary draws a chart.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from babel.dates import format_date

from bot.domain.checkins import RATINGS
from bot.i18n import LANGUAGES, t

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Series = Mapping[str, Sequence[tuple[date, int]]]

# Pixels: wide enough for a year of monthly points, small enough for a chat preview.
DEFAULT_SIZE = (960, 540)
DPI = 100
# Ticks at every check-in date read well up to about a year; beyond, every few.
MAX_DATE_TICKS = 12


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
